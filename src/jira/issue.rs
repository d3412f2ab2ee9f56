//! Do these issues exist? (`validate.check_exists`, jira-api-facts 1.4 and 1.5): on Cloud one
//! `POST /rest/api/3/issue/bulkfetch` per 100 keys (issues that do not exist, or that the
//! account cannot see, are simply absent); on Data Center, which has no bulkfetch, one
//! `GET /rest/api/2/issue/{key}` per key (404 when it does not exist).

use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Attempt, Body, HttpClient, Method, Request};
use super::credentials::SiteAuth;
use super::response;
use crate::config::{Tracker, TrackerKind};

const TIMEOUT: Duration = Duration::from_secs(10);
/// bulkfetch takes at most 100 keys.
const BULK_MAX: usize = 100;

/// The keys of `keys` that Jira does not know; an error when Jira could not be asked.
pub fn missing(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    keys: &[String],
) -> Result<Vec<String>, String> {
    match tracker.kind {
        TrackerKind::JiraCloud => missing_bulk(http, tracker, auth, keys),
        TrackerKind::JiraDataCenter => missing_one_by_one(http, tracker, auth, keys),
    }
}

fn missing_bulk(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    keys: &[String],
) -> Result<Vec<String>, String> {
    let url = format!("{}/rest/api/3/issue/bulkfetch", tracker.url);
    let mut missing = Vec::new();
    for chunk in keys.chunks(BULK_MAX) {
        let body = json!({"issueIdsOrKeys": chunk, "fields": ["summary"]});
        let answer = send(http, &url, Method::Post, auth, Body::Json(&body))?;
        let found: Vec<String> = answer["issues"]
            .as_array()
            .map(|issues| {
                issues
                    .iter()
                    .filter_map(|i| i["key"].as_str().map(str::to_ascii_uppercase))
                    .collect()
            })
            .unwrap_or_default();
        missing.extend(
            chunk
                .iter()
                .filter(|k| !found.contains(&k.to_ascii_uppercase()))
                .cloned(),
        );
    }
    Ok(missing)
}

fn missing_one_by_one(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    keys: &[String],
) -> Result<Vec<String>, String> {
    let mut missing = Vec::new();
    for key in keys {
        let url = format!("{}/rest/api/2/issue/{key}?fields=summary", tracker.url);
        match http.send(&request(&url, Method::Get, auth, Body::None)) {
            Attempt::Response(r) if r.status == 404 => missing.push(key.clone()),
            Attempt::Response(r) if (200..300).contains(&r.status) => {}
            other => return Err(describe(&url, other)),
        }
    }
    Ok(missing)
}

fn request<'a>(url: &'a str, method: Method, auth: &'a SiteAuth, body: Body<'a>) -> Request<'a> {
    Request::site(method, url, auth, body, TIMEOUT)
}

fn send(
    http: &HttpClient,
    url: &str,
    method: Method,
    auth: &SiteAuth,
    body: Body<'_>,
) -> Result<Value, String> {
    match http.send(&request(url, method, auth, body)) {
        Attempt::Response(r) if (200..300).contains(&r.status) => {
            serde_json::from_str(&r.body).map_err(|_| format!("{url}: the answer is not JSON"))
        }
        other => Err(describe(url, other)),
    }
}

fn describe(url: &str, attempt: Attempt) -> String {
    response::describe_attempt(url, attempt)
}
