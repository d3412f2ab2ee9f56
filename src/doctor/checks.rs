//! Each pre-flight check as a pure function of what Jira answered: the verdict, what it means
//! and the fix, named after the project so a line reads on its own.

use serde::Serialize;

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

/// One line of the doctor's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub status: Status,
    /// The tracker the check talked to.
    pub tracker: String,
    /// The deploylink project, `None` for a check of the tracker itself.
    pub project: Option<String>,
    /// The Jira project key, when the check is about one.
    pub jira_project: Option<String>,
    /// What was checked: `credentials`, `project`, `permission`, `edit screen`, `statuses`.
    pub check: &'static str,
    pub message: String,
    /// What to do, for `warn` and `fail`.
    pub fix: Option<String>,
    /// The check failed because Jira could not be reached, not because of what it answered.
    #[serde(skip)]
    pub unreachable: bool,
}

/// Where a check belongs: the tracker, the deploylink project and the Jira project key.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    pub tracker: String,
    pub project: Option<String>,
    pub jira_project: Option<String>,
}

impl Subject {
    pub fn check(
        &self,
        check: &'static str,
        status: Status,
        message: String,
        fix: Option<String>,
    ) -> Check {
        Check {
            status,
            tracker: self.tracker.clone(),
            project: self.project.clone(),
            jira_project: self.jira_project.clone(),
            check,
            message,
            fix,
            unreachable: false,
        }
    }

    /// A check Jira could not answer.
    pub fn unanswered(&self, check: &'static str, message: String) -> Check {
        Check {
            unreachable: true,
            ..self.check(
                check,
                Status::Fail,
                message,
                Some(
                    "check the tracker's URL and the network, then run `deploylink doctor` again"
                        .to_owned(),
                ),
            )
        }
    }
}

/// A Jira permission deploylink may need, with the reason it is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    /// Jira's key: `EDIT_ISSUES`.
    pub key: &'static str,
    /// As Jira's permission scheme page names it.
    pub name: &'static str,
    /// What needs it.
    pub needed_by: &'static str,
}

/// `GET myself`: the credentials work, or why not (the answer's sentence names the fix).
pub fn credentials_check(subject: &Subject, answer: Result<String, (String, bool)>) -> Check {
    match answer {
        Ok(who) => subject.check("credentials", Status::Ok, format!("connected as {who}"), None),
        Err((message, true)) => subject.unanswered("credentials", message),
        Err((message, false)) => subject.check(
            "credentials",
            Status::Fail,
            message,
            Some(format!(
                "fix the credentials of tracker '{}' (`deploylink tracker list --check` shows which it reads)",
                subject.tracker
            )),
        ),
    }
}

/// `GET project/{key}`: the key of `keys.projects` exists.
pub fn project_key_check(subject: &Subject, key: &str, exists: bool) -> Check {
    let field = subject.project.as_deref().map_or_else(
        || "keys.projects".to_owned(),
        |p| format!("projects.{p}.keys.projects"),
    );
    if exists {
        subject.check(
            "project",
            Status::Ok,
            format!("Jira project {key} exists"),
            None,
        )
    } else {
        subject.check(
            "project",
            Status::Fail,
            format!("no Jira project {key}, or the account cannot see it"),
            Some(format!(
                "correct {key} in {field} of .deploylink.yml, or grant the account Browse Projects in {key}"
            )),
        )
    }
}

/// `GET mypermissions`: one check per permission needed.
pub fn permission_checks(
    subject: &Subject,
    key: &str,
    needed: &[Permission],
    have: &std::collections::BTreeMap<String, bool>,
) -> Vec<Check> {
    needed
        .iter()
        .map(|p| {
            if have.get(p.key).copied().unwrap_or(false) {
                subject.check(
                    "permission",
                    Status::Ok,
                    format!("{} in {key} ({})", p.name, p.needed_by),
                    None,
                )
            } else {
                subject.check(
                    "permission",
                    Status::Fail,
                    format!("the account lacks {} in {key}, needed by {}", p.name, p.needed_by),
                    Some(format!(
                        "ask a Jira administrator to grant the account {} ({}) in project {key}'s permission scheme (Project settings > Permissions)",
                        p.name, p.key
                    )),
                )
            }
        })
        .collect()
}

