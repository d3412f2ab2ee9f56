//! Project versions (fix versions): found by name in a project, created once, added to an
//! issue's `fixVersions` without touching its other versions, and marked released.
//!
//! Cloud pages the lookup (`GET /rest/api/3/project/{key}/version?query=NAME`); Data Center
//! lists every version of the project at once (`GET /rest/api/2/project/{key}/versions`).

use serde_json::{json, Value};

use crate::config::TrackerKind;

/// Longest version name Jira accepts (the `Version.name` description in the OpenAPI file).
pub const NAME_MAX: usize = 255;
/// The placeholder of a version's id in a planned issue edit, filled in when it is sent.
pub const VERSION_ID: &str = "{versionId}";

/// A version as Jira answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub id: String,
    pub name: String,
    pub released: bool,
}

/// The first lookup of `name` in project `key`: on Cloud one page of the paged search,
/// on Data Center the whole list.
pub fn lookup_url(site: &str, kind: TrackerKind, project: &str, name: &str) -> String {
    match kind {
        TrackerKind::JiraCloud => page_url(site, project, name, 0),
        TrackerKind::JiraDataCenter => format!("{site}/rest/api/2/project/{project}/versions"),
    }
}

/// One page of Cloud's paged version search.
pub fn page_url(site: &str, project: &str, name: &str, start: u64) -> String {
    format!(
        "{site}/rest/api/3/project/{project}/version?query={}&startAt={start}&maxResults=50",
        query_escape(name)
    )
}

/// `{site}/rest/api/{v}/project/{key}`: the project's id, which creating a version needs.
pub fn project_url(site: &str, version: u8, project: &str) -> String {
    format!("{site}/rest/api/{version}/project/{project}")
}

/// `{site}/rest/api/{v}/version`: creates a version.
pub fn create_url(site: &str, version: u8) -> String {
    format!("{site}/rest/api/{version}/version")
}

/// `{site}/rest/api/{v}/version/{id}`: updates one (marks it released).
pub fn update_url(site: &str, version: u8, id: &str) -> String {
    format!("{site}/rest/api/{version}/version/{id}")
}

/// `{site}/rest/api/{v}/issue/{key}`: the issue edit that adds the version.
pub fn issue_url(site: &str, version: u8, key: &str) -> String {
    format!("{site}/rest/api/{version}/issue/{key}")
}

/// The issue's fix versions only: what decides whether the edit is needed.
pub fn issue_read_url(site: &str, version: u8, key: &str) -> String {
    format!("{}?fields=fixVersions", issue_url(site, version, key))
}

/// The body that creates the version in the project with id `project_id`.
pub fn create_body(name: &str, project_id: i64, description: Option<&str>) -> Value {
    let mut body = json!({"name": name, "projectId": project_id});
    if let Some(text) = description.filter(|t| !t.is_empty()) {
        body["description"] = json!(text);
    }
    body
}

/// The body that marks a version released on `date` (`YYYY-MM-DD`).
pub fn release_body(date: &str) -> Value {
    json!({"released": true, "releaseDate": date})
}

/// The issue edit that adds the version `id` to `fixVersions`, keeping the others (an `add`
/// operation, never a `set`).
pub fn add_body(id: &str) -> Value {
    json!({"update": {"fixVersions": [{"add": {"id": id}}]}})
}

/// The version named `name` in a lookup answer: a Cloud page (`values`) or a Data Center
/// list. Names are compared exactly, as Jira keeps them unique per project; the query is a
/// substring search, so `1.2` also finds `1.2.1`.
pub fn find(answer: &Value, name: &str) -> Option<Version> {
    let items = answer
        .get("values")
        .and_then(Value::as_array)
        .or_else(|| answer.as_array())?;
    items
        .iter()
        .find(|v| v["name"].as_str() == Some(name))
        .and_then(parse)
}

/// Whether a Cloud page is the last one.
pub fn is_last_page(answer: &Value) -> bool {
    answer["isLast"].as_bool().unwrap_or(true)
        || answer["values"].as_array().is_none_or(Vec::is_empty)
}

/// A version object (`id`, `name`, `released`).
pub fn parse(value: &Value) -> Option<Version> {
    Some(Version {
        id: match &value["id"] {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
        name: value["name"].as_str()?.to_owned(),
        released: value["released"].as_bool().unwrap_or(false),
    })
}

/// The project's numeric id from `GET .../project/{key}`.
pub fn project_id(answer: &Value) -> Option<i64> {
    match &answer["id"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Whether the issue (`GET issue?fields=fixVersions`) already has the version `id`.
pub fn issue_has(issue: &Value, id: &str) -> bool {
    issue["fields"]["fixVersions"]
        .as_array()
        .is_some_and(|versions| versions.iter().filter_map(parse).any(|v| v.id == id))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_exact_name_among_substring_matches() {
        let page = json!({"isLast": true, "values": [
            {"id": "10001", "name": "v1.2.1", "released": false},
            {"id": "10000", "name": "v1.2", "released": true}
        ]});
        let found = find(&page, "v1.2").unwrap();
        assert_eq!(found.id, "10000");
        assert!(found.released);
        let list = json!([{"id": "7", "name": "v1.2"}]);
        assert_eq!(find(&list, "v1.2").unwrap().id, "7");
        assert!(find(&list, "v1.3").is_none());
    }

    #[test]
    fn an_issue_with_other_versions_lacks_this_one() {
        let issue = json!({"fields": {"fixVersions": [{"id": "1", "name": "a"}]}});
        assert!(issue_has(&issue, "1"));
        assert!(!issue_has(&issue, "2"));
        assert!(!issue_has(&json!({"fields": {}}), "1"));
    }

    #[test]
    fn the_query_is_escaped() {
        assert_eq!(
            page_url("https://x", "WEB", "v1 2&x", 50),
            "https://x/rest/api/3/project/WEB/version?query=v1%202%26x&startAt=50&maxResults=50"
        );
    }
}
