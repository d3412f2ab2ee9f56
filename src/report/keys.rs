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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRules;
    use crate::report::{render, Format};

    #[test]
    fn keys_for_people_and_as_json() {
        let mut index = crate::issues::KeyIndex::default();
        KeyRules::default_rules().for_each_key(b"WEB-1 and OPS-2", |key| index.add(key, None));
        let issues = index.into_vec();
        let keys = Keys {
            commits: 0,
            keys: &issues,
        };
        assert_eq!(render(&keys, Format::Human), "WEB-1\nOPS-2\n");
        assert_eq!(
            render(&keys, Format::Json),
            "{\n  \"commits\": 0,\n  \"keys\": [\n    {\n      \"commits\": [],\n      \"key\": \"WEB-1\"\n    },\n    {\n      \"commits\": [],\n      \"key\": \"OPS-2\"\n    }\n  ]\n}\n"
        );
    }
}
