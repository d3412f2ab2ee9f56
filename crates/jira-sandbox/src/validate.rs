//! Request bodies checked as Jira checks them: Atlassian's OpenAPI request schemas (extracted
//! into `jira-schemas.json` by `tests/fixtures/jira-schemas/extract.py`, the same document
//! `tests/support/openapi.rs` uses), plus the limits Atlassian states only in prose (listed
//! under `x-operations.*.proseOnly` there; jira-api-facts 1.2, 1.3, 2.4).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

/// The checked-in, generated schema document (one copy for the sandbox and the tests).
const SCHEMAS_JSON: &str = include_str!("jira-schemas.json");

/// Longest remote-link `globalId` Jira accepts ([P3] `RemoteIssueLinkRequest.globalId`).
pub(crate) const GLOBAL_ID_MAX: usize = 255;
/// Most association values one deployment may carry, all types together ([SW]).
pub(crate) const ASSOCIATION_VALUES_MAX: usize = 500;
/// Longest issue property value, in characters of JSON ([P3] `setIssueProperty`).
pub(crate) const PROPERTY_VALUE_MAX: usize = 32_768;
/// Violations listed in one error body: enough to see the problem, short enough to read.
const VIOLATIONS_SHOWN: usize = 20;

/// Which API version a platform request went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `/rest/api/2`: Data Center (and Cloud v2), plain-string comment bodies.
    V2,
    /// `/rest/api/3`: Cloud, ADF comment bodies.
    V3,
}

/// An operation whose request body is checked.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operation {
    RemoteLink(Api),
    Comment(Api),
    IssueProperty(Api),
    DeploymentsBulk,
    /// `POST /rest/api/3/issue/bulkfetch` (Cloud only).
    BulkFetch,
    VersionCreate(Api),
    VersionUpdate(Api),
    IssueEdit(Api),
    Transition(Api),
    DevinfoBulk,
}

impl Operation {
    /// Its name in `jira-schemas.json`'s `x-operations`.
    fn name(self) -> &'static str {
        match self {
            Operation::RemoteLink(Api::V3) => "remotelink.v3",
            Operation::RemoteLink(Api::V2) => "remotelink.v2",
            Operation::Comment(Api::V3) => "comment.v3",
            Operation::Comment(Api::V2) => "comment.v2",
            Operation::IssueProperty(Api::V3) => "issue-property.v3",
            Operation::IssueProperty(Api::V2) => "issue-property.v2",
            Operation::DeploymentsBulk => "deployments.bulk",
            Operation::BulkFetch => "issue-bulkfetch.v3",
            Operation::VersionCreate(Api::V3) => "version-create.v3",
            Operation::VersionCreate(Api::V2) => "version-create.v2",
            Operation::VersionUpdate(Api::V3) => "version-update.v3",
            Operation::VersionUpdate(Api::V2) => "version-update.v2",
            Operation::IssueEdit(Api::V3) => "issue-edit.v3",
            Operation::IssueEdit(Api::V2) => "issue-edit.v2",
            Operation::Transition(Api::V3) => "transition.v3",
            Operation::Transition(Api::V2) => "transition.v2",
            Operation::DevinfoBulk => "devinfo.bulk",
        }
    }
}

/// Most issues one bulkfetch may ask for ([P3] `bulkFetchIssues`: "up to 100 issues").
pub(crate) const BULKFETCH_MAX: usize = 100;

/// Why a body was refused: messages for `errorMessages`, and per-field messages for `errors`
/// (field = the dotted path into the body, `request` for the body itself).
#[derive(Debug, Default)]
pub(crate) struct Invalid {
    pub messages: Vec<String>,
    pub fields: BTreeMap<String, String>,
}

impl Invalid {
    fn add(&mut self, field: &str, message: String) {
        self.messages.push(format!("{field}: {message}"));
        self.fields
            .entry(field.to_string())
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&message);
            })
            .or_insert(message);
    }

    /// One line for the `rejected` list.
    pub fn reason(&self) -> String {
        self.messages.join("; ")
    }
}

