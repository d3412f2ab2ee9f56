//! `deploylink retry [--list]`: the deliveries waiting in the spool, sent again with the
//! credentials of the organization file as they are now.

use std::io::Write;
use std::path::PathBuf;

use crate::command::cli::{GlobalArgs, RetryArgs};
use crate::config::{Tracker, TrustMode};
use crate::deliver::run::{open_sessions, settle};
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
    if args.list {
        return list(global.format, &waiting, out);
    }
    let abandoned = spool.remove_abandoned()?;
    if abandoned > 0 {
        log::info!("removed {abandoned} temporary file(s) left by runs killed mid-write");
    }
    // Take what no other run holds; the claims last until this run ends.
    let mut claims = Vec::new();
    let mut taken: Vec<Spooled> = Vec::new();
    for spooled in waiting {
        if let Some(held) = claim(&spooled.path) {
            claims.push(held);
            taken.push(spooled);
        } else {
            log::info!("{}: another run is sending it", spooled.path.display());
        }
    }
    if taken.is_empty() {
        let nothing = Retried {
            delivered: 0,
            waiting: 0,
            spool: dir,
            results: Vec::new(),
        };
        return super::write_report(out, global.format, &nothing);
    }
    // On a server the spool is the hook's: its trackers come from the server's file.
    let git_dir = repo.as_ref().map(Repo::git_dir);
    let org = crate::config::load_trackers(&global.config_paths(), git_dir, TrustMode::ServerHook)?;
    let trackers: Vec<&Tracker> = org
        .as_ref()
        .map(|o| o.trackers().iter().collect())
        .unwrap_or_default();
    let deliveries: Vec<Delivery> = taken.iter().map(|s| s.entry.delivery.clone()).collect();
    let mut sessions = Vec::new();
    for opened in open_sessions(&trackers, &deliveries) {
        match opened {
            Ok(session) => sessions.push(session),
            Err(error) => log::error!("{error}"),
        }
    }
    let options = deliver::Options {
        budget: args.budget,
        request_timeout: args.request_timeout.duration,
        ..deliver::Options::default()
    };
    let mut outcomes = Jira::new(sessions, options).deliver(deliveries);
    let paths: Vec<PathBuf> = taken.iter().map(|s| s.path.clone()).collect();
    settle(&spool, &paths, &mut outcomes);
    drop(claims);
    let made = outcomes
        .iter()
        .filter(|o| !o.undelivered() && !o.keys.iter().any(|k| k.result == IssueResult::Spooled))
        .count();
    let waiting = outcomes.len() - made;
    let retried = Retried {
        delivered: made,
        waiting,
        spool: dir,
        results: outcomes.into_iter().flat_map(|o| o.keys).collect(),
    };
    super::write_report(out, global.format, &retried)?;
    if waiting > 0 {
        return Err(Error::DeliveryFailed { failed: waiting });
    }
    Ok(())
}

fn spool_dir(args: &RetryArgs, repo: Option<&Repo>) -> Result<PathBuf> {
    match spool::location(args.spool.as_deref(), repo.map(Repo::git_dir)) {
        Some(dir) => Ok(dir),
        None => Err(Error::usage(
            "which spool? pass --spool DIR, set DEPLOYLINK_SPOOL, or run in (or --repo) the repository whose hook spools",
        )),
    }
}

fn list(format: Format, waiting: &[Spooled], out: &mut dyn Write) -> Result<()> {
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
        })
        .collect();
    super::write_report(out, format, &SpoolList { waiting })
}
