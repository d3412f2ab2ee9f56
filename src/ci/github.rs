//! GitHub Actions: the variables, and the base from the push event's payload (`before`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::env::{is_zero_id, CommitRole, Env};
use super::{CiError, Detected};

pub(super) fn read(
    env: &mut Env,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Detected, CiError> {
    let server = env
        .var("GITHUB_SERVER_URL")
        .map(|url| url.trim_end_matches('/').to_owned());
    let repo_url = server
        .as_ref()
        .zip(env.var("GITHUB_REPOSITORY"))
        .map(|(server, repository)| format!("{server}/{repository}"));
    let run_id = env.var("GITHUB_RUN_ID");
    let run_url = repo_url
        .as_ref()
        .zip(run_id.as_ref())
        .map(|(repo_url, run_id)| format!("{repo_url}/actions/runs/{run_id}"));
    Ok(Detected {
        to: env.commit("GITHUB_SHA"),
        base: base(env, read_file)?,
        refname: env.full_ref("GITHUB_REF"),
        run_number: env.run_number("GITHUB_RUN_NUMBER")?,
        run_url,
        run_id,
        repo_url,
        ..Detected::default()
    })
}

/// `before` of a push event's payload. Other events have no base (a `pull_request` payload's
/// `before` is the pull request's previous head, not what was deployed before).
fn base(
    env: &mut Env,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Option<String>, CiError> {
    let event = env.var("GITHUB_EVENT_NAME");
    if let Some(event) = event.as_deref().filter(|&event| event != "push") {
        env.note(format!(
            "GitHub event '{event}' has no `before`: no CI base"
        ));
        return Ok(None);
    }
    let Some(path) = env.var("GITHUB_EVENT_PATH").map(PathBuf::from) else {
        if event.is_some() {
            env.note(
                "GITHUB_EVENT_PATH is not set, so the push's `before` is unknown: no CI base"
                    .into(),
            );
        }
        return Ok(None);
    };
    let payload = read_payload(&path, read_file)?;
    let shown = path.display();
    match payload.get("before") {
        None if event.is_none() => Ok(None), // not a push event's payload
        None => {
            env.note(format!(
                "the GitHub push event {shown} has no `before`: no CI base"
            ));
            Ok(None)
        }
        Some(Value::String(before)) if is_zero_id(before) => {
            let what = match payload.get("ref").and_then(Value::as_str) {
                Some(refname) if payload.get("created") == Some(&Value::Bool(true)) => {
                    format!("the GitHub push created {refname}")
                }
                _ => "the GitHub push event's `before` is all zeros".to_owned(),
            };
            env.note(format!("{what} (no previous commit): no CI base"));
            Ok(None)
        }
        Some(Value::String(before)) => Ok(env.commit_value(
            before,
            &format!("`before` in the GitHub event {shown}"),
            CommitRole::Base,
        )),
        Some(_) => {
            env.note(format!(
                "`before` in the GitHub event {shown} is not a string: no CI base"
            ));
            Ok(None)
        }
    }
}

fn read_payload(
    path: &Path,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<serde_json::Map<String, Value>, CiError> {
    let bytes = read_file(path).map_err(|source| CiError::EventRead {
        path: path.to_owned(),
        source,
    })?;
    let payload = |reason: String| CiError::EventPayload {
        path: path.to_owned(),
        reason,
    };
    match serde_json::from_slice(&bytes).map_err(|e| payload(e.to_string()))? {
        Value::Object(object) => Ok(object),
        _ => Err(payload("its top level is not an object".into())),
    }
}
