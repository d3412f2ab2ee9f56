//! Reading many issues at once: Cloud's `POST /rest/api/3/issue/bulkfetch` (jira-api-facts
//! 1.5: 1 to 100 keys, unknown issues silently absent), Data Center's
//! `GET /rest/api/2/search?jql=...` (a key that does not exist fails the whole query with 400,
//! as Data Center does) and Cloud's `GET /rest/api/3/search/jql`. The JQL understood is what
//! deploylink sends: `key in (A-1, B-2)` and `project = K [ORDER BY ...]`.

use serde_json::{json, Value};

use super::details;
use super::routes::{checked_body, Incoming};
use super::store::Store;
use super::validate::Operation;
use super::wire::{form_pairs, Reply};
use super::Config;

/// Data Center's default and largest page of `search` (`jira.search.views.default.max`).
const SEARCH_DEFAULT_MAX: usize = 50;
const SEARCH_LARGEST_MAX: usize = 1000;

/// What a JQL query asks for.
#[derive(Debug, PartialEq, Eq)]
enum Query {
    Keys(Vec<String>),
    Project(String),
}

fn issue_bean(
    store: &Store,
    config: &Config,
    version: &str,
    key: &str,
    id: u64,
    fields: &[String],
) -> Value {
    json!({
        "id": id.to_string(),
        "key": key,
        "self": format!("{}/rest/api/{version}/issue/{id}", config.base_url),
        "fields": details::fields(store, &config.details, key, fields)
    })
}

/// `POST /rest/api/3/issue/bulkfetch` (`bulkFetchIssues`).
pub(crate) fn bulkfetch(store: &mut Store, config: &Config, req: &Incoming) -> Reply {
    let body = match checked_body(store, req, Operation::BulkFetch) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let wanted: Option<Vec<&str>> = body["issueIdsOrKeys"]
        .as_array()
        .and_then(|items| items.iter().map(Value::as_str).collect());
    let wanted = match wanted {
        Some(keys) if (1..=100).contains(&keys.len()) => keys,
        _ => {
            let reason = "issueIdsOrKeys must be a list of 1 to 100 issue keys or ids".to_owned();
            store.reject(req.method, req.path, reason.clone());
            return Reply::platform_message(400, &reason);
        }
    };
    let fields = string_list(&body["fields"]);
    let mut found: Vec<(String, u64)> = wanted.iter().filter_map(|k| store.resolve(k)).collect();
    // "Issues will be returned in ascending id order."
    found.sort_by_key(|(_, id)| *id);
    found.dedup();
    let issues: Vec<Value> = found
        .iter()
        .map(|(key, id)| issue_bean(store, config, "3", key, *id, &fields))
        .collect();
    Reply::json(200, &json!({"issues": issues, "issueErrors": []}))
}

