//! `deploylink link`: plan the deploys, deliver them, record them, report.

use std::io::Write;

use crate::cli::{GlobalArgs, LinkArgs, OnError};
use crate::config::{Action, Tracker};
use crate::deliver::{self, Delivery, DeliveryOutcome, Jira, Recorder, Session, Sink};
use crate::error::{Error, Result};
use crate::plan::{Deploy, DeployState, RangeStatus, RunInfo};
use crate::repo::Repo;
use crate::report::Run;

pub fn link(global: &GlobalArgs, args: &LinkArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let run = RunInfo {
        url: args.run_url.clone(),
        id: args.run_id.clone(),
        number: args.run_number,
    };
    let (config, deploys) = super::prepare(global, &repo, &args.plan, run)?;
    let how = Delivering {
        dry_run: args.dry_run,
        budget: args.budget,
        on_error: args.on_error,
        record: args.record,
    };
    let trackers: Vec<&Tracker> = config.trackers().map(|(t, _)| t).collect();
    deliver_deploys(global, &repo, &trackers, &deploys, &how, out)
}

/// How planned deploys are delivered (`link`, `ci` and the hooks differ only here).
#[derive(Clone, Debug)]
pub struct Delivering {
    pub dry_run: bool,
    pub budget: std::time::Duration,
    pub on_error: OnError,
    pub record: bool,
}

/// Delivers every delivery of `deploys`, records them if asked, writes the report, and
/// turns failures into the exit code `--on-error` asks for.
pub fn deliver_deploys(
    global: &GlobalArgs,
    repo: &Repo,
    trackers: &[&Tracker],
    deploys: &[Deploy],
    how: &Delivering,
    out: &mut dyn Write,
) -> Result<()> {
    let deliveries = all_deliveries(deploys);
    let outcomes = if how.dry_run {
        Recorder.deliver(deliveries)
    } else {
        let sessions = open_sessions(trackers, &deliveries)?;
        let options = deliver::Options {
            budget: how.budget,
            ..deliver::Options::default()
        };
        let count = deliveries.len();
        let mut jira = Jira::new(sessions, options);
        if let Some(bar) = progress_bar(count) {
            jira = jira.with_progress(bar);
        }
        jira.deliver(deliveries)
    };
    if how.record && !how.dry_run {
        record(repo, deploys, &outcomes)?;
    }
    let report = Run {
        deploys,
        outcomes: &outcomes,
        sent: !how.dry_run,
    };
    super::write_run(out, global.format, &report)?;
    let failed = outcomes.iter().filter(|o| o.undelivered()).count();
    if failed == 0 {
        return Ok(());
    }
    match how.on_error {
        OnError::Fail => Err(Error::DeliveryFailed { failed }),
        OnError::Warn => {
            log::warn!("{failed} {} failed; see above", deliveries_word(failed));
            Ok(())
        }
    }
}

/// A progress bar on stderr for runs long enough to wonder about (SPEC 8): on a terminal
/// only, and only for more deliveries than one wave of requests takes.
fn progress_bar(deliveries: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if deliveries < 20 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(deliveries as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} delivered, {elapsed}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn deliveries_word(n: usize) -> &'static str {
    if n == 1 {
        "delivery"
    } else {
        "deliveries"
    }
}

/// Every delivery of every deploy, in plan order.
pub fn all_deliveries(deploys: &[Deploy]) -> Vec<Delivery> {
    deploys
        .iter()
        .flat_map(|d| d.deliveries.iter().cloned())
        .collect()
}

/// A session for each tracker the deliveries use: credentials are read here, before anything
/// is sent, so a missing variable stops the run with its name instead of half a delivery.
fn open_sessions(trackers: &[&Tracker], deliveries: &[Delivery]) -> Result<Vec<Session>> {
    let mut sessions = Vec::new();
    for tracker in trackers {
        let used: Vec<&Delivery> = deliveries
            .iter()
            .filter(|d| d.tracker == tracker.name)
            .collect();
        if used.is_empty()
            || sessions
                .iter()
                .any(|s: &Session| s.tracker.name == tracker.name)
        {
            continue;
        }
        let oauth = used.iter().any(|d| d.action == Action::Deployment);
        sessions.push(Session::open(tracker, oauth)?);
    }
    Ok(sessions)
}

/// `--record`: moves `refs/deploylink/<project>/<environment>` to what each environment now
/// runs, when its deploy succeeded (or was a rollback) and every delivery of it was made.
/// A deploy with a failed delivery is not recorded, so the next deploy's range still
/// contains its commits and their issues get linked then.
fn record(repo: &Repo, deploys: &[Deploy], outcomes: &[DeliveryOutcome]) -> Result<()> {
    for deploy in deploys {
        let changed_environment = matches!(
            deploy.status,
            RangeStatus::Deployed | RangeStatus::RolledBack
        ) && matches!(
            deploy.state,
            DeployState::Successful | DeployState::RolledBack
        );
        let failed = outcomes
            .iter()
            .any(|o| o.delivery.deploy == deploy.id && o.undelivered());
        if !changed_environment {
            continue;
        }
        let refname = format!("refs/deploylink/{}/{}", deploy.project, deploy.environment);
        if failed {
            log::warn!(
                "{} -> {}: not recorded in {refname}, because a delivery failed: the next deploy will include these commits again",
                deploy.project,
                deploy.environment
            );
            continue;
        }
        repo.record_deploy(&refname, deploy.to)?;
        log::info!("recorded {refname} = {}", deploy.to);
    }
    Ok(())
}
