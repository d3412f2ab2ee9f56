//! Jira Software development information (the OpenAPI file's `/rest/devinfo/0.10/bulk`; an
//! on-premise integration reaches it as `POST {api_url}/jira/devinfo/0.1/cloud/{cloudId}/bulk`
//! with the same OAuth token and `cloudId` as deployment records): one repository entity and
//! the pushed commits that name an issue, so Jira's development panel shows them for a git
//! server that has no Jira app.
//!
//! Identity: the repository's `id` is the repository identity, spelled in the characters the
//! API allows; a commit's `id` is its full hash. `updateSequenceId` is set when the request is
//! sent (the current time in ms), so a re-sent commit replaces itself and never goes back.

use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The most commits one repository entity may carry in one call ("Maximum number of commits
/// is 400"; a call also holds at most 1,000 entities, and we send one repository per call).
pub const MAX_COMMITS: usize = 400;
/// The most issue keys one commit may name.
pub const MAX_KEYS: usize = 500;
/// Ids the API takes: at most 1,024 characters; a deployment's `repositoryId` association
/// value takes 255, and both must be the same string.
const ID_MAX: usize = 255;
const NAME_MAX: usize = 255;
const MESSAGE_MAX: usize = 1024;
const AUTHOR_MAX: usize = 255;

/// The repository entity's fields.
#[derive(Clone, Debug)]
pub struct RepositoryFacts<'a> {
    /// The repository identity (`acme/shop`), as the configuration names it.
    pub identity: &'a str,
    pub url: &'a str,
}

/// One commit, as development information shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct DevCommit {
    /// The full hash.
    pub id: String,
    pub keys: Vec<String>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339, UTC.
    pub author_time: String,
    pub url: String,
    pub file_count: u32,
    pub merge: bool,
}

/// The repository `id`: the identity in the characters the API allows (letters, digits and
/// `~.-_`). `~` escapes every other byte as `~xx`, itself included, so two identities never
/// share an id; an id past 255 characters becomes a hash of the identity.
pub fn repository_id(identity: &str) -> String {
    let mut id = String::with_capacity(identity.len());
    for byte in identity.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
            id.push(byte as char);
        } else {
            id.push_str(&format!("~{byte:02x}"));
        }
    }
    if id.len() <= ID_MAX {
        return id;
    }
    let digest = Sha256::digest(identity.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256-{hex}")
}

/// The `DevInformation` body for one repository and at most [`MAX_COMMITS`] commits, with
/// every `updateSequenceId` 0 until it is sent.
pub fn request_body(repository: &RepositoryFacts<'_>, commits: &[DevCommit]) -> Value {
    let commits: Vec<Value> = commits.iter().map(commit_value).collect();
    json!({
        "repositories": [{
            "id": repository_id(repository.identity),
            "name": truncate_utf16(repository.identity, NAME_MAX),
            "url": repository.url,
            "commits": commits,
            "updateSequenceId": 0,
        }],
        "providerMetadata": {"product": concat!("deploylink ", env!("CARGO_PKG_VERSION"))},
    })
}

fn commit_value(commit: &DevCommit) -> Value {
    let mut value = json!({
        "id": commit.id,
        "issueKeys": &commit.keys[..commit.keys.len().min(MAX_KEYS)],
        "updateSequenceId": 0,
        "hash": commit.id,
        "message": truncate_utf16(&commit.message, MESSAGE_MAX),
        "author": {
            "name": truncate_utf16(&commit.author_name, AUTHOR_MAX),
            "email": truncate_utf16(&commit.author_email, AUTHOR_MAX),
        },
        "authorTimestamp": commit.author_time,
        "displayId": &commit.id[..commit.id.len().min(7)],
        "fileCount": commit.file_count,
        "url": commit.url,
    });
    if commit.merge {
        value["flags"] = json!(["MERGE_COMMIT"]);
    }
    value
}

/// Sets the `updateSequenceId` of every repository and commit of `body` to `now_ms`.
pub fn stamp(body: &mut Value, now_ms: i64) {
    for repository in body["repositories"].as_array_mut().into_iter().flatten() {
        repository["updateSequenceId"] = json!(now_ms);
        for commit in repository["commits"].as_array_mut().into_iter().flatten() {
            commit["updateSequenceId"] = json!(now_ms);
        }
    }
}

/// The bulk URL, with the `cloudId` once it is known ("note the version change": the
/// on-premise route is `0.1`, the site-relative one `0.10`).
pub fn bulk_url(api_url: &str, cloud_id: &str) -> String {
    format!(
        "{}/jira/devinfo/0.1/cloud/{cloud_id}/bulk",
        api_url.trim_end_matches('/')
    )
}

