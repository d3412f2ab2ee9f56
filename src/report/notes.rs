//! The report of `deploylink notes`: release notes as markdown (a release description, a CI
//! job summary), for a terminal, or as JSON.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::{plural, Report, DIM, HEAD, KEY, WARN};
use crate::notes::{Lookup, NoteIssue, TypeGroup};
use crate::plan::CommitSummary;

/// Release notes of one range.
#[derive(Serialize)]
pub struct Notes {
    /// The base commit, when the range has exactly one.
    pub from: Option<String>,
    pub to: String,
    /// Why that base: `last recorded deploy to production`, `--from`, ...
    pub base: String,
    /// Commits in the range.
    pub commits: usize,
    pub groups: Vec<Group>,
    /// Commits that name no issue, oldest first.
    pub other_commits: Vec<CommitSummary>,
    /// Why summaries are missing, one sentence per reason; empty when every issue was asked.
    pub missing: Vec<String>,
}

/// One issue type's issues.
pub struct Group(pub TypeGroup);

impl Serialize for Group {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Group", 3)?;
        s.serialize_field("type", &self.0.issue_type)?;
        s.serialize_field("heading", &self.0.heading())?;
        let issues: Vec<IssueJson<'_>> = self.0.issues.iter().map(IssueJson).collect();
        s.serialize_field("issues", &issues)?;
        s.end()
    }
}

struct IssueJson<'a>(&'a NoteIssue);

impl Serialize for IssueJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let issue = self.0;
        let details = match &issue.lookup {
            Lookup::Found(d) => Some(d),
            _ => None,
        };
        let mut s = serializer.serialize_struct("Issue", 6)?;
        s.serialize_field("key", &issue.key)?;
        s.serialize_field("jira", jira_state(&issue.lookup))?;
        s.serialize_field("summary", &details.map(|d| &d.summary))?;
        s.serialize_field("type", &details.map(|d| &d.issue_type))?;
        s.serialize_field("status", &details.map(|d| &d.status))?;
        s.serialize_field("commits", &issue.commits)?;
        s.end()
    }
}

/// `found`, `not_found` (Jira was asked and has no such issue) or `unavailable`.
fn jira_state(lookup: &Lookup) -> &'static str {
    match lookup {
        Lookup::Found(_) => "found",
        Lookup::NotInJira => "not_found",
        Lookup::Unavailable => "unavailable",
    }
}

fn short(id: &str) -> &str {
    id.get(..7).unwrap_or(id)
}

impl Notes {
    fn issue_count(&self) -> usize {
        self.groups.iter().map(|g| g.0.issues.len()).sum()
    }

