//! The sandbox's memory and the Jira semantics of each write: remote-link upsert by `globalId`
//! (jira-api-facts 1.2), comments (1.3), issue properties, and deployments keyed by pipeline,
//! environment and sequence number, replaced only by a newer `updateSequenceNumber` (2.5).

use std::collections::{BTreeMap, HashSet, VecDeque};

use serde_json::{json, Map, Value};

use super::faults::Fault;
use super::state::{DeploymentRecord, IssueRecord, RecordedRequest, Rejected, State};
use super::IssuePolicy;

/// First issue, link and comment id, as on a fresh Jira site.
const FIRST_ID: u64 = 10_000;
/// Request log entries kept: a long-running `deploylink sandbox` must not grow without bound.
const REQUESTS_KEPT: usize = 10_000;

/// Everything behind the sandbox's lock.
pub(crate) struct Store {
    pub state: State,
    pub requests: VecDeque<RecordedRequest>,
    pub faults: Vec<Fault>,
    /// Set by every write to `state`, so the server knows to save the state file.
    pub dirty: bool,
    policy: IssuePolicy,
    base_url: String,
    tokens: HashSet<String>,
    /// Issue key -> id, for every issue seen (not only those in `state.issues`).
    ids: BTreeMap<String, u64>,
    next_issue_id: u64,
    next_link_id: u64,
    next_comment_id: u64,
    /// Fields each transition's screen requires, by the status it leads to (see
    /// `workflow.rs`).
    pub(crate) required_fields: BTreeMap<String, Vec<String>>,
}

impl Store {
    pub fn new(state: State, policy: IssuePolicy, base_url: String) -> Store {
        let mut store = Store {
            state,
            requests: VecDeque::new(),
            faults: Vec::new(),
            dirty: false,
            policy,
            base_url,
            tokens: HashSet::new(),
            ids: BTreeMap::new(),
            next_issue_id: FIRST_ID,
            next_link_id: FIRST_ID,
            next_comment_id: FIRST_ID,
            required_fields: BTreeMap::new(),
        };
        store.number_from_state();
        store
    }

    /// Continues the id sequences after whatever a loaded state file holds, then gives listed
    /// issues their ids in list order.
    fn number_from_state(&mut self) {
        for (key, issue) in &self.state.issues {
            self.ids.insert(key.clone(), issue.id);
            self.next_issue_id = self.next_issue_id.max(issue.id.saturating_add(1));
            for link in &issue.remote_links {
                if let Some(id) = link.get("id").and_then(Value::as_u64) {
                    self.next_link_id = self.next_link_id.max(id.saturating_add(1));
                }
            }
            for comment in &issue.comments {
                let id = comment.get("id").and_then(Value::as_str);
                if let Some(id) = id.and_then(|id| id.parse::<u64>().ok()) {
                    self.next_comment_id = self.next_comment_id.max(id.saturating_add(1));
                }
            }
        }
        if let IssuePolicy::Listed(keys) = &self.policy {
            for key in keys.clone() {
                self.id_for(&key);
            }
        }
    }

    /// Forgets everything, as if the sandbox had just started without a state file.
    pub fn reset(&mut self) {
        let policy = self.policy.clone();
        let base_url = std::mem::take(&mut self.base_url);
        *self = Store::new(State::default(), policy, base_url);
        self.dirty = true;
    }

    fn id_for(&mut self, key: &str) -> u64 {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = self.next_issue_id;
        self.next_issue_id = id.saturating_add(1);
        self.ids.insert(key.to_string(), id);
        id
    }

    /// The issue an `issueIdOrKey` names, as (key, id), if it exists.
    pub fn resolve(&mut self, id_or_key: &str) -> Option<(String, u64)> {
        if !id_or_key.is_empty() && id_or_key.bytes().all(|b| b.is_ascii_digit()) {
            let id = id_or_key.parse::<u64>().ok()?;
            let (key, _) = self.ids.iter().find(|(_, v)| **v == id)?;
            return Some((key.clone(), id));
        }
        let exists = match &self.policy {
            IssuePolicy::Any => is_issue_key(id_or_key),
            IssuePolicy::Listed(keys) => keys.iter().any(|k| k == id_or_key),
        };
        exists.then(|| (id_or_key.to_string(), self.id_for(id_or_key)))
    }

