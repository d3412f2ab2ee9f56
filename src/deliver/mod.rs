//! Delivering a deploy's writes to Jira, with nothing lost when Jira is slow, down or
//! rate-limiting.
//!
//! Planning turns each deploy into [`Delivery`] values: plain data (tracker name, issue keys,
//! method, URL, body; never a secret), so that a delivery that could not be made can be kept
//! and sent later. A [`Sink`] takes them: [`DryRun`] sends nothing and reports them as
//! planned (the `plan` command and `--dry-run`), [`Jira`] sends them with bounded concurrency
//! per tracker, retries ([`retry`]) and a time budget. Both go through the same planning
//! code, so a plan is exactly what is sent. [`run`] is one whole delivery run: the spool
//! ([`spool`]) written ahead, the sending, the settling, and the deploys' records.

use serde::Serialize;

use crate::config::Action;

mod actions;
mod attempt;
mod pool;
mod release;
pub mod retry;
pub mod run;
mod session;
pub mod spool;

pub use crate::plan::Delivery;
pub use pool::{Jira, OnDone, Options};
pub use session::{Session, SessionError};

/// The result for one issue (SPEC 12's `result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueResult {
    // Ordered from best to worst: an issue's result across actions is the worst of them.
    Planned,
    Updated,
    Linked,
    RolledBack,
    Unknown,
    Rejected,
    Spooled,
    Failed,
}

impl IssueResult {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueResult::Planned => "planned",
            IssueResult::Linked => "linked",
            IssueResult::Updated => "updated",
            IssueResult::Unknown => "unknown",
            IssueResult::Rejected => "rejected",
            IssueResult::Failed => "failed",
            IssueResult::Spooled => "spooled",
            IssueResult::RolledBack => "rolled_back",
        }
    }
}

/// What happened to one issue in one delivery.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KeyOutcome {
    pub key: String,
    pub action: Action,
    pub result: IssueResult,
    /// The HTTP status that decided it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why, when it is not plainly linked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What happened to one delivery.
#[derive(Clone, Debug)]
pub struct DeliveryOutcome {
    pub delivery: Delivery,
    pub keys: Vec<KeyOutcome>,
    /// Requests sent for it, retries and preparatory requests included.
    pub requests: u32,
}

impl DeliveryOutcome {
    /// A delivery that was not made, every key `failed` with `reason` (nothing was sent).
    pub fn not_made(delivery: Delivery, reason: &str) -> DeliveryOutcome {
        let mut keys: Vec<KeyOutcome> = delivery
            .keys
            .iter()
            .map(|key| {
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Failed,
                    None,
                    Some(reason.to_owned()),
                )
            })
            .collect();
        keys.extend(left_out(&delivery));
        DeliveryOutcome {
            delivery,
            keys,
            requests: 0,
        }
    }

    /// Whether it still has to be made (a failure that a later try may fix).
    pub fn undelivered(&self) -> bool {
        self.keys.iter().any(|k| k.result == IssueResult::Failed)
    }
}

/// Where deliveries go.
pub trait Sink {
    /// Takes every delivery of a run; returns one outcome per delivery, in the same order.
    fn deliver(&mut self, deliveries: Vec<Delivery>) -> Vec<DeliveryOutcome>;
}

/// A sink that sends nothing: every issue is `planned`.
#[derive(Debug, Default)]
pub struct DryRun;

impl Sink for DryRun {
    fn deliver(&mut self, deliveries: Vec<Delivery>) -> Vec<DeliveryOutcome> {
        deliveries
            .into_iter()
            .map(|delivery| {
                let mut keys: Vec<KeyOutcome> = delivery
                    .keys
                    .iter()
                    .map(|key| outcome(key, delivery.action, IssueResult::Planned, None, None))
                    .collect();
                keys.extend(left_out(&delivery));
                DeliveryOutcome {
                    delivery,
                    keys,
                    requests: 0,
                }
            })
            .collect()
    }
}

fn outcome(
    key: &str,
    action: Action,
    result: IssueResult,
    status: Option<u16>,
    reason: Option<String>,
) -> KeyOutcome {
    KeyOutcome {
        key: key.to_owned(),
        action,
        result,
        status,
        reason,
    }
}

/// The keys a delivery could not carry, as rejected.
fn left_out(delivery: &Delivery) -> impl Iterator<Item = KeyOutcome> + '_ {
    delivery.left_out.iter().map(|key| {
        outcome(
            key,
            delivery.action,
            IssueResult::Rejected,
            None,
            Some(format!(
                "not sent: Jira takes at most {} issue keys per deployment record",
                crate::jira::deployment::MAX_ASSOCIATIONS
            )),
        )
    })
}
