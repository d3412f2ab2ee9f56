//! Comments (SPEC 6.3): one per issue per deploy. Jira has no upsert for comments, so the
//! issue's entity property `deploylink.deploys` remembers which deploys have commented; a
//! re-run reads it first and skips the issue. The comment is posted before the property is
//! updated: a crash in between may post a second comment on a re-run, but never loses one.

use serde_json::{json, Value};

use crate::config::TrackerKind;

/// The issue property that lists the deploys that commented.
pub const PROPERTY_KEY: &str = "deploylink.deploys";
/// How many deploy ids the property keeps (oldest dropped first): Jira limits a property to
/// 32 KB, and a re-run of a deploy older than the last 200 is not a case worth the space.
const REMEMBERED: usize = 200;

/// What a comment says.
#[derive(Clone, Debug)]
pub struct CommentFacts<'a> {
    pub title: &'a str,
    pub url: &'a str,
    /// `short id  subject` of each commit that mentions the issue.
    pub commits: &'a [String],
}

/// The comment property that marks a comment as a deploy's: `{"deploy": "<deploy id>"}`.
pub const MARKER_KEY: &str = "deploylink";

/// The request body: ADF on Cloud (REST 3), wiki markup on Data Center (REST 2), with the
/// comment property [`MARKER_KEY`] naming the deploy, by which a re-send finds a comment
/// posted by a run killed before it could record it.
pub fn request_body(kind: TrackerKind, facts: &CommentFacts<'_>, deploy_id: &str) -> Value {
    let body = match kind {
        TrackerKind::JiraCloud => adf(facts),
        TrackerKind::JiraDataCenter => Value::String(wiki(facts)),
    };
    json!({
        "body": body,
        "properties": [{"key": MARKER_KEY, "value": {"deploy": deploy_id}}],
    })
}

/// `{url}/rest/api/{v}/issue/{key}/comment?expand=properties&orderBy=-created&maxResults=100`:
/// the newest comments with their properties, where a comment of a deploy killed between
/// posting it and recording it would be.
pub fn recent_comments_url(site: &str, version: u8, key: &str) -> String {
    format!(
        "{}?expand=properties&orderBy=-created&maxResults=100",
        comment_url(site, version, key)
    )
}

/// Whether a page of comments (`GET .../comment`'s answer) holds one marked as `deploy_id`'s.
pub fn marked_comment(page: &Value, deploy_id: &str) -> bool {
    page["comments"].as_array().is_some_and(|comments| {
        comments.iter().any(|comment| {
            comment["properties"].as_array().is_some_and(|props| {
                props.iter().any(|p| {
                    p["key"] == MARKER_KEY && p["value"]["deploy"].as_str() == Some(deploy_id)
                })
            })
        })
    })
}

fn adf(facts: &CommentFacts<'_>) -> Value {
    let mut content = vec![json!({
        "type": "paragraph",
        "content": [{
            "type": "text",
            "text": facts.title,
            "marks": [{"type": "link", "attrs": {"href": facts.url}}],
        }],
    })];
    if !facts.commits.is_empty() {
        let items: Vec<Value> = facts
            .commits
            .iter()
            .map(|line| {
                json!({"type": "listItem", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": line}]}
                ]})
            })
            .collect();
        content.push(json!({"type": "bulletList", "content": items}));
    }
    json!({"type": "doc", "version": 1, "content": content})
}

fn wiki(facts: &CommentFacts<'_>) -> String {
    let mut text = format!("[{}|{}]", escape_wiki(facts.title), facts.url);
    for line in facts.commits {
        text.push_str("\n* ");
        text.push_str(&escape_wiki(line));
    }
    text
}

/// The characters that open links and macros in wiki text. Others (`*`, `_`, `-`) only act
/// at word boundaries and appear in issue keys and subjects, so they are left alone.
fn escape_wiki(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '|' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether the property (its `value`, or `None` when the issue has none) lists `deploy_id`.
pub fn already_commented(property: Option<&Value>, deploy_id: &str) -> bool {
    property
        .and_then(|p| p["deploys"].as_array())
        .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(deploy_id)))
}

/// The property's new value with `deploy_id` added.
pub fn remember(property: Option<&Value>, deploy_id: &str) -> Value {
    let mut ids: Vec<Value> = property
        .and_then(|p| p["deploys"].as_array())
        .cloned()
        .unwrap_or_default();
    ids.retain(|id| id.as_str() != Some(deploy_id));
    ids.push(json!(deploy_id));
    let excess = ids.len().saturating_sub(REMEMBERED);
    ids.drain(..excess);
    json!({"deploys": ids})
}

/// `{url}/rest/api/{v}/issue/{key}/properties/deploylink.deploys`.
pub fn property_url(site: &str, version: u8, key: &str) -> String {
    format!("{site}/rest/api/{version}/issue/{key}/properties/{PROPERTY_KEY}")
}

/// `{url}/rest/api/{v}/issue/{key}/comment`.
pub fn comment_url(site: &str, version: u8, key: &str) -> String {
    format!("{site}/rest/api/{version}/issue/{key}/comment")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_property_remembers_each_deploy_once_and_only_the_latest() {
        assert!(!already_commented(None, "d1"));
        let value = remember(None, "d1");
        assert!(already_commented(Some(&value), "d1"));
        let value = remember(Some(&value), "d1");
        assert_eq!(value["deploys"].as_array().unwrap().len(), 1);
        let mut value = value;
        for i in 0..300 {
            value = remember(Some(&value), &format!("x{i}"));
        }
        assert_eq!(value["deploys"].as_array().unwrap().len(), REMEMBERED);
        assert!(already_commented(Some(&value), "x299"));
        assert!(!already_commented(Some(&value), "d1"));
    }

    #[test]
    fn wiki_text_escapes_markup() {
        let commits = vec!["1a2b3c4 Fix [x]|y".to_owned()];
        let facts = CommentFacts {
            title: "Deployed web to production",
            url: "https://ci.example.com/1",
            commits: &commits,
        };
        let text = wiki(&facts);
        assert!(text.starts_with("[Deployed web to production|https://ci.example.com/1]"));
        assert!(text.contains("Fix \\[x\\]\\|y"));
    }
}
