//! `deploylink link`: plan the deploys, deliver them, record them, report.

use std::io::Write;

use crate::command::cli::{DeliveryArgs, GlobalArgs, LinkArgs, OnError};
use crate::config::{Action, Tracker};
use crate::deliver::spool::{self, Spool};
use crate::deliver::{
    self, Delivery, DeliveryOutcome, IssueResult, Jira, Recorder, Session, SessionError, Sink,
};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::plan::{Deploy, DeployState, RangeStatus, RunInfo};
use crate::range;
use crate::report::Run;

pub fn link(global: &GlobalArgs, args: &LinkArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let run = RunInfo {
        url: args.run_url.clone(),
        id: args.run_id.clone(),
        number: args.run_number,
    };
    let (config, deploys) = super::prepare(global, &repo, &args.plan, run)?;
    let how = Delivering::from_args(&args.delivery)?;
    let trackers: Vec<&Tracker> = config.trackers().map(|(t, _)| t).collect();
    deliver_deploys(global, &repo, &trackers, &deploys, &how, out)
}

/// How planned deploys are delivered (`link`, `ci` and the hooks differ only here).
#[derive(Clone, Debug)]
pub struct Delivering {
    pub dry_run: bool,
    pub budget: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub on_error: OnError,
    pub record: bool,
    /// Where deliveries wait until they are made (written ahead of sending).
    pub spool: Option<Spool>,
}

impl Delivering {
    /// The delivery flags of `link` and `ci`; the spool is opened (and created) here.
    pub fn from_args(args: &DeliveryArgs) -> Result<Delivering> {
        Ok(Delivering {
            dry_run: args.dry_run,
            budget: args.budget,
            request_timeout: args.request_timeout.duration,
            on_error: args.on_error,
            record: args.record,
            spool: spool_from(args.spool.as_deref())?,
        })
    }
}

/// Delivers every delivery of `deploys`, records them if asked, writes the report, and
/// turns failures into the exit code `--on-error` asks for. With a spool, every delivery is
/// written to it before anything is sent and removed once made, so a failure, or a kill at
/// any instant, leaves it there for `deploylink retry`.
pub fn deliver_deploys(
    global: &GlobalArgs,
    repo: &Repo,
    trackers: &[&Tracker],
    deploys: &[Deploy],
    how: &Delivering,
    out: &mut dyn Write,
) -> Result<()> {
    let deliveries = all_deliveries(deploys);
    if how.dry_run {
        let outcomes = Recorder.deliver(deliveries);
        return report(global, deploys, &outcomes, false, out);
    }
    let journal = how
        .spool
        .as_ref()
        .and_then(|spool| write_ahead(spool, &deliveries));
    let mut setup_error = None;
    let settle_each: Option<deliver::OnDone> = match (&how.spool, &journal) {
        (Some(spool), Some(paths)) => {
            let (spool, paths) = (spool.clone(), paths.clone());
            Some(Box::new(move |i, outcome| {
                if let Some(path) = paths.get(i) {
                    settle_one(&spool, path, outcome);
                }
            }))
        }
        _ => None,
    };
    let sessions: std::result::Result<Vec<Session>, SessionError> =
        open_sessions(trackers, &deliveries).into_iter().collect();
    let mut outcomes = match sessions.map_err(Error::from) {
        Ok(sessions) => send(sessions, deliveries, how, settle_each),
        Err(error) if journal.is_some() => {
            // Nothing can be sent now (credentials missing, a bad CA file): every delivery
            // waits in the spool, and `retry` reads the credentials again. Under `--on-error
            // fail` the error is returned (and printed) below; under `warn` it is only logged.
            if how.on_error == OnError::Warn {
                log::error!("{error}");
            }
            let reason = error.to_string();
            setup_error = Some(error);
            deliveries
                .into_iter()
                .map(|d| DeliveryOutcome::not_made(d, &reason))
                .collect()
        }
        Err(error) => return Err(error),
    };
    // What no worker settled (nothing could be sent, or its tracker had no session).
    if let (Some(spool), Some(paths)) = (&how.spool, &journal) {
        for (outcome, path) in outcomes.iter_mut().zip(paths) {
            if outcome.keys.iter().any(|k| k.result == IssueResult::Failed) {
                settle_one(spool, path, outcome);
            }
        }
    }
    if how.record {
        record(repo, deploys, &outcomes)?;
    }
    report(global, deploys, &outcomes, true, out)?;
    let failed = outcomes.iter().filter(|o| o.undelivered()).count();
    let spooled = outcomes
        .iter()
        .filter(|o| o.keys.iter().any(|k| k.result == IssueResult::Spooled))
        .count();
    if spooled > 0 {
        log::warn!(
            "{spooled} {} spooled in {}: `deploylink retry` sends {}",
            deliveries_word(spooled),
            how.spool
                .as_ref()
                .map(|s| s.dir().display().to_string())
                .unwrap_or_default(),
            if spooled == 1 { "it" } else { "them" }
        );
    }
    match (how.on_error, setup_error, failed) {
        (OnError::Fail, Some(error), _) => Err(error),
        (_, _, 0) => Ok(()),
        (OnError::Fail, None, failed) => Err(Error::DeliveryFailed { failed }),
        (OnError::Warn, None, failed) => {
            log::warn!("{failed} {} failed; see above", deliveries_word(failed));
            Ok(())
        }
        (OnError::Warn, Some(_), _) => Ok(()),
    }
}

