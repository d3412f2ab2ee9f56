//! The Jira Software Deployments API as an on-premise integration reaches it (jira-api-facts
//! 2.2-2.5): the cloud id from `/_edge/tenant_info`, a client-credentials token from
//! `/oauth/token`, then `POST /jira/deployments/0.1/cloud/{cloudId}/bulk` with that token.

use serde_json::{json, Value};

use super::routes::{parse_json, Incoming};
use super::store::Store;
use super::validate::{self, Operation};
use super::wire::{form_pairs, Authorization, Reply};
use super::Config;

/// The sandbox site's cloud id (any fixed UUID will do; clients read it from tenant_info).
pub const CLOUD_ID: &str = "5a4db0c5-0000-4000-8000-00000000d1a7";
/// Scope reported with a token: the one Jira's DevOps data providers use.
const TOKEN_SCOPE: &str = "manage:jira-data-provider";

pub(crate) fn tenant_info() -> Reply {
    Reply::json(200, &json!({"cloudId": CLOUD_ID}))
}

/// The fields of a token request, form-encoded (as Atlassian's Jenkins plugin sends them) or
/// JSON (as Atlassian's demo scripts do).
fn token_fields(req: &Incoming) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(req.body).ok()?;
    let json =
        req.content_type.is_some_and(|t| t.contains("json")) || text.trim_start().starts_with('{');
    if json {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
            return None;
        };
        let fields = map
            .into_iter()
            .filter_map(|(name, value)| Some((name, value.as_str()?.to_string())))
            .collect();
        return Some(fields);
    }
    Some(form_pairs(text))
}

/// `POST /oauth/token` with `grant_type=client_credentials`, `client_id`, `client_secret`.
/// With explicit sandbox credentials the secret must be their token (and the id their user,
/// when one is set); otherwise any non-empty pair is accepted.
pub(crate) fn token(store: &mut Store, config: &Config, req: &Incoming) -> Reply {
    let oauth_error = |status: u16, error: &str, description: &str| {
        Reply::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
    };
    let Some(fields) = token_fields(req) else {
        return oauth_error(
            400,
            "invalid_request",
            "The body is neither a form nor JSON.",
        );
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let (Some(grant), Some(id), Some(secret)) = (
        field("grant_type"),
        field("client_id"),
        field("client_secret"),
    ) else {
        return oauth_error(
            400,
            "invalid_request",
            "grant_type, client_id and client_secret are required.",
        );
    };
    if grant != "client_credentials" {
        return oauth_error(
            400,
            "unsupported_grant_type",
            "Only grant_type=client_credentials is supported.",
        );
    }
    if let Some(wanted) = &config.credentials {
        let id_ok = wanted.user.as_deref().is_none_or(|user| user == id);
        if !id_ok || secret != wanted.token {
            return oauth_error(401, "access_denied", "Unauthorized");
        }
    }
    let token = store.issue_token();
    Reply::json(
        200,
        &json!({
            "access_token": token,
            "expires_in": 3600,
            "token_type": "Bearer",
            "scope": TOKEN_SCOPE
        }),
    )
}

/// What the request log keeps of a token request: never the client secret.
pub(crate) fn redacted_token_request(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let fields = if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => map
                .into_iter()
                .map(|(name, value)| (name, value.as_str().unwrap_or("<not a string>").into()))
                .collect(),
            _ => Vec::new(),
        }
    } else {
        form_pairs(&text)
    };
    if fields.is_empty() {
        return format!("<{} bytes, not kept: may hold a secret>", body.len());
    }
    fields
        .into_iter()
        .map(|(name, value)| {
            let value = if name == "client_secret" {
                "<redacted>".to_string()
            } else {
                value
            };
            format!("{name}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The DevOps APIs' gate (deployments and development information): a Bearer token that
/// `/oauth/token` issued, and the sandbox's cloud id.
pub(crate) fn authorize(store: &Store, req: &Incoming, cloud_id: &str) -> Result<(), Reply> {
    let token = match req.authorization.map(Authorization::parse) {
        Some(Authorization::Bearer(token)) => Some(token),
        _ => None,
    };
    if !token.is_some_and(|t| store.token_issued(&t)) {
        return Err(Reply::software_error(
            401,
            &["Missing a JWT token, or token is invalid.".into()],
        ));
    }
    if cloud_id != CLOUD_ID {
        return Err(Reply::software_error(
            404,
            &[format!(
                "No site with cloud id '{cloud_id}'; the sandbox's is {CLOUD_ID}."
            )],
        ));
    }
    Ok(())
}

/// `POST /jira/deployments/0.1/cloud/{cloudId}/bulk`: errors in the Software API's array shape.
pub(crate) fn bulk(store: &mut Store, req: &Incoming, cloud_id: &str) -> Reply {
    if let Err(reply) = authorize(store, req, cloud_id) {
        return reply;
    }
    let body = match parse_json(req.body) {
        Ok(body) => body,
        Err(message) => {
            store.reject(req.method, req.path, message.clone());
            return Reply::software_error(400, &[message]);
        }
    };
    if let Err(invalid) = validate::check(Operation::DeploymentsBulk, &body) {
        store.reject(req.method, req.path, invalid.reason());
        return Reply::software_error(400, &invalid.messages);
    }
    Reply::json(202, &store.submit_deployments(&body))
}
