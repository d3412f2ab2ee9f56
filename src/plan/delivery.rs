//! One write to Jira as plain data: what planning decides and delivery sends, and what the
//! spool keeps until it is made.

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}
