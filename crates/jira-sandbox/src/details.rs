//! What the sandbox says about an issue beyond its existence: its summary, its type and its
//! status, as `bulkfetch` and `search` return them for release notes. Every key has a
//! deterministic default so a test can predict the answer; [`IssueDetails`] in
//! [`crate::Options::details`] overrides it per key.

use serde_json::{json, Value};

use super::store::Store;

/// The issue types a default is picked from, by the issue number.
const TYPES: [&str; 3] = ["Story", "Bug", "Task"];

/// What a test sets for one issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueDetails {
    pub summary: String,
    /// Jira's issue type name (`Story`, `Bug`, `Task`, ...).
    pub issue_type: String,
}

impl IssueDetails {
    /// The default of `key`: summary `Sandbox issue KEY`, type by the issue number
    /// (1 Story, 2 Bug, 3 Task, 4 Story, ...).
    pub fn default_of(key: &str) -> IssueDetails {
        let number: usize = key
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(1);
        IssueDetails {
            summary: format!("Sandbox issue {key}"),
            issue_type: TYPES[(number.max(1) - 1) % TYPES.len()].to_owned(),
        }
    }
}

/// The `fields` of an issue bean: those asked for in `wanted` (all three when empty).
pub(crate) fn fields(
    store: &Store,
    overrides: &std::collections::BTreeMap<String, IssueDetails>,
    key: &str,
    wanted: &[String],
) -> Value {
    let details = overrides
        .get(key)
        .cloned()
        .unwrap_or_else(|| IssueDetails::default_of(key));
    let all = wanted.is_empty() || wanted.iter().any(|f| f == "*all" || f == "*navigable");
    let mut fields = serde_json::Map::new();
    if all || wanted.iter().any(|f| f == "summary") {
        fields.insert("summary".into(), json!(details.summary));
    }
    if all || wanted.iter().any(|f| f == "issuetype") {
        fields.insert(
            "issuetype".into(),
            json!({"name": details.issue_type, "subtask": false}),
        );
    }
    if all || wanted.iter().any(|f| f == "status") {
        fields.insert("status".into(), super::workflow::status_field(store, key));
    }
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_predictable() {
        assert_eq!(IssueDetails::default_of("WEB-1").issue_type, "Story");
        assert_eq!(IssueDetails::default_of("WEB-2").issue_type, "Bug");
        assert_eq!(IssueDetails::default_of("WEB-3").issue_type, "Task");
        assert_eq!(IssueDetails::default_of("WEB-4").issue_type, "Story");
        assert_eq!(
            IssueDetails::default_of("OPS-12").summary,
            "Sandbox issue OPS-12"
        );
    }
}
