//! One delivery run: the deliveries of planned deploys written ahead to the spool, sent,
//! settled, and the deploys recorded. Planned deploys in, outcomes out; nothing is printed
//! (the command renders the outcomes), only logged.
//!
//! With a spool, every delivery is written to it before anything is sent and removed once
//! made, so a failure, or a kill at any instant, leaves it there for `deploylink retry`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{Action, Tracker};
use crate::deliver::spool::Spool;
use crate::deliver::{
    self, Delivery, DeliveryOutcome, DryRun, IssueResult, Jira, Session, SessionError, Sink,
};
use crate::git::{GitError, Repo};
use crate::history::{self, DeployRecord};
use crate::plan::{Deploy, DeployState, RangeStatus, RunInfo};
use crate::range;

/// What a failed delivery does to the run's exit: `link` and `ci` fail by default, the
/// post-receive hook warns (the push has happened anyway).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    Warn,
    Fail,
}

/// How planned deploys are delivered (`link`, `ci` and the hook differ only here).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Send nothing: every delivery is reported as planned.
    pub dry_run: bool,
    pub budget: Duration,
    pub request_timeout: Duration,
    /// Move each deploy's record ref once every delivery of it is made.
    pub record: bool,
    /// Where deliveries wait until they are made (written ahead of sending).
    pub spool: Option<Spool>,
    /// Trackers whose deliveries the spool must not take, and why: `retry` could not send
    /// them (trackers from a repository's own file, which `retry` never reads).
    pub not_spooled: Vec<(String, String)>,
    /// A progress bar for long runs (the command decides whether there is a terminal).
    pub progress: Option<indicatif::ProgressBar>,
    /// What each deploy's history entry says besides the deploy (with `record`).
    pub history: HistoryFacts,
}

/// The run's facts for the deploy history (`refs/deploylink-history/...`).
#[derive(Clone, Debug, Default)]
pub struct HistoryFacts {
    pub run: RunInfo,
    /// When the deploy happened (`--deployed-at`, for back-filling); default: now.
    pub deployed_at: Option<i64>,
}

/// What a run did.
#[derive(Debug)]
pub struct Delivered {
    /// One per delivery, in plan order.
    pub outcomes: Vec<DeliveryOutcome>,
    /// Whether anything was sent (false for a dry run).
    pub sent: bool,
    /// The history refs a deploy of the run was appended to.
    pub histories: Vec<String>,
    /// Nothing could be sent (credentials missing, a bad CA file), so everything was spooled.
    setup_error: Option<SessionError>,
    spool_dir: Option<PathBuf>,
}

