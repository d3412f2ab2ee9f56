//! How many rules a project file may hold. A file within the size limits could still hold
//! tens of thousands of patterns, each compiled when the file loads and tried on every commit
//! or ref: these counts keep that work small. Real files hold a handful of each.

use super::error::{ConfigError, FieldPath};
use super::locate::Part;
use super::yaml::Document;

/// The most projects one file defines.
pub const MAX_PROJECTS: usize = 100;
/// The most environments one project defines.
pub const MAX_ENVIRONMENTS: usize = 50;
/// The most `refs` patterns one environment lists.
pub const MAX_REF_PATTERNS: usize = 100;
/// The most `paths` globs one project lists.
pub const MAX_PATH_GLOBS: usize = 200;
/// The most `keys.ignore` patterns one project lists.
pub const MAX_IGNORE_PATTERNS: usize = 100;
/// The most Jira project keys `keys.projects` lists.
pub const MAX_KEY_PROJECTS: usize = 500;

/// An error at `field` when it holds more than `limit` entries.
pub(crate) fn check_count(
    doc: &Document,
    field: &FieldPath,
    count: usize,
    limit: usize,
    what: &str,
) -> Result<(), ConfigError> {
    if count <= limit {
        return Ok(());
    }
    Err(doc
        .error_at(
            field,
            Part::Value,
            format!("{count} {what}, more than the {limit} a project file may hold"),
        )
        .with_hint(format!(
            "a project file holds at most {limit} {what} here; merge them into fewer, broader \
             ones (one regular expression or glob can cover many)"
        )))
}
