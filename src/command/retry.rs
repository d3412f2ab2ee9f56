//! `deploylink retry [--list]`: the deliveries waiting in the spool, sent again with the
//! credentials of the organization file as they are now.

use std::io::Write;
use std::path::PathBuf;

use crate::command::cli::{GlobalArgs, RetryArgs};
use crate::config::{Tracker, TrustMode};
use crate::deliver::run::{claim_entries, open_sessions, settle_one};
use crate::deliver::spool::{self, claim, Spool, Spooled};
use crate::deliver::{self, Delivery, IssueResult, Jira, Sink};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::report::{Format, Retried, SpoolList, Waiting};

pub fn retry(global: &GlobalArgs, args: &RetryArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref()).ok();
    let dir = spool_dir(args, repo.as_ref())?;
    let spool = Spool::open(&dir)?;
    let waiting = spool.list()?;
    // On a server the spool is the hook's: its trackers come from the server's file. Read
    // before anything is claimed; a missing file is reported per delivery, not as a failure.
    let git_dir = repo.as_ref().map(Repo::git_dir);
    let org = crate::config::load_trackers(&global.config_paths(), git_dir, TrustMode::ServerHook);
    let trackers: Vec<Tracker> = match &org {
        Ok(Some(org)) => org.trackers().to_vec(),
        Ok(None) => Vec::new(),
        Err(_) if args.list => Vec::new(),
        Err(error) => return Err(error.clone().into()),
    };
    if args.list {
        return list(global.format, &waiting, &trackers, out);
    }
    if !args.drop.is_empty() || !args.drop_tracker.is_empty() {
        return drop_entries(&spool, &waiting, args, global.format, out);
    }
    let abandoned = spool.remove_abandoned()?;
    if abandoned > 0 {
        log::info!("removed {abandoned} leftover file(s) of runs killed mid-write");
    }
    // What can never be sent as it is stays, reported as such; the rest is sent, each
    // delivery claimed only while it is sent (so a spool of any size needs a few files open).
    let (stuck, sendable): (Vec<Spooled>, Vec<Spooled>) = waiting
        .into_iter()
        .partition(|s| cannot_send(&s.entry.delivery, &trackers).is_some());
    let tracker_refs: Vec<&Tracker> = trackers.iter().collect();
    let deliveries: Vec<Delivery> = sendable.iter().map(|s| s.entry.delivery.clone()).collect();
    let mut sessions = Vec::new();
    for opened in open_sessions(&tracker_refs, &deliveries) {
        match opened {
            Ok(session) => sessions.push(session),
            Err(error) => log::error!("{error}"),
        }
    }
    let options = deliver::Options {
        budget: args.budget,
        request_timeout: args.request_timeout.duration,
        look_for_posted: true,
        ..deliver::Options::default()
    };
    let paths: Vec<PathBuf> = sendable.iter().map(|s| s.path.clone()).collect();
    let held: Vec<Option<PathBuf>> = paths.iter().cloned().map(Some).collect();
    let settling = (spool.clone(), paths.clone());
    let mut outcomes = Jira::new(sessions, options)
        .claim(claim_entries(held))
        .on_done(Box::new(move |i, outcome| {
            settle_one(&settling.0, &settling.1[i], outcome);
        }))
        .deliver(deliveries);
    // What no worker took (its tracker could not be opened): still waiting.
    for (outcome, path) in outcomes.iter_mut().zip(&paths) {
        if outcome.undelivered() {
            settle_one(&spool, path, outcome);
        }
    }
    let mut results: Vec<_> = outcomes.iter().flat_map(|o| o.keys.clone()).collect();
    for s in &stuck {
        let why = cannot_send(&s.entry.delivery, &trackers).unwrap_or_default();
        let id = s.path.file_stem().and_then(|n| n.to_str()).unwrap_or("");
        let reason = format!(
            "cannot be sent: {why}; `deploylink retry --drop {id}` removes it (re-run the deploy to send it anew)"
        );
        let outcome = deliver::DeliveryOutcome::not_made(s.entry.delivery.clone(), &reason);
        results.extend(outcome.keys);
    }
    let made = outcomes
        .iter()
        .filter(|o| !o.undelivered() && !o.keys.iter().any(|k| k.result == IssueResult::Spooled))
        .count();
    let waiting = outcomes.len() - made + stuck.len();
    let retried = Retried {
        delivered: made,
        waiting,
        cannot_send: stuck.len(),
        spool: dir,
        results,
    };
    super::write_report(out, global.format, &retried)?;
    if waiting > 0 {
        return Err(Error::DeliveryFailed { failed: waiting });
    }
    Ok(())
}

