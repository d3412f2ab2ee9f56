//! Which request goes where, the platform REST API (`/rest/api/3` as Jira Cloud,
//! `/rest/api/2` as Data Center; jira-api-facts 1.1-1.6) and the sandbox's own control routes.

use serde_json::{json, Value};

use super::store::Store;
use super::validate::{self, Api, Invalid, Operation};
use super::wire::{percent_decode, Authorization, Reply};
use super::{deployments, devinfo, meta, page, search, Config};

/// The one user the sandbox knows.
pub(crate) const ACCOUNT_ID: &str = "5b10a2844c20165700ede21g";
pub(crate) const DISPLAY_NAME: &str = "Sandbox User";
/// Longest issue property key Jira accepts.
const PROPERTY_KEY_MAX: usize = 255;

/// A request, body read, as the routes see it.
pub(crate) struct Incoming<'a> {
    pub method: &'a str,
    /// The path, still percent-encoded, without the query.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The sandbox's own pages and controls: not Jira traffic, so neither logged nor faulted.
pub(crate) fn is_control(path: &str) -> bool {
    path == "/" || path.starts_with("/_sandbox/")
}

pub(crate) fn route(store: &mut Store, config: &Config, req: &Incoming) -> Reply {
    let Some(segments) = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect::<Option<Vec<String>>>()
    else {
        return Reply::not_found();
    };
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (req.method, segments.as_slice()) {
        ("GET", []) => Reply::html(page::render(&store.state)),
        ("GET", ["_sandbox", "state"]) => Reply::json(200, &json!(store.state)),
        ("DELETE", ["_sandbox", "state"]) => {
            store.reset();
            Reply::empty(204)
        }
        ("POST", ["_sandbox", "faults"]) => match serde_json::from_slice(req.body) {
            Ok(faults) => {
                let faults: Vec<super::Fault> = faults;
                store.faults.extend(faults);
                Reply::empty(204)
            }
            Err(e) => Reply::platform_message(400, &format!("not a JSON array of faults: {e}")),
        },
        ("GET", ["_edge", "tenant_info"]) => deployments::tenant_info(),
        ("POST", ["oauth", "token"]) => deployments::token(store, config, req),
        ("POST", ["jira", "deployments", "0.1", "cloud", cloud_id, "bulk"]) => {
            deployments::bulk(store, req, cloud_id)
        }
        ("POST", ["jira", "devinfo", "0.1", "cloud", cloud_id, "bulk"]) => {
            devinfo::bulk(store, req, cloud_id)
        }
        (_, ["rest", "api", version, rest @ ..]) => {
            let api = match *version {
                "3" => Api::V3,
                "2" => Api::V2,
                _ => return Reply::not_found(),
            };
            if let Err(reply) = authenticate(config, req) {
                return reply;
            }
            platform(store, config, req, api, rest)
        }
        _ => Reply::not_found(),
    }
}

/// A missing header is always refused; otherwise Basic (any `user:token`) or Bearer (any
/// token), unless the sandbox was given credentials, which must then match.
fn authenticate(config: &Config, req: &Incoming) -> Result<(), Reply> {
    let Some(header) = req.authorization else {
        return Err(Reply::platform_message(
            401,
            "You are not authenticated. Authentication required to perform this operation.",
        ));
    };
    let accepted = match (Authorization::parse(header), &config.credentials) {
        (Authorization::Other, _) => false,
        (_, None) => true,
        (Authorization::Basic { user, secret }, Some(wanted)) => {
            wanted.user.as_deref().is_none_or(|u| u == user) && secret == wanted.token
        }
        (Authorization::Bearer(token), Some(wanted)) => token == wanted.token,
    };
    if accepted {
        Ok(())
    } else {
        Err(Reply::platform_message(
            401,
            "Client must be authenticated to access this resource.",
        ))
    }
}

