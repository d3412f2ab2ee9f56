//! Sending one request until it is answered, retrying as the [`RetryPolicy`] says, within the
//! run's time budget, and not at all once the tracker refused the credentials it would use.

use std::time::{Duration, Instant, SystemTime};

use super::retry::{Idempotency, Outcome, RetryPolicy, Verdict};
use super::session::Session;
use serde_json::Value;

use crate::jira::client::{Attempt, Body, Method, Request, RequestAuth, Response, REQUEST_TIMEOUT};
use crate::jira::response;

/// The policy and deadline of a run.
#[derive(Clone, Debug)]
pub(super) struct Context {
    pub policy: RetryPolicy,
    pub deadline: Instant,
    pub request_timeout: Duration,
    /// Whether a comment not yet recorded in the issue property may have been posted all
    /// the same (a spooled delivery: its sender may have been killed between the two), so
    /// the issue's comments are looked through for its marker first.
    pub look_for_posted: bool,
}

/// Which credential a request carries: a refusal of one does not stop the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Credential {
    /// No credential (tenant_info, the OAuth token request).
    None,
    /// The site's user and token.
    Site,
    /// The deployments API's OAuth token.
    OAuth,
}

/// How a request ended.
#[derive(Debug)]
pub(super) enum Sent {
    /// A 2xx answer.
    Answer(Response),
    /// 404.
    NotFound(Response),
    /// 401 or 403: the credential was refused.
    Refused { status: u16, response: Response },
    /// Anything else, after the retries it deserved.
    Failed { status: Option<u16>, reason: String },
}

/// One request with the site's credentials.
pub(super) fn send_site(
    session: &Session,
    method: Method,
    url: &str,
    body: Option<&Value>,
    idempotency: Idempotency,
    context: &Context,
    sent: &mut u32,
) -> Sent {
    let request = Request {
        method,
        url,
        auth: RequestAuth::Site(&session.auth),
        body: body.map_or(Body::None, Body::Json),
        timeout: REQUEST_TIMEOUT,
    };
    send(
        session,
        request,
        Credential::Site,
        idempotency,
        context,
        sent,
    )
}

/// Sends `request`, retrying; counts every request sent in `sent`.
pub(super) fn send(
    session: &Session,
    request: Request<'_>,
    credential: Credential,
    idempotency: Idempotency,
    context: &Context,
    sent: &mut u32,
) -> Sent {
    let mut retries = 0;
    loop {
        if let Some(reason) = session.refusal(credential) {
            return Sent::Failed {
                status: None,
                reason: format!("not sent: {reason}"),
            };
        }
        let remaining = context.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Sent::Failed {
                status: None,
                reason: "not sent: the time budget (--budget) ran out".into(),
            };
        }
        let attempt = session.http.send(&Request {
            timeout: request.timeout.min(context.request_timeout).min(remaining),
            ..request
        });
        *sent += 1;
        log::debug!(
            "{} {} -> {}",
            request.method.as_str(),
            request.url,
            attempt_summary(&attempt, request.url)
        );
        let verdict = context.policy.judge(
            &outcome(&attempt),
            retries,
            idempotency,
            SystemTime::now(),
            fastrand::f64(),
        );
        let status = match &attempt {
            Attempt::Response(r) => Some(r.status),
            _ => None,
        };
        let tries = retries + 1;
        match (verdict, attempt) {
            (Verdict::Delivered, Attempt::Response(r)) => return Sent::Answer(r),
            (Verdict::UnknownIssue, Attempt::Response(r)) => return Sent::NotFound(r),
            (Verdict::StopTracker { status }, Attempt::Response(response)) => {
                return Sent::Refused { status, response }
            }
            (Verdict::RetryAfter(wait), attempt) => {
                if Instant::now() + wait > context.deadline {
                    return Sent::Failed {
                        status,
                        reason: format!(
                            "{} after {tries} {}; the time budget (--budget) ends before the next try in {}",
                            describe(&attempt, request.url),
                            plural_tries(tries),
                            humantime::format_duration(round(wait))
                        ),
                    };
                }
                log::info!(
                    "{} {}: {}; trying again in {}",
                    request.method.as_str(),
                    request.url,
                    describe(&attempt, request.url),
                    humantime::format_duration(round(wait))
                );
                std::thread::sleep(wait);
                retries += 1;
            }
            (_, attempt) => {
                let mut reason = describe(&attempt, request.url);
                if tries > 1 {
                    reason.push_str(&format!(" after {tries} tries"));
                }
                return Sent::Failed { status, reason };
            }
        }
    }
}

/// Jira's Retry-After waits are whole seconds; show them so.
fn round(wait: Duration) -> Duration {
    Duration::from_millis(wait.as_millis() as u64 / 100 * 100)
}

fn plural_tries(n: u32) -> &'static str {
    if n == 1 {
        "try"
    } else {
        "tries"
    }
}

fn outcome(attempt: &Attempt) -> Outcome<'_> {
    match attempt {
        Attempt::Response(r) => Outcome::Response {
            status: r.status,
            retry_after: r.retry_after.as_deref(),
            rate_limit_reset: r.rate_limit_reset.as_deref(),
        },
        Attempt::ConnectFailed { .. } => Outcome::ConnectFailed,
        Attempt::Interrupted { .. } => Outcome::Interrupted,
    }
}

fn attempt_summary(attempt: &Attempt, url: &str) -> String {
    match attempt {
        Attempt::Response(r) => response::status_line(r.status),
        other => describe(other, url),
    }
}

/// One line for people; a connection failure names the site of `url` (the request's URL).
pub(super) fn describe(attempt: &Attempt, url: &str) -> String {
    match attempt {
        Attempt::Response(r) if (300..400).contains(&r.status) => format!(
            "{}: redirected to {}; deploylink follows redirects only within the same host, so that credentials never go elsewhere (check the tracker's url)",
            response::status_line(r.status),
            r.location.as_deref().unwrap_or("an unknown place")
        ),
        Attempt::Response(r) if r.status == 413 => format!(
            "{}: Jira (or a proxy in front of it) refused the request as too large; for a remote \
             link this is the issue's limit of remote links: remove old links from the issue",
            response::describe(r)
        ),
        Attempt::Response(r) => response::describe(r),
        Attempt::ConnectFailed { reason, tls: true } => format!(
            "TLS failure talking to {}: {reason} (if the site uses a private certificate authority, set ca_file on the tracker)",
            site(url)
        ),
        Attempt::ConnectFailed { reason, .. } => format!(
            "cannot connect to {}: {reason} (check the tracker's url, the network and any proxy)",
            site(url)
        ),
        Attempt::Interrupted { reason } => format!("no answer: {reason}"),
    }
}

/// `https://host:port` of a URL: where a connection was attempted, without path or query.
fn site(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_owned())
}
