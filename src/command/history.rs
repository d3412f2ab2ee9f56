//! `deploylink history` and `deploylink metrics`: the recorded deploys of the repository
//! (`refs/deploylink-history/<project>/<environment>`), listed or measured.

use std::io::Write;

use crate::command::cli::{GlobalArgs, HistoryArgs};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::history::{self, metrics, History, HistoryError, Problem};
use crate::report::{HistoryDeploy, HistoryList, MetricsReport};
use crate::time;

/// One history ref, read.
struct Read {
    project: String,
    environment: String,
    history: History,
}

/// `--since`: seconds since the epoch.
fn since(args: &HistoryArgs) -> Result<Option<i64>> {
    args.since
        .as_deref()
        .map(|text| {
            time::parse_since(text, time::now()).ok_or_else(|| {
                Error::usage(format!(
                    "--since {text:?} is neither a duration nor a date\n  hint: give a duration back from now (90d, 12w, 36h) or a date (2026-01-01)"
                ))
            })
        })
        .transpose()
}

/// Every history the flags select, read; each unreadable entry logged as a warning.
fn read_all(repo: &Repo, args: &HistoryArgs) -> Result<(Vec<Read>, Vec<Problem>)> {
    let mut read = Vec::new();
    let mut problems = Vec::new();
    for refname in history::history_refs(repo.git()).map_err(history_error)? {
        let rest = &refname[crate::range::HISTORY_REFS.len()..];
        let Some((project, environment)) = rest.rsplit_once('/') else {
            continue;
        };
        if args
            .environment
            .as_deref()
            .is_some_and(|e| e != environment)
            || (!args.projects.is_empty() && !args.projects.iter().any(|p| p == project))
        {
            continue;
        }
        let history = match history::read(repo.git(), &refname) {
            Ok(history) => history,
            Err(error) => {
                // One broken ref (pointing at a tree or a missing object) leaves the others.
                problems.push(Problem {
                    refname: refname.clone(),
                    entry: String::new(),
                    message: error.to_string(),
                });
                continue;
            }
        };
        problems.extend(history.problems.iter().cloned());
        read.push(Read {
            project: project.to_owned(),
            environment: environment.to_owned(),
            history,
        });
    }
    for problem in &problems {
        log::warn!("{}: {}", problem.refname, problem.message);
    }
    Ok((read, problems))
}

fn history_error(error: HistoryError) -> Error {
    Error::usage(error.to_string())
}

pub fn history(global: &GlobalArgs, args: &HistoryArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let since = since(args)?;
    let (read, warnings) = read_all(&repo, args)?;
    let mut entries: Vec<&history::Entry> = read
        .iter()
        .flat_map(|r| r.history.entries.iter())
        .filter(|e| since.is_none_or(|s| e.deployed_at >= s))
        .collect();
    entries.sort_by(|a, b| {
        (a.deployed_at, &a.record.project, &a.record.environment).cmp(&(
            b.deployed_at,
            &b.record.project,
            &b.record.environment,
        ))
    });
    let deploys = entries
        .into_iter()
        .map(|e| HistoryDeploy {
            project: e.record.project.clone(),
            environment: e.record.environment.clone(),
            state: e.record.state,
            deployed_at: e.record.deployed_at.clone(),
            refname: e.record.refname.clone(),
            from: e.record.from.clone(),
            to: e.record.to.clone(),
            commits: e.record.commits.clone(),
            keys: e.record.keys.clone(),
            run_url: e.record.run_url.clone(),
            entry: e.id.to_string(),
        })
        .collect();
    super::write_report(out, global.format, &HistoryList { deploys, warnings })
}

pub fn metrics(global: &GlobalArgs, args: &HistoryArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let since = since(args)?;
    let (read, warnings) = read_all(&repo, args)?;
    let metrics = read
        .iter()
        .map(|r| metrics::compute(&r.project, &r.environment, &r.history.entries, since))
        .collect();
    super::write_report(out, global.format, &MetricsReport { metrics, warnings })
}