/// Cuts `text` so that Jira, which counts UTF-16 code units, sees at most `max`; always on a
/// character boundary, ending with `…` when cut.
pub fn truncate_utf16(text: &str, max: usize) -> String {
    if text.encode_utf16().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// What the bulk call said.
#[derive(Debug, Default, PartialEq)]
pub struct BulkAnswer {
    /// The commit ids Jira accepted.
    pub accepted: Vec<String>,
    /// Errors of the repository itself: every commit of the call failed.
    pub repository_errors: Vec<String>,
    /// Failed commits and why.
    pub failed: Vec<(String, String)>,
    pub unknown_issue_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BulkBody {
    accepted_devinfo_entities: std::collections::BTreeMap<String, EntityIds>,
    failed_devinfo_entities: std::collections::BTreeMap<String, RepositoryErrors>,
    unknown_issue_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EntityIds {
    commits: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RepositoryErrors {
    error_messages: Vec<ErrorMessage>,
    commits: Vec<EntityError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct EntityError {
    id: String,
    error_messages: Vec<ErrorMessage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorMessage {
    message: String,
}

fn messages(errors: Vec<ErrorMessage>) -> String {
    let texts: Vec<String> = errors.into_iter().map(|e| e.message).collect();
    if texts.is_empty() {
        "failed without a reason".to_owned()
    } else {
        texts.join("; ")
    }
}

/// Parses the 202 answer (`StoreDevinfoResult`); `None` when it is not that shape.
pub fn parse_bulk_answer(body: &str) -> Option<BulkAnswer> {
    let parsed: BulkBody = serde_json::from_str(body).ok()?;
    let mut answer = BulkAnswer {
        unknown_issue_keys: parsed.unknown_issue_keys,
        ..BulkAnswer::default()
    };
    for ids in parsed.accepted_devinfo_entities.into_values() {
        answer.accepted.extend(ids.commits);
    }
    for errors in parsed.failed_devinfo_entities.into_values() {
        if !errors.error_messages.is_empty() {
            answer
                .repository_errors
                .push(messages(errors.error_messages));
        }
        for commit in errors.commits {
            answer
                .failed
                .push((commit.id, messages(commit.error_messages)));
        }
    }
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(id: &str, message: &str) -> DevCommit {
        DevCommit {
            id: id.into(),
            keys: vec!["WEB-1".into()],
            message: message.into(),
            author_name: "Ada".into(),
            author_email: "ada@example.com".into(),
            author_time: "2026-11-28T00:00:00Z".into(),
            url: format!("https://git.example.com/shop/commit/{id}"),
            file_count: 2,
            merge: false,
        }
    }

    #[test]
    fn repository_ids_use_only_the_allowed_characters_and_stay_distinct() {
        assert_eq!(repository_id("acme/shop"), "acme~2fshop");
        assert_eq!(repository_id("acme~2fshop"), "acme~7e2fshop");
        assert_eq!(repository_id("shop.v2_x-y"), "shop.v2_x-y");
        let long = repository_id(&"é".repeat(200));
        assert!(long.starts_with("sha256-") && long.len() <= ID_MAX);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_in_utf16_units() {
        let emoji = "😀".repeat(600); // 2 UTF-16 units each
        let cut = truncate_utf16(&emoji, MESSAGE_MAX);
        assert!(cut.encode_utf16().count() <= MESSAGE_MAX);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_utf16("short", 10), "short");
    }

    #[test]
    fn stamping_sets_every_update_sequence_id() {
        let repository = RepositoryFacts {
            identity: "acme/shop",
            url: "https://git.example.com/acme/shop",
        };
        let mut body = request_body(&repository, &[commit("a1", "WEB-1 x"), commit("b2", "y")]);
        stamp(&mut body, 42);
        assert_eq!(body["repositories"][0]["updateSequenceId"], 42);
        assert_eq!(
            body["repositories"][0]["commits"][1]["updateSequenceId"],
            42
        );
        assert_eq!(body["repositories"][0]["commits"][0]["displayId"], "a1");
    }

    #[test]
    fn answers_parse() {
        let answer = parse_bulk_answer(
            r#"{"acceptedDevinfoEntities":{"r":{"commits":["a1"]}},
                "failedDevinfoEntities":{"r":{"commits":[{"id":"b2","errorMessages":[{"message":"bad"}]}]}},
                "unknownIssueKeys":["UTF-8"]}"#,
        )
        .unwrap();
        assert_eq!(answer.accepted, vec!["a1"]);
        assert_eq!(answer.failed, vec![("b2".to_owned(), "bad".to_owned())]);
        assert_eq!(answer.unknown_issue_keys, vec!["UTF-8"]);
        assert!(parse_bulk_answer("<html>").is_none());
    }
}
