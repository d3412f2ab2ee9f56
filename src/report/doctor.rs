//! The report of `deploylink doctor`: one line per check, `ok`, `warn` or `fail`, with the fix.

use serde::Serialize;

use super::{Report, BAD, DIM, HEAD, WARN};
use crate::doctor::checks::{Check, Status};

/// Every check that ran, and how many of each verdict.
#[derive(Serialize)]
pub struct Doctor {
    pub checks: Vec<Check>,
    pub summary: DoctorSummary,
}

#[derive(Serialize)]
pub struct DoctorSummary {
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
}

impl Doctor {
    pub fn new(checks: Vec<Check>) -> Doctor {
        let count = |status| checks.iter().filter(|c| c.status == status).count();
        let summary = DoctorSummary {
            ok: count(Status::Ok),
            warn: count(Status::Warn),
            fail: count(Status::Fail),
        };
        Doctor { checks, summary }
    }

    /// Whether every failure is Jira not answering (exit 4), rather than what it answered
    /// (exit 3).
    pub fn only_unreachable(&self) -> bool {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .all(|c| c.unreachable)
    }
}

impl Report for Doctor {
    fn human(&self) -> String {
        let mut out = String::new();
        for check in &self.checks {
            let verdict = match check.status {
                Status::Ok => format!("{DIM}ok  {DIM:#}"),
                Status::Warn => format!("{WARN}warn{WARN:#}"),
                Status::Fail => format!("{BAD}fail{BAD:#}"),
            };
            let mut place = match &check.project {
                Some(project) => project.clone(),
                None => format!("tracker {}", check.tracker),
            };
            if let Some(key) = &check.jira_project {
                place.push_str(&format!(" {key}"));
            }
            let fix = check
                .fix
                .as_deref()
                .filter(|_| check.status != Status::Ok)
                .map(|fix| format!("; fix: {fix}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "{verdict}  {place}  {}: {}{fix}\n",
                check.check, check.message
            ));
        }
        out.push_str(&format!(
            "{HEAD}{} ok, {} warn, {} fail{HEAD:#}\n",
            self.summary.ok, self.summary.warn, self.summary.fail
        ));
        out
    }
}
