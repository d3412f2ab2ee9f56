//! `POST /rest/api/{3|2}/issue/{key}/remotelink` (createOrUpdateRemoteIssueLink).
//!
//! With a `globalId` the POST is an upsert, and "any fields without values in the request
//! are set to null" (jira-api-facts 1.2): so the whole object is always sent.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// Jira's limit on `globalId`.
pub const GLOBAL_ID_MAX: usize = 255;
/// Longer titles and summaries are cut (Jira stores them in 255-character columns on Data Center).
pub const TEXT_MAX: usize = 255;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteLinkRequest {
    pub global_id: String,
    pub application: Application,
    pub relationship: String,
    pub object: RemoteObject,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Application {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RemoteObject {
    pub url: String,
    pub title: String,
    pub summary: String,
    pub icon: Icon,
    pub status: Status,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Icon {
    #[serde(rename = "url16x16", skip_serializing_if = "Option::is_none")]
    pub url_16x16: Option<String>,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    pub resolved: bool,
}

/// `deploylink:{repo}:{project}:{environment}:{to_sha}`, or when that is longer than Jira
/// allows, `deploylink:sha256:{hex}` of it: still stable, so the POST stays an upsert.
pub fn global_id(repo: &str, project: &str, environment: &str, to: &str) -> String {
    let id = format!("deploylink:{repo}:{project}:{environment}:{to}");
    if id.len() <= GLOBAL_ID_MAX {
        return id;
    }
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("deploylink:sha256:{hex}")
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_id_is_plain_when_short_and_hashed_when_long() {
        assert_eq!(
            global_id("shop", "web", "production", "abc"),
            "deploylink:shop:web:production:abc"
        );
        let long = global_id(&"r".repeat(300), "web", "production", "abc");
        assert!(long.len() <= GLOBAL_ID_MAX);
        assert!(long.starts_with("deploylink:sha256:"));
        assert_eq!(
            long,
            global_id(&"r".repeat(300), "web", "production", "abc")
        );
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo", 5), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
    }
}