/// Checks `body` as the request body of `operation`.
pub(crate) fn check(operation: Operation, body: &Value) -> Result<(), Invalid> {
    let mut invalid = Invalid::default();
    match validators().get(operation.name()) {
        Some(validator) => {
            for error in validator.iter_errors(body).take(VIOLATIONS_SHOWN) {
                let (field, message) = describe(&error);
                invalid.add(&field, message);
            }
        }
        // Only possible if the embedded document lost an operation; refuse loudly.
        None => invalid.add(
            "request",
            format!("no schema for {} in the sandbox", operation.name()),
        ),
    }
    match operation {
        Operation::RemoteLink(_) => check_global_id(body, &mut invalid),
        Operation::Comment(api) => {
            check_comment_present(body, &mut invalid);
            if api == Api::V3 {
                check_adf_body(body, &mut invalid);
            }
        }
        Operation::IssueProperty(_) => check_property_size(body, &mut invalid),
        Operation::DeploymentsBulk => check_deployments(body, &mut invalid),
        Operation::BulkFetch => check_bulkfetch_size(body, &mut invalid),
        Operation::VersionCreate(_) => check_version_name(body, &mut invalid),
        Operation::VersionUpdate(_) | Operation::IssueEdit(_) | Operation::Transition(_) => {}
        // Its prose rules (ids, duplicates, 400 commits, 1000 entities) are checked in
        // devinfo.rs, which answers them in the devinfo API's own error shape.
        Operation::DevinfoBulk => {}
    }
    if invalid.messages.is_empty() {
        Ok(())
    } else {
        Err(invalid)
    }
}

/// Version names: required when creating, at most 255 characters ([P3] `Version.name`, in
/// prose only).
fn check_version_name(body: &Value, invalid: &mut Invalid) {
    match body.get("name").and_then(Value::as_str) {
        None => invalid.add("name", "is required when creating a version".into()),
        Some(name) if name.chars().count() > 255 => {
            invalid.add("name", "The maximum length is 255 characters.".into())
        }
        Some(_) => {}
    }
}

/// One validator per operation: the whole document (for its `$defs`) with its root pointed at
/// the operation, draft 2020-12, formats asserted (Jira parses `date-time` and `uri` fields).
fn validators() -> &'static BTreeMap<String, jsonschema::Validator> {
    static VALIDATORS: OnceLock<BTreeMap<String, jsonschema::Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let mut validators = BTreeMap::new();
        // The document is ours and checked by tests: if it were broken, every body would be
        // refused with "no schema", which a test would show.
        let Ok(doc) = serde_json::from_str::<Value>(SCHEMAS_JSON) else {
            return validators;
        };
        let Some(operations) = doc["x-operations"].as_object() else {
            return validators;
        };
        for name in operations.keys() {
            let mut schema = doc.clone();
            if let Some(root) = schema.as_object_mut() {
                root.insert("$ref".into(), Value::String(format!("#/$defs/{name}")));
            }
            let built = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema);
            if let Ok(validator) = built {
                validators.insert(name.clone(), validator);
            }
        }
        validators
    })
}

/// The field (dotted path) and message of one schema violation; long values are summarised.
fn describe(error: &jsonschema::ValidationError<'_>) -> (String, String) {
    use jsonschema::error::ValidationErrorKind as Kind;

    let pointer = error.instance_path().as_str();
    let field = if pointer.is_empty() {
        "request".to_string()
    } else {
        pointer.trim_start_matches('/').replace('/', ".")
    };
    let instance = error.instance();
    let mut message = if instance.to_string().chars().count() <= 80 {
        error.to_string()
    } else {
        let summary = match instance.as_ref() {
            Value::String(s) => format!("<string of {} chars>", s.chars().count()),
            Value::Array(a) => format!("<array of {} items>", a.len()),
            Value::Object(o) => format!("<object with {} properties>", o.len()),
            _ => "<value>".to_string(),
        };
        error.masked_with(summary).to_string()
    };
    match error.kind() {
        Kind::Enum { options } => message.push_str(&format!(" (allowed: {options})")),
        // extract.py turns only readOnly properties into `false` schemas.
        Kind::FalseSchema => message.push_str(" (read-only: not to be sent)"),
        _ => {}
    }
    (field, message)
}

fn check_global_id(body: &Value, invalid: &mut Invalid) {
    if let Some(global_id) = body.get("globalId").and_then(Value::as_str) {
        let length = global_id.chars().count();
        if length > GLOBAL_ID_MAX {
            invalid.add(
                "globalId",
                format!("must be {GLOBAL_ID_MAX} characters or fewer, got {length}"),
            );
        }
    }
}