fn platform(store: &mut Store, config: &Config, req: &Incoming, api: Api, rest: &[&str]) -> Reply {
    let version = version_segment(api);
    match (req.method, rest) {
        ("GET", ["myself"]) => Reply::json(200, &myself(config, req)),
        ("GET", ["serverInfo"]) => Reply::json(
            200,
            &json!({
                "baseUrl": config.base_url,
                "version": if api == Api::V3 { "1001.0.0-SNAPSHOT" } else { "9.12.0" },
                "deploymentType": if api == Api::V3 { "Cloud" } else { "Server" },
                "serverTitle": "deploylink sandbox"
            }),
        ),
        ("GET", ["project", key, "version"]) => super::versions::page(store, config, req, api, key),
        ("GET", ["project", key, "versions"]) => super::versions::list(store, config, api, key),
        ("POST", ["version"]) => super::versions::create(store, config, req, api),
        ("PUT", ["version", id]) => super::versions::update(store, config, req, api, id),
        // Cloud only (jira-api-facts 1.5); Data Center has no bulkfetch.
        ("POST", ["issue", "bulkfetch"]) if api == Api::V3 => search::bulkfetch(store, config, req),
        ("GET", ["search"]) if api == Api::V2 => search::search(store, config, req, false),
        ("GET", ["search", "jql"]) if api == Api::V3 => search::search(store, config, req, true),
        ("GET", ["mypermissions"]) => meta::my_permissions(store, config, req, api == Api::V3),
        ("GET", ["project", key]) => meta::project(store, config, version, key),
        ("GET", ["project", key, "statuses"]) => meta::statuses(store, key),
        (_, ["issue", id_or_key, tail @ ..]) => {
            let Some((key, id)) = store.resolve(id_or_key) else {
                return Reply::platform_message(
                    404,
                    "Issue does not exist or you do not have permission to see it.",
                );
            };
            let base = &config.base_url;
            match (req.method, tail) {
                ("GET", []) => Reply::json(
                    200,
                    &json!({
                        "id": id.to_string(),
                        "key": key,
                        "self": format!("{base}/rest/api/{version}/issue/{id}"),
                        "fields": {
                            "summary": format!("Sandbox issue {key}"),
                            "status": super::workflow::status_field(store, &key),
                            "fixVersions": super::versions::fix_versions_json(store, config, api, &key),
                        }
                    }),
                ),
                ("GET", ["editmeta"]) => meta::edit_meta(config, &key),
                ("PUT", []) => super::versions::edit_issue(store, config, req, api, &key),
                ("GET", ["transitions"]) => super::workflow::list(store, &key),
                ("POST", ["transitions"]) => super::workflow::take(store, config, req, api, &key),
                ("GET", ["remotelink"]) => remote_links(store, req, &key),
                ("POST", ["remotelink"]) => {
                    let body = match checked_body(store, req, Operation::RemoteLink(api)) {
                        Ok(body) => body,
                        Err(reply) => return reply,
                    };
                    let (created, id) = store.upsert_link(&key, version, body);
                    let url = format!("{base}/rest/api/{version}/issue/{key}/remotelink/{id}");
                    Reply::json(
                        if created { 201 } else { 200 },
                        &json!({"id": id, "self": url}),
                    )
                }
                ("GET", ["comment"]) => comments(store, req, &key),
                ("POST", ["comment"]) => {
                    let body = match checked_body(store, req, Operation::Comment(api)) {
                        Ok(body) => body,
                        Err(reply) => return reply,
                    };
                    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
                    Reply::json(
                        201,
                        &store.add_comment(&key, version, body, &now.to_string()),
                    )
                }
                ("GET", ["properties", property]) => match store.property(&key, property) {
                    Some(value) => Reply::json(200, &json!({"key": property, "value": value})),
                    None => Reply::platform_message(
                        404,
                        &format!("The property with key '{property}' does not exist."),
                    ),
                },
                ("PUT", ["properties", property]) => set_property(store, req, api, &key, property),
                _ => Reply::not_found(),
            }
        }
        _ => Reply::not_found(),
    }
}

fn version_segment(api: Api) -> &'static str {
    match api {
        Api::V2 => "2",
        Api::V3 => "3",
    }
}

fn myself(config: &Config, req: &Incoming) -> Value {
    // Echo the Basic user when it is an email address, as Jira Cloud would for its owner.
    let email = match req.authorization.map(Authorization::parse) {
        Some(Authorization::Basic { user, .. }) if user.contains('@') => user,
        _ => "sandbox@example.com".to_string(),
    };
    json!({
        "self": format!("{}/rest/api/3/user?accountId={ACCOUNT_ID}", config.base_url),
        "accountId": ACCOUNT_ID,
        "displayName": DISPLAY_NAME,
        "emailAddress": email,
        "active": true
    })
}

