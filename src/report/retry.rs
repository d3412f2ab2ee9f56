//! The reports of `deploylink retry`: what was sent again, and (`--list`) what waits.

use std::path::PathBuf;

use serde::Serialize;

use super::{plural, Report};
use crate::config::Action;
use crate::deliver::KeyOutcome;

/// `retry`: each issue's result, and how many deliveries were made or still wait.
#[derive(Serialize)]
pub struct Retried {
    pub delivered: usize,
    pub waiting: usize,
    pub spool: PathBuf,
    pub results: Vec<KeyOutcome>,
}

impl Report for Retried {
    fn human(&self) -> String {
        if self.delivered == 0 && self.waiting == 0 {
            return format!("nothing waits in {}\n", self.spool.display());
        }
        let mut text = String::new();
        for key in &self.results {
            text.push_str(&format!(
                "  {:<12} {:<11} {:<12} {}\n",
                key.key,
                key.result.as_str(),
                key.action.as_str(),
                key.reason.as_deref().unwrap_or("")
            ));
        }
        text.push_str(&format!(
            "retry: {} delivered, {} still waiting in {}\n",
            self.delivered,
            self.waiting,
            self.spool.display()
        ));
        text
    }
}

/// `retry --list`: the deliveries waiting in the spool, oldest file name first.
#[derive(Serialize)]
pub struct SpoolList {
    pub waiting: Vec<Waiting>,
}

/// One spooled delivery.
#[derive(Serialize)]
pub struct Waiting {
    pub file: PathBuf,
    pub tracker: String,
    pub action: Action,
    pub keys: Vec<String>,
    /// When it was first spooled, in seconds since the epoch.
    pub spooled_at: u64,
    pub age_seconds: u64,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl Report for SpoolList {
    fn human(&self) -> String {
        let mut text = String::new();
        for w in &self.waiting {
            text.push_str(&format!(
                "{}  {} {} {}  age {}, {} attempt{}, last error: {}\n",
                w.file.file_name().and_then(|n| n.to_str()).unwrap_or(""),
                w.tracker,
                w.action.as_str(),
                w.keys.join(","),
                humantime::format_duration(std::time::Duration::from_secs(w.age_seconds)),
                w.attempts,
                plural(w.attempts as usize),
                w.last_error.as_deref().unwrap_or("none yet"),
            ));
        }
        text.push_str(&format!("{} waiting\n", self.waiting.len()));
        text
    }
}