/// Neither schema requires `body`, but Jira refuses a comment without text, with this message
/// under `errors.comment` (observed behaviour; the specs are silent).
fn check_comment_present(body: &Value, invalid: &mut Invalid) {
    let empty = match body.get("body") {
        None | Some(Value::Null) => true,
        Some(Value::String(text)) => text.trim().is_empty(),
        Some(_) => false,
    };
    if empty {
        invalid.add("comment", "Comment body can not be empty!".to_string());
    }
}

/// v3 comments take Atlassian Document Format; the schema leaves `body` untyped.
fn check_adf_body(body: &Value, invalid: &mut Invalid) {
    let Some(doc) = body.get("body") else {
        return; // `body` missing: the schema's `required` already says so, if it does.
    };
    let is_adf = doc.get("type").and_then(Value::as_str) == Some("doc")
        && doc.get("version").and_then(Value::as_i64) == Some(1)
        && doc.get("content").is_some_and(Value::is_array);
    if !is_adf {
        invalid.add(
            "body",
            "must be an Atlassian Document Format document ({\"type\": \"doc\", \"version\": 1, \
             \"content\": [...]}); a plain string is for /rest/api/2"
                .to_string(),
        );
    }
}

fn check_property_size(body: &Value, invalid: &mut Invalid) {
    let length = body.to_string().chars().count();
    if length > PROPERTY_VALUE_MAX {
        invalid.add(
            "request",
            format!(
                "the property value must be at most {PROPERTY_VALUE_MAX} characters of JSON, \
                 got {length}"
            ),
        );
    }
}

fn check_deployments(body: &Value, invalid: &mut Invalid) {
    if let Some(properties) = body.get("properties").and_then(Value::as_object) {
        for key in properties.keys() {
            if key.contains(':') || key.starts_with('_') {
                invalid.add(
                    &format!("properties.{key}"),
                    "property keys cannot contain ':' or start with '_'".to_string(),
                );
            }
        }
    }
    let Some(deployments) = body.get("deployments").and_then(Value::as_array) else {
        return;
    };
    for (i, deployment) in deployments.iter().enumerate() {
        let associations = deployment.get("associations").and_then(Value::as_array);
        if associations.is_none() && deployment.get("issueKeys").is_none() {
            invalid.add(
                &format!("deployments.{i}"),
                "must specify one of issueKeys or associations".to_string(),
            );
        }
        let total: usize = associations
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("values").and_then(Value::as_array))
            .map(Vec::len)
            .sum();
        if total > ASSOCIATION_VALUES_MAX {
            invalid.add(
                &format!("deployments.{i}.associations"),
                format!(
                    "at most {ASSOCIATION_VALUES_MAX} association values in total per \
                     deployment, got {total}"
                ),
            );
        }
    }
}

/// `issueIdsOrKeys`: at least one, at most [`BULKFETCH_MAX`] (prose only in the spec).
fn check_bulkfetch_size(body: &Value, invalid: &mut Invalid) {
    let count = body["issueIdsOrKeys"].as_array().map_or(0, Vec::len);
    if !(1..=BULKFETCH_MAX).contains(&count) {
        invalid.add(
            "issueIdsOrKeys",
            format!("issueIdsOrKeys must name 1 to {BULKFETCH_MAX} issues, not {count}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operation_has_a_validator() {
        assert_eq!(validators().len(), 17, "{:?}", validators().keys());
    }

    #[test]
    fn missing_url_names_the_field() {
        let body = json!({"object": {"title": "t"}});
        let invalid = check(Operation::RemoteLink(Api::V3), &body).unwrap_err();
        assert!(invalid.fields.contains_key("object"), "{invalid:?}");
        assert!(invalid.reason().contains("url"), "{}", invalid.reason());
    }

    #[test]
    fn v3_comment_needs_adf_v2_needs_a_string() {
        let adf = json!({"body": {"type": "doc", "version": 1, "content": []}});
        let text = json!({"body": "hello"});
        assert!(check(Operation::Comment(Api::V3), &adf).is_ok());
        assert!(check(Operation::Comment(Api::V3), &text).is_err());
        assert!(check(Operation::Comment(Api::V2), &text).is_ok());
        assert!(check(Operation::Comment(Api::V2), &adf).is_err());
        for empty in [json!({}), json!({"body": " "}), json!({"body": null})] {
            assert!(
                check(Operation::Comment(Api::V2), &empty).is_err(),
                "{empty}"
            );
            assert!(
                check(Operation::Comment(Api::V3), &empty).is_err(),
                "{empty}"
            );
        }
    }
}
