//! What a pre-flight check asks a Jira site about its projects, before anything is written:
//! does the project exist (`GET project/{key}`), what may the account do in it
//! (`GET mypermissions`), which statuses its workflow has (`GET project/{key}/statuses`) and
//! which fields an issue's edit screen shows (`GET issue/{key}/editmeta`). Permissions and
//! screens come from [`crate::Setup`].

use serde_json::{json, Value};

use super::routes::Incoming;
use super::setup::project_of;
use super::store::Store;
use super::wire::{form_pairs, Reply};
use super::workflow::STATUSES;
use super::Config;

/// The fields every sandbox edit screen shows unless the setup takes one off.
const EDIT_FIELDS: [(&str, &str); 5] = [
    ("summary", "Summary"),
    ("description", "Description"),
    ("labels", "Labels"),
    ("fixVersions", "Fix versions"),
    ("comment", "Comment"),
];

/// The permissions the sandbox can answer about, with their names as Jira shows them.
const PERMISSIONS: [(&str, &str); 7] = [
    ("BROWSE_PROJECTS", "Browse Projects"),
    ("LINK_ISSUES", "Link Issues"),
    ("EDIT_ISSUES", "Edit Issues"),
    ("TRANSITION_ISSUES", "Transition Issues"),
    ("ADMINISTER_PROJECTS", "Administer Projects"),
    ("ADD_COMMENTS", "Add Comments"),
    ("CREATE_ISSUES", "Create Issues"),
];

fn no_project(key: &str) -> Reply {
    Reply::platform_message(404, &format!("No project could be found with key '{key}'."))
}

/// `GET /rest/api/{3|2}/project/{projectIdOrKey}` (`getProject`). Without Browse Projects the
/// account cannot see the project: 404, as Jira answers.
pub(crate) fn project(store: &Store, config: &Config, version: &str, key: &str) -> Reply {
    if store.keys_of_project(key).is_empty() || !config.setup.allows(key, "BROWSE_PROJECTS") {
        return no_project(key);
    }
    let id = super::versions::project_id(key);
    Reply::json(
        200,
        &json!({
            "self": format!("{}/rest/api/{version}/project/{id}", config.base_url),
            "id": id.to_string(),
            "key": key,
            "name": format!("Project {key}"),
            "projectTypeKey": "software"
        }),
    )
}

/// `GET /rest/api/{3|2}/project/{key}/statuses` (`getAllStatuses`): per issue type, the
/// statuses of its workflow. Every sandbox issue type has the same workflow.
pub(crate) fn statuses(store: &Store, key: &str) -> Reply {
    if store.keys_of_project(key).is_empty() {
        return no_project(key);
    }
    let statuses: Vec<Value> = STATUSES
        .iter()
        .map(|(name, id, category)| {
            json!({"id": id, "name": name, "statusCategory": {"key": category}})
        })
        .collect();
    let types: Vec<Value> = ["Story", "Bug", "Task"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"id": (10_001 + i).to_string(), "name": name, "subtask": false, "statuses": statuses})
        })
        .collect();
    Reply::json(200, &Value::Array(types))
}

/// `GET /rest/api/{3|2}/mypermissions?projectKey=K&permissions=A,B` (`getMyPermissions`).
/// Cloud requires `permissions`; Data Center lists every permission without it.
pub(crate) fn my_permissions(
    store: &mut Store,
    config: &Config,
    req: &Incoming,
    v3: bool,
) -> Reply {
    let pairs = req.query.map(form_pairs).unwrap_or_default();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let wanted: Vec<String> = match value("permissions") {
        Some(list) => list.split(',').map(|p| p.trim().to_owned()).collect(),
        None if v3 => {
            let message = "The permissions query parameter is required.".to_owned();
            store.reject(req.method, req.path, message.clone());
            return Reply::platform_message(400, &message);
        }
        None => PERMISSIONS.iter().map(|(k, _)| (*k).to_owned()).collect(),
    };
    if let Some(unknown) = wanted
        .iter()
        .find(|p| !PERMISSIONS.iter().any(|(k, _)| k == *p))
    {
        let message = format!("Permission '{unknown}' does not exist.");
        store.reject(req.method, req.path, message.clone());
        return Reply::platform_message(400, &message);
    }
    let project = value("projectKey");
    if let Some(key) = &project {
        if store.keys_of_project(key).is_empty() {
            return no_project(key);
        }
    }
    let mut permissions = serde_json::Map::new();
    for (i, (key, name)) in PERMISSIONS.iter().enumerate() {
        if !wanted.iter().any(|w| w == key) {
            continue;
        }
        let have = project
            .as_deref()
            .is_none_or(|p| config.setup.allows(p, key));
        permissions.insert(
            (*key).to_owned(),
            json!({"id": (10 + i).to_string(), "key": key, "name": name, "type": "PROJECT",
                   "havePermission": have}),
        );
    }
    Reply::json(200, &json!({"permissions": permissions}))
}

/// `GET /rest/api/{3|2}/issue/{key}/editmeta` (`getEditIssueMeta`): the fields of the edit
/// screen, without those the setup takes off the project.
pub(crate) fn edit_meta(config: &Config, key: &str) -> Reply {
    let project = project_of(key);
    let mut fields = serde_json::Map::new();
    for (id, name) in EDIT_FIELDS {
        if !config.setup.on_screen(project, id) {
            continue;
        }
        let schema = if id == "fixVersions" {
            json!({"type": "array", "items": "version", "system": id})
        } else {
            json!({"type": "string", "system": id})
        };
        fields.insert(
            id.to_owned(),
            json!({"required": id == "summary", "schema": schema, "name": name, "key": id,
                   "operations": ["set", "add", "remove"]}),
        );
    }
    Reply::json(200, &json!({"fields": fields}))
}
