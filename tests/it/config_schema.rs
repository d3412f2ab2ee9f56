//! `docs/config.schema.json` is the schema generated from the types, and it accepts the SPEC's
//! examples.
//!
//! To regenerate the checked-in schema: `UPDATE_SCHEMA=1 cargo test --test it config_schema`.

use std::path::Path;

use serde_json::Value;

fn repo_file(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn generated() -> String {
    let mut text = serde_json::to_string_pretty(&deploylink::config::json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn checked_in_schema_is_the_generated_one() {
    let path = repo_file("docs/config.schema.json");
    let generated = generated();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/config.schema.json differs from the schema generated from the configuration types.\n\
         Regenerate it with:\n\n    UPDATE_SCHEMA=1 cargo test --test it config_schema\n\n\
         and commit the result."
    );
}

#[test]
fn schema_names_both_files() {
    let schema = deploylink::config::json_schema();
    assert_eq!(schema["title"], "deploylink configuration");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(schema["$defs"]["ProjectFile"].is_object());
    assert!(schema["$defs"]["TrackersFile"].is_object());
    let version = &schema["$defs"]["ProjectFile"]["properties"]["version"];
    assert_eq!(version["const"], 1);
}

fn example(name: &str) -> Value {
    let text = std::fs::read_to_string(repo_file("tests/fixtures/config").join(name)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn schema_accepts_the_spec_examples() {
    let schema = deploylink::config::json_schema();
    for name in ["spec-project.yml", "spec-trackers.yml", "shorthand.yml"] {
        let problems = check(&schema, &schema, &example(name), name);
        assert!(problems.is_empty(), "{name}: {problems:#?}");
    }
}

#[test]
fn schema_refuses_what_the_parser_refuses() {
    let schema = deploylink::config::json_schema();
    for text in [
        "version: 1\nprojects:\n  web:\n    environmnts: {}\n",
        "version: 2\n",
        "version: 1\nactions: [remote_link]\n",
        "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://a\n    auth: {token: x}\n",
        "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://a\n    auth: {token_env: 'not a name'}\n",
    ] {
        let value: Value = serde_saphyr::from_str(text).unwrap();
        assert!(!check(&schema, &schema, &value, "doc").is_empty(), "accepted: {text}");
    }
}

/// A small JSON Schema check, enough for the keywords schemars generates here: `$ref`, `anyOf`,
/// `oneOf`, `const`, `type`, `properties`, `additionalProperties`, `required`, `items`,
/// `pattern`, `minimum`, `maximum`. Returns the problems found, by path.
fn check(root: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/$defs/");
        return check(root, &root["$defs"][name], value, path);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(choices) = schema[key].as_array() {
            if choices
                .iter()
                .all(|s| !check(root, s, value, path).is_empty())
            {
                return vec![format!("{path}: matches none of `{key}`")];
            }
        }
    }
    let mut problems = Vec::new();
    if let Some(expected) = schema.get("const") {
        if expected != value {
            problems.push(format!("{path}: is not {expected}"));
        }
    }
    if !type_matches(&schema["type"], value) {
        problems.push(format!("{path}: is not of type {}", schema["type"]));
    }
    if let (Some(pattern), Some(text)) = (schema["pattern"].as_str(), value.as_str()) {
        if !regex::Regex::new(pattern).unwrap().is_match(text) {
            problems.push(format!("{path}: does not match {pattern}"));
        }
    }
    if let Some(n) = value.as_f64() {
        let below = schema["minimum"].as_f64().is_some_and(|min| n < min);
        let above = schema["maximum"].as_f64().is_some_and(|max| n > max);
        if below || above {
            problems.push(format!("{path}: is out of range"));
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            problems.extend(check(root, &schema["items"], item, &format!("{path}[{i}]")));
        }
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(required.as_str().unwrap_or_default()) {
                problems.push(format!("{path}: lacks {required}"));
            }
        }
        for (key, item) in object {
            let field = format!("{path}.{key}");
            match (&schema["properties"][key], &schema["additionalProperties"]) {
                (Value::Null, Value::Bool(false)) => {
                    problems.push(format!("{field}: is not a known field"))
                }
                (Value::Null, Value::Null) => {}
                (Value::Null, additional) => problems.extend(check(root, additional, item, &field)),
                (property, _) => problems.extend(check(root, property, item, &field)),
            }
        }
    }
    problems
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    let one = |t: &str| match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    };
    match expected {
        Value::String(t) => one(t),
        Value::Array(types) => types.iter().any(|t| t.as_str().is_some_and(one)),
        _ => true,
    }
}
