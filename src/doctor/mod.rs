//! `deploylink doctor`: a pre-flight check, per project, that Jira will accept what deploylink
//! is configured to write: the credentials work, each Jira project of `keys.projects` exists,
//! the account has the permissions the actions need there, `fixVersions` is on the edit screen,
//! and the statuses transitions move to exist. Nothing is written to Jira.
//!
//! Each check is a pure function of what Jira answered (`checks.rs`); what a project needs is
//! read from its configuration in one place (`needs.rs`).

pub mod checks;
pub mod needs;

use git2::Oid;

use self::checks::{Check, Status, Subject};
use self::needs::{Needs, Planned};
use crate::config::Project;
use crate::deliver::Session;
use crate::git::repo::Repo;
use crate::jira::meta::{Problem, Site};
use crate::keys::KeyRules;

/// Commits read, newest first, to find a recent issue of a project whose edit screen to read.
const RECENT_COMMITS: usize = 200;

/// What to check.
pub struct Request<'a> {
    /// The projects to check (every project of the file when the command line names none).
    pub projects: Vec<&'a Project>,
    /// Actions to check for although they are not configured yet (`--also`).
    pub also: Vec<Planned>,
    /// The repository and commit whose recent commits name a recent issue.
    pub repo: &'a Repo,
    pub at: Oid,
}

/// A tracker as the checks use it: its session, or why it has none.
struct Opened {
    name: String,
    session: Option<Session>,
}

/// Every check, in the order they ran: per tracker its credentials, then per project its
/// Jira projects.
pub fn run(request: &Request<'_>) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut opened: Vec<Opened> = Vec::new();
    for project in &request.projects {
        let tracker = match project.tracker() {
            Ok(tracker) => tracker,
            Err(e) => {
                let subject = Subject {
                    tracker: project.tracker_name().unwrap_or("-").to_owned(),
                    project: Some(project.name().to_owned()),
                    jira_project: None,
                };
                checks.push(subject.check(
                    "tracker",
                    Status::Fail,
                    e.to_string(),
                    Some("connect it with `deploylink tracker connect`, or name another tracker in the project file".to_owned()),
                ));
                continue;
            }
        };
        if !opened.iter().any(|o| o.name == tracker.name) {
            let subject = Subject {
                tracker: tracker.name.clone(),
                ..Subject::default()
            };
            let session = match Session::open(tracker, false) {
                Ok(session) => {
                    let site = Site {
                        http: &session.http,
                        tracker,
                        auth: &session.auth,
                    };
                    let check = checks::credentials_check(
                        &subject,
                        site.myself().map_err(|p| (p.message, p.unreachable)),
                    );
                    let works = check.status == Status::Ok;
                    checks.push(check);
                    works.then_some(session)
                }
                Err(e) => {
                    checks.push(checks::credentials_check(
                        &subject,
                        Err((e.to_string(), false)),
                    ));
                    None
                }
            };
            opened.push(Opened {
                name: tracker.name.clone(),
                session,
            });
        }
        let Some(session) = opened
            .iter()
            .find(|o| o.name == tracker.name)
            .and_then(|o| o.session.as_ref())
        else {
            continue;
        };
        let site = Site {
            http: &session.http,
            tracker,
            auth: &session.auth,
        };
        let needs = needs::needs_of(project, &request.also);
        checks.extend(project_checks(request, project, &site, &needs));
    }
    checks
}

/// The checks of one project's Jira projects.
fn project_checks(
    request: &Request<'_>,
    project: &Project,
    site: &Site<'_>,
    needs: &Needs,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let keys = project.key_rules_spec().projects;
    if keys.is_empty() {
        let subject = Subject {
            tracker: site.tracker.name.clone(),
            project: Some(project.name().to_owned()),
            jira_project: None,
        };
        checks.push(subject.check(
            "project",
            Status::Warn,
            "keys.projects is empty, so no Jira project can be checked (and any key-shaped word is read as a key)".to_owned(),
            Some(format!("list the project's Jira keys in projects.{}.keys.projects of .deploylink.yml", project.name())),
        ));
        return checks;
    }
    for key in keys {
        let subject = Subject {
            tracker: site.tracker.name.clone(),
            project: Some(project.name().to_owned()),
            jira_project: Some(key.clone()),
        };
        match site.project_exists(&key) {
            Ok(exists) => {
                checks.push(checks::project_key_check(&subject, &key, exists));
                if !exists {
                    continue;
                }
            }
            Err(problem) => {
                checks.push(unanswered(&subject, "project", problem));
                continue;
            }
        }
        checks.extend(jira_project_checks(request, site, needs, &subject, &key));
    }
    checks
}

/// Permissions, edit screen and statuses of one existing Jira project.
fn jira_project_checks(
    request: &Request<'_>,
    site: &Site<'_>,
    needs: &Needs,
    subject: &Subject,
    key: &str,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let needed = needs::permissions(needs);
    let keys: Vec<&str> = needed.iter().map(|p| p.key).collect();
    match site.my_permissions(key, &keys) {
        Ok(have) => checks.extend(checks::permission_checks(subject, key, &needed, &have)),
        Err(problem) => checks.push(unanswered(subject, "permission", problem)),
    }
    if needs.fix_version {
        let issue = recent_issue(request, site, key);
        let check = match issue {
            Ok(Some(issue)) => match site.edit_fields(&issue) {
                Ok(fields) => {
                    checks::fix_versions_check(subject, key, Some(&issue), fields.as_deref())
                }
                Err(problem) => unanswered(subject, "edit screen", problem),
            },
            Ok(None) => checks::fix_versions_check(subject, key, None, None),
            Err(problem) => unanswered(subject, "edit screen", problem),
        };
        checks.push(check);
    }
    if needs.transition && !needs.transition_targets.is_empty() {
        let check = match site.project_statuses(key) {
            Ok(statuses) => checks::transition_targets_check(
                subject,
                key,
                &needs.transition_targets,
                &statuses.unwrap_or_default(),
            ),
            Err(problem) => unanswered(subject, "statuses", problem),
        };
        checks.push(check);
    }
    checks
}

fn unanswered(subject: &Subject, check: &'static str, problem: Problem) -> Check {
    if problem.unreachable {
        subject.unanswered(check, problem.message)
    } else {
        subject.check(check, Status::Fail, problem.message, None)
    }
}

/// A recent issue of Jira project `key`: the newest named by the last commits, else the most
/// recently updated one Jira lists.
fn recent_issue(
    request: &Request<'_>,
    site: &Site<'_>,
    key: &str,
) -> Result<Option<String>, Problem> {
    if let Some(found) = recent_key_in_commits(request.repo, request.at, key) {
        return Ok(Some(found));
    }
    site.recent_issue(key)
}

/// The newest key of project `key` in the last [`RECENT_COMMITS`] commits before `at`. A
/// best-effort hint, not a range: a commit that cannot be read (a shallow clone) ends the
/// search.
fn recent_key_in_commits(repo: &Repo, at: Oid, key: &str) -> Option<String> {
    let git = repo.git();
    let mut walk = git.revwalk().ok()?;
    walk.push(at).ok()?;
    let rules = KeyRules::default_rules();
    for id in walk.take(RECENT_COMMITS) {
        let commit = git.find_commit(id.ok()?).ok()?;
        if let Some(found) = rules
            .extract(commit.message_bytes())
            .into_iter()
            .find(|k| k.project() == key)
        {
            return Some(found.as_str().to_owned());
        }
    }
    None
}