/// Why a run ends with an error under `--on-error fail`.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    #[error(
        "{failed} {} failed (see above)\n  hint: run the same command again once Jira answers: \
         every write is idempotent, so nothing is written twice",
        deliveries_word(*failed)
    )]
    Deliveries { failed: usize },
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Delivers every delivery of `deploys` through sessions for `trackers`, then records the
/// deploys if asked. Fails only when a record cannot be written (or, without a spool, when
/// a tracker cannot be opened).
///
/// With a spool, a deploy is recorded as soon as its deliveries are durably spooled (from
/// then on the spool owns them); when the spool cannot be written, it is recorded only once
/// every delivery of it is made. A first deploy of an environment first records its base,
/// so that a run killed before the record moves leaves its commits to the next deploy.
pub fn run(
    repo: &Repo,
    trackers: &[&Tracker],
    deploys: &[Deploy],
    options: RunOptions,
) -> Result<Delivered, RunError> {
    let deliveries = all_deliveries(deploys);
    if options.dry_run {
        return Ok(Delivered {
            outcomes: DryRun.deliver(deliveries),
            sent: false,
            histories: Vec::new(),
            setup_error: None,
            spool_dir: None,
        });
    }
    let mut histories = Vec::new();
    if options.record {
        record_bases(repo, deploys)?;
        // The history is about the deploy, not about Jira: it is appended before anything
        // is sent, whatever the deliveries do.
        histories = append_history(repo, deploys, &options.history);
    }
    // What the spool may hold: not what `retry` could never send.
    let spoolable: Vec<bool> = deliveries
        .iter()
        .map(|d| {
            !options
                .not_spooled
                .iter()
                .any(|(name, _)| *name == d.tracker)
        })
        .collect();
    let journal = options
        .spool
        .as_ref()
        .and_then(|spool| write_ahead(spool, &deliveries, &spoolable));
    let spool = options.spool.as_ref().filter(|_| journal.is_some());
    // Every delivery durably spooled: the spool owns them, the deploys are recorded now.
    let recorded_early = options.record
        && journal
            .as_ref()
            .is_some_and(|paths| paths.iter().all(Option::is_some));
    let record_error = if recorded_early {
        record(repo, deploys, &deliveries, |_| true).err()
    } else {
        None
    };
    let sessions: Result<Vec<Session>, SessionError> =
        open_sessions(trackers, &deliveries).into_iter().collect();
    let mut setup_error = None;
    let mut outcomes = match sessions {
        Ok(sessions) => send(sessions, deliveries, &options, spool.zip(journal.as_ref())),
        Err(error) if spool.is_some() => {
            // Nothing can be sent now: every delivery waits in the spool, and `retry` reads
            // the credentials again.
            let reason = error.to_string();
            setup_error = Some(error);
            deliveries
                .into_iter()
                .map(|d| DeliveryOutcome::not_made(d, &reason))
                .collect()
        }
        Err(error) => return Err(error.into()),
    };
    // What no worker settled (nothing could be sent, or its tracker had no session).
    if let (Some(spool), Some(paths)) = (spool, &journal) {
        for (outcome, path) in outcomes.iter_mut().zip(paths) {
            if let Some(path) = path {
                if outcome.keys.iter().any(|k| k.result == IssueResult::Failed) {
                    settle_one(spool, path, outcome);
                }
            }
        }
    }
    for outcome in &mut outcomes {
        if let Some((name, why)) = options
            .not_spooled
            .iter()
            .find(|(name, _)| *name == outcome.delivery.tracker)
        {
            if spool.is_some() && outcome.undelivered() {
                for key in outcome.keys.iter_mut() {
                    if key.result == IssueResult::Failed {
                        let reason = key.reason.take().unwrap_or_default();
                        key.reason = Some(format!(
                            "{reason}; not spooled: tracker '{name}' {why}, so `deploylink retry` could not send it"
                        ));
                    }
                }
            }
        }
    }
    if options.record && !recorded_early {
        // Made, or spooled: what is `failed` now was neither.
        let made: Vec<bool> = outcomes.iter().map(|o| !o.undelivered()).collect();
        let plain: Vec<Delivery> = outcomes.iter().map(|o| o.delivery.clone()).collect();
        record(repo, deploys, &plain, |i| made[i])?;
    }
    if let Some(error) = record_error {
        return Err(error.into());
    }
    Ok(Delivered {
        outcomes,
        sent: true,
        histories,
        setup_error,
        spool_dir: spool.map(|s| s.dir().to_path_buf()),
    })
}

/// Why a run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Record(#[from] GitError),
}

impl Delivered {
    /// Deliveries that were not made and did not go to the spool.
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.undelivered()).count()
    }

    /// Deliveries that wait in the spool.
    pub fn spooled(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.keys.iter().any(|k| k.result == IssueResult::Spooled))
            .count()
    }

    /// The run's end under `on_error`: what waits in the spool and what failed are logged,
    /// and under `Fail` a failure is returned.
    pub fn end(self, on_error: OnError) -> Result<(), RunFailure> {
        let spooled = self.spooled();
        if spooled > 0 {
            log::warn!(
                "{spooled} {} spooled in {}: `deploylink retry` sends {}",
                deliveries_word(spooled),
                self.spool_dir
                    .as_deref()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                if spooled == 1 { "it" } else { "them" }
            );
        }
        let failed = self.failed();
        match (on_error, self.setup_error, failed) {
            (OnError::Fail, Some(error), _) => Err(error.into()),
            (OnError::Warn, Some(error), _) => {
                log::error!("{error}");
                Ok(())
            }
            (_, None, 0) => Ok(()),
            (OnError::Fail, None, failed) => Err(RunFailure::Deliveries { failed }),
            (OnError::Warn, None, failed) => {
                log::warn!("{failed} {} failed; see above", deliveries_word(failed));
                Ok(())
            }
        }
    }
}

