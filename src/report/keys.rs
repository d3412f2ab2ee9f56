//! The report of `deploylink keys`: the issue keys of a range, each with its commits.

use serde::Serialize;

use super::Report;
use crate::issues::IssueCommits;

/// Keys in first-appearance order, and how many commits were scanned (0 with `--stdin`).
#[derive(Serialize)]
pub struct Keys<'a> {
    pub commits: usize,
    pub keys: &'a [IssueCommits],
}

impl Report for Keys<'_> {
    /// One key per line.
    fn human(&self) -> String {
        let mut out = String::new();
        for issue in self.keys {
            out.push_str(issue.key.as_str());
            out.push('\n');
        }
        out
    }
}
