//! Jira Software deployment records (SPEC 6.2; jira-api-facts 2.2 to 2.5): one
//! `POST {api_url}/jira/deployments/0.1/cloud/{cloudId}/bulk` per deploy, with an OAuth
//! client-credentials token and the site's `cloudId`.
//!
//! Identity is (`pipeline.id`, `environment.id`, `deploymentSequenceNumber`): all three are
//! stable for a deploy, so sending it again updates the same record. `updateSequenceNumber`
//! is set when the request is sent, so each send supersedes the one before.

use serde::Deserialize;
use serde_json::{json, Value};

use super::remote_link::truncate;

/// Jira's limit on the values of a deployment's associations, all types together.
pub const MAX_ASSOCIATIONS: usize = 500;
/// Jira's limit on ids, names and descriptions.
const TEXT_MAX: usize = 255;

/// Everything a deployment record says.
#[derive(Clone, Debug)]
pub struct DeploymentFacts<'a> {
    pub pipeline_id: &'a str,
    pub pipeline_name: &'a str,
    pub pipeline_url: &'a str,
    pub environment: &'a str,
    pub environment_type: &'a str,
    pub sequence_number: i64,
    pub display_name: &'a str,
    pub description: &'a str,
    pub label: &'a str,
    pub url: &'a str,
    pub state: &'a str,
    /// RFC 3339.
    pub last_updated: &'a str,
    /// At most [`MAX_ASSOCIATIONS`].
    pub keys: &'a [String],
    /// With development information: the commits of the deploy that name an issue, as
    /// `commit` associations to that repository id (within what the keys leave of the 500).
    pub commits: &'a [String],
    pub repository_id: &'a str,
}

/// The `SubmitDeploymentRequest` body (with `updateSequenceNumber` 0 until it is sent).
pub fn request_body(facts: &DeploymentFacts<'_>) -> Value {
    let mut associations = vec![json!({"associationType": "issueIdOrKeys", "values": facts.keys})];
    if !facts.commits.is_empty() {
        let values: Vec<Value> = facts
            .commits
            .iter()
            .map(|hash| json!({"commitHash": hash, "repositoryId": facts.repository_id}))
            .collect();
        associations.push(json!({"associationType": "commit", "values": values}));
    }
    json!({
        "deployments": [{
            "deploymentSequenceNumber": facts.sequence_number,
            "updateSequenceNumber": 0,
            "associations": associations,
            "displayName": truncate(facts.display_name, TEXT_MAX),
            "url": facts.url,
            "description": truncate(facts.description, TEXT_MAX),
            "lastUpdated": facts.last_updated,
            "label": truncate(facts.label, TEXT_MAX),
            "state": facts.state,
            "pipeline": {
                "id": truncate(facts.pipeline_id, TEXT_MAX),
                "displayName": truncate(facts.pipeline_name, TEXT_MAX),
                "url": facts.pipeline_url,
            },
            "environment": {
                "id": truncate(facts.environment, TEXT_MAX),
                "displayName": truncate(facts.environment, TEXT_MAX),
                "type": facts.environment_type,
            },
            "schemaVersion": "1.0",
        }],
        "providerMetadata": {"product": concat!("deploylink ", env!("CARGO_PKG_VERSION"))},
    })
}

/// Sets the `updateSequenceNumber` of every deployment of `body` to `now_ms`.
pub fn stamp(body: &mut Value, now_ms: i64) {
    if let Some(deployments) = body["deployments"].as_array_mut() {
        for deployment in deployments {
            deployment["updateSequenceNumber"] = json!(now_ms);
        }
    }
}

/// The bulk URL, with the `cloudId` once it is known.
pub fn bulk_url(api_url: &str, cloud_id: &str) -> String {
    format!(
        "{}/jira/deployments/0.1/cloud/{cloud_id}/bulk",
        api_url.trim_end_matches('/')
    )
}

/// `{url}/_edge/tenant_info`: the site's `cloudId`, without authentication.
pub fn tenant_info_url(site: &str) -> String {
    format!("{}/_edge/tenant_info", site.trim_end_matches('/'))
}

