//! A repository pointed at a sandbox Jira: the organization file the tests write.

use std::path::{Path, PathBuf};

/// An organization file with one Jira Cloud tracker, `acme`, at `url`, authenticated with
/// `JIRA_USER` and `JIRA_API_TOKEN`; `extra` is appended as is (more settings of `acme`,
/// indented four spaces, or more trackers).
pub fn trackers_file(url: &str, extra: &str) -> String {
    format!(
        "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n{extra}"
    )
}

/// Writes [`trackers_file`] to `.git/trackers.yml` in the work tree `repo` (outside what is
/// committed) and returns its path.
pub fn write_trackers(repo: &Path, url: &str, extra: &str) -> PathBuf {
    let path = repo.join(".git/trackers.yml");
    std::fs::write(&path, trackers_file(url, extra)).expect("write .git/trackers.yml");
    path
}

/// Writes an organization file with one tracker, `acme`, of `kind` (`jira-cloud`: user and
/// token; `jira-data-center`: a personal access token) at `url` to `.git/trackers.yml` in the
/// work tree `repo`, and returns its path.
pub fn write_trackers_of_kind(repo: &Path, kind: &str, url: &str) -> PathBuf {
    let auth = if kind == "jira-cloud" {
        "{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }"
    } else {
        "{ token_env: JIRA_API_TOKEN }"
    };
    let path = repo.join(".git/trackers.yml");
    std::fs::write(
        &path,
        format!(
            "version: 1\ntrackers:\n  acme:\n    kind: {kind}\n    url: {url}\n    auth: {auth}\n"
        ),
    )
    .expect("write .git/trackers.yml");
    path
}
