//! The JSON Schema of both files, generated from the serde types that read them, so that the
//! schema cannot drift from the parser. `docs/config.schema.json` is this, checked in; a test
//! keeps the two equal.

use schemars::generate::SchemaSettings;
use serde_json::{json, Value};

use super::document::{ProjectFileDoc, TrackersFileDoc};

/// The published schema: a document is either a project file or an organization file; each is
/// also a named definition (`#/$defs/ProjectFile`, `#/$defs/TrackersFile`).
pub fn json_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let project = generator.subschema_for::<ProjectFileDoc>();
    let trackers = generator.subschema_for::<TrackersFileDoc>();
    let definitions = generator.take_definitions(true);
    sorted(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "deploylink configuration",
        "description": "The two configuration files of deploylink: the project file (`.deploylink.yml`, versioned with the code) and the organization file (`trackers.yml`, the connected Jira sites). Both are YAML with `version: 1`. Reference: docs/configuration.md.",
        // `anyOf`, not `oneOf`: `version: 1` alone is a valid file of both kinds.
        "anyOf": [project, trackers],
        "$defs": definitions,
    }))
}

/// `value` with every object's keys in order, so that the text of the schema is the same
/// whether or not some dependency turns on serde_json's `preserve_order`.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
