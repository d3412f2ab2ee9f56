//! Reading an edit back before it is returned: the new tracker on its own, and the whole
//! edited file against the file as it was.

use std::path::Path;

use super::{tracker_block, EditError, NewTracker};
use crate::config::error::ConfigError;
use crate::config::load::{parse_trackers, TrackersFile};
use crate::config::names::check_name;
use crate::config::tracker::{SecretRef, Tracker, DEFAULT_MAX_CONCURRENCY};
use crate::config::Source;

pub(super) fn parse_text(name: &str, text: &str) -> Result<TrackersFile, ConfigError> {
    parse_trackers(&Source {
        name: name.to_owned(),
        text: text.as_bytes().to_vec(),
    })
}

pub(super) fn parse_existing(source_name: &str, text: &str) -> Result<TrackersFile, EditError> {
    parse_text(source_name, text).map_err(|error| EditError::ExistingInvalid {
        file: source_name.to_owned(),
        error: Box::new(error),
    })
}

/// Checks the tracker on its own (its name, and that its block loads and reads back as given);
/// returns it as loaded.
pub(super) fn check_new_tracker(
    source_name: &str,
    tracker: &NewTracker,
) -> Result<Tracker, EditError> {
    let invalid = |reason: String| EditError::InvalidTracker {
        file: source_name.to_owned(),
        name: tracker.name.clone(),
        reason,
    };
    check_name(&tracker.name, "tracker")
        .map_err(|(message, hint)| invalid(format!("{message}\n  hint: {hint}")))?;
    if let Some(path) = non_utf8_path(tracker) {
        return Err(invalid(format!(
            "the path {} is not UTF-8, which a YAML file cannot hold\n  hint: move the file to a path with a UTF-8 name",
            path.display()
        )));
    }
    let text = format!("version: 1\ntrackers:\n{}", tracker_block(tracker));
    let label = format!("the tracker '{}'", tracker.name);
    let loaded = parse_text(&label, &text).map_err(|e| {
        // The line and column are those of the block, not of the file: leave them out.
        let mut reason = match e.field_path() {
            Some(path) => format!("{path}: {}", e.message()),
            None => e.message().to_owned(),
        };
        if let Some(hint) = e.hint() {
            reason.push_str("\n  hint: ");
            reason.push_str(hint);
        }
        invalid(reason)
    })?;
    let loaded = loaded
        .tracker(&tracker.name)
        .cloned()
        .ok_or_else(|| invalid("its entry does not read back under its name".to_owned()))?;
    if let Some(field) = differing_field(&loaded, tracker) {
        return Err(invalid(format!(
            "its `{field}` does not read back as given from the YAML written for it"
        )));
    }
    Ok(loaded)
}

/// The first path of the tracker (a secret's file, the CA file) that is not UTF-8.
fn non_utf8_path(tracker: &NewTracker) -> Option<&Path> {
    let paths = [
        secret_path(tracker.user.as_ref()),
        secret_path(Some(&tracker.token)),
        tracker
            .deployments
            .as_ref()
            .and_then(|(id, _)| secret_path(Some(id))),
        tracker
            .deployments
            .as_ref()
            .and_then(|(_, secret)| secret_path(Some(secret))),
        tracker.ca_file.as_deref(),
    ];
    paths.into_iter().flatten().find(|p| p.to_str().is_none())
}

/// The first field of the tracker as loaded that differs from the tracker as given.
fn differing_field(loaded: &Tracker, tracker: &NewTracker) -> Option<&'static str> {
    let url = tracker.url.strip_suffix('/').unwrap_or(&tracker.url);
    let differs = [
        ("kind", loaded.kind != tracker.kind),
        ("url", loaded.url != url),
        ("user", loaded.auth.user != tracker.user),
        ("token", loaded.auth.token != tracker.token),
        (
            "deployments",
            loaded
                .deployments
                .as_ref()
                .map(|d| (d.client_id.clone(), d.client_secret.clone()))
                != tracker.deployments,
        ),
        ("ca_file", loaded.ca_file != tracker.ca_file),
        (
            "max_concurrency",
            loaded.max_concurrency != tracker.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
        ),
    ];
    differs.iter().find(|(_, d)| *d).map(|(field, _)| *field)
}

fn secret_path(secret: Option<&SecretRef>) -> Option<&Path> {
    match secret {
        Some(SecretRef::File(path)) => Some(path),
        _ => None,
    }
}

/// Reads `text` back: it must load; the tracker `name` must be `expected` (or be gone, for a
/// removal); every other tracker and `allow_repository_trackers` must be as in `before`.
pub(super) fn check_result(
    source_name: &str,
    before: Option<&TrackersFile>,
    text: &str,
    name: &str,
    expected: Option<&Tracker>,
    fix: &str,
) -> Result<(), EditError> {
    let broken = |problem: String| EditError::WouldBreak {
        file: source_name.to_owned(),
        problem,
        fix: fix.to_owned(),
    };
    let after = parse_text(source_name, text).map_err(|e| broken(e.to_string()))?;
    if after.tracker(name) != expected {
        return Err(broken(match expected {
            Some(_) => format!("the tracker '{name}' would not read back as given"),
            None => format!("the tracker '{name}' would still be there"),
        }));
    }
    if let Some(before) = before {
        let others = |file: &TrackersFile| -> Vec<Tracker> {
            file.trackers()
                .iter()
                .filter(|t| t.name != name)
                .cloned()
                .collect()
        };
        if others(before) != others(&after) {
            return Err(broken(
                "the other trackers would not read back as they were".to_owned(),
            ));
        }
        if before.allow_repository_trackers() != after.allow_repository_trackers() {
            return Err(broken(
                "`allow_repository_trackers` would not read back as it was".to_owned(),
            ));
        }
    }
    Ok(())
}
