//! One write to Jira as plain data: what planning decides and delivery sends, and what the
//! spool keeps until it is made.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Action;

/// One write to Jira, as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The tracker's name in the organization file (its credentials are read at send time).
    pub tracker: String,
    pub action: Action,
    /// The deploy this write belongs to: the remote link's `globalId`.
    pub deploy: String,
    /// The issues it writes to: one, or for a deployment record all of them.
    pub keys: Vec<String>,
    pub method: String,
    /// For a deployment record the `cloudId` is filled in when it is sent: `{cloudId}`.
    pub url: String,
    pub body: Value,
    /// Keys of the deploy that this request cannot carry (Jira takes 500 per deployment):
    /// reported as rejected, never dropped silently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// A `fix-version` delivery: the version the issue goes into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_version: Option<VersionPlan>,
    /// A `transition` delivery: the statuses the issue moves through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<TransitionPlan>,
    /// The requests around the write, in order, for people and `plan`: the reads that decide
    /// whether it is needed and the writes made only when they are. `method`, `url` and `body`
    /// above are the write itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
}

/// The version a `fix-version` delivery puts its issue into: found by name in the issue's
/// Jira project, or created there once; released when `release_date` is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VersionPlan {
    /// The Jira project key (`WEB` of `WEB-12`): versions belong to one project.
    pub project: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`: the deploy's date, on a deploy to a `release_on` environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_date: Option<String>,
}

/// Where a `transition` delivery moves its issue: the statuses to pass through, the target
/// last, and the transition screen's fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransitionPlan {
    pub path: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
}

/// One request of a delivery, as `plan` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub method: String,
    pub url: String,
    /// When it is sent: `always`, or the condition (`if the version does not exist`).
    pub when: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}
