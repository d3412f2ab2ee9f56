//! The YAML written for one tracker entry, and the scalars in it.

use super::lines::join_lines;
use super::NewTracker;
use crate::config::tracker::SecretRef;

/// The YAML of one tracker entry, indented for a block `trackers:` map (2 spaces for the name).
pub fn tracker_block(tracker: &NewTracker) -> String {
    join_lines(block_lines(tracker, 2, 2), "\n")
}

/// The lines (without line ends) of the entry of `tracker`, its name at `indent` spaces and
/// each level below `step` spaces deeper.
pub(super) fn block_lines(tracker: &NewTracker, indent: usize, step: usize) -> Vec<String> {
    let pad = |level: usize| " ".repeat(indent + level * step);
    let mut lines = vec![
        format!("{}{}:", pad(0), name_scalar(&tracker.name)),
        format!("{}kind: {}", pad(1), tracker.kind.as_str()),
        format!("{}url: {}", pad(1), yaml_scalar(&tracker.url)),
        format!("{}auth:", pad(1)),
    ];
    let secret = |what: &str, secret: &SecretRef| match secret {
        SecretRef::Env(name) => format!("{}{what}_env: {}", pad(2), yaml_scalar(name)),
        SecretRef::File(path) => format!(
            "{}{what}_file: {}",
            pad(2),
            yaml_scalar(&path.to_string_lossy())
        ),
    };
    if let Some(user) = &tracker.user {
        lines.push(secret("user", user));
    }
    lines.push(secret("token", &tracker.token));
    if let Some((id, client_secret)) = &tracker.deployments {
        lines.push(format!("{}deployments:", pad(1)));
        lines.push(secret("client_id", id));
        lines.push(secret("client_secret", client_secret));
    }
    if let Some(ca_file) = &tracker.ca_file {
        lines.push(format!(
            "{}ca_file: {}",
            pad(1),
            yaml_scalar(&ca_file.to_string_lossy())
        ));
    }
    if let Some(max) = tracker.max_concurrency {
        lines.push(format!("{}max_concurrency: {max}", pad(1)));
    }
    lines
}

/// `text` as a YAML scalar: plain when it is made only of `[A-Za-z0-9_./:@-]`, starts with a
/// letter, `_` or `/`, and cannot be read as anything but a string; else a double-quoted
/// string (JSON's escapes are YAML's).
pub(crate) fn yaml_scalar(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./:@-".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && !text.ends_with(':')
        && !is_yaml_keyword(text);
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| unreachable!("a string serializes"))
    }
}

/// A tracker name as a mapping key: plain unless it starts with a digit (`1acme` could read
/// as a number) or is a YAML keyword.
pub(super) fn name_scalar(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        serde_json::to_string(name).unwrap_or_else(|_| unreachable!("a string serializes"))
    } else {
        yaml_scalar(name)
    }
}

fn is_yaml_keyword(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    )
}