/// Why `retry` can never send `delivery` as it is: its tracker is not in the organization
/// file (it came from a repository's file, or was renamed or removed), or its URL is not
/// under the tracker's URL any more (the site moved). `None`: it can be sent.
fn cannot_send(delivery: &Delivery, trackers: &[Tracker]) -> Option<String> {
    let Some(tracker) = trackers.iter().find(|t| t.name == delivery.tracker) else {
        return Some(format!(
            "tracker '{}' is not in the organization file (it came from a repository's file, or was renamed or removed)",
            delivery.tracker
        ));
    };
    let base = match delivery.action {
        crate::config::Action::Deployment | crate::config::Action::DevelopmentInfo => {
            tracker.deployments.as_ref().map(|d| d.api_url.as_str())
        }
        _ => Some(tracker.url.as_str()),
    };
    let Some(base) = base else {
        return Some(format!(
            "tracker '{}' has no deployments: settings any more",
            tracker.name
        ));
    };
    let under = delivery
        .url
        .starts_with(&format!("{}/", base.trim_end_matches('/')));
    (!under).then(|| {
        format!(
            "{} is not under tracker '{}''s URL {base} any more (its url was changed)",
            delivery.url, tracker.name
        )
    })
}

/// `--drop ID` and `--drop-tracker NAME`: removes those waiting deliveries unsent (each
/// claimed first, so one another run is sending is left to it).
fn drop_entries(
    spool: &Spool,
    waiting: &[Spooled],
    args: &RetryArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<()> {
    let mut results = Vec::new();
    let mut results_deliveries = 0;
    let mut unmatched: Vec<&String> = args.drop.iter().collect();
    for s in waiting {
        let id = s.path.file_stem().and_then(|n| n.to_str()).unwrap_or("");
        let by_id = args.drop.iter().any(|d| d.trim_end_matches(".json") == id);
        let by_tracker = args.drop_tracker.contains(&s.entry.delivery.tracker);
        if !by_id && !by_tracker {
            continue;
        }
        unmatched.retain(|d| d.trim_end_matches(".json") != id);
        let Some(_held) = claim(&s.path) else {
            log::warn!("{id}: another run is sending it; not dropped");
            continue;
        };
        spool.done(&s.path)?;
        results_deliveries += 1;
        let outcome =
            deliver::DeliveryOutcome::not_made(s.entry.delivery.clone(), "dropped unsent (--drop)");
        results.extend(outcome.keys);
    }
    if let Some(id) = unmatched.first() {
        return Err(Error::usage(format!(
            "--drop {id}: no such delivery waits in {} (`deploylink retry --list` shows their ids)",
            spool.dir().display()
        )));
    }
    let dropped = Retried {
        delivered: 0,
        waiting: waiting.len().saturating_sub(results_deliveries),
        cannot_send: 0,
        spool: spool.dir().to_path_buf(),
        results,
    };
    super::write_report(out, format, &dropped)
}

fn spool_dir(args: &RetryArgs, repo: Option<&Repo>) -> Result<PathBuf> {
    match spool::location(args.spool.as_deref(), repo.map(Repo::git_dir)) {
        Some(dir) => Ok(dir),
        None => Err(Error::usage(
            "which spool? pass --spool DIR, set DEPLOYLINK_SPOOL, or run in (or --repo) the repository whose hook spools",
        )),
    }
}

fn list(
    format: Format,
    waiting: &[Spooled],
    trackers: &[Tracker],
    out: &mut dyn Write,
) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let waiting = waiting
        .iter()
        .map(|s| Waiting {
            file: s.path.clone(),
            tracker: s.entry.delivery.tracker.clone(),
            action: s.entry.delivery.action,
            keys: s.entry.delivery.keys.clone(),
            spooled_at: s.entry.spooled_at,
            age_seconds: now.saturating_sub(s.entry.spooled_at),
            attempts: s.entry.attempts,
            last_error: s.entry.last_error.clone(),
            cannot_send: cannot_send(&s.entry.delivery, trackers),
        })
        .collect();
    super::write_report(out, format, &SpoolList { waiting })
}
