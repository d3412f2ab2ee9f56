//! The `fix-version` and `transition` deliveries: each reads first and writes only what is
//! missing, so a re-run, or a retry from the spool after a run killed half-way, only reads.
//!
//! A refusal that names a permission or a screen (400, 403, a version Jira will not create)
//! ends that issue as `rejected`, with the fix, and is not retried; it does not stop the
//! tracker's other requests as a refused credential (401) does, since the same account may
//! do everything else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::attempt::{self, Context, Credential, Sent};
use super::retry::Idempotency;
use super::session::Session;
use super::{outcome, Delivery, IssueResult, KeyOutcome};
use crate::jira::client::{Method, Response};
use crate::jira::response;
use crate::jira::version::Version;

mod fix_version;
mod transition;

pub(super) use fix_version::fix_version;
pub(super) use transition::transition;

/// What a run found or made of each version: `(project, name, released on this run)`.
pub(super) type VersionCache = Mutex<HashMap<(String, String, bool), Arc<Mutex<Option<Found>>>>>;

/// A version as a run knows it, or how finding or creating it ended.
pub(super) type Found = Result<Version, Ended>;

/// How an issue's delivery ended, when it ended early.
#[derive(Clone, Debug)]
pub(super) struct Ended {
    pub(super) result: IssueResult,
    pub(super) status: Option<u16>,
    pub(super) reason: String,
}

impl Ended {
    pub(super) fn new(
        result: IssueResult,
        status: Option<u16>,
        reason: impl Into<String>,
    ) -> Ended {
        Ended {
            result,
            status,
            reason: reason.into(),
        }
    }

    pub(super) fn outcomes(self, delivery: &Delivery) -> Vec<KeyOutcome> {
        delivery
            .keys
            .iter()
            .map(|key| {
                outcome(
                    key,
                    delivery.action,
                    self.result,
                    self.status,
                    Some(self.reason.clone()),
                )
            })
            .collect()
    }
}

/// A GET whose answer must be JSON; anything else ends the delivery.
pub(super) fn read(
    session: &Session,
    url: &str,
    context: &Context,
    sent: &mut u32,
    fix: &str,
) -> Result<Value, Ended> {
    match attempt::send_site(
        session,
        Method::Get,
        url,
        None,
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(r) => serde_json::from_str(&r.body).map_err(|_| {
            Ended::new(
                IssueResult::Failed,
                Some(r.status),
                format!(
                    "{}: not Jira's answer to {url}",
                    response::describe_body(&r)
                ),
            )
        }),
        other => Err(unsent(session, other, fix)),
    }
}

/// A request that was not answered with 2xx. A 401 stops the tracker (the credentials are
/// wrong); a 403 or 400 is about this issue or project: `rejected`, with `fix`.
pub(super) fn unsent(session: &Session, sent: Sent, fix: &str) -> Ended {
    match sent {
        Sent::Answer(r) => Ended::new(IssueResult::Failed, Some(r.status), response::describe(&r)),
        Sent::NotFound(r) => Ended::new(
            IssueResult::Unknown,
            Some(r.status),
            "the issue does not exist, or the tracker's account cannot see it",
        ),
        Sent::Refused {
            status: 401,
            response,
        } => {
            let reason = response::refusal(&session.tracker, &response);
            if session.refuse(Credential::Site, &reason) {
                log::error!("{reason}");
            }
            Ended::new(IssueResult::Failed, Some(401), reason)
        }
        Sent::Refused { status, response } => refusal(status, &response, fix),
        Sent::Failed {
            status: Some(status @ (400 | 409 | 422)),
            reason,
        } => Ended::new(
            IssueResult::Rejected,
            Some(status),
            format!("{reason}; {fix}"),
        ),
        Sent::Failed { status, reason } => Ended::new(IssueResult::Failed, status, reason),
    }
}

pub(super) fn refusal(status: u16, response: &Response, fix: &str) -> Ended {
    Ended::new(
        IssueResult::Rejected,
        Some(status),
        format!("{}; {fix}", response::describe(response)),
    )
}