#[derive(Debug, Deserialize)]
struct TenantInfo {
    #[serde(rename = "cloudId")]
    cloud_id: String,
}

/// The `cloudId` from a tenant_info answer.
pub fn parse_tenant_info(body: &str) -> Option<String> {
    serde_json::from_str::<TenantInfo>(body)
        .ok()
        .map(|t| t.cloud_id)
        .filter(|id| !id.is_empty())
}

#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub expires_in: Option<u64>,
}

/// The token from an OAuth answer.
pub fn parse_token(body: &str) -> Option<TokenAnswer> {
    serde_json::from_str::<TokenAnswer>(body)
        .ok()
        .filter(|t| !t.access_token.is_empty())
}

/// What the bulk call said about one deploy.
#[derive(Debug, Default, PartialEq)]
pub struct BulkAnswer {
    pub accepted: usize,
    /// The error messages of rejected deployments.
    pub rejected: Vec<String>,
    pub unknown_issue_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BulkBody {
    accepted_deployments: Vec<Value>,
    rejected_deployments: Vec<Rejected>,
    unknown_issue_keys: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rejected {
    errors: Vec<ErrorMessage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorMessage {
    message: String,
}

/// Parses the 202 answer; `None` when it is not the documented shape.
pub fn parse_bulk_answer(body: &str) -> Option<BulkAnswer> {
    let parsed: BulkBody = serde_json::from_str(body).ok()?;
    Some(BulkAnswer {
        accepted: parsed.accepted_deployments.len(),
        rejected: parsed
            .rejected_deployments
            .into_iter()
            .map(|r| {
                let messages: Vec<String> = r.errors.into_iter().map(|e| e.message).collect();
                if messages.is_empty() {
                    "rejected without a reason".to_owned()
                } else {
                    messages.join("; ")
                }
            })
            .collect(),
        unknown_issue_keys: parsed.unknown_issue_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_in_every_documented_shape() {
        let answer = parse_bulk_answer(
            r#"{"acceptedDeployments":[{"pipelineId":"p","environmentId":"e","deploymentSequenceNumber":1}],
                "rejectedDeployments":[],"unknownIssueKeys":["UTF-8"]}"#,
        )
        .unwrap();
        assert_eq!(answer.accepted, 1);
        assert_eq!(answer.unknown_issue_keys, vec!["UTF-8"]);
        let answer = parse_bulk_answer(
            r#"{"rejectedDeployments":[{"key":{},"errors":[{"message":"bad state"}]}]}"#,
        )
        .unwrap();
        assert_eq!(answer.rejected, vec!["bad state"]);
        assert!(parse_bulk_answer("<html>").is_none());
        assert_eq!(
            parse_tenant_info(r#"{"cloudId":"abc"}"#).as_deref(),
            Some("abc")
        );
        assert!(parse_tenant_info(r#"{"cloudId":""}"#).is_none());
        assert!(parse_token(r#"{"access_token":"t","expires_in":3600}"#).is_some());
    }

    #[test]
    fn stamping_sets_the_update_sequence_number() {
        let keys = vec!["WEB-1".to_owned()];
        let facts = DeploymentFacts {
            pipeline_id: "shop/web",
            pipeline_name: "shop web",
            pipeline_url: "https://git.example.com/shop",
            environment: "production",
            environment_type: "production",
            sequence_number: 7,
            display_name: "web 1a2b3c4",
            description: "Deployed",
            label: "v1",
            url: "https://git.example.com/shop/commit/1a2b3c4",
            state: "successful",
            last_updated: "2026-11-28T00:00:00Z",
            keys: &keys,
            commits: &[],
            repository_id: "",
        };
        let mut body = request_body(&facts);
        stamp(&mut body, 42);
        assert_eq!(body["deployments"][0]["updateSequenceNumber"], 42);
        assert_eq!(
            body["deployments"][0]["associations"][0]["values"][0],
            "WEB-1"
        );
    }
}