fn send(
    sessions: Vec<Session>,
    deliveries: Vec<Delivery>,
    options: &RunOptions,
    journal: Option<(&Spool, &Vec<Option<PathBuf>>)>,
) -> Vec<DeliveryOutcome> {
    let settings = deliver::Options {
        budget: options.budget,
        request_timeout: options.request_timeout,
        ..deliver::Options::default()
    };
    let mut jira = Jira::new(sessions, settings);
    if let Some(bar) = &options.progress {
        jira = jira.with_progress(bar.clone());
    }
    if let Some((spool, paths)) = journal {
        let (spool, held) = (spool.clone(), paths.clone());
        jira = jira.on_done(Box::new(move |i, outcome| {
            if let Some(Some(path)) = held.get(i) {
                settle_one(&spool, path, outcome);
            }
        }));
        jira = jira.claim(claim_entries(paths.clone()));
    }
    jira.deliver(deliveries)
}

/// Holds the spool's lock on each delivery's file while it is sent and settled, so that a
/// `retry` running meanwhile does not send it too; one another run holds is left to it.
pub fn claim_entries(paths: Vec<Option<PathBuf>>) -> crate::deliver::pool::ClaimFn {
    Box::new(move |i| match paths.get(i) {
        Some(Some(path)) => match crate::deliver::spool::claim(path) {
            Some(held) => Ok(Box::new(held) as Box<dyn Send>),
            None if path.exists() => {
                Err("waits in the spool: another run (`deploylink retry`) is sending it".into())
            }
            None => Err("made by another run (`deploylink retry`) meanwhile".into()),
        },
        _ => Ok(Box::new(()) as Box<dyn Send>),
    })
}

/// Writes every spoolable delivery to the spool before it is sent (one flush for all);
/// `None` (and an error) when the spool cannot be written: the deliveries are then sent
/// without it, and a deploy is recorded only if every delivery of it is made.
fn write_ahead(
    spool: &Spool,
    deliveries: &[Delivery],
    spoolable: &[bool],
) -> Option<Vec<Option<PathBuf>>> {
    let kept: Vec<Delivery> = deliveries
        .iter()
        .zip(spoolable)
        .filter(|(_, &ok)| ok)
        .map(|(d, _)| d.clone())
        .collect();
    match spool.put_all(&kept) {
        Ok(paths) => {
            let mut paths = paths.into_iter();
            Some(
                spoolable
                    .iter()
                    .map(|&ok| if ok { paths.next() } else { None })
                    .collect(),
            )
        }
        Err(error) => {
            log::error!(
                "{error}; delivering without the spool: a deploy with a failed delivery is not recorded"
            );
            None
        }
    }
}

/// Removes what was made from the spool; what failed stays there, with its error, and its
/// keys are reported as `spooled`.
pub fn settle(spool: &Spool, paths: &[PathBuf], outcomes: &mut [DeliveryOutcome]) {
    for (outcome, path) in outcomes.iter_mut().zip(paths) {
        settle_one(spool, path, outcome);
    }
}

/// [`settle`] for one delivery, as soon as it ends.
pub fn settle_one(spool: &Spool, path: &Path, outcome: &mut DeliveryOutcome) {
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
pub fn open_sessions(
    trackers: &[&Tracker],
    deliveries: &[Delivery],
) -> Vec<Result<Session, SessionError>> {
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
        let oauth = used
            .iter()
            .any(|d| matches!(d.action, Action::Deployment | Action::DevelopmentInfo));
        sessions.push(Session::open(tracker, oauth));
    }
    sessions
}

