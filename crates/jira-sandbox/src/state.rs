//! What the sandbox received, as plain serialisable data: the public [`State`] (also the state
//! file's format and `GET /_sandbox/state`) and the request log.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything the sandbox has accepted, plus the requests it refused.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Issues that received a remote link, a comment or a property, by key.
    #[serde(default)]
    pub issues: BTreeMap<String, IssueRecord>,
    /// Deployments as stored by the Deployments API (the latest `updateSequenceNumber` wins).
    #[serde(default)]
    pub deployments: Vec<DeploymentRecord>,
    /// Repositories as stored by the development information API, with their commits (the
    /// latest `updateSequenceId` of each entity wins).
    #[serde(default)]
    pub repositories: Vec<DevRepository>,
    /// Requests refused because of their body (400, 413): a test asserts this stays empty.
    #[serde(default)]
    pub rejected: Vec<Rejected>,
    /// How many OAuth access tokens `/oauth/token` has issued.
    #[serde(default)]
    pub tokens_issued: usize,
    /// Project versions (fix versions), in the order they were created.
    #[serde(default)]
    pub versions: Vec<VersionRecord>,
}

/// One project version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub id: String,
    pub project: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub released: bool,
    #[serde(default)]
    pub release_date: Option<String>,
}

/// One issue's data on the platform API.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueRecord {
    /// The issue id Jira would report (stable for the key while the sandbox runs).
    pub id: u64,
    /// Remote links as stored: the request body plus `id` and `self`.
    #[serde(default)]
    pub remote_links: Vec<Value>,
    /// Comments as `POST .../comment` returned them (`id`, `self`, `body`, `author`, ...).
    #[serde(default)]
    pub comments: Vec<Value>,
    /// Issue properties by property key.
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
    /// The workflow status, when it is not the first one (`To Do`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The ids of the issue's fix versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fix_versions: Vec<String>,
}

/// One deployment (identity: pipeline id, environment id, deployment sequence number).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub pipeline_id: String,
    pub environment_id: String,
    pub deployment_sequence_number: i64,
    pub update_sequence_number: i64,
    /// The known issue keys it is stored against (unknown keys are dropped, as Jira does).
    pub issue_keys: Vec<String>,
    /// The whole deployment object as received.
    pub data: Value,
}

/// One repository of the development information API (identity: its `id`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevRepository {
    pub id: String,
    pub update_sequence_id: i64,
    /// The repository object as received, without its commits.
    pub data: Value,
    pub commits: Vec<DevCommitRecord>,
}

/// One commit of a repository (identity: its `id` within the repository).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DevCommitRecord {
    pub id: String,
    pub update_sequence_id: i64,
    /// The known issue keys it is stored against (unknown keys are dropped, as Jira does).
    pub issue_keys: Vec<String>,
    /// The whole commit object as received.
    pub data: Value,
}

/// A request refused because of its body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub method: String,
    pub path: String,
    pub reason: String,
}

/// One request as the sandbox saw it (the sandbox's own `/_sandbox/*` and `/` page are not
/// logged).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    /// Path with query string.
    pub path: String,
    /// `Basic` or `Bearer` (or whatever scheme was sent): never the credential itself.
    pub auth_scheme: Option<String>,
    /// The body as text (lossy UTF-8; OAuth client secrets redacted; long bodies cut).
    pub body: String,
    /// The status sent; 0 when the connection was reset without a response.
    pub status: u16,
    /// The fault that hit this request, if any (`respond 429`, `delay 200ms`, `reset`).
    pub fault: Option<String>,
}

impl State {
    /// The remote links stored on `key` (empty if none).
    pub fn remote_links(&self, key: &str) -> &[Value] {
        self.issues
            .get(key)
            .map_or(&[][..], |issue| &issue.remote_links)
    }

    /// The comments stored on `key` (empty if none).
    pub fn comments(&self, key: &str) -> &[Value] {
        self.issues
            .get(key)
            .map_or(&[][..], |issue| &issue.comments)
    }

    /// The names of the fix versions of `key`.
    pub fn fix_version_names(&self, key: &str) -> Vec<String> {
        let ids = self
            .issues
            .get(key)
            .map_or(&[][..], |i| &i.fix_versions[..]);
        ids.iter()
            .filter_map(|id| self.versions.iter().find(|v| &v.id == id))
            .map(|v| v.name.clone())
            .collect()
    }

    /// The deployments stored against `key`.
    pub fn deployments_for(&self, key: &str) -> Vec<&DeploymentRecord> {
        self.deployments
            .iter()
            .filter(|d| d.issue_keys.iter().any(|k| k == key))
            .collect()
    }

    /// The commits stored against `key`, over every repository.
    pub fn commits_for(&self, key: &str) -> Vec<&DevCommitRecord> {
        self.repositories
            .iter()
            .flat_map(|r| &r.commits)
            .filter(|c| c.issue_keys.iter().any(|k| k == key))
            .collect()
    }

    /// Reads a state file. Errors name the file.
    pub(crate) fn load(path: &Path) -> std::io::Result<State> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("sandbox state file {}: {e}", path.display()),
            )
        })?;
        serde_json::from_str(&text).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "sandbox state file {} is not a sandbox state: {e}",
                    path.display()
                ),
            )
        })
    }

    /// Writes the state file atomically: a temporary file in the same directory, renamed over
    /// the old one, so a crash or a concurrent reader never sees half a file.
    pub(crate) fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut file, self)?;
        file.write_all(b"\n")?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
