//! The report of the client hooks (`hook pre-push`, `hook commit-msg`): how a push or a
//! commit message breaks the project's `validate:` policy, with how to fix it.

use std::path::PathBuf;

use serde::Serialize;

use super::Report;
use crate::config::PROJECT_FILE;

/// Every violation of one run of a client hook; the hook exits 1 when there is any.
#[derive(Debug, Serialize)]
pub struct Violations {
    pub violations: Vec<Violation>,
}

/// One violation, by kind (`"kind"` in JSON).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// `pre-push` under `require: every-commit`: pushed commits that name no issue.
    CommitsWithoutKey {
        /// The remote ref pushed to.
        target: String,
        commits: Vec<Offender>,
        /// Example keys of the projects, in words (`a key such as WEB-123`).
        needs: String,
        /// Where `git rebase -i` should start.
        rebase_from: String,
    },
    /// `pre-push` under `check_exists`: keys Jira does not know.
    UnknownKeys {
        target: String,
        keys: Vec<String>,
        rebase_from: String,
    },
    /// `pre-push` under `require: one-per-push`: no pushed commit names an issue.
    PushWithoutKey {
        target: String,
        /// How many commits were pushed.
        commits: usize,
        needs: String,
    },
    /// `commit-msg`: the message names no issue.
    MessageWithoutKey {
        subject: String,
        needs: String,
        /// The file git keeps the message in.
        file: PathBuf,
    },
    /// `commit-msg` under `check_exists`: the message's keys that Jira does not know.
    MessageUnknownKeys {
        subject: String,
        keys: Vec<String>,
        file: PathBuf,
    },
}

/// A commit that breaks the policy.
#[derive(Debug, Serialize)]
pub struct Offender {
    /// The full commit id.
    pub id: String,
    pub subject: String,
}

impl Violations {
    /// The violations as one message, a paragraph each (no final newline).
    pub fn message(&self) -> String {
        let paragraphs: Vec<String> = self.violations.iter().map(Violation::message).collect();
        paragraphs.join("\n")
    }
}

impl Report for Violations {
    fn human(&self) -> String {
        format!("{}\n", self.message())
    }
}

impl Violation {
    /// The violation for the person pushing or committing, with a hint.
    pub fn message(&self) -> String {
        match self {
            Violation::CommitsWithoutKey {
                target,
                commits,
                needs,
                rebase_from,
            } => {
                let mut text = format!(
                    "{} pushed to {target} {} no Jira issue ({PROJECT_FILE} requires one in every commit):\n",
                    count(commits.len(), "commit", "commits"),
                    if commits.len() == 1 { "names" } else { "name" },
                );
                for commit in commits {
                    let short = &commit.id[..commit.id.len().min(7)];
                    text.push_str(&format!("  {short}  {}\n", commit.subject));
                }
                text.push_str(&format!(
                    "  each needs {needs}\n  hint: reword them with `git rebase -i {rebase_from}` (mark each `reword`), \
                     or the last one with `git commit --amend`, then push again"
                ));
                text
            }
            Violation::UnknownKeys {
                target,
                keys,
                rebase_from,
            } => format!(
                "{} pushed to {target} {} not exist in Jira (or the tracker's account cannot see {}): {}\n  \
                 hint: correct the key with `git rebase -i {rebase_from}` (mark the commits `reword`), then push again",
                count(keys.len(), "issue key", "issue keys"),
                if keys.len() == 1 { "does" } else { "do" },
                if keys.len() == 1 { "it" } else { "them" },
                keys.join(", "),
            ),
            Violation::PushWithoutKey {
                target,
                commits,
                needs,
            } => format!(
                "none of the {commits} commits pushed to {target} names a Jira issue ({PROJECT_FILE} requires one per push)\n  \
                 each push needs {needs} in at least one commit\n  hint: `git commit --amend` to add it to the last commit, then push again"
            ),
            Violation::MessageWithoutKey {
                subject,
                needs,
                file,
            } => format!(
                "the commit message names no Jira issue ({PROJECT_FILE} requires one in every commit):\n  {subject}\n  \
                 it needs {needs}\n  hint: your message is kept in {}; commit again with the key added \
                 (`git commit -e -F {}`), or `git commit --no-verify` to skip this check once",
                file.display(),
                file.display()
            ),
            Violation::MessageUnknownKeys { subject, keys, file } => format!(
                "{} in the commit message {} not exist in Jira (or the tracker's account cannot see {}):\n  {subject}\n  \
                 hint: your message is kept in {}; commit again with the key corrected (`git commit -e -F {}`)",
                keys.join(", "),
                if keys.len() == 1 { "does" } else { "do" },
                if keys.len() == 1 { "it" } else { "them" },
                file.display(),
                file.display()
            ),
        }
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{render, Format};

    fn pushed() -> Violations {
        Violations {
            violations: vec![
                Violation::CommitsWithoutKey {
                    target: "refs/heads/main".into(),
                    commits: vec![Offender {
                        id: "0123456789abcdef0123456789abcdef01234567".into(),
                        subject: "Fix the build".into(),
                    }],
                    needs: "a key such as WEB-123".into(),
                    rebase_from: "fedcba9".into(),
                },
                Violation::UnknownKeys {
                    target: "refs/heads/dev".into(),
                    keys: vec!["WEB-9".into(), "WEB-10".into()],
                    rebase_from: "0123456~1".into(),
                },
            ],
        }
    }

    #[test]
    fn the_paragraphs_people_read() {
        assert_eq!(
            pushed().human(),
            "1 commit pushed to refs/heads/main names no Jira issue (.deploylink.yml requires one in every commit):\n  \
             0123456  Fix the build\n  \
             each needs a key such as WEB-123\n  \
             hint: reword them with `git rebase -i fedcba9` (mark each `reword`), or the last one with `git commit --amend`, then push again\n\
             2 issue keys pushed to refs/heads/dev do not exist in Jira (or the tracker's account cannot see them): WEB-9, WEB-10\n  \
             hint: correct the key with `git rebase -i 0123456~1` (mark the commits `reword`), then push again\n"
        );
        let message = Violation::MessageUnknownKeys {
            subject: "WEB-9: tidy".into(),
            keys: vec!["WEB-9".into()],
            file: ".git/COMMIT_EDITMSG".into(),
        };
        assert_eq!(
            message.message(),
            "WEB-9 in the commit message does not exist in Jira (or the tracker's account cannot see it):\n  \
             WEB-9: tidy\n  \
             hint: your message is kept in .git/COMMIT_EDITMSG; commit again with the key corrected (`git commit -e -F .git/COMMIT_EDITMSG`)"
        );
        let push = Violation::PushWithoutKey {
            target: "refs/heads/main".into(),
            commits: 3,
            needs: "a key such as WEB-123".into(),
        };
        assert!(push.message().starts_with(
            "none of the 3 commits pushed to refs/heads/main names a Jira issue (.deploylink.yml requires one per push)\n"
        ));
    }

    #[test]
    fn the_json_document() {
        let value: serde_json::Value =
            serde_json::from_str(&render(&pushed(), Format::Json)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"violations": [
                {"kind": "commits_without_key", "target": "refs/heads/main",
                 "commits": [{"id": "0123456789abcdef0123456789abcdef01234567", "subject": "Fix the build"}],
                 "needs": "a key such as WEB-123", "rebase_from": "fedcba9"},
                {"kind": "unknown_keys", "target": "refs/heads/dev", "keys": ["WEB-9", "WEB-10"],
                 "rebase_from": "0123456~1"},
            ]})
        );
    }
}
