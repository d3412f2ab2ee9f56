//! Workflow transitions: an issue's status and the transitions open to it, matched by the
//! status they lead to (by name, case-insensitively), never by transition id, since ids
//! differ from one workflow to another.

use serde_json::{json, Map, Value};

/// The placeholder of the transition's id in a planned transition, filled in when it is sent.
pub const TRANSITION_ID: &str = "{transitionId}";
/// The most transitions one issue takes in one deploy.
pub const MAX_HOPS: usize = 5;

/// An issue's status: its name and its category's key (`new`, `indeterminate`, `done`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub name: String,
    pub category: String,
}

impl Status {
    pub fn is_done(&self) -> bool {
        self.category == "done"
    }
}

/// One transition open to the issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub id: String,
    pub name: String,
    /// The status it leads to.
    pub to: String,
}

/// `{site}/rest/api/{v}/issue/{key}?fields=status`.
pub fn status_url(site: &str, version: u8, key: &str) -> String {
    format!("{site}/rest/api/{version}/issue/{key}?fields=status")
}

/// `{site}/rest/api/{v}/issue/{key}/transitions`: read (GET) and taken (POST).
pub fn transitions_url(site: &str, version: u8, key: &str) -> String {
    format!("{site}/rest/api/{version}/issue/{key}/transitions")
}

/// The body that takes transition `id`, with the transition screen's `fields` if any.
pub fn body(id: &str, fields: &Map<String, Value>) -> Value {
    let mut body = json!({"transition": {"id": id}});
    if !fields.is_empty() {
        body["fields"] = Value::Object(fields.clone());
    }
    body
}

/// The status of `GET issue?fields=status`.
pub fn parse_status(issue: &Value) -> Option<Status> {
    let status = &issue["fields"]["status"];
    Some(Status {
        name: status["name"].as_str()?.to_owned(),
        category: status["statusCategory"]["key"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    })
}

/// The transitions of `GET .../transitions`.
pub fn parse_transitions(answer: &Value) -> Vec<Transition> {
    answer["transitions"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| {
                    Some(Transition {
                        id: t["id"].as_str()?.to_owned(),
                        name: t["name"].as_str().unwrap_or("").to_owned(),
                        to: t["to"]["name"].as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The transition that leads to `status`.
pub fn leading_to<'a>(transitions: &'a [Transition], status: &str) -> Option<&'a Transition> {
    transitions.iter().find(|t| same(&t.to, status))
}

/// Status names compared as Jira users read them: case-insensitively.
pub fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What a deploy does to an issue at `status`, for the path `path` (its last status the
/// target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Move {
    /// Already at the target.
    AtTarget,
    /// Later on the path than the target allows going back from, or done: left alone.
    Ahead(String),
    /// These hops, in order (never more than [`MAX_HOPS`]).
    Hops(Vec<String>),
}

/// The hops from `status` along `path`: from the status's place on the path, or from the
/// path's first element when the status is not on it; nothing when the issue is at the target,
/// later on the path, or in the `done` category (never moved backwards).
pub fn plan_move(status: &Status, path: &[String]) -> Move {
    let Some(target) = path.last() else {
        return Move::AtTarget;
    };
    if same(&status.name, target) {
        return Move::AtTarget;
    }
    match path.iter().position(|s| same(s, &status.name)) {
        Some(at) => Move::Hops(path[at + 1..].iter().take(MAX_HOPS).cloned().collect()),
        None if status.is_done() => Move::Ahead(format!(
            "already {} (a done status): not moved back to {target}",
            status.name
        )),
        None => Move::Hops(path.iter().take(MAX_HOPS).cloned().collect()),
    }
}

/// The transitions as one line: `Start (-> In Progress), Reopen (-> To Do)`.
pub fn describe(transitions: &[Transition]) -> String {
    if transitions.is_empty() {
        return "none".into();
    }
    transitions
        .iter()
        .map(|t| format!("{} (-> {})", t.name, t.to))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, category: &str) -> Status {
        Status {
            name: name.into(),
            category: category.into(),
        }
    }

    fn path(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn moves_forward_from_the_issues_place_on_the_path() {
        let p = path(&["In Progress", "In Review", "Done"]);
        assert_eq!(
            plan_move(&status("To Do", "new"), &p),
            Move::Hops(p.clone())
        );
        assert_eq!(
            plan_move(&status("in review", "indeterminate"), &p),
            Move::Hops(path(&["Done"]))
        );
        assert_eq!(plan_move(&status("Done", "done"), &p), Move::AtTarget);
    }

    #[test]
    fn never_moves_a_done_issue_back() {
        let p = path(&["In QA"]);
        assert!(matches!(
            plan_move(&status("Done", "done"), &p),
            Move::Ahead(_)
        ));
        // Later on the path than the target: the path's own order says so.
        let p = path(&["In Progress", "In QA"]);
        assert_eq!(
            plan_move(&status("In QA", "indeterminate"), &p),
            Move::AtTarget
        );
    }

    #[test]
    fn at_most_five_hops() {
        let p = path(&["a", "b", "c", "d", "e", "f", "g"]);
        match plan_move(&status("x", "new"), &p) {
            Move::Hops(h) => assert_eq!(h.len(), MAX_HOPS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_transitions_and_matches_by_status_name() {
        let answer = json!({"transitions": [
            {"id": "11", "name": "Start", "to": {"name": "In Progress"}},
            {"id": "31", "name": "Reopen", "to": {"name": "To Do"}}
        ]});
        let t = parse_transitions(&answer);
        assert_eq!(leading_to(&t, "in progress").unwrap().id, "11");
        assert!(leading_to(&t, "Done").is_none());
        assert_eq!(describe(&t), "Start (-> In Progress), Reopen (-> To Do)");
    }
}
