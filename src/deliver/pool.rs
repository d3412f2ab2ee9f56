//! The sink that sends: per tracker, up to `max_concurrency` workers take deliveries from a
//! shared queue, so one slow issue does not hold up the others, and the run ends when the
//! last answer arrives or the time budget runs out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::attempt::Context;
use super::retry::RetryPolicy;
use super::session::Session;
use super::{actions, Delivery, DeliveryOutcome, IssueResult, Sink};

/// How a run delivers.
#[derive(Clone, Debug)]
pub struct Options {
    /// The whole run's time budget (`--budget`).
    pub budget: Duration,
    /// The longest one request may take (`--request-timeout`); a slower answer counts as a
    /// broken connection, retried when the request is idempotent.
    pub request_timeout: Duration,
    pub policy: RetryPolicy,
    /// See `Context::look_for_posted`: `retry` sets it.
    pub look_for_posted: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            budget: Duration::from_secs(120),
            request_timeout: crate::jira::client::REQUEST_TIMEOUT,
            policy: RetryPolicy::default(),
            look_for_posted: false,
        }
    }
}

/// Sends deliveries to Jira through the sessions of their trackers.
pub struct Jira {
    sessions: Vec<Session>,
    options: Options,
    /// Advanced by one per delivery made (the caller decides whether it is drawn).
    progress: Option<indicatif::ProgressBar>,
    /// Called as each delivery ends, with its index: the spool removes what was made at
    /// once, so a run killed later does not send it again.
    on_done: Option<OnDone>,
    /// Called before each delivery is sent: what must be held while it is sent and settled
    /// (the spool's lock on its file), or why it is not sent by this run.
    claim: Option<ClaimFn>,
}

/// See [`Jira::on_done`].
pub type OnDone = Box<dyn Fn(usize, &mut DeliveryOutcome) + Send + Sync>;

/// See [`Jira::claim`]: `Ok(guard)` to send (the guard is dropped once `on_done` returned),
/// `Err(reason)` when another run has it: its keys are reported `spooled` with the reason.
pub type ClaimFn = Box<dyn Fn(usize) -> Result<Box<dyn Send>, String> + Send + Sync>;

impl Jira {
    pub fn new(sessions: Vec<Session>, options: Options) -> Jira {
        Jira {
            sessions,
            options,
            progress: None,
            on_done: None,
            claim: None,
        }
    }

    /// Calls `claim` with each delivery's index before sending it; see [`ClaimFn`].
    pub fn claim(mut self, claim: ClaimFn) -> Jira {
        self.claim = Some(claim);
        self
    }

    /// Calls `done` with each delivery's index and outcome as soon as it ends.
    pub fn on_done(mut self, done: OnDone) -> Jira {
        self.on_done = Some(done);
        self
    }

    /// Shows progress on `bar` (its length is set to the number of deliveries).
    pub fn with_progress(mut self, bar: indicatif::ProgressBar) -> Jira {
        self.progress = Some(bar);
        self
    }

    fn session(&self, tracker: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.tracker.name == tracker)
    }
}

impl Sink for Jira {
    fn deliver(&mut self, deliveries: Vec<Delivery>) -> Vec<DeliveryOutcome> {
        let context = Context {
            policy: self.options.policy.clone(),
            deadline: Instant::now() + self.options.budget,
            request_timeout: self.options.request_timeout,
            look_for_posted: self.options.look_for_posted,
        };
        let slots: Vec<Mutex<Option<DeliveryOutcome>>> =
            deliveries.iter().map(|_| Mutex::new(None)).collect();
        let queues: Vec<(&Session, Vec<usize>, AtomicUsize)> = self
            .sessions
            .iter()
            .map(|session| {
                let mine = (0..deliveries.len())
                    .filter(|&i| deliveries[i].tracker == session.tracker.name)
                    .collect();
                (session, mine, AtomicUsize::new(0))
            })
            .collect();
        let progress = self.progress.take();
        let on_done = self.on_done.take();
        let claim = self.claim.take();
        if let Some(bar) = &progress {
            bar.set_length(deliveries.len() as u64);
        }
        std::thread::scope(|scope| {
            for (session, mine, next) in &queues {
                let workers = (session.tracker.max_concurrency as usize)
                    .max(1)
                    .min(mine.len());
                for _ in 0..workers {
                    scope.spawn(|| loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = mine.get(n) else { break };
                        let held = match claim.as_ref().map(|claim| claim(i)) {
                            Some(Err(reason)) => {
                                let mut result =
                                    DeliveryOutcome::not_made(deliveries[i].clone(), &reason);
                                for key in result
                                    .keys
                                    .iter_mut()
                                    .filter(|k| k.result == IssueResult::Failed)
                                {
                                    key.result = IssueResult::Spooled;
                                }
                                if let Ok(mut slot) = slots[i].lock() {
                                    *slot = Some(result);
                                }
                                continue;
                            }
                            Some(Ok(held)) => Some(held),
                            None => None,
                        };
                        let mut result = actions::run(session, &deliveries[i], &context);
                        if let Some(done) = &on_done {
                            done(i, &mut result);
                        }
                        drop(held);
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(result);
                        }
                        if let Some(bar) = &progress {
                            bar.inc(1);
                        }
                    });
                }
            }
        });
        if let Some(bar) = progress {
            bar.finish_and_clear();
        }
        deliveries
            .iter()
            .zip(slots)
            .map(|(delivery, slot)| {
                slot.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| self.not_sent(delivery))
            })
            .collect()
    }
}

impl Jira {
    /// A delivery no worker took: its tracker has no session (or a worker died).
    fn not_sent(&self, delivery: &Delivery) -> DeliveryOutcome {
        let reason = match self.session(&delivery.tracker) {
            None => format!(
                "not sent: tracker '{}' is not open in this run",
                delivery.tracker
            ),
            Some(_) => "not sent: internal error in a delivery worker".to_owned(),
        };
        DeliveryOutcome::not_made(delivery.clone(), &reason)
    }
}