/// All links of the issue, or with `?globalId=` that one link (404 if none).
fn remote_links(store: &Store, req: &Incoming, key: &str) -> Reply {
    let links = store.state.remote_links(key);
    let global_id = req.query.and_then(|q| {
        super::wire::form_pairs(q)
            .into_iter()
            .find(|(name, _)| name == "globalId")
            .map(|(_, value)| value)
    });
    match global_id {
        None => Reply::json(200, &Value::Array(links.to_vec())),
        Some(global_id) => match links
            .iter()
            .find(|l| l.get("globalId").and_then(Value::as_str) == Some(global_id.as_str()))
        {
            Some(link) => Reply::json(200, link),
            None => Reply::platform_message(
                404,
                &format!("No remote link with globalId '{global_id}' on {key}."),
            ),
        },
    }
}

/// `GET .../issue/{key}/comment` (`getComments`): `startAt`, `maxResults` (at most 5000),
/// `orderBy` (`created`, `+created`, `-created`) and `expand` (`renderedBody`,
/// `properties`); a comment's `properties` are in the answer only when expanded. Other
/// parameters, or values out of range, are refused with 400 as Jira does.
fn comments(store: &mut Store, req: &Incoming, key: &str) -> Reply {
    let mut start = 0usize;
    let mut max = 5000usize;
    let mut newest_first = false;
    let mut with_properties = false;
    let pairs = req.query.map(super::wire::form_pairs).unwrap_or_default();
    for (name, value) in &pairs {
        let bad = match name.as_str() {
            "startAt" => value.parse().map(|n| start = n).is_err(),
            "maxResults" => value.parse::<usize>().map(|n| max = n.min(5000)).is_err(),
            "orderBy" => match value.as_str() {
                "created" | "+created" => false,
                "-created" => {
                    newest_first = true;
                    false
                }
                _ => true,
            },
            "expand" => {
                let parts: Vec<&str> = value.split(',').map(str::trim).collect();
                with_properties = parts.contains(&"properties");
                !parts
                    .iter()
                    .all(|p| matches!(*p, "properties" | "renderedBody" | ""))
            }
            _ => true,
        };
        if bad {
            let message = format!("The value '{value}' is not valid for the parameter '{name}'.");
            store.reject(req.method, req.path, message.clone());
            return Reply::platform_message(400, &message);
        }
    }
    let mut all: Vec<Value> = store.state.comments(key).to_vec();
    if newest_first {
        all.reverse();
    }
    let total = all.len();
    let page: Vec<Value> = all
        .into_iter()
        .skip(start)
        .take(max)
        .map(|mut comment| {
            if let Some(map) = comment.as_object_mut() {
                if with_properties {
                    map.entry("properties").or_insert_with(|| json!([]));
                } else {
                    map.remove("properties");
                }
            }
            comment
        })
        .collect();
    Reply::json(
        200,
        &json!({"startAt": start, "maxResults": max, "total": total, "comments": page}),
    )
}

fn set_property(store: &mut Store, req: &Incoming, api: Api, key: &str, property: &str) -> Reply {
    if property.chars().count() > PROPERTY_KEY_MAX {
        let message =
            format!("The property key can't be longer than {PROPERTY_KEY_MAX} characters.");
        store.reject(req.method, req.path, message.clone());
        return Reply::platform_message(400, &message);
    }
    let value = match checked_body(store, req, Operation::IssueProperty(api)) {
        Ok(value) => value,
        Err(reply) => return reply,
    };
    let created = store.set_property(key, property, value);
    Reply::empty(if created { 201 } else { 200 })
}

/// The body as JSON, checked against `operation`'s schema and prose limits; a refusal is a 400
/// in the platform's error shape, recorded in `rejected`.
pub(crate) fn checked_body(
    store: &mut Store,
    req: &Incoming,
    operation: Operation,
) -> Result<Value, Reply> {
    let body = parse_json(req.body).map_err(|message| {
        store.reject(req.method, req.path, message.clone());
        Reply::platform_message(400, &message)
    })?;
    validate::check(operation, &body).map_err(|invalid: Invalid| {
        store.reject(req.method, req.path, invalid.reason());
        Reply::platform_error(400, &invalid.messages, json!(invalid.fields))
    })?;
    Ok(body)
}

/// Parses a JSON body; the error is a sentence for the client.
pub(crate) fn parse_json(body: &[u8]) -> Result<Value, String> {
    let text =
        std::str::from_utf8(body).map_err(|e| format!("The request body is not UTF-8: {e}"))?;
    if text.trim().is_empty() {
        return Err("The request body is empty; JSON was expected.".to_string());
    }
    serde_json::from_str(text).map_err(|e| format!("The request body is not valid JSON: {e}"))
}