    /// Markdown for a release description or a CI job summary: a `##` heading per issue type,
    /// a bullet per issue with its commits under it, then the commits that name no issue.
    fn markdown_body(&self) -> String {
        let mut out = String::new();
        for group in &self.groups {
            out.push_str(&format!("## {}\n\n", group.0.heading()));
            for issue in &group.0.issues {
                out.push_str(&format!("- {}\n", issue_line_markdown(issue)));
                for commit in &issue.commits {
                    out.push_str(&format!(
                        "  - `{}` {}\n",
                        short(&commit.id),
                        escape(&commit.subject)
                    ));
                }
            }
            out.push('\n');
        }
        if !self.other_commits.is_empty() {
            out.push_str("## Other commits\n\n");
            for commit in &self.other_commits {
                out.push_str(&format!(
                    "- `{}` {}\n",
                    short(&commit.id),
                    escape(&commit.subject)
                ));
            }
            out.push('\n');
        }
        if self.groups.is_empty() && self.other_commits.is_empty() {
            out.push_str("No commits in this range.\n\n");
        }
        for reason in &self.missing {
            out.push_str(&format!("> {}\n\n", escape(reason)));
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }
}

fn issue_line_markdown(issue: &NoteIssue) -> String {
    match &issue.lookup {
        Lookup::Found(d) => format!(
            "{} {} ({})",
            issue.key,
            escape(&d.summary),
            escape(&d.status)
        ),
        Lookup::NotInJira => format!("{} (not found in Jira)", issue.key),
        Lookup::Unavailable => issue.key.clone(),
    }
}

/// Text from commits and Jira inside markdown: one line, and the characters that would start
/// a link, emphasis, code or HTML escaped, so a summary reads as written. `_` is left alone:
/// inside a word (`JIRA_API_TOKEN`, `snake_case`) it never starts emphasis.
fn escape(text: &str) -> String {
    let text = text.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

impl Report for Notes {
    fn human(&self) -> String {
        let issues = self.issue_count();
        let mut out = format!(
            "{HEAD}{} commit{}, {} issue{}{HEAD:#} {DIM}(base: {}){DIM:#}\n",
            self.commits,
            plural(self.commits),
            issues,
            plural(issues),
            self.base
        );
        for group in &self.groups {
            out.push_str(&format!("\n{HEAD}{}{HEAD:#}\n", group.0.heading()));
            for issue in &group.0.issues {
                let words = match &issue.lookup {
                    Lookup::Found(d) => format!("{}  {DIM}[{}]{DIM:#}", d.summary, d.status),
                    Lookup::NotInJira => format!("{WARN}not found in Jira{WARN:#}"),
                    Lookup::Unavailable => String::new(),
                };
                out.push_str(
                    &format!("  {KEY}{}{KEY:#}  {words}\n", issue.key).replace("  \n", "\n"),
                );
                for commit in &issue.commits {
                    out.push_str(&format!(
                        "      {DIM}{}{DIM:#} {}\n",
                        short(&commit.id),
                        commit.subject
                    ));
                }
            }
        }
        if !self.other_commits.is_empty() {
            out.push_str(&format!("\n{HEAD}Other commits{HEAD:#}\n"));
            for commit in &self.other_commits {
                out.push_str(&format!(
                    "  {DIM}{}{DIM:#} {}\n",
                    short(&commit.id),
                    commit.subject
                ));
            }
        }
        for reason in &self.missing {
            out.push_str(&format!("{WARN}{reason}{WARN:#}\n"));
        }
        out
    }

    fn markdown(&self) -> String {
        self.markdown_body()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::details::IssueDetails;
    use crate::report::{render, Format};

    fn notes(lookup: Lookup, missing: Vec<String>) -> Notes {
        let commit = CommitSummary {
            id: "1a2b3c4d5e".into(),
            subject: "WEB-12: log in".into(),
        };
        let issue_type = match &lookup {
            Lookup::Found(d) => Some(d.issue_type.clone()),
            _ => None,
        };
        Notes {
            from: None,
            to: "f".repeat(40),
            base: "--from v1".into(),
            commits: 2,
            groups: vec![Group(TypeGroup {
                issue_type,
                issues: vec![NoteIssue {
                    key: "WEB-12".into(),
                    lookup,
                    commits: vec![commit],
                }],
            })],
            other_commits: vec![CommitSummary {
                id: "9f8e7d6c5b".into(),
                subject: "Tidy\nup".into(),
            }],
            missing,
        }
    }

    #[test]
    fn markdown_with_and_without_jira() {
        let found = Lookup::Found(IssueDetails {
            summary: "Log in with *SSO*".into(),
            issue_type: "Story".into(),
            status: "Done".into(),
        });
        assert_eq!(
            render(&notes(found, Vec::new()), Format::Markdown),
            "## Stories\n\n- WEB-12 Log in with \\*SSO\\* (Done)\n  - `1a2b3c4` WEB-12: log in\n\n## Other commits\n\n- `9f8e7d6` Tidy up\n"
        );
        let missing = vec!["summaries are missing: no\n  tracker".to_owned()];
        assert_eq!(
            render(&notes(Lookup::Unavailable, missing), Format::Markdown),
            "## Issues\n\n- WEB-12\n  - `1a2b3c4` WEB-12: log in\n\n## Other commits\n\n- `9f8e7d6` Tidy up\n\n> summaries are missing: no tracker\n"
        );
    }

    #[test]
    fn json_marks_what_jira_could_not_say() {
        let json = render(&notes(Lookup::NotInJira, Vec::new()), Format::Json);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let issue = &value["groups"][0]["issues"][0];
        assert_eq!(issue["jira"], "not_found");
        assert_eq!(issue["summary"], serde_json::Value::Null);
        assert_eq!(value["groups"][0]["heading"], "Issues");
        assert_eq!(value["groups"][0]["type"], serde_json::Value::Null);
    }
}
