//! Reading Jira's answers: error bodies in every shape Jira and the proxies in front of it
//! send (jira-api-facts 1.6), turned into one short line for people.

use super::client::{Attempt, Response};
use crate::config::{Tracker, TrackerKind};

/// Where to create the token a tracker needs (SPEC 3.4).
pub fn token_page(tracker: &Tracker) -> String {
    match tracker.kind {
        TrackerKind::JiraCloud => {
            "https://id.atlassian.com/manage-profile/security/api-tokens".into()
        }
        TrackerKind::JiraDataCenter => format!(
            "{}/secure/ViewProfile.jspa (your profile > Personal Access Tokens)",
            tracker.url
        ),
    }
}

/// Why Jira refused a tracker's site credentials, and what to do.
pub fn refusal(tracker: &Tracker, response: &Response) -> String {
    let credentials = match &tracker.auth.user {
        Some(user) => format!("{user} and {}", tracker.auth.token),
        None => tracker.auth.token.to_string(),
    };
    match response.status {
        401 => format!(
            "{}: Jira did not accept the credentials of tracker '{}' ({credentials}); \
             check them, or create a new token at {}",
            describe(response),
            tracker.name,
            token_page(tracker)
        ),
        _ => format!(
            "{}: tracker '{}' accepted the credentials ({credentials}) but refused the request; \
             the account needs the Browse projects and Link issues permissions (Add comments for \
             comments) in the issue's project; after many failed logins Jira may also want a \
             CAPTCHA solved: log in once in a browser",
            describe(response),
            tracker.name
        ),
    }
}

/// `503 Service Unavailable: <what the body says>`.
pub fn describe(response: &Response) -> String {
    let status = status_line(response.status);
    match detail(response) {
        Some(detail) => format!("{status}: {detail}"),
        None => status,
    }
}

/// Like [`describe`], and says so when the body is empty or not JSON: `200 OK with an empty
/// body`, `200 OK: an HTML page (Log in)`, `201 Created: a body that is not JSON: {id:`.
/// What went wrong with a request to `url` that did not succeed, in one line.
pub fn describe_attempt(url: &str, attempt: Attempt) -> String {
    match attempt {
        Attempt::Response(r) => format!("{url}: {}", describe(&r)),
        Attempt::ConnectFailed { reason, .. } => format!("{url}: cannot connect: {reason}"),
        Attempt::Interrupted { reason } => format!("{url}: no answer: {reason}"),
    }
}

pub fn describe_body(response: &Response) -> String {
    let body = response.body.trim();
    let status = status_line(response.status);
    if body.is_empty() {
        format!("{status} with an empty body")
    } else if body.starts_with('<') || serde_json::from_str::<serde_json::Value>(body).is_ok() {
        describe(response)
    } else {
        format!("{status}: a body that is not JSON: {}", clip(body, 120))
    }
}

/// Whether the body is a JSON object, as every answer of Jira's REST API that has one is.
pub fn is_json_object(response: &Response) -> bool {
    matches!(
        serde_json::from_str::<serde_json::Value>(&response.body),
        Ok(serde_json::Value::Object(_))
    )
}

/// `404 Not Found`.
pub fn status_line(status: u16) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_owned()
}

/// What the body says, if anything useful: Jira's `errorMessages`/`errors`, the deployments
/// API's `[{message}]`, OAuth's `error_description`, an HTML page's title, or the first words.
fn detail(response: &Response) -> Option<String> {
    let body = response.body.trim();
    if body.is_empty() {
        return None;
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        return json_messages(&value);
    }
    if body.starts_with('<') {
        return html_title(body)
            .map(|t| format!("an HTML page ({t})"))
            .or(Some("an HTML page".into()));
    }
    Some(clip(body, 120))
}

fn json_messages(value: &serde_json::Value) -> Option<String> {
    let mut messages: Vec<String> = Vec::new();
    let texts = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().or_else(|| i["message"].as_str()))
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    messages.extend(texts(value));
    messages.extend(texts(&value["errorMessages"]));
    if let Some(errors) = value["errors"].as_object() {
        for (field, message) in errors {
            if let Some(m) = message.as_str() {
                messages.push(format!("{field}: {m}"));
            }
        }
    }
    for key in ["error_description", "message", "error"] {
        if messages.is_empty() {
            if let Some(m) = value[key].as_str() {
                messages.push(m.to_owned());
            }
        }
    }
    (!messages.is_empty()).then(|| clip(&messages.join("; "), 300))
}

fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = body.get(start..end)?.trim();
    (!title.is_empty()).then(|| clip(title, 80))
}

fn clip(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    super::remote_link::truncate(&one_line, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            retry_after: None,
            rate_limit_reset: None,
            content_type: None,
            location: None,
            body: body.into(),
        }
    }

    #[test]
    fn every_error_shape_reads_as_one_line() {
        let jira = r#"{"errorMessages":["Issue does not exist"],"errors":{"title":"'title' is required."}}"#;
        assert_eq!(
            describe(&response(400, jira)),
            "400 Bad Request: Issue does not exist; title: 'title' is required."
        );
        assert_eq!(
            describe(&response(401, r#"[{"message":"Missing a JWT token"}]"#)),
            "401 Unauthorized: Missing a JWT token"
        );
        assert_eq!(
            describe(&response(
                502,
                "<html><head><title>502 Bad Gateway</title></head></html>"
            )),
            "502 Bad Gateway: an HTML page (502 Bad Gateway)"
        );
        assert_eq!(describe(&response(503, "")), "503 Service Unavailable");
        assert_eq!(
            describe(&response(500, "oops\nsomething")),
            "500 Internal Server Error: oops something"
        );
        assert_eq!(describe(&response(599, "")), "599");
    }
}
