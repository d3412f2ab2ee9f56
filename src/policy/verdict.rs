//! The verdicts of the client hooks: a pushed range judged against the `validate:` rules,
//! and `check_exists`, which asks Jira whether the keys exist.

use std::path::Path;

use git2::Oid;

use super::{example_keys, is_exempt, keys_in};
use crate::config::{Project, Requirement, Tracker};
use crate::error::Result;
use crate::git::push::PushedRef;
use crate::git::Repo;
use crate::range::{self, Base, Resolved, WalkOptions};
use crate::report::{Offender, Violation};

/// One commit of a pushed range: what the policy needs.
struct Pushed {
    id: Oid,
    message: String,
}

/// The policy's verdict on one pushed ref: the commits it brings (from `base`), judged
/// against the `validate:` rules of the projects they belong to.
pub fn judge_push(
    repo: &Repo,
    pushed: &PushedRef,
    base: Base,
    projects: &[&Project],
) -> Result<Option<Violation>> {
    let digest = |id: Oid, message: &[u8]| Pushed {
        id,
        message: String::from_utf8_lossy(message).into_owned(),
    };
    let walk = WalkOptions::default();
    let Resolved::Range(range) =
        range::resolve(repo, pushed.local, base, walk, &mut |_| {}, &digest)?
    else {
        return Ok(None);
    };
    let commits: Vec<&Pushed> = range.commits.iter().map(|c| &c.digest).collect();
    let mut missing = Vec::new();
    let mut any_key = false;
    for commit in &commits {
        let applicable = applicable(repo, projects, commit.id)?;
        if applicable.is_empty() {
            continue;
        }
        let has_key = !keys_in(&applicable, commit.message.as_bytes()).is_empty();
        any_key |= has_key;
        let every = applicable
            .iter()
            .any(|p| p.validate().require() == Requirement::EveryCommit);
        if every && !has_key && !is_exempt(&applicable, &commit.message) {
            missing.push(*commit);
        }
    }
    let one_per_push = projects
        .iter()
        .any(|p| p.validate().require() == Requirement::OnePerPush);
    let examples = example_keys(projects);
    let target = pushed.remote_ref.clone();
    if !missing.is_empty() {
        let rebase_from = fix_base(&range.base, missing[missing.len() - 1].id);
        let commits = missing
            .iter()
            .map(|c| Offender {
                id: c.id.to_string(),
                subject: c.message.lines().next().unwrap_or("").to_owned(),
            })
            .collect();
        return Ok(Some(Violation::CommitsWithoutKey {
            target,
            commits,
            needs: examples,
            rebase_from,
        }));
    }
    let unknown = unknown_keys(projects, &commits, |c| c.message.as_bytes());
    if !unknown.is_empty() {
        return Ok(Some(Violation::UnknownKeys {
            target,
            keys: unknown,
            rebase_from: fix_base(&range.base, commits[0].id),
        }));
    }
    if one_per_push && !commits.is_empty() && !any_key {
        return Ok(Some(Violation::PushWithoutKey {
            target,
            commits: commits.len(),
            needs: examples,
        }));
    }
    Ok(None)
}

/// `validate.check_exists`: the keys of `items` that Jira does not know, asked of each
/// checking project's tracker. Jira being unreachable, or credentials missing, never blocks a
/// commit: a warning says the check was skipped.
pub fn unknown_keys<T>(
    projects: &[&Project],
    items: &[T],
    message: impl Fn(&T) -> &[u8],
) -> Vec<String> {
    let checking: Vec<&Project> = projects
        .iter()
        .copied()
        .filter(|p| p.validate().check_exists())
        .collect();
    let mut unknown: Vec<String> = Vec::new();
    let mut asked: Vec<&str> = Vec::new();
    for project in &checking {
        let keys: Vec<String> = items
            .iter()
            .flat_map(|item| project.key_rules().extract(message(item)))
            .map(|k| k.to_string())
            .fold(Vec::new(), |mut all, k| {
                if !all.contains(&k) {
                    all.push(k);
                }
                all
            });
        let tracker = match project.tracker() {
            Ok(tracker) => tracker,
            Err(e) => {
                log::warn!("check_exists skipped: {e}");
                continue;
            }
        };
        if keys.is_empty() || asked.contains(&tracker.name.as_str()) {
            continue;
        }
        asked.push(&tracker.name);
        match ask_jira(tracker, &keys) {
            Ok(missing) => {
                for key in missing {
                    if !unknown.contains(&key) {
                        unknown.push(key);
                    }
                }
            }
            Err(reason) => log::warn!(
                "check_exists skipped: cannot ask tracker '{}' whether the issues exist: {reason}",
                tracker.name
            ),
        }
    }
    unknown
}

fn ask_jira(tracker: &Tracker, keys: &[String]) -> std::result::Result<Vec<String>, String> {
    let session = crate::deliver::Session::open(tracker, false).map_err(|e| e.to_string())?;
    crate::jira::issue::missing(&session.http, tracker, &session.auth, keys)
}

/// Where `git rebase -i` should start: the range's single base, else the oldest offender's
/// parent (`<sha>~1`).
fn fix_base(base: &Base, oldest: Oid) -> String {
    match base.exclude.as_slice() {
        [one] => one.to_string()[..7].to_owned(),
        _ => format!("{}~1", &oldest.to_string()[..7]),
    }
}

/// The projects a commit belongs to: those whose `paths:` it touches, or all without paths.
fn applicable<'p>(repo: &Repo, projects: &[&'p Project], id: Oid) -> Result<Vec<&'p Project>> {
    if projects.iter().all(|p| !p.has_paths()) {
        return Ok(projects.to_vec());
    }
    let paths = repo.changed_paths(id)?;
    Ok(projects
        .iter()
        .copied()
        .filter(|p| !p.has_paths() || paths.iter().any(|path| p.owns_path(path)))
        .collect())
}

/// The verdict on one commit message, as `git commit` is about to record it (kept in `file`).
/// Only `every-commit` applies here: whether a push names an issue is for `pre-push` to judge.
pub fn judge_message(projects: &[Project], message: &str, file: &Path) -> Option<Violation> {
    let projects: Vec<&Project> = projects
        .iter()
        .filter(|p| p.validate().require() == Requirement::EveryCommit)
        .collect();
    if projects.is_empty() || is_exempt(&projects, message) {
        return None;
    }
    let subject = message.lines().next().unwrap_or("").to_owned();
    let file = file.to_path_buf();
    if keys_in(&projects, message.as_bytes()).is_empty() {
        return Some(Violation::MessageWithoutKey {
            subject,
            needs: example_keys(&projects),
            file,
        });
    }
    let unknown = unknown_keys(&projects, &[message], |m| m.as_bytes());
    (!unknown.is_empty()).then_some(Violation::MessageUnknownKeys {
        subject,
        keys: unknown,
        file,
    })
}
