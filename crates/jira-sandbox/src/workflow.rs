//! One workflow for every issue: To Do -> In Progress -> In Review -> Done, with In QA beside
//! In Review, and a backwards "Reopen" from Done to To Do that a deploy must never take.
//! Transitions are listed (`GET issue/{key}/transitions`) and taken by id (`POST`); their ids
//! are this workflow's own, as in Jira, where they differ per workflow.
//!
//! Taking one needs `TRANSITION_ISSUES` (its lack is a 400, as `doTransition` documents), and
//! the fields its screen requires ([`Store::require_fields`]) in the body's `fields`.

use serde_json::{json, Value};

use super::routes::{checked_body, Incoming};
use super::setup::project_of;
use super::store::Store;
use super::validate::{Api, Operation};
use super::wire::Reply;
use super::Config;

/// Every status: name, id, and its category's key, id and name.
pub(crate) const STATUSES: [(&str, &str, &str); 5] = [
    ("To Do", "10000", "new"),
    ("In Progress", "3", "indeterminate"),
    ("In Review", "10001", "indeterminate"),
    ("In QA", "10002", "indeterminate"),
    ("Done", "10003", "done"),
];

/// Every transition: id, name, from, to.
const TRANSITIONS: [(&str, &str, &str, &str); 7] = [
    ("11", "Start work", "To Do", "In Progress"),
    ("21", "Send to review", "In Progress", "In Review"),
    ("41", "Send to QA", "In Progress", "In QA"),
    ("42", "Back to QA", "In Review", "In QA"),
    ("51", "QA passed", "In QA", "In Review"),
    ("31", "Close", "In Review", "Done"),
    ("61", "Reopen", "Done", "To Do"),
];

/// The first status of the workflow: where every issue starts.
pub const FIRST_STATUS: &str = "To Do";

fn status_json(name: &str) -> Value {
    let (name, id, category) = STATUSES
        .iter()
        .find(|(n, ..)| *n == name)
        .copied()
        .unwrap_or((FIRST_STATUS, "10000", "new"));
    let (category_id, category_name) = match category {
        "new" => (2, "To Do"),
        "done" => (3, "Done"),
        _ => (4, "In Progress"),
    };
    json!({
        "id": id,
        "name": name,
        "statusCategory": {"id": category_id, "key": category, "name": category_name}
    })
}

impl Store {
    /// The issue's status and its category's key (`new`, `indeterminate`, `done`).
    pub(crate) fn status_of(&self, key: &str) -> (String, String) {
        let name = self
            .state
            .issues
            .get(key)
            .and_then(|i| i.status.clone())
            .unwrap_or_else(|| FIRST_STATUS.to_owned());
        let category = STATUSES
            .iter()
            .find(|(n, ..)| *n == name)
            .map_or("new", |(_, _, c)| c);
        (name, category.to_owned())
    }

    /// Puts an issue at `status` (a test's starting point).
    pub(crate) fn set_status(&mut self, key: &str, status: &str) {
        self.issue(key).status = Some(status.to_owned());
    }

    /// Makes the screen of every transition to `status` require `fields`.
    pub(crate) fn require_fields(&mut self, status: &str, fields: Vec<String>) {
        self.required_fields.insert(status.to_owned(), fields);
    }
}

/// The status as `GET issue` shows it under `fields.status`.
pub(crate) fn status_field(store: &Store, key: &str) -> Value {
    status_json(&store.status_of(key).0)
}

/// `GET issue/{key}/transitions` (`getTransitions`): those open from the issue's status.
pub(crate) fn list(store: &Store, key: &str) -> Reply {
    let (status, _) = store.status_of(key);
    let open: Vec<Value> = TRANSITIONS
        .iter()
        .filter(|(_, _, from, _)| *from == status)
        .map(|(id, name, _, to)| {
            json!({
                "id": id,
                "name": name,
                "to": status_json(to),
                "hasScreen": store.required_fields.contains_key(*to),
                "isGlobal": false,
                "isInitial": false,
                "isConditional": false
            })
        })
        .collect();
    Reply::json(200, &json!({"transitions": open}))
}

/// `POST issue/{key}/transitions` (`doTransition`): the transition must be open from the
/// issue's status, and the fields its screen requires must be in `fields`.
pub(crate) fn take(
    store: &mut Store,
    config: &Config,
    req: &Incoming,
    api: Api,
    key: &str,
) -> Reply {
    let body = match checked_body(store, req, Operation::Transition(api)) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    if !config.setup.allows(project_of(key), "TRANSITION_ISSUES") {
        return Reply::platform_message(
            400,
            "You do not have permission to transition this issue.",
        );
    }
    let Some(id) = body["transition"]["id"].as_str() else {
        return Reply::platform_message(400, "No transition specified.");
    };
    let (status, _) = store.status_of(key);
    let Some((_, _, _, to)) = TRANSITIONS
        .iter()
        .find(|(t, _, from, _)| *t == id && *from == status)
    else {
        return Reply::platform_message(
            400,
            &format!("Transition id '{id}' is not valid for this issue."),
        );
    };
    let screen = store.required_fields.get(*to).cloned().unwrap_or_default();
    if let Some(field) = body["fields"]
        .as_object()
        .and_then(|f| f.keys().find(|k| !screen.contains(k)))
    {
        return Reply::platform_error(
            400,
            &[],
            json!({field: format!("Field '{field}' cannot be set. It is not on the appropriate screen, or unknown.")}),
        );
    }
    let missing: Vec<String> = store
        .required_fields
        .get(*to)
        .map(|fields| {
            fields
                .iter()
                .filter(|f| body["fields"].get(f.as_str()).is_none())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if !missing.is_empty() {
        let errors: serde_json::Map<String, Value> = missing
            .iter()
            .map(|f| (f.clone(), json!(format!("{f} is required."))))
            .collect();
        return Reply::platform_error(400, &[], Value::Object(errors));
    }
    store.set_status(key, to);
    Reply::empty(204)
}
