//! Release notes: what a range ships, for people. Its issues with their Jira summary, type and
//! status, grouped by issue type, each with its commits; then the commits that name no issue.
//! Jira only adds words: without a tracker, credentials or a reachable Jira the notes still
//! list every key and commit subject, and say what is missing and why.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{Config, Project};
use crate::deliver::Session;
use crate::issues::IssueCommits;
use crate::jira::details::{self, IssueDetails};
use crate::plan::CommitSummary;

/// What Jira said of one issue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Found(IssueDetails),
    /// Jira was asked and does not have it (or the account cannot see it).
    NotInJira,
    /// Jira could not be asked (see [`Lookups::missing`]).
    Unavailable,
}

/// An issue of the notes.
#[derive(Clone, Debug)]
pub struct NoteIssue {
    pub key: String,
    pub lookup: Lookup,
    /// The commits of the range that name it, oldest first (none when only the branch does).
    pub commits: Vec<CommitSummary>,
}

/// The issues of one type, in the order the range first names them.
#[derive(Clone, Debug)]
pub struct TypeGroup {
    /// `None` for issues whose type is not known (not in Jira, or Jira not asked).
    pub issue_type: Option<String>,
    pub issues: Vec<NoteIssue>,
}

impl TypeGroup {
    /// The group's heading: the type in the plural (`Stories`, `Bugs`), `Issues` without one.
    pub fn heading(&self) -> String {
        self.issue_type
            .as_deref()
            .map_or_else(|| "Issues".to_owned(), plural)
    }
}

/// The answers of every tracker asked, and why some could not be.
#[derive(Debug, Default)]
pub struct Lookups {
    pub found: BTreeMap<String, IssueDetails>,
    /// Keys a tracker was asked about successfully.
    pub asked: BTreeSet<String>,
    /// One sentence per reason summaries are missing, naming the keys when not all.
    pub missing: Vec<String>,
}

impl Lookups {
    fn lookup(&self, key: &str) -> Lookup {
        match self.found.get(key) {
            Some(details) => Lookup::Found(details.clone()),
            None if self.asked.contains(key) => Lookup::NotInJira,
            None => Lookup::Unavailable,
        }
    }
}

/// Asks each project's tracker about the keys its rules accept (the first project in the
/// file's order that accepts a key owns it). Never fails: what cannot be asked is listed in
/// `missing`.
pub fn look_up(config: Option<&Config>, keys: &[String]) -> Lookups {
    let mut lookups = Lookups::default();
    if keys.is_empty() {
        return lookups;
    }
    let Some(config) = config else {
        lookups.missing.push(
            "summaries are missing: there is no project file (.deploylink.yml) naming a Jira \
             tracker; `deploylink init --tracker NAME` writes one"
                .to_owned(),
        );
        return lookups;
    };
    let mut by_project: Vec<(&Project, Vec<String>)> = Vec::new();
    let mut unowned = Vec::new();
    for key in keys {
        let owner = config.projects().iter().find(|p| {
            p.key_rules()
                .extract(key.as_bytes())
                .iter()
                .any(|k| k.as_str() == key)
        });
        match owner {
            Some(project) => match by_project
                .iter_mut()
                .find(|(p, _)| p.name() == project.name())
            {
                Some((_, keys)) => keys.push(key.clone()),
                None => by_project.push((project, vec![key.clone()])),
            },
            None => unowned.push(key.clone()),
        }
    }
    if !unowned.is_empty() {
        lookups.missing.push(format!(
            "summaries are missing for {}: no project's keys accept them",
            unowned.join(", ")
        ));
    }
    for (project, keys) in by_project {
        ask_tracker(project, &keys, &mut lookups);
    }
    lookups
}

fn ask_tracker(project: &Project, keys: &[String], lookups: &mut Lookups) {
    let which = |reason: String| {
        format!(
            "summaries are missing for {} (project '{}'): {reason}",
            keys.join(", "),
            project.name()
        )
    };
    let tracker = match project.tracker() {
        Ok(tracker) => tracker,
        Err(e) => return lookups.missing.push(which(e.to_string())),
    };
    let session = match Session::open(tracker, false) {
        Ok(session) => session,
        Err(e) => return lookups.missing.push(which(e.to_string())),
    };
    match details::fetch(&session.http, tracker, &session.auth, keys) {
        Ok(found) => {
            lookups.found.extend(found);
            lookups.asked.extend(keys.iter().cloned());
        }
        Err(reason) => lookups.missing.push(which(reason)),
    }
}

