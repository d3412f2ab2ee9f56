//! `GET /`: what Jira would now show on each issue the sandbox heard about, as one plain HTML
//! page (no JavaScript; it refreshes itself). Everything received is escaped.

use std::collections::BTreeSet;
use std::fmt::Write;

use serde_json::Value;

use super::state::{DeploymentRecord, State};
use super::wire::escape_html as esc;

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#172b4d}h1{font-size:1.5rem}h2{font-size:1.2rem;border-bottom:1px solid \
#dfe1e6;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1rem;color:#5e6c84;margin-bottom:.3rem}\
ul{padding-left:1.2rem}li{margin:.25rem 0}.muted{color:#5e6c84}.resolved{text-decoration:\
line-through}pre{white-space:pre-wrap;background:#f4f5f7;padding:.5rem;margin:.25rem 0}\
table{border-collapse:collapse}td,th{border:1px solid #dfe1e6;padding:.2rem .5rem;text-align:left}\
.rejected{color:#bf2600}";

pub(crate) fn render(state: &State) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"5\"><title>deploylink sandbox</title>\
         <style>{STYLE}</style></head><body>\n<h1>deploylink sandbox</h1>\n"
    );
    let keys: BTreeSet<&str> = state
        .issues
        .keys()
        .map(String::as_str)
        .chain(
            state
                .deployments
                .iter()
                .flat_map(|d| d.issue_keys.iter().map(String::as_str)),
        )
        .chain(
            state
                .repositories
                .iter()
                .flat_map(|r| &r.commits)
                .flat_map(|c| c.issue_keys.iter().map(String::as_str)),
        )
        .collect();
    if keys.is_empty() {
        html.push_str("<p class=\"muted\">Nothing received yet. This page refreshes itself.</p>\n");
    }
    for key in keys {
        issue(&mut html, state, key);
    }
    rejected(&mut html, state);
    html.push_str("</body></html>\n");
    html
}

fn issue(html: &mut String, state: &State, key: &str) {
    let _ = writeln!(html, "<h2>{}</h2>", esc(key));
    let links = state.remote_links(key);
    if !links.is_empty() {
        html.push_str("<h3>Remote links</h3><ul>\n");
        for link in links {
            remote_link(html, link);
        }
        html.push_str("</ul>\n");
    }
    let deployments = state.deployments_for(key);
    if !deployments.is_empty() {
        html.push_str(
            "<h3>Deployments</h3><table><tr><th>Environment</th><th>State</th><th>Deployment</th>\
             <th>Sequence / update</th></tr>\n",
        );
        for deployment in deployments {
            deployment_row(html, deployment);
        }
        html.push_str("</table>\n");
    }
    let commits = state.commits_for(key);
    if !commits.is_empty() {
        html.push_str("<h3>Commits (development information)</h3><ul>\n");
        for commit in commits {
            let text = |field: &str| commit.data[field].as_str().unwrap_or("").to_string();
            let subject = text("message").lines().next().unwrap_or("").to_string();
            let _ = writeln!(
                html,
                "<li><a href=\"{}\">{}</a> {} <span class=\"muted\">{} {}</span></li>",
                esc(&text("url")),
                esc(&text("displayId")),
                esc(&subject),
                esc(commit.data["author"]["name"].as_str().unwrap_or("")),
                esc(&text("authorTimestamp"))
            );
        }
        html.push_str("</ul>\n");
    }
    let comments = state.comments(key);
    if !comments.is_empty() {
        html.push_str("<h3>Comments</h3>\n");
        for comment in comments {
            let text = match comment.get("body") {
                Some(Value::String(text)) => text.clone(),
                Some(doc) => adf_text(doc).trim_end().to_string(),
                None => String::new(),
            };
            let _ = writeln!(html, "<pre>{}</pre>", esc(&text));
        }
    }
    if let Some(record) = state.issues.get(key).filter(|r| !r.properties.is_empty()) {
        html.push_str("<h3>Properties</h3><ul>\n");
        for (name, value) in &record.properties {
            let _ = writeln!(
                html,
                "<li><code>{}</code>: <code>{}</code></li>",
                esc(name),
                esc(&value.to_string())
            );
        }
        html.push_str("</ul>\n");
    }
}

fn remote_link(html: &mut String, link: &Value) {
    let object = &link["object"];
    let title = object["title"].as_str().unwrap_or("(no title)");
    let url = object["url"].as_str().unwrap_or_default();
    let resolved = object["status"]["resolved"].as_bool() == Some(true);
    let class = if resolved { " class=\"resolved\"" } else { "" };
    let relationship = link["relationship"].as_str().unwrap_or("links to");
    let _ = write!(
        html,
        "<li><span class=\"muted\">{}</span> ",
        esc(relationship)
    );
    let _ = write!(html, "<span{class}>{}</span>", linked(title, url));
    if resolved {
        html.push_str(" <span class=\"muted\">(resolved)</span>");
    }
    if let Some(summary) = object["summary"].as_str() {
        let _ = write!(html, "<br><span class=\"muted\">{}</span>", esc(summary));
    }
    html.push_str("</li>\n");
}

/// `text` as a link to `url`, but only for http(s) URLs: a `javascript:` URL stays text.
fn linked(text: &str, url: &str) -> String {
    let web = url.starts_with("https://") || url.starts_with("http://");
    if web {
        format!("<a href=\"{}\">{}</a>", esc(url), esc(text))
    } else {
        esc(text)
    }
}

fn deployment_row(html: &mut String, deployment: &DeploymentRecord) {
    let data = &deployment.data;
    let environment = format!(
        "{} ({})",
        data["environment"]["displayName"]
            .as_str()
            .unwrap_or_default(),
        data["environment"]["type"].as_str().unwrap_or_default()
    );
    let name = data["displayName"].as_str().unwrap_or_default();
    let url = data["url"].as_str().unwrap_or_default();
    let _ = writeln!(
        html,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td></tr>",
        esc(&environment),
        esc(data["state"].as_str().unwrap_or_default()),
        linked(name, url),
        deployment.deployment_sequence_number,
        deployment.update_sequence_number
    );
}

fn rejected(html: &mut String, state: &State) {
    let count = state.rejected.len();
    let _ = writeln!(
        html,
        "<h2 class=\"{}\">Rejected requests: {count}</h2>",
        if count > 0 { "rejected" } else { "muted" }
    );
    if count == 0 {
        return;
    }
    html.push_str("<ul>\n");
    for rejected in &state.rejected {
        let _ = writeln!(
            html,
            "<li><code>{} {}</code>: {}</li>",
            esc(&rejected.method),
            esc(&rejected.path),
            esc(&rejected.reason)
        );
    }
    html.push_str("</ul>\n");
}

/// The plain text of an ADF document: text nodes, with block nodes on their own lines.
fn adf_text(node: &Value) -> String {
    let mut out = String::new();
    adf_walk(node, &mut out, 0);
    out
}

fn adf_walk(node: &Value, out: &mut String, depth: usize) {
    // Input-controlled nesting: stop well before the stack could suffer.
    if depth > 64 {
        return;
    }
    match node["type"].as_str() {
        Some("text") => out.push_str(node["text"].as_str().unwrap_or_default()),
        Some("hardBreak") => out.push('\n'),
        _ => {}
    }
    if let Some(children) = node["content"].as_array() {
        for child in children {
            adf_walk(child, out, depth + 1);
        }
        let block = matches!(
            node["type"].as_str(),
            Some("paragraph" | "heading" | "listItem" | "codeBlock" | "blockquote")
        );
        if block && !out.ends_with('\n') {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adf_to_text() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "one"},
                {"type": "hardBreak"}, {"type": "text", "text": "two"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "three"}]}
        ]});
        assert_eq!(adf_text(&doc), "one\ntwo\nthree\n");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert_eq!(linked("t", "javascript:alert(1)"), "t");
        assert_eq!(
            linked("<t>", "https://x/?a=1&b=2"),
            "<a href=\"https://x/?a=1&amp;b=2\">&lt;t&gt;</a>"
        );
    }
}
