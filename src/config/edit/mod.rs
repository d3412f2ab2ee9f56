//! Edits the organization file for `deploylink tracker connect` and `tracker disconnect`,
//! without losing what people wrote in it.
//!
//! No serde YAML crate keeps comments, so the file is edited as lines: the top-level
//! `trackers:` key (at the left margin), its entries (the lines at the entries' indentation
//! that read `name:`), and the lines that belong to each. Only the entry being replaced or
//! removed changes; every other line is kept byte for byte. A file that is not written in the
//! plain block style this understands (a flow mapping, anchors or aliases among the trackers,
//! tabs) is refused with [`EditError::CannotEdit`], which says what to paste by hand.
//!
//! Every result is read back with [`parse_trackers`](super::parse_trackers) before it is
//! returned: the edited tracker must read as given, and every other tracker as it did, so a
//! file deploylink would refuse is never written.
//!
//! The parts: `lines` (the file as lines, line ends kept), `section` (the `trackers:` section
//! and its entries), `block` (the YAML of one entry), `upsert` and `remove` (connect and
//! disconnect), `check` (reading an edit back), `write` (the atomic write).

mod block;
mod check;
mod lines;
mod remove;
mod section;
#[cfg(test)]
mod tests;
mod upsert;

use std::path::PathBuf;

use super::error::ConfigError;
use super::tracker::{SecretRef, TrackerKind};
use check::parse_existing;
use lines::Lines;
use section::analyse;

pub use block::tracker_block;
pub(crate) use block::yaml_scalar;
pub use remove::remove_tracker;
pub use upsert::upsert_tracker;

/// A tracker to write into the organization file, as `tracker connect` was given it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTracker {
    /// The name projects choose it by.
    pub name: String,
    /// Cloud or Data Center.
    pub kind: TrackerKind,
    /// The site's base URL.
    pub url: String,
    /// Jira Cloud: where the account e-mail is read from (`user_env` / `user_file`).
    pub user: Option<SecretRef>,
    /// Where the token is read from (`token_env` / `token_file`).
    pub token: SecretRef,
    /// OAuth client id and client secret, for deployment records (Cloud).
    pub deployments: Option<(SecretRef, SecretRef)>,
    /// An extra root certificate to trust.
    pub ca_file: Option<PathBuf>,
    /// The most requests in flight at once; `None` leaves the field out (the default).
    pub max_concurrency: Option<u32>,
}

/// Why the organization file was not edited. Each message says what, in which file, and how
/// to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file as it is does not load, so there is no knowing what an edit would keep.
    #[error("{file} cannot be edited: deploylink refuses the file as it is, so it cannot tell what to keep:\n{error}\n  fix: correct the file (the error above says where), then run the command again")]
    ExistingInvalid {
        /// The file.
        file: String,
        /// Why it does not load.
        error: Box<ConfigError>,
    },
    /// The file is written in a way this editor does not change with confidence.
    #[error("{file}: the trackers cannot be edited automatically: {reason}\n  fix: edit the file by hand: {fix}")]
    CannotEdit {
        /// The file.
        file: String,
        /// What in the file stops the edit.
        reason: String,
        /// What to change by hand (for a connect, the block to paste).
        fix: String,
    },
    /// The edit was made in memory, but the result does not load, or does not read back as
    /// intended; nothing is returned, so nothing is written.
    #[error("{file} was not changed: the edited file would not read back as intended:\n{problem}\n  fix: edit the file by hand: {fix}")]
    WouldBreak {
        /// The file.
        file: String,
        /// What was wrong with the result.
        problem: String,
        /// What to change by hand.
        fix: String,
    },
    /// The tracker to write is not valid on its own.
    #[error("the tracker '{name}' cannot be written to {file}: {reason}")]
    InvalidTracker {
        /// The file.
        file: String,
        /// The tracker's name, as given.
        name: String,
        /// What is wrong with it, and how to fix it.
        reason: String,
    },
    /// `disconnect` of a tracker that the file does not have.
    #[error("{file} has no tracker '{name}'; {}\n  fix: check the name (`deploylink tracker list` shows the connected trackers)", listing(names))]
    NotFound {
        /// The file.
        file: String,
        /// The name asked for.
        name: String,
        /// The trackers the file has, in file order.
        names: Vec<String>,
    },
}

fn listing(names: &[String]) -> String {
    if names.is_empty() {
        "it has no trackers".to_owned()
    } else {
        format!("its trackers are: {}", names.join(", "))
    }
}

/// The names of the trackers in the text, in file order (in name order when the file is
/// written in a style the editor does not follow, like a flow mapping).
pub fn tracker_names(existing: &str, source_name: &str) -> Result<Vec<String>, EditError> {
    let parsed = parse_existing(source_name, existing)?;
    let doc = Lines::split(existing);
    let from_lines = match analyse(&doc) {
        Ok(Some(section)) => section.entries.into_iter().map(|e| e.name).collect(),
        Ok(None) => Vec::new(),
        Err(_) => return Ok(parsed.trackers().iter().map(|t| t.name.clone()).collect()),
    };
    Ok(from_lines)
}