/// Whether `deploy` moves its environment's record, which names the commit the environment
/// runs: a successful deploy does, and so does a rollback found by the range (the environment
/// now runs the older commit; were the record left on the newer one, deploying the rolled-back
/// commits again would be an empty range and their issues would stay "rolled back" in Jira).
/// A failed, cancelled or unfinished deploy is kept in the history only.
fn changes_environment(deploy: &Deploy) -> bool {
    match deploy.status {
        RangeStatus::Deployed => deploy.state == DeployState::Successful,
        RangeStatus::RolledBack => matches!(
            deploy.state,
            DeployState::Successful | DeployState::RolledBack
        ),
        _ => false,
    }
}

/// Appends every deploy of the run, whatever its state, to its history ref; a range refused
/// for its size is no deploy. A history that cannot be written is logged, never a reason to
/// lose a delivery. Returns the refs appended to.
fn append_history(repo: &Repo, deploys: &[Deploy], facts: &HistoryFacts) -> Vec<String> {
    let deployed_at = facts.deployed_at.unwrap_or_else(crate::time::now);
    let mut appended = Vec::new();
    for deploy in deploys {
        if deploy.status == RangeStatus::TooLarge {
            continue;
        }
        let refname = range::history_ref(&deploy.project, &deploy.environment);
        let started = std::time::Instant::now();
        let written = DeployRecord::of(repo.git(), deploy, &facts.run, deployed_at)
            .map_err(|source| history::HistoryError::Append {
                refname: refname.clone(),
                source,
            })
            .and_then(|record| history::append(repo.git(), &refname, &record));
        match written {
            Ok(id) => {
                log::info!(
                    "{refname}: appended {id} ({}) in {} us",
                    deploy.state.as_str(),
                    started.elapsed().as_micros()
                );
                if !appended.contains(&refname) {
                    appended.push(refname);
                }
            }
            Err(error) => log::error!("{error}"),
        }
    }
    appended
}

/// A first deploy of an environment (no record yet) records its base before anything else,
/// so that a run killed, or a spool that cannot be written, leaves its commits to the next
/// deploy instead of to a fallback base (a push's previous tip) that would skip them. Only a
/// base of one commit can be recorded.
fn record_bases(repo: &Repo, deploys: &[Deploy]) -> Result<(), GitError> {
    for deploy in deploys {
        if deploy.status != RangeStatus::Deployed || !changes_environment(deploy) {
            continue;
        }
        let refname = range::deploy_ref(&deploy.project, &deploy.environment);
        if repo.git().find_reference(&refname).is_ok() {
            continue;
        }
        if let [base] = deploy.base.exclude.as_slice() {
            repo.record_deploy(&refname, *base)?;
            log::info!("first deploy: recorded its base {refname} = {base}");
        }
    }
    Ok(())
}

/// Moves `refs/deploylink/<project>/<environment>` to what each environment now runs, when
/// its deploy succeeded (or was a rollback) and `owned(i)` holds for each of its deliveries
/// (`deliveries[i]`): made, or durably spooled. A deploy with a delivery that is neither is
/// not recorded, so the next deploy's range still contains its commits and their issues get
/// linked then.
fn record(
    repo: &Repo,
    deploys: &[Deploy],
    deliveries: &[Delivery],
    owned: impl Fn(usize) -> bool,
) -> Result<(), GitError> {
    for deploy in deploys {
        if !changes_environment(deploy) {
            continue;
        }
        let failed = deliveries
            .iter()
            .enumerate()
            .any(|(i, d)| d.deploy == deploy.id && !owned(i));
        let refname = range::deploy_ref(&deploy.project, &deploy.environment);
        if failed {
            if repo.git().find_reference(&refname).is_ok() {
                log::warn!(
                    "{} -> {}: not recorded in {refname}, because a delivery failed: the next deploy will include these commits again",
                    deploy.project,
                    deploy.environment
                );
            } else {
                log::warn!(
                    "{} -> {}: not recorded, because a delivery failed, and this environment has no record to start the next deploy from: its commits will not be linked again on their own; link them with `deploylink link --project {} --environment {} --to {}` and --from the commit the environment ran before",
                    deploy.project,
                    deploy.environment,
                    deploy.project,
                    deploy.environment,
                    deploy.to
                );
            }
            continue;
        }
        repo.record_deploy(&refname, deploy.to)?;
        log::info!("recorded {refname} = {}", deploy.to);
    }
    Ok(())
}
