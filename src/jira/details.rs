//! What release notes show of an issue: its summary, type and status. On Cloud one
//! `POST /rest/api/3/issue/bulkfetch` per 100 keys (issues that do not exist, or that the
//! account cannot see, are simply absent); on Data Center, which has no bulkfetch, one
//! `GET /rest/api/2/search?jql=key in (...)` per 100 keys. Data Center refuses a whole query
//! that names a key it does not have (400, jira-api-facts 1.5), naming the key: the query is
//! then asked again without the keys named.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::client::{Attempt, Body, HttpClient, Method, Request};
use super::credentials::SiteAuth;
use super::meta::encode;
use super::response;
use crate::config::{Tracker, TrackerKind};

const TIMEOUT: Duration = Duration::from_secs(20);
/// Keys per request: bulkfetch takes at most 100, and a JQL of 100 keys stays short.
pub const BATCH: usize = 100;
/// The fields asked for.
const FIELDS: [&str; 3] = ["summary", "issuetype", "status"];
/// Data Center queries asked again after a 400 that names unknown keys, per batch.
const RETRIES_WITHOUT_UNKNOWN: usize = 3;

/// An issue as release notes show it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IssueDetails {
    pub summary: String,
    /// The issue type's name (`Story`, `Bug`, ...).
    pub issue_type: String,
    /// The status's name (`In Review`, `Done`, ...).
    pub status: String,
}

/// The details of the keys Jira has, by key (upper case); keys it does not have are absent.
/// An error (a sentence with the URL and the status) when Jira could not be asked.
pub fn fetch(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    keys: &[String],
) -> Result<BTreeMap<String, IssueDetails>, String> {
    let mut found = BTreeMap::new();
    for batch in keys.chunks(BATCH) {
        let issues = match tracker.kind {
            TrackerKind::JiraCloud => bulkfetch(http, tracker, auth, batch)?,
            TrackerKind::JiraDataCenter => search(http, tracker, auth, batch)?,
        };
        found.extend(issues.iter().filter_map(read_issue));
    }
    Ok(found)
}

fn bulkfetch(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    batch: &[String],
) -> Result<Vec<Value>, String> {
    let url = format!("{}/rest/api/3/issue/bulkfetch", tracker.url);
    let body = json!({"issueIdsOrKeys": batch, "fields": FIELDS});
    let request = request(&url, Method::Post, auth, Body::Json(&body));
    match http.send(&request) {
        Attempt::Response(r) if (200..300).contains(&r.status) => issues_of(&url, &r.body),
        other => Err(describe(tracker, &url, other)),
    }
}

fn search(
    http: &HttpClient,
    tracker: &Tracker,
    auth: &SiteAuth,
    batch: &[String],
) -> Result<Vec<Value>, String> {
    let mut keys: Vec<&String> = batch.iter().collect();
    for _ in 0..=RETRIES_WITHOUT_UNKNOWN {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let url = search_url(tracker, &keys);
        match http.send(&request(&url, Method::Get, auth, Body::None)) {
            Attempt::Response(r) if (200..300).contains(&r.status) => {
                return issues_of(&url, &r.body)
            }
            Attempt::Response(r) if r.status == 400 => {
                let unknown = unknown_keys(&r.body);
                let before = keys.len();
                keys.retain(|k| !unknown.iter().any(|u| u.eq_ignore_ascii_case(k)));
                if keys.len() == before {
                    return Err(format!("{}: {}", short(&url), response::describe(&r)));
                }
            }
            other => return Err(describe(tracker, &short(&url), other)),
        }
    }
    Err(format!(
        "{}/rest/api/2/search kept refusing the query for unknown keys",
        tracker.url
    ))
}

/// `GET /rest/api/2/search?jql=key in (A-1,B-2)&fields=...&maxResults=100`: without
/// `maxResults` Data Center answers 50 issues.
fn search_url(tracker: &Tracker, keys: &[&String]) -> String {
    let list: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
    let jql = format!("key in ({})", list.join(","));
    format!(
        "{}/rest/api/2/search?jql={}&fields={}&maxResults={BATCH}",
        tracker.url,
        encode(&jql),
        FIELDS.join(",")
    )
}

/// The URL without its query, for messages (the query is 100 keys long).
fn short(url: &str) -> String {
    url.split_once('?').map_or(url, |(path, _)| path).to_owned()
}

/// The keys a Data Center 400 names as not existing:
/// `An issue with key 'WEB-99' does not exist for field 'key'.`
fn unknown_keys(body: &str) -> Vec<String> {
    let value: Value = serde_json::from_str(body).unwrap_or_default();
    value["errorMessages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(Value::as_str)
                .filter(|m| m.contains("does not exist"))
                .filter_map(|m| m.split('\'').nth(1).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn issues_of(url: &str, body: &str) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_str(body)
        .map_err(|_| format!("{}: the answer is not JSON", short(url)))?;
    Ok(value["issues"].as_array().cloned().unwrap_or_default())
}

/// `(KEY, details)` of one issue bean; fields Jira left out read as empty.
fn read_issue(issue: &Value) -> Option<(String, IssueDetails)> {
    let key = issue["key"].as_str()?.to_ascii_uppercase();
    let fields = &issue["fields"];
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    Some((
        key,
        IssueDetails {
            summary: text(&fields["summary"]),
            issue_type: text(&fields["issuetype"]["name"]),
            status: text(&fields["status"]["name"]),
        },
    ))
}

fn request<'a>(url: &'a str, method: Method, auth: &'a SiteAuth, body: Body<'a>) -> Request<'a> {
    Request::site(method, url, auth, body, TIMEOUT)
}

fn describe(tracker: &Tracker, url: &str, attempt: Attempt) -> String {
    match attempt {
        Attempt::Response(r) if r.status == 401 || r.status == 403 => {
            response::refusal(tracker, &r)
        }
        other => response::describe_attempt(url, other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_a_data_center_400_names() {
        let body = r#"{"errorMessages":["An issue with key 'WEB-99' does not exist for field 'key'.","Something else"],"errors":{}}"#;
        assert_eq!(unknown_keys(body), vec!["WEB-99".to_owned()]);
        assert!(unknown_keys("not json").is_empty());
    }

    #[test]
    fn encodes_jql() {
        assert_eq!(encode("key in (A-1,B-2)"), "key%20in%20%28A-1%2CB-2%29");
    }

    #[test]
    fn reads_an_issue_bean() {
        let bean = json!({"key": "web-1", "fields": {"summary": "Log in", "issuetype": {"name": "Story"}, "status": {"name": "Done"}}});
        let (key, details) = read_issue(&bean).unwrap();
        assert_eq!(key, "WEB-1");
        assert_eq!(details.status, "Done");
        assert_eq!(details.issue_type, "Story");
    }
}