/// `GET issue/{key}/editmeta`: `fixVersions` is on the edit screen of `issue`, a recent
/// issue of the project; `None` when no issue was found to ask about.
pub fn fix_versions_check(
    subject: &Subject,
    key: &str,
    issue: Option<&str>,
    fields: Option<&[String]>,
) -> Check {
    match (issue, fields) {
        (Some(issue), Some(fields)) if fields.iter().any(|f| f == "fixVersions") => subject.check(
            "edit screen",
            Status::Ok,
            format!("Fix versions is on the edit screen of {key} (seen on {issue})"),
            None,
        ),
        (Some(issue), Some(_)) => subject.check(
            "edit screen",
            Status::Fail,
            format!("Fix versions is not on the edit screen of {key} (seen on {issue}), so fix-version cannot set it"),
            Some(format!(
                "add the Fix versions field to the edit screen of project {key} (Project settings > Screens)"
            )),
        ),
        _ => subject.check(
            "edit screen",
            Status::Warn,
            format!("no issue of {key} found to read its edit screen"),
            Some(format!(
                "create an issue in {key} (or name one in a commit), then run `deploylink doctor` again"
            )),
        ),
    }
}

/// `GET project/{key}/statuses`: every status a `transition:` path names is one of the
/// project's, matched as transitions are, by name and case-insensitively.
pub fn transition_targets_check(
    subject: &Subject,
    key: &str,
    wanted: &[String],
    statuses: &[String],
) -> Check {
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !statuses.iter().any(|s| s.eq_ignore_ascii_case(w)))
        .collect();
    if missing.is_empty() {
        return subject.check(
            "statuses",
            Status::Ok,
            format!(
                "{key} has the statuses transition moves to ({})",
                wanted.join(", ")
            ),
            None,
        );
    }
    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    subject.check(
        "statuses",
        Status::Fail,
        format!(
            "{key}'s workflows have no status {}; they have: {}",
            names.join(", "),
            statuses.join(", ")
        ),
        Some(format!(
            "correct the status names under transition: in .deploylink.yml, or add the statuses to {key}'s workflow"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn web() -> Subject {
        Subject {
            tracker: "acme".into(),
            project: Some("web".into()),
            jira_project: Some("WEB".into()),
        }
    }

    #[test]
    fn a_missing_permission_names_the_project_and_the_fix() {
        let needed = [
            Permission {
                key: "BROWSE_PROJECTS",
                name: "Browse Projects",
                needed_by: "every action",
            },
            Permission {
                key: "ADMINISTER_PROJECTS",
                name: "Administer Projects",
                needed_by: "fix-version, to create versions",
            },
        ];
        let have = BTreeMap::from([
            ("BROWSE_PROJECTS".to_owned(), true),
            ("ADMINISTER_PROJECTS".to_owned(), false),
        ]);
        let checks = permission_checks(&web(), "WEB", &needed, &have);
        assert_eq!(checks[0].status, Status::Ok);
        assert_eq!(checks[1].status, Status::Fail);
        assert_eq!(checks[1].message, "the account lacks Administer Projects in WEB, needed by fix-version, to create versions");
        assert!(checks[1].fix.as_deref().unwrap().contains("project WEB"));
    }

    #[test]
    fn transition_targets_are_matched_by_name_in_any_case() {
        let statuses: Vec<String> = ["To Do", "In Progress", "In Review", "In QA", "Done"]
            .map(String::from)
            .to_vec();
        let ok = transition_targets_check(
            &web(),
            "WEB",
            &["in review".into(), "Done".into()],
            &statuses,
        );
        assert_eq!(ok.status, Status::Ok);
        let bad = transition_targets_check(
            &web(),
            "WEB",
            &["Released".into(), "Done".into()],
            &statuses,
        );
        assert_eq!(bad.status, Status::Fail);
        assert_eq!(bad.message, "WEB's workflows have no status Released; they have: To Do, In Progress, In Review, In QA, Done");
    }

    #[test]
    fn fix_versions_on_or_off_the_screen() {
        let on = vec!["summary".to_owned(), "fixVersions".to_owned()];
        let off = vec!["summary".to_owned()];
        assert_eq!(
            fix_versions_check(&web(), "WEB", Some("WEB-1"), Some(&on)).status,
            Status::Ok
        );
        let failed = fix_versions_check(&web(), "WEB", Some("WEB-1"), Some(&off));
        assert_eq!(failed.status, Status::Fail);
        assert!(failed.fix.unwrap().contains("edit screen of project WEB"));
        assert_eq!(
            fix_versions_check(&web(), "WEB", None, None).status,
            Status::Warn
        );
    }

    #[test]
    fn an_unknown_project_key_names_the_field() {
        let check = project_key_check(&web(), "NOPE", false);
        assert_eq!(check.status, Status::Fail);
        assert!(check.fix.unwrap().contains("projects.web.keys.projects"));
    }
}
