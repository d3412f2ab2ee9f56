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
    /// Of those waiting, the deliveries that can never be sent as they are (`--drop` them).
    #[serde(skip_serializing_if = "is_zero")]
    pub cannot_send: usize,
    pub spool: PathBuf,
    pub results: Vec<KeyOutcome>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
        if self.cannot_send > 0 {
            text.push_str(&format!(
                "{} of them can never be sent as they are (see above): `deploylink retry --list` shows why; `deploylink retry --drop ID` or `--drop-tracker NAME` removes them\n",
                self.cannot_send
            ));
        }
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
    /// Why `retry` can never send it as it is, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cannot_send: Option<String>,
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
            if let Some(why) = &w.cannot_send {
                let id = w.file.file_stem().and_then(|n| n.to_str()).unwrap_or("");
                text.push_str(&format!(
                    "  cannot be sent: {why}\n  drop it: deploylink retry --drop {id} (or --drop-tracker {})\n",
                    w.tracker
                ));
            }
        }
        text.push_str(&format!("{} waiting\n", self.waiting.len()));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::IssueResult;
    use crate::report::{render, Format};
    use serde_json::{json, Value};

    fn json_of(report: &impl Report) -> Value {
        serde_json::from_str(&render(report, Format::Json)).unwrap()
    }

    #[test]
    fn retried() {
        let retried = Retried {
            delivered: 1,
            waiting: 0,
            cannot_send: 0,
            spool: "/spool".into(),
            results: vec![KeyOutcome {
                key: "WEB-1".into(),
                action: Action::RemoteLink,
                result: IssueResult::Linked,
                status: Some(201),
                reason: None,
            }],
        };
        assert_eq!(
            retried.human(),
            "  WEB-1        linked      remote-link  \nretry: 1 delivered, 0 still waiting in /spool\n"
        );
        assert_eq!(
            json_of(&retried),
            json!({"delivered": 1, "waiting": 0, "spool": "/spool", "results": [
                {"key": "WEB-1", "action": "remote-link", "result": "linked", "status": 201}
            ]})
        );
    }

    #[test]
    fn listed() {
        let list = SpoolList {
            waiting: vec![Waiting {
                file: "/spool/abc.json".into(),
                tracker: "acme".into(),
                action: Action::Deployment,
                keys: vec!["WEB-1".into(), "WEB-2".into()],
                spooled_at: 1_700_000_000,
                age_seconds: 90,
                attempts: 1,
                last_error: None,
                cannot_send: None,
            }],
        };
        assert_eq!(
            list.human(),
            "abc.json  acme deployment WEB-1,WEB-2  age 1m 30s, 1 attempt, last error: none yet\n1 waiting\n"
        );
        assert_eq!(
            json_of(&list),
            json!({"waiting": [{"file": "/spool/abc.json", "tracker": "acme", "action": "deployment",
                "keys": ["WEB-1", "WEB-2"], "spooled_at": 1_700_000_000, "age_seconds": 90,
                "attempts": 1, "last_error": null}]})
        );
    }
}
