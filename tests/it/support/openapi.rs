//! Validates JSON request bodies against Atlassian's published OpenAPI schemas, so that a
//! request the real Jira would reject (as far as its spec says) fails a test.
//!
//! Use from a test module with `use crate::support::openapi;`.
//!
//! The schemas come from `crates/jira-sandbox/src/jira-schemas.json` (the one checked-in copy,
//! which the sandbox server embeds too), generated from the specs in
//! Atlassian's OpenAPI files (not in the repository; `DEPLOYLINK_JIRA_SPECS`) by `tests/fixtures/jira-schemas/extract.py` (which documents every
//! OpenAPI -> JSON Schema transformation; notably readOnly properties are FORBIDDEN, and
//! constraints that exist only in prose, such as the 255-character `globalId`, are NOT encoded:
//! they are listed under `x-operations.<name>.proseOnly`).
//!
//! Validation is JSON Schema draft 2020-12 with `format` assertion on (`date-time`, `uri`):
//! Jira parses those fields, so a malformed timestamp or URL is a rejected request.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

/// The checked-in, generated schema document.
const SCHEMAS_JSON: &str = include_str!("../../../crates/jira-sandbox/src/jira-schemas.json");

/// Routes that are not in the specs' `paths` but reach the same operation: Jira Software's
/// OAuth/on-premise base URL (`https://api.atlassian.com/jira/{type}/{version}/cloud/{cloudId}/...`,
/// documented in the Software spec's `x-atlassian-narrative`, "Base URL differences").
const ALIASES: &[(&str, &str, &str)] = &[(
    "POST",
    "/jira/deployments/0.1/cloud/{cloudId}/bulk",
    "deployments.bulk",
)];

struct Operation {
    method: &'static str,
    path: &'static str,
    validator: jsonschema::Validator,
}

struct Schemas {
    operations: BTreeMap<&'static str, Operation>,
}

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(SCHEMAS_JSON)
            .expect("crates/jira-sandbox/src/jira-schemas.json is not valid JSON")
    })
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let doc = document();
        let ops = doc["x-operations"]
            .as_object()
            .expect("schemas.json: x-operations missing");
        let mut operations = BTreeMap::new();
        for (name, meta) in ops {
            // The whole document (for its $defs) with its root pointed at this operation.
            let mut schema = doc.clone();
            let root = schema.as_object_mut().expect("schemas.json: not an object");
            root.insert("$ref".into(), Value::String(format!("#/$defs/{name}")));
            let validator = jsonschema::draft202012::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap_or_else(|e| panic!("schemas.json: operation {name}: {e}"));
            operations.insert(
                name.as_str(),
                Operation {
                    method: meta["method"].as_str().expect("x-operations.*.method"),
                    path: meta["path"].as_str().expect("x-operations.*.path"),
                    validator,
                },
            );
        }
        Schemas { operations }
    })
}

/// Names of every operation in `schemas.json` (`remotelink.v3`, `deployments.bulk`, ...).
pub fn operations() -> Vec<&'static str> {
    schemas().operations.keys().copied().collect()
}

/// The `proseOnly` notes of an operation: constraints its spec states only in descriptions,
/// which this validator therefore does not check.
pub fn prose_only(operation: &str) -> Vec<&'static str> {
    document()["x-operations"][operation]["proseOnly"]
        .as_array()
        .map(|notes| notes.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Validates `body` as the request body of `operation`. `Err` lists every violation, one per
/// line, as `<JSON pointer into the body>: <message> (schema <keyword location>)`, the body itself
/// being `/`. Failed `anyOf`/`oneOf` branches follow their line, indented, so the reason a branch
/// failed is visible (at most 5 errors per branch). Long values are summarised, not printed.
/// An unknown operation is an `Err`.
pub fn validate(operation: &str, body: &Value) -> Result<(), String> {
    let Some(op) = schemas().operations.get(operation) else {
        return Err(format!(
            "unknown operation {operation:?}; known: {}",
            operations().join(", ")
        ));
    };
    let mut lines: Vec<String> = Vec::new();
    for error in op.validator.iter_errors(body) {
        describe(&error, 0, &mut lines);
    }
    if lines.is_empty() {
        return Ok(());
    }
    let count = lines.iter().filter(|l| !l.starts_with(' ')).count();
    Err(format!(
        "{operation} ({} {}): {count} violation(s)\n{}",
        op.method,
        op.path,
        lines.join("\n")
    ))
}

/// How many errors of one failed `anyOf`/`oneOf` branch are listed.
const BRANCH_ERRORS: usize = 5;

fn describe(error: &jsonschema::ValidationError<'_>, depth: usize, lines: &mut Vec<String>) {
    use jsonschema::error::ValidationErrorKind as Kind;

    let at = error.instance_path().as_str();
    let at = if at.is_empty() { "/" } else { at };
    let instance = error.instance();
    let rendered = instance.to_string();
    let mut message = if rendered.chars().count() <= 80 {
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
        Kind::FalseSchema => message.push_str(" (readOnly in the spec: not to be sent)"),
        _ => {}
    }
    let indent = "  ".repeat(depth);
    lines.push(format!(
        "{indent}{at}: {message} (schema {})",
        error.schema_path()
    ));
    if let Kind::AnyOf { context } | Kind::OneOfNotValid { context } = error.kind() {
        for (branch, errors) in context.iter().enumerate() {
            lines.push(format!("{indent}  branch {branch}:"));
            for sub in errors.iter().take(BRANCH_ERRORS) {
                describe(sub, depth + 2, lines);
            }
            if errors.len() > BRANCH_ERRORS {
                let more = errors.len() - BRANCH_ERRORS;
                lines.push(format!("{indent}    ... and {more} more in this branch"));
            }
        }
    }
}

/// The operation a request goes to: `("POST", "/rest/api/3/issue/WEB-1/remotelink")` ->
/// `Some("remotelink.v3")`. `path` may be a full URL (scheme and host are ignored), may carry a
/// query string or fragment, and may sit under a context path (`/jira/rest/api/2/...`, as on
/// Data Center): the spec's path template must match the trailing segments. A `{param}` segment
/// matches any one non-empty segment. The method is case-insensitive.
pub fn operation_for(method: &str, path: &str) -> Option<&'static str> {
    let segments = path_segments(path)?;
    let spec_routes = schemas()
        .operations
        .iter()
        .map(|(name, op)| (op.method, op.path, *name));
    spec_routes
        .chain(ALIASES.iter().copied())
        .find(|(m, template, _)| {
            m.eq_ignore_ascii_case(method) && template_matches(template, &segments)
        })
        .map(|(_, _, name)| name)
}

fn path_segments(path: &str) -> Option<Vec<&str>> {
    let path = match path.find("://") {
        Some(i) => {
            let rest = &path[i + 3..];
            &rest[rest.find('/')?..]
        }
        None => path,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    (!segments.is_empty()).then_some(segments)
}

fn template_matches(template: &str, segments: &[&str]) -> bool {
    let wanted: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    if wanted.len() > segments.len() {
        return false;
    }
    let tail = &segments[segments.len() - wanted.len()..];
    wanted.iter().zip(tail).all(|(w, s)| {
        if w.starts_with('{') && w.ends_with('}') {
            !s.is_empty()
        } else {
            w == s
        }
    })
}