    /// The issue keys of `project` the sandbox can name without being asked for one: the
    /// listed keys of that project, or `PROJECT-1` when every key exists. Empty when the project
    /// does not exist (a project exists when it has an issue).
    pub fn keys_of_project(&self, project: &str) -> Vec<String> {
        match &self.policy {
            IssuePolicy::Any => {
                let key = format!("{project}-1");
                if is_issue_key(&key) {
                    vec![key]
                } else {
                    Vec::new()
                }
            }
            IssuePolicy::Listed(keys) => keys
                .iter()
                .filter(|k| super::setup::project_of(k) == project)
                .cloned()
                .collect(),
        }
    }

    /// The record of an issue about to be written to.
    pub(crate) fn issue(&mut self, key: &str) -> &mut IssueRecord {
        self.dirty = true;
        let id = self.id_for(key);
        self.state
            .issues
            .entry(key.to_string())
            .or_insert_with(|| IssueRecord {
                id,
                ..IssueRecord::default()
            })
    }

    /// Creates or replaces (same `globalId` on this issue) a remote link; `(created, id)`.
    /// A replaced link keeps its id and loses every field the new body leaves out.
    pub fn upsert_link(&mut self, key: &str, version: &str, body: Value) -> (bool, u64) {
        let mut link = match body {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let global_id = link
            .get("globalId")
            .and_then(Value::as_str)
            .map(String::from);
        let existing = global_id.as_deref().and_then(|g| {
            self.issue(key)
                .remote_links
                .iter()
                .position(|l| l.get("globalId").and_then(Value::as_str) == Some(g))
        });
        let id = match existing {
            Some(i) => self.issue(key).remote_links[i]["id"]
                .as_u64()
                .unwrap_or_default(),
            None => {
                let id = self.next_link_id;
                self.next_link_id = id.saturating_add(1);
                id
            }
        };
        let url = format!(
            "{}/rest/api/{version}/issue/{key}/remotelink/{id}",
            self.base_url
        );
        link.insert("id".into(), json!(id));
        link.insert("self".into(), json!(url));
        let links = &mut self.issue(key).remote_links;
        match existing {
            Some(i) => links[i] = Value::Object(link),
            None => links.push(Value::Object(link)),
        }
        (existing.is_none(), id)
    }

    /// Stores a comment and returns it as Jira's 201 does.
    pub fn add_comment(&mut self, key: &str, version: &str, body: Value, now: &str) -> Value {
        let mut comment = match body {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let id = self.next_comment_id;
        self.next_comment_id = id.saturating_add(1);
        let issue_id = self.id_for(key);
        let author = json!({
            "accountId": super::routes::ACCOUNT_ID,
            "displayName": super::routes::DISPLAY_NAME,
            "active": true
        });
        let url = format!(
            "{}/rest/api/{version}/issue/{issue_id}/comment/{id}",
            self.base_url
        );
        comment.insert("id".into(), json!(id.to_string()));
        comment.insert("self".into(), json!(url));
        comment.insert("author".into(), author.clone());
        comment.insert("updateAuthor".into(), author);
        comment.insert("created".into(), json!(now));
        comment.insert("updated".into(), json!(now));
        let comment = Value::Object(comment);
        self.issue(key).comments.push(comment.clone());
        comment
    }

    /// Sets an issue property; true when it did not exist before.
    pub fn set_property(&mut self, key: &str, property: &str, value: Value) -> bool {
        let properties = &mut self.issue(key).properties;
        properties.insert(property.to_string(), value).is_none()
    }

    pub fn property(&self, key: &str, property: &str) -> Option<&Value> {
        self.state.issues.get(key)?.properties.get(property)
    }

    pub fn issue_token(&mut self) -> String {
        let token: String = (0..40).map(|_| fastrand::alphanumeric()).collect();
        self.tokens.insert(token.clone());
        self.dirty = true;
        self.state.tokens_issued += 1;
        token
    }

    pub fn token_issued(&self, token: &str) -> bool {
        self.tokens.contains(token)
    }

    /// Applies a validated `submitDeployments` body; returns the 202 body.
    pub fn submit_deployments(&mut self, body: &Value) -> Value {
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let deployments = body.get("deployments").and_then(Value::as_array);
        for data in deployments.into_iter().flatten() {
            let pipeline_id = text(data, &["pipeline", "id"]);
            let environment_id = text(data, &["environment", "id"]);
            let sequence = number(data, "deploymentSequenceNumber");
            let key = json!({
                "pipelineId": pipeline_id,
                "environmentId": environment_id,
                "deploymentSequenceNumber": sequence
            });
            let named = issue_keys(data);
            let mut known: Vec<String> = Vec::new();
            for id_or_key in &named {
                match self.resolve(id_or_key) {
                    Some((key, _)) if !known.contains(&key) => known.push(key),
                    Some(_) => {}
                    None if !unknown.contains(id_or_key) => unknown.push(id_or_key.clone()),
                    None => {}
                }
            }
            // "A deployment may be rejected if it was only associated with unknown issue keys."
            if !named.is_empty() && known.is_empty() {
                let message = format!(
                    "The deployment is associated only with unknown issue keys: {}",
                    named.join(", ")
                );
                rejected.push(json!({"key": key, "errors": [{"message": message}]}));
                continue;
            }
            let record = DeploymentRecord {
                pipeline_id,
                environment_id,
                deployment_sequence_number: sequence,
                update_sequence_number: number(data, "updateSequenceNumber"),
                issue_keys: known,
                data: data.clone(),
            };
            self.store_deployment(record);
            accepted.push(key);
        }
        json!({
            "acceptedDeployments": accepted,
            "rejectedDeployments": rejected,
            "unknownIssueKeys": unknown
        })
    }

    /// Stores a new deployment, or replaces the stored one of the same identity when the
    /// incoming `updateSequenceNumber` is greater. An out-of-order update is still "accepted".
    fn store_deployment(&mut self, record: DeploymentRecord) {
        self.dirty = true;
        let same = self.state.deployments.iter_mut().find(|d| {
            d.pipeline_id == record.pipeline_id
                && d.environment_id == record.environment_id
                && d.deployment_sequence_number == record.deployment_sequence_number
        });
        match same {
            Some(stored) if record.update_sequence_number > stored.update_sequence_number => {
                *stored = record;
            }
            Some(_) => {}
            None => self.state.deployments.push(record),
        }
    }

    pub fn reject(&mut self, method: &str, path: &str, reason: String) {
        self.dirty = true;
        self.state.rejected.push(Rejected {
            method: method.to_string(),
            path: path.to_string(),
            reason,
        });
    }

    pub fn record(&mut self, request: RecordedRequest) {
        if self.requests.len() >= REQUESTS_KEPT {
            self.requests.pop_front();
        }
        self.requests.push_back(request);
    }
}

/// `^[A-Z][A-Z0-9_]+-[1-9][0-9]*$`: what `IssuePolicy::Any` accepts as an existing issue.
pub(crate) fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.split_once('-') else {
        return false;
    };
    let mut project_chars = project.bytes();
    project_chars.next().is_some_and(|b| b.is_ascii_uppercase())
        && project.len() >= 2
        && project_chars.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && number
            .bytes()
            .next()
            .is_some_and(|b| (b'1'..=b'9').contains(&b))
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The issue keys or ids a deployment names: `issueKeys`/`issueIdOrKeys` associations and
/// the deprecated top-level `issueKeys`.
fn issue_keys(data: &Value) -> Vec<String> {
    let associated = data
        .get("associations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| {
            matches!(
                a.get("associationType").and_then(Value::as_str),
                Some("issueKeys" | "issueIdOrKeys")
            )
        })
        .filter_map(|a| a.get("values").and_then(Value::as_array))
        .flatten();
    let deprecated = data
        .get("issueKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let mut keys: Vec<String> = Vec::new();
    for key in associated.chain(deprecated).filter_map(Value::as_str) {
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}

fn text(data: &Value, path: &[&str]) -> String {
    let mut value = data;
    for step in path {
        value = &value[*step];
    }
    value.as_str().unwrap_or_default().to_string()
}

fn number(data: &Value, field: &str) -> i64 {
    data.get(field).and_then(Value::as_i64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_key_shape() {
        for good in ["WEB-1", "AB_2-10", "A1-99"] {
            assert!(is_issue_key(good), "{good}");
        }
        for bad in [
            "W-1", "web-1", "WEB-0", "WEB-01", "WEB-", "WEB", "1AB-2", "WEB-1a", "",
        ] {
            assert!(!is_issue_key(bad), "{bad}");
        }
    }

    #[test]
    fn ids_resolve_both_ways() {
        let policy = IssuePolicy::Listed(vec!["A1-1".into(), "A1-2".into()]);
        let mut store = Store::new(State::default(), policy, String::new());
        assert_eq!(store.resolve("A1-2"), Some(("A1-2".into(), 10_001)));
        assert_eq!(store.resolve("10000"), Some(("A1-1".into(), 10_000)));
        assert_eq!(store.resolve("A1-3"), None);
        assert_eq!(store.resolve("99999999999999999999999"), None);
    }
}