/// `GET /rest/api/2/search` (Data Center, `startAt` paging, a `total`) and
/// `GET /rest/api/3/search/jql` (Cloud, `isLast`).
pub(crate) fn search(store: &mut Store, config: &Config, req: &Incoming, cloud: bool) -> Reply {
    let mut jql = None;
    let mut start = 0usize;
    let mut max = SEARCH_DEFAULT_MAX;
    let mut fields = Vec::new();
    for (name, value) in req.query.map(form_pairs).unwrap_or_default() {
        let bad = match name.as_str() {
            "jql" => {
                jql = Some(value.clone());
                false
            }
            "startAt" if !cloud => value.parse().map(|n| start = n).is_err(),
            "maxResults" => value
                .parse::<usize>()
                .map(|n| max = n.min(SEARCH_LARGEST_MAX))
                .is_err(),
            "fields" => {
                fields = value.split(',').map(|f| f.trim().to_owned()).collect();
                false
            }
            "validateQuery" | "expand" | "nextPageToken" => false,
            _ => true,
        };
        if bad {
            return refuse(
                store,
                req,
                format!("The value '{value}' is not valid for the parameter '{name}'."),
            );
        }
    }
    let query = match jql.as_deref().map(parse_jql) {
        Some(Some(query)) => query,
        _ => {
            return refuse(
                store,
                req,
                format!("Error in the JQL Query: the sandbox understands `key in (...)` and `project = KEY`, not {:?}.", jql.unwrap_or_default()),
            )
        }
    };
    let keys = match query {
        Query::Keys(keys) => {
            let missing: Vec<String> = keys
                .iter()
                .filter(|k| store.resolve(k).is_none())
                .cloned()
                .collect();
            if !missing.is_empty() {
                // Data Center refuses a query that names an issue it does not have.
                let messages: Vec<String> = missing
                    .iter()
                    .map(|k| format!("An issue with key '{k}' does not exist for field 'key'."))
                    .collect();
                store.reject(req.method, req.path, messages.join(" "));
                return Reply::platform_error(400, &messages, json!({}));
            }
            keys
        }
        Query::Project(project) => store.keys_of_project(&project),
    };
    let mut found: Vec<(String, u64)> = keys.iter().filter_map(|k| store.resolve(k)).collect();
    found.dedup();
    let total = found.len();
    let version = if cloud { "3" } else { "2" };
    let issues: Vec<Value> = found
        .iter()
        .skip(start)
        .take(max)
        .map(|(key, id)| issue_bean(store, config, version, key, *id, &fields))
        .collect();
    if cloud {
        Reply::json(
            200,
            &json!({"issues": issues, "isLast": start + max >= total}),
        )
    } else {
        Reply::json(
            200,
            &json!({"startAt": start, "maxResults": max, "total": total, "issues": issues}),
        )
    }
}

fn refuse(store: &mut Store, req: &Incoming, message: String) -> Reply {
    store.reject(req.method, req.path, message.clone());
    Reply::platform_message(400, &message)
}

fn string_list(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `key in (A-1, "B-2")` or `project = K` / `project = "K"`, either optionally followed by
/// `ORDER BY ...`; keywords in any case.
fn parse_jql(jql: &str) -> Option<Query> {
    let lower = jql.to_ascii_lowercase();
    let clause = match lower.find(" order by ") {
        Some(at) => &jql[..at],
        None => jql,
    }
    .trim();
    let unquote = |s: &str| s.trim().trim_matches('"').trim_matches('\'').to_owned();
    let lower = clause.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("project") {
        let value = rest.trim_start().strip_prefix('=')?;
        let start = clause.len() - value.len();
        let project = unquote(&clause[start..]);
        return (!project.is_empty()).then_some(Query::Project(project));
    }
    let after_field = lower
        .strip_prefix("issuekey")
        .or_else(|| lower.strip_prefix("key"))?;
    let list = after_field.trim_start().strip_prefix("in")?.trim();
    if !list.starts_with('(') || !list.ends_with(')') {
        return None;
    }
    let start = clause.len() - list.len();
    let inner = &clause[start + 1..clause.len() - 1];
    let keys: Vec<String> = inner
        .split(',')
        .map(unquote)
        .filter(|k| !k.is_empty())
        .collect();
    (!keys.is_empty()).then_some(Query::Keys(keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_jql_deploylink_sends() {
        assert_eq!(
            parse_jql("key in (WEB-1, \"OPS-2\")"),
            Some(Query::Keys(vec!["WEB-1".into(), "OPS-2".into()]))
        );
        assert_eq!(
            parse_jql("project = \"WEB\" ORDER BY updated DESC"),
            Some(Query::Project("WEB".into()))
        );
        assert_eq!(
            parse_jql("KEY IN (A-1)"),
            Some(Query::Keys(vec!["A-1".into()]))
        );
        assert_eq!(parse_jql("summary ~ x"), None);
        assert_eq!(parse_jql("key in ()"), None);
    }
}
