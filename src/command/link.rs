//! `deploylink link`: plan the deploys, deliver them, record them, report. `ci` and the
//! post-receive hook end the same way, through [`deliver_deploys`].

use std::io::Write;

use crate::command::cli::{DeliveryArgs, GlobalArgs, LinkArgs, OnError};
use crate::config::{Config, Tracker, TrackersOrigin};
use crate::deliver::run::{self, HistoryFacts, RunOptions};
use crate::deliver::spool::{self, Spool};
use crate::error::Result;
use crate::git::repo::Repo;
use crate::plan::{Deploy, RunInfo};
use crate::report::Run;

pub fn link(global: &GlobalArgs, args: &LinkArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let (config, deploys) = super::prepare(global, &repo, &args.plan, run_info(args))?;
    let mut how = Delivering::from_args(&args.delivery)?;
    how.options.not_spooled = not_spooled(&config);
    how.options.history.run = run_info(args);
    let trackers: Vec<&Tracker> = config.trackers().map(|(t, _)| t).collect();
    deliver_deploys(global, &repo, &trackers, &deploys, how, out)
}

fn run_info(args: &LinkArgs) -> RunInfo {
    RunInfo {
        url: args.run_url.clone(),
        id: args.run_id.clone(),
        number: args.run_number,
    }
}

/// The delivery flags, as the delivery run takes them, and what a failure does to the exit.
#[derive(Clone, Debug)]
pub struct Delivering {
    pub options: RunOptions,
    pub on_error: OnError,
    /// `--push-history REMOTE`: push the history refs the run appended to.
    pub push_history: Option<String>,
}

impl Delivering {
    /// The delivery flags of `link` and `ci`; the spool is opened (and created) here.
    pub fn from_args(args: &DeliveryArgs) -> Result<Delivering> {
        Ok(Delivering {
            options: RunOptions {
                dry_run: args.dry_run,
                budget: args.budget,
                request_timeout: args.request_timeout.duration,
                record: args.record,
                spool: spool_from(args.spool.as_deref())?,
                not_spooled: Vec::new(),
                progress: None,
                history: HistoryFacts {
                    run: RunInfo::default(),
                    deployed_at: args.deployed_at,
                },
            },
            on_error: args.on_error,
            push_history: args.push_history.clone(),
        })
    }
}

/// The trackers whose deliveries must not be spooled, and why: those of the repository's
/// own file. `retry` reads trackers only from the organization file (on a server, the
/// server's), so a spooled delivery of theirs could never be sent: it is sent now or fails
/// the run instead.
pub fn not_spooled(config: &Config) -> Vec<(String, String)> {
    config
        .trackers()
        .filter(|(_, origin)| **origin == TrackersOrigin::Repository)
        .map(|(t, _)| {
            (
                t.name.clone(),
                "comes from the repository's own file, which `deploylink retry` does not read; define it in the organization file (`deploylink tracker connect`) to have its deliveries spooled".to_owned(),
            )
        })
        .collect()
}

/// Delivers every delivery of `deploys`, records them if asked, writes the report, and
/// turns failures into the exit code `--on-error` asks for.
pub fn deliver_deploys(
    global: &GlobalArgs,
    repo: &Repo,
    trackers: &[&Tracker],
    deploys: &[Deploy],
    how: Delivering,
    out: &mut dyn Write,
) -> Result<()> {
    let mut options = how.options;
    let count = deploys.iter().map(|d| d.deliveries.len()).sum();
    if !options.dry_run {
        options.progress = progress_bar(count);
    }
    let delivered = run::run(repo, trackers, deploys, options)?;
    if let Some(remote) = &how.push_history {
        // After the report: a deploy whose history could not be pushed still happened.
        if let Err(error) = crate::history::push(repo.git(), remote, &delivered.histories) {
            log::error!("{error}");
        }
    }
    let report = Run {
        deploys,
        outcomes: &delivered.outcomes,
        sent: delivered.sent,
    };
    super::write_run(out, global.format, &report)?;
    Ok(delivered.end(how.on_error.into())?)
}

/// `link` and `ci` spool only when asked to: `--spool DIR` or `$DEPLOYLINK_SPOOL`.
fn spool_from(flag: Option<&std::path::Path>) -> Result<Option<Spool>> {
    match spool::location(flag, None) {
        Some(dir) => Ok(Some(Spool::open(&dir)?)),
        None => Ok(None),
    }
}

/// A progress bar on stderr for runs long enough to wonder about: on a terminal only, and
/// only for more deliveries than one wave of requests takes.
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