/// The issues grouped by type (groups in the order the range first names a type, issues
/// without a known type last), and the commits that name no issue.
pub fn assemble(
    commits: &[CommitSummary],
    issues: &[IssueCommits],
    lookups: &Lookups,
) -> (Vec<TypeGroup>, Vec<CommitSummary>) {
    let by_id: BTreeMap<&str, &CommitSummary> =
        commits.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut groups: Vec<TypeGroup> = Vec::new();
    let mut untyped = Vec::new();
    for issue in issues {
        let key = issue.key.as_str().to_owned();
        let lookup = lookups.lookup(&key);
        let note = NoteIssue {
            commits: issue
                .commits
                .iter()
                .filter_map(|id| by_id.get(id.as_str()).map(|c| (*c).clone()))
                .collect(),
            key,
            lookup,
        };
        let issue_type = match &note.lookup {
            Lookup::Found(d) if !d.issue_type.is_empty() => d.issue_type.clone(),
            _ => {
                untyped.push(note);
                continue;
            }
        };
        match groups
            .iter_mut()
            .find(|g| g.issue_type.as_deref() == Some(issue_type.as_str()))
        {
            Some(group) => group.issues.push(note),
            None => groups.push(TypeGroup {
                issue_type: Some(issue_type),
                issues: vec![note],
            }),
        }
    }
    if !untyped.is_empty() {
        groups.push(TypeGroup {
            issue_type: None,
            issues: untyped,
        });
    }
    let named: std::collections::HashSet<&str> = issues
        .iter()
        .flat_map(|i| i.commits.iter().map(String::as_str))
        .collect();
    let other = commits
        .iter()
        .filter(|c| !named.contains(c.id.as_str()))
        .cloned()
        .collect();
    (groups, other)
}

/// `Story` -> `Stories`, `Bug` -> `Bugs`, `Sub-task` -> `Sub-tasks`: English plurals of
/// Jira's type names, which are nouns.
pub fn plural(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let consonant_y = lower.ends_with('y')
        && !matches!(
            lower.chars().rev().nth(1),
            Some('a' | 'e' | 'i' | 'o' | 'u')
        );
    if consonant_y {
        format!("{}ies", &name[..name.len() - 1])
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyRules;

    fn commit(id: &str, subject: &str) -> CommitSummary {
        CommitSummary {
            id: id.to_owned(),
            subject: subject.to_owned(),
        }
    }

    fn issue(key: &str, commits: &[&str]) -> IssueCommits {
        IssueCommits {
            key: KeyRules::default_rules().extract(key.as_bytes()).remove(0),
            commits: commits.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    fn details(issue_type: &str) -> IssueDetails {
        IssueDetails {
            summary: "s".into(),
            issue_type: issue_type.into(),
            status: "Done".into(),
        }
    }

    #[test]
    fn plurals_of_type_names() {
        assert_eq!(plural("Story"), "Stories");
        assert_eq!(plural("Bug"), "Bugs");
        assert_eq!(plural("Sub-task"), "Sub-tasks");
        assert_eq!(plural("Fix"), "Fixes");
        assert_eq!(plural("Key"), "Keys");
    }

    #[test]
    fn groups_by_type_and_keeps_commits_without_keys() {
        let commits = [
            commit("a", "WEB-1 one"),
            commit("b", "WEB-2 two"),
            commit("c", "tidy"),
            commit("d", "WEB-3"),
        ];
        let issues = [
            issue("WEB-1", &["a"]),
            issue("WEB-2", &["b"]),
            issue("WEB-3", &["d"]),
            issue("OPS-9", &[]),
        ];
        let mut lookups = Lookups::default();
        lookups.found.insert("WEB-1".into(), details("Story"));
        lookups.found.insert("WEB-2".into(), details("Bug"));
        lookups.found.insert("WEB-3".into(), details("Story"));
        lookups.asked = ["WEB-1", "WEB-2", "WEB-3", "OPS-9"]
            .map(String::from)
            .into();
        let (groups, other) = assemble(&commits, &issues, &lookups);
        let shape: Vec<(String, Vec<&str>)> = groups
            .iter()
            .map(|g| {
                (
                    g.heading(),
                    g.issues.iter().map(|i| i.key.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                ("Stories".to_owned(), vec!["WEB-1", "WEB-3"]),
                ("Bugs".to_owned(), vec!["WEB-2"]),
                ("Issues".to_owned(), vec!["OPS-9"]),
            ]
        );
        assert_eq!(groups[2].issues[0].lookup, Lookup::NotInJira);
        assert_eq!(
            other.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
    }
}
