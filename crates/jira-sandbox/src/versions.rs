//! Projects and their versions (fix versions): the paged Cloud lookup
//! (`GET project/{key}/version?query=`), Data Center's whole list (`GET project/{key}/versions`),
//! creating and releasing a version, and the issue edit that adds one to `fixVersions`.
//!
//! What the account may do comes from [`Setup`](super::Setup): creating or releasing a version
//! needs `ADMINISTER_PROJECTS`, editing an issue `EDIT_ISSUES` and `fixVersions` on the
//! project's edit screen, and every read `BROWSE_PROJECTS`.

use serde_json::{json, Value};

use super::routes::{checked_body, Incoming};
use super::setup::project_of;
use super::state::VersionRecord;
use super::store::Store;
use super::validate::{Api, Operation};
use super::wire::{form_pairs, Reply};
use super::Config;

/// First project and version id, as on a fresh site.
const FIRST_PROJECT_ID: u64 = 10_000;
const FIRST_VERSION_ID: u64 = 10_100;
/// Largest page of the paged version search.
const PAGE_MAX: usize = 50;

/// Project key characters, in the order of their digit in a project id.
const KEY_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

/// A project key's id: the key read as a number (so the id names the key back without a
/// table; the sandbox has every project whose key is shaped like one).
pub(crate) fn project_id(key: &str) -> u64 {
    let base = KEY_DIGITS.len() as u64 + 1;
    let number = key.bytes().fold(0u64, |n, b| {
        let digit = KEY_DIGITS
            .iter()
            .position(|d| *d == b)
            .map_or(0, |p| p as u64 + 1);
        n.saturating_mul(base).saturating_add(digit)
    });
    FIRST_PROJECT_ID + number
}

/// The key whose id is `id`.
fn project_key(id: u64) -> Option<String> {
    let base = KEY_DIGITS.len() as u64 + 1;
    let mut number = id.checked_sub(FIRST_PROJECT_ID)?;
    let mut key = Vec::new();
    while number > 0 {
        let digit = (number % base) as usize;
        key.push(*KEY_DIGITS.get(digit.checked_sub(1)?)?);
        number /= base;
    }
    key.reverse();
    String::from_utf8(key).ok().filter(|k| !k.is_empty())
}

fn project_not_found(key: &str) -> Reply {
    Reply::platform_message(404, &format!("No project could be found with key '{key}'."))
}

/// Whether a project key is one the sandbox has (shaped like one, and browsable).
fn visible(config: &Config, key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && config.setup.allows(key, "BROWSE_PROJECTS")
}

fn api_segment(api: Api) -> &'static str {
    match api {
        Api::V2 => "2",
        Api::V3 => "3",
    }
}

fn version_json(config: &Config, api: Api, v: &VersionRecord) -> Value {
    let mut out = json!({
        "id": v.id,
        "name": v.name,
        "projectId": project_id(&v.project),
        "released": v.released,
        "archived": false,
        "self": format!("{}/rest/api/{}/version/{}", config.base_url, api_segment(api), v.id),
    });
    if let Some(d) = &v.description {
        out["description"] = json!(d);
    }
    if let Some(d) = &v.release_date {
        out["releaseDate"] = json!(d);
    }
    out
}

/// `GET project/{key}/version` (`getProjectVersionsPaginated`): `query` matches names by
/// substring, case-insensitively; `startAt` and `maxResults` page.
pub(crate) fn page(store: &Store, config: &Config, req: &Incoming, api: Api, key: &str) -> Reply {
    if !visible(config, key) {
        return project_not_found(key);
    }
    let mut query = String::new();
    let mut start = 0usize;
    let mut max = PAGE_MAX;
    for (name, value) in req.query.map(form_pairs).unwrap_or_default() {
        match name.as_str() {
            "query" => query = value.to_lowercase(),
            "startAt" => start = value.parse().unwrap_or(0),
            "maxResults" => {
                max = value
                    .parse::<usize>()
                    .unwrap_or(PAGE_MAX)
                    .clamp(1, PAGE_MAX)
            }
            _ => {}
        }
    }
    let matching: Vec<Value> = store
        .state
        .versions
        .iter()
        .filter(|v| v.project == key && v.name.to_lowercase().contains(&query))
        .map(|v| version_json(config, api, v))
        .collect();
    let total = matching.len();
    let values: Vec<Value> = matching.into_iter().skip(start).take(max).collect();
    Reply::json(
        200,
        &json!({
            "startAt": start,
            "maxResults": max,
            "total": total,
            "isLast": start + values.len() >= total,
            "values": values,
        }),
    )
}

/// `GET project/{key}/versions` (`getProjectVersions`): every version, unpaged.
pub(crate) fn list(store: &Store, config: &Config, api: Api, key: &str) -> Reply {
    if !visible(config, key) {
        return project_not_found(key);
    }
    let all: Vec<Value> = store
        .state
        .versions
        .iter()
        .filter(|v| v.project == key)
        .map(|v| version_json(config, api, v))
        .collect();
    Reply::json(200, &Value::Array(all))
}

/// The project key of a `projectId` (or the deprecated `project` key) in a version body.
fn project_key_of(body: &Value) -> Option<String> {
    if let Some(key) = body["project"].as_str() {
        return Some(key.to_owned());
    }
    project_key(body["projectId"].as_u64()?)
}