fn send(
    sessions: Vec<Session>,
    deliveries: Vec<Delivery>,
    how: &Delivering,
    on_done: Option<deliver::OnDone>,
) -> Vec<DeliveryOutcome> {
    let options = deliver::Options {
        budget: how.budget,
        request_timeout: how.request_timeout,
        ..deliver::Options::default()
    };
    let count = deliveries.len();
    let mut jira = Jira::new(sessions, options);
    if let Some(bar) = progress_bar(count) {
        jira = jira.with_progress(bar);
    }
    if let Some(done) = on_done {
        jira = jira.on_done(done);
    }
    jira.deliver(deliveries)
}

fn report(
    global: &GlobalArgs,
    deploys: &[Deploy],
    outcomes: &[DeliveryOutcome],
    sent: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let run = Run {
        deploys,
        outcomes,
        sent,
    };
    super::write_run(out, global.format, &run)
}

/// Writes every delivery to the spool before it is sent; `None` (and a warning) when the
/// spool cannot be written: delivering beats refusing to.
fn write_ahead(spool: &Spool, deliveries: &[Delivery]) -> Option<Vec<std::path::PathBuf>> {
    match deliveries.iter().map(|d| spool.put(d)).collect() {
        Ok(paths) => Some(paths),
        Err(error) => {
            log::warn!("{error}; delivering without a spool");
            None
        }
    }
}

/// Removes what was made from the spool; what failed stays there, with its error, and its
/// keys are reported as `spooled`.
pub fn settle(spool: &Spool, paths: &[std::path::PathBuf], outcomes: &mut [DeliveryOutcome]) {
    for (outcome, path) in outcomes.iter_mut().zip(paths) {
        settle_one(spool, path, outcome);
    }
}

/// [`settle`] for one delivery, as soon as it ends.
pub fn settle_one(spool: &Spool, path: &std::path::Path, outcome: &mut DeliveryOutcome) {
    {
        let result = if outcome.undelivered() {
            let reason = outcome
                .keys
                .iter()
                .find_map(|k| k.reason.clone())
                .unwrap_or_else(|| "not delivered".into());
            spool.failed(path, &reason).map(|()| {
                for key in outcome
                    .keys
                    .iter_mut()
                    .filter(|k| k.result == IssueResult::Failed)
                {
                    key.result = IssueResult::Spooled;
                }
            })
        } else {
            spool.done(path)
        };
        if let Err(error) = result {
            log::error!("{error}");
        }
    }
}

/// `link` and `ci` spool only when asked to: `--spool DIR` or `$DEPLOYLINK_SPOOL`.
fn spool_from(flag: Option<&std::path::Path>) -> Result<Option<Spool>> {
    match spool::location(flag, None) {
        Some(dir) => Ok(Some(Spool::open(&dir)?)),
        None => Ok(None),
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

/// A session for each tracker the deliveries use (with the OAuth credentials when one of its
/// deliveries is a deployment record), or why it could not be opened. Credentials are read
/// here, before anything is sent: `link` stops at the first error, naming the variable,
/// instead of sending half a delivery; `retry` reports it and sends what it can.
pub(super) fn open_sessions(
    trackers: &[&Tracker],
    deliveries: &[Delivery],
) -> Vec<std::result::Result<Session, SessionError>> {
    let mut opened: Vec<&str> = Vec::new();
    let mut sessions = Vec::new();
    for tracker in trackers {
        let used: Vec<&Delivery> = deliveries
            .iter()
            .filter(|d| d.tracker == tracker.name)
            .collect();
        if used.is_empty() || opened.contains(&tracker.name.as_str()) {
            continue;
        }
        opened.push(&tracker.name);
        let oauth = used.iter().any(|d| d.action == Action::Deployment);
        sessions.push(Session::open(tracker, oauth));
    }
    sessions
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
        let refname = range::deploy_ref(&deploy.project, &deploy.environment);
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
