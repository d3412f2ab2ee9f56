//! Jira Software development information as an on-premise integration reaches it:
//! `POST /jira/devinfo/0.1/cloud/{cloudId}/bulk` with the same Bearer token as deployments.
//! Repositories and commits are stored by id; an entity is replaced only by one with a
//! greater `updateSequenceId` (an older one is still "accepted", as Jira does).

use std::collections::HashSet;

use serde_json::{json, Value};

use super::deployments;
use super::routes::{parse_json, Incoming};
use super::state::{DevCommitRecord, DevRepository};
use super::store::Store;
use super::validate::{self, Operation};
use super::wire::Reply;

/// "Maximum number of commits is 400" (per repository).
const MAX_COMMITS: usize = 400;
/// "Maximum number of entities across all repositories is 1000."
const MAX_ENTITIES: usize = 1000;

/// The devinfo API's error shape: `{"errorMessages": [{"message": ...}]}`.
fn error(status: u16, messages: &[String]) -> Reply {
    let messages: Vec<Value> = messages.iter().map(|m| json!({"message": m})).collect();
    Reply::json(status, &json!({ "errorMessages": messages }))
}

/// "Only alphanumeric characters, and '~.-_', are allowed."
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'~' | b'.' | b'-' | b'_'))
}

/// The rules the OpenAPI file states only in prose: ids, duplicates, the 400 and 1000 limits.
fn prose_violations(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let repositories = body["repositories"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let mut entities = 0;
    let mut repository_ids = HashSet::new();
    for (i, repository) in repositories.iter().enumerate() {
        let id = repository["id"].as_str().unwrap_or("");
        if !valid_id(id) {
            problems.push(format!("repositories[{i}].id '{id}': only alphanumeric characters, and '~.-_', are allowed"));
        }
        if !repository_ids.insert(id) {
            problems.push(format!("repositories[{i}].id '{id}' is a duplicate"));
        }
        let commits = repository["commits"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        if commits.len() > MAX_COMMITS {
            problems.push(format!(
                "repositories[{i}].commits has {} commits; the maximum number of commits is {MAX_COMMITS}",
                commits.len()
            ));
        }
        entities += commits.len();
        for kind in ["branches", "pullRequests"] {
            entities += repository[kind].as_array().map_or(0, Vec::len);
        }
        let mut commit_ids = HashSet::new();
        for (j, commit) in commits.iter().enumerate() {
            let id = commit["id"].as_str().unwrap_or("");
            if !valid_id(id) {
                problems.push(format!("repositories[{i}].commits[{j}].id '{id}': only alphanumeric characters, and '~.-_', are allowed"));
            }
            if !commit_ids.insert(id) {
                problems.push(format!(
                    "repositories[{i}].commits[{j}].id '{id}' is a duplicate entity id"
                ));
            }
        }
    }
    if entities > MAX_ENTITIES {
        problems.push(format!(
            "{entities} entities; the maximum number of entities across all repositories is {MAX_ENTITIES}"
        ));
    }
    problems
}

/// `POST /jira/devinfo/0.1/cloud/{cloudId}/bulk`.
pub(crate) fn bulk(store: &mut Store, req: &Incoming, cloud_id: &str) -> Reply {
    if let Err(reply) = deployments::authorize(store, req, cloud_id) {
        return reply;
    }
    let body = match parse_json(req.body) {
        Ok(body) => body,
        Err(message) => {
            store.reject(req.method, req.path, message.clone());
            return error(400, &[message]);
        }
    };
    if let Err(invalid) = validate::check(Operation::DevinfoBulk, &body) {
        store.reject(req.method, req.path, invalid.reason());
        return error(400, &invalid.messages);
    }
    let problems = prose_violations(&body);
    if !problems.is_empty() {
        store.reject(req.method, req.path, problems.join("; "));
        return error(400, &problems);
    }
    Reply::json(202, &submit(store, &body))
}

/// Stores a validated body; returns the `StoreDevinfoResult`.
fn submit(store: &mut Store, body: &Value) -> Value {
    let mut accepted = serde_json::Map::new();
    let mut unknown: Vec<String> = Vec::new();
    for repository in body["repositories"].as_array().into_iter().flatten() {
        let id = repository["id"].as_str().unwrap_or_default().to_string();
        let sequence = repository["updateSequenceId"].as_i64().unwrap_or(0);
        let mut commits = Vec::new();
        for commit in repository["commits"].as_array().into_iter().flatten() {
            let mut known: Vec<String> = Vec::new();
            for key in commit["issueKeys"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                match store.resolve(key) {
                    Some((key, _)) if !known.contains(&key) => known.push(key),
                    Some(_) => {}
                    None if !unknown.iter().any(|k| k == key) => unknown.push(key.to_string()),
                    None => {}
                }
            }
            commits.push(DevCommitRecord {
                id: commit["id"].as_str().unwrap_or_default().to_string(),
                update_sequence_id: commit["updateSequenceId"].as_i64().unwrap_or(0),
                issue_keys: known,
                data: commit.clone(),
            });
        }
        let ids: Vec<&str> = commits.iter().map(|c| c.id.as_str()).collect();
        accepted.insert(id.clone(), json!({ "commits": ids }));
        let mut fields = repository.clone();
        if let Some(map) = fields.as_object_mut() {
            map.remove("commits");
        }
        store_repository(store, id, sequence, fields, commits);
    }
    json!({
        "acceptedDevinfoEntities": accepted,
        "failedDevinfoEntities": {},
        "unknownIssueKeys": unknown
    })
}

/// The replace rule: a repository's fields and each commit are replaced only by a greater
/// `updateSequenceId`.
fn store_repository(
    store: &mut Store,
    id: String,
    sequence: i64,
    fields: Value,
    commits: Vec<DevCommitRecord>,
) {
    store.dirty = true;
    let repositories = &mut store.state.repositories;
    let index = match repositories.iter().position(|r| r.id == id) {
        Some(index) => index,
        None => {
            repositories.push(DevRepository {
                id,
                update_sequence_id: i64::MIN,
                data: Value::Null,
                commits: Vec::new(),
            });
            repositories.len() - 1
        }
    };
    let stored = &mut repositories[index];
    if sequence > stored.update_sequence_id {
        stored.update_sequence_id = sequence;
        stored.data = fields;
    }
    for commit in commits {
        match stored.commits.iter_mut().find(|c| c.id == commit.id) {
            Some(old) if commit.update_sequence_id > old.update_sequence_id => *old = commit,
            Some(_) => {}
            None => stored.commits.push(commit),
        }
    }
}