/// `POST version` (`createVersion`): a name unique in its project, at most 255 characters.
pub(crate) fn create(store: &mut Store, config: &Config, req: &Incoming, api: Api) -> Reply {
    let body = match checked_body(store, req, Operation::VersionCreate(api)) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let Some(project) = project_key_of(&body) else {
        return Reply::platform_error(
            404,
            &[],
            json!({"projectId": "Project with the given id does not exist."}),
        );
    };
    if !config.setup.allows(&project, "ADMINISTER_PROJECTS") {
        return Reply::platform_message(
            403,
            &format!("You do not have permission to create versions in project {project}: you need the Administer Projects permission."),
        );
    }
    let name = body["name"].as_str().unwrap_or("").to_owned();
    if name.trim().is_empty() || name.chars().count() > 255 {
        let reason = "The version name must be 1 to 255 characters long.".to_owned();
        store.reject(req.method, req.path, reason.clone());
        return Reply::platform_error(400, &[], json!({"name": reason}));
    }
    if store
        .state
        .versions
        .iter()
        .any(|v| v.project == project && v.name.eq_ignore_ascii_case(&name))
    {
        return Reply::platform_error(
            400,
            &[],
            json!({"name": "A version with this name already exists in this project."}),
        );
    }
    let id = (FIRST_VERSION_ID + store.state.versions.len() as u64).to_string();
    let record = VersionRecord {
        id,
        project,
        name,
        description: body["description"].as_str().map(str::to_owned),
        released: body["released"].as_bool().unwrap_or(false),
        release_date: body["releaseDate"].as_str().map(str::to_owned),
    };
    let answer = version_json(config, api, &record);
    store.state.versions.push(record);
    store.dirty = true;
    Reply::json(201, &answer)
}

/// `PUT version/{id}` (`updateVersion`): here, releasing it.
pub(crate) fn update(
    store: &mut Store,
    config: &Config,
    req: &Incoming,
    api: Api,
    id: &str,
) -> Reply {
    let body = match checked_body(store, req, Operation::VersionUpdate(api)) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let Some(index) = store.state.versions.iter().position(|v| v.id == id) else {
        return Reply::platform_message(404, &format!("Could not find version for id '{id}'"));
    };
    let project = store.state.versions[index].project.clone();
    if !config.setup.allows(&project, "ADMINISTER_PROJECTS") {
        // updateVersion documents a missing permission as a 400.
        return Reply::platform_message(
            400,
            &format!("You do not have permission to edit versions in project {project}."),
        );
    }
    let version = &mut store.state.versions[index];
    if let Some(released) = body["released"].as_bool() {
        version.released = released;
    }
    if let Some(date) = body["releaseDate"].as_str() {
        version.release_date = Some(date.to_owned());
    }
    if let Some(text) = body["description"].as_str() {
        version.description = Some(text.to_owned());
    }
    let answer = version_json(config, api, version);
    store.dirty = true;
    Reply::json(200, &answer)
}

/// `PUT issue/{key}` (`editIssue`): only `update.fixVersions` with `add`/`remove`/`set` of
/// `{id}` or `{name}`, as deploylink uses it; any other field is refused as off-screen.
pub(crate) fn edit_issue(
    store: &mut Store,
    config: &Config,
    req: &Incoming,
    api: Api,
    key: &str,
) -> Reply {
    let body = match checked_body(store, req, Operation::IssueEdit(api)) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let project = project_of(key).to_owned();
    if !config.setup.allows(&project, "EDIT_ISSUES") {
        return Reply::platform_message(
            400,
            "You do not have permission to edit issues in this project.",
        );
    }
    let updates = body["update"].as_object().cloned().unwrap_or_default();
    if let Some(field) = body["fields"]
        .as_object()
        .and_then(|f| f.keys().next().cloned())
        .or_else(|| updates.keys().find(|k| *k != "fixVersions").cloned())
    {
        return off_screen(&field);
    }
    if !config.setup.on_screen(&project, "fixVersions") {
        return off_screen("fixVersions");
    }
    let operations = updates
        .get("fixVersions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for operation in &operations {
        let Some((verb, target)) = operation.as_object().and_then(|o| o.iter().next()) else {
            continue;
        };
        let found = store.state.versions.iter().find(|v| {
            v.project == project
                && (target["id"].as_str() == Some(v.id.as_str())
                    || target["name"].as_str() == Some(v.name.as_str()))
        });
        let Some(id) = found.map(|v| v.id.clone()) else {
            return Reply::platform_error(
                400,
                &[],
                json!({"fixVersions": format!("Version with id '{}' does not exist.", target["id"].as_str().unwrap_or(""))}),
            );
        };
        let versions = &mut store.issue(key).fix_versions;
        match verb.as_str() {
            "add" if !versions.contains(&id) => versions.push(id),
            "remove" => versions.retain(|v| *v != id),
            "set" => *versions = vec![id],
            _ => {}
        }
    }
    Reply::empty(204)
}

fn off_screen(field: &str) -> Reply {
    Reply::platform_error(
        400,
        &[],
        json!({field: format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown.")}),
    )
}

/// The issue's fix versions as `GET issue` shows them.
pub(crate) fn fix_versions_json(store: &Store, config: &Config, api: Api, key: &str) -> Value {
    let ids = store
        .state
        .issues
        .get(key)
        .map(|i| i.fix_versions.clone())
        .unwrap_or_default();
    Value::Array(
        ids.iter()
            .filter_map(|id| store.state.versions.iter().find(|v| &v.id == id))
            .map(|v| version_json(config, api, v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_id_names_its_key_back() {
        for key in ["WEB", "OPS", "A_B2", "ZZZZZZZZZZ"] {
            assert_eq!(project_key(project_id(key)).as_deref(), Some(key));
        }
        assert_ne!(project_id("WEB"), project_id("OPS"));
    }
}
