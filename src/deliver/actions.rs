//! The requests of each action (SPEC 6): a remote link is one upsert; a deployment record
//! needs the site's `cloudId` and an OAuth token first; a comment reads and then updates the
//! issue property that makes it happen once per deploy.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::attempt::{self, Context, Credential, Sent};
use super::retry::Idempotency;
use super::session::Session;
use super::{left_out, outcome, Delivery, DeliveryOutcome, IssueResult, KeyOutcome};
use crate::config::Action;
use crate::jira::client::{Body, Method, Request, RequestAuth, REQUEST_TIMEOUT};
use crate::jira::{comment, deployment, devinfo, response};

/// Makes one delivery.
pub(super) fn run(session: &Session, delivery: &Delivery, context: &Context) -> DeliveryOutcome {
    let mut sent = 0;
    if let Some(reason) = foreign_url(session, delivery) {
        return DeliveryOutcome {
            keys: all(delivery, IssueResult::Failed, None, Some(reason)),
            delivery: delivery.clone(),
            requests: 0,
        };
    }
    let mut keys = match delivery.action {
        Action::RemoteLink => remote_link(session, delivery, context, &mut sent),
        Action::Deployment | Action::DevelopmentInfo => {
            devops_bulk(session, delivery, context, &mut sent)
        }
        Action::Comment => comment_once(session, delivery, context, &mut sent),
        Action::FixVersion => super::release::fix_version(session, delivery, context, &mut sent),
        Action::Transition => super::release::transition(session, delivery, context, &mut sent),
    };
    keys.extend(left_out(delivery));
    DeliveryOutcome {
        delivery: delivery.clone(),
        keys,
        requests: sent,
    }
}

/// Credentials go only to their tracker's own URL (SPEC 3.3). A delivery is data that may
/// have waited in the spool while the organization file changed: one whose URL is not under
/// its tracker's (or its deployments API's) is not sent.
fn foreign_url(session: &Session, delivery: &Delivery) -> Option<String> {
    let tracker = &session.tracker;
    let base = match delivery.action {
        Action::Deployment | Action::DevelopmentInfo => {
            tracker.deployments.as_ref().map(|d| d.api_url.as_str())
        }
        Action::RemoteLink | Action::Comment | Action::FixVersion | Action::Transition => {
            Some(tracker.url.as_str())
        }
    }?;
    let under = delivery
        .url
        .starts_with(&format!("{}/", base.trim_end_matches('/')));
    (!under).then(|| {
        format!(
            "not sent: {} is not under tracker '{}''s URL {base} (was the organization file changed since this delivery was planned?)",
            delivery.url, tracker.name
        )
    })
}

/// Every key of `delivery` with the same result.
fn all(
    delivery: &Delivery,
    result: IssueResult,
    status: Option<u16>,
    reason: Option<String>,
) -> Vec<KeyOutcome> {
    delivery
        .keys
        .iter()
        .map(|key| outcome(key, delivery.action, result, status, reason.clone()))
        .collect()
}

fn method(delivery: &Delivery) -> Method {
    match delivery.method.as_str() {
        "PUT" => Method::Put,
        "GET" => Method::Get,
        _ => Method::Post,
    }
}

/// The common endings: not found, refused, failed.
fn ended(
    session: &Session,
    delivery: &Delivery,
    sent: Sent,
    credential: Credential,
) -> Vec<KeyOutcome> {
    match sent {
        Sent::Answer(r) => all(delivery, IssueResult::Linked, Some(r.status), None),
        Sent::NotFound(r) => all(
            delivery,
            IssueResult::Unknown,
            Some(r.status),
            Some("the issue does not exist, or the tracker's account cannot see it".into()),
        ),
        Sent::Refused { status, response } => {
            let reason = response::refusal(&session.tracker, &response);
            if session.refuse(credential, &reason) {
                log::error!("{reason}");
            }
            all(delivery, IssueResult::Failed, Some(status), Some(reason))
        }
        Sent::Failed { status, reason } => all(delivery, IssueResult::Failed, status, Some(reason)),
    }
}

/// SPEC 6.1: the `globalId` upsert; 201 created, 200 updated.
fn remote_link(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Vec<KeyOutcome> {
    match attempt::send_site(
        session,
        method(delivery),
        &delivery.url,
        Some(&delivery.body),
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        // Jira answers a JSON object (the link's id); anything else is a proxy or a login
        // page that answered in its place, and the link was not made.
        Sent::Answer(r) if !response::is_json_object(&r) => all(
            delivery,
            IssueResult::Failed,
            Some(r.status),
            Some(format!(
                "{} instead of the link's id: not Jira's answer, so the link was not made; check \
                 that the url of tracker '{}' is the Jira site itself, not a login page or a proxy",
                response::describe_body(&r),
                session.tracker.name
            )),
        ),
        Sent::Answer(r) if r.status == 201 => all(delivery, IssueResult::Linked, Some(201), None),
        Sent::Answer(r) => all(delivery, IssueResult::Updated, Some(r.status), None),
        other => ended(session, delivery, other, Credential::Site),
    }
}

/// A deployment record or development information (Jira Software's DevOps APIs, with the
/// same OAuth credentials): `cloudId`, token, one bulk call; a 401 refreshes the token once.
fn devops_bulk(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Vec<KeyOutcome> {
    let cloud_id = match cloud_id(session, context, sent) {
        Ok(id) => id,
        Err(reason) => return all(delivery, IssueResult::Failed, None, Some(reason)),
    };
    let url = delivery.url.replace("{cloudId}", &cloud_id);
    let mut body = delivery.body.clone();
    let mut refreshed = false;
    loop {
        let token = match token(session, context, sent, refreshed) {
            Ok(token) => token,
            Err(reason) => return all(delivery, IssueResult::Failed, None, Some(reason)),
        };
        // Each send supersedes the last: a strictly increasing updateSequenceNumber (or,
        // for development information, updateSequenceId).
        match delivery.action {
            Action::DevelopmentInfo => devinfo::stamp(&mut body, now_ms()),
            _ => deployment::stamp(&mut body, now_ms()),
        }
        let request = Request {
            method: Method::Post,
            url: &url,
            auth: RequestAuth::Bearer(&token),
            body: Body::Json(&body),
            timeout: REQUEST_TIMEOUT,
        };
        match attempt::send(session, request, Credential::OAuth, Idempotency::Idempotent, context, sent) {
            Sent::Answer(r) if delivery.action == Action::DevelopmentInfo => {
                return devinfo_outcomes(delivery, &r.body, r.status)
            }
            Sent::Answer(r) => return bulk_outcomes(delivery, &r.body, r.status),
            Sent::Refused { status: 401, .. } if !refreshed => refreshed = true,
            Sent::NotFound(r) => {
                return all(
                    delivery,
                    IssueResult::Failed,
                    Some(r.status),
                    Some(format!(
                        "{}: the {} API does not know this site (cloudId {cloud_id}); check deployments.api_url",
                        response::describe(&r),
                        api_name(delivery)
                    )),
                )
            }
            Sent::Refused { status, response } => {
                let reason = format!(
                    "{}: the {} API refused the OAuth credentials of tracker '{}'; \
                     they need the {} permission (Jira settings > Apps > OAuth credentials)",
                    response::describe(&response),
                    api_name(delivery),
                    session.tracker.name,
                    api_name(delivery)
                );
                if session.refuse(Credential::OAuth, &reason) {
                    log::error!("{reason}");
                }
                return all(delivery, IssueResult::Failed, Some(status), Some(reason));
            }
            other => return ended(session, delivery, other, Credential::OAuth),
        }
    }
}

/// The API a DevOps delivery goes to, in messages.
fn api_name(delivery: &Delivery) -> &'static str {
    match delivery.action {
        Action::DevelopmentInfo => "development information",
        _ => "deployments",
    }
}

/// Per key of a development-information call: unknown to Jira; rejected when the repository
/// or every commit naming it failed; else stored.
fn devinfo_outcomes(delivery: &Delivery, body: &str, status: u16) -> Vec<KeyOutcome> {
    let Some(answer) = devinfo::parse_bulk_answer(body) else {
        return all(
            delivery,
            IssueResult::Failed,
            Some(status),
            Some(format!(
                "Jira answered {status} with a body that is not the development information answer"
            )),
        );
    };
    if !answer.repository_errors.is_empty() {
        let reason = format!(
            "the repository was rejected: {}",
            answer.repository_errors.join("; ")
        );
        return all(delivery, IssueResult::Rejected, Some(status), Some(reason));
    }
    let commits = delivery.body["repositories"][0]["commits"].as_array();
    delivery
        .keys
        .iter()
        .map(|key| {
            let naming: Vec<&str> = commits
                .into_iter()
                .flatten()
                .filter(|c| {
                    c["issueKeys"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == key.as_str()))
                })
                .filter_map(|c| c["id"].as_str())
                .collect();
            let failed: Vec<&(String, String)> = answer
                .failed
                .iter()
                .filter(|(id, _)| naming.contains(&id.as_str()))
                .collect();
            if answer.unknown_issue_keys.iter().any(|k| k == key) {
                let reason = Some("Jira does not know this issue".into());
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Unknown,
                    Some(status),
                    reason,
                )
            } else if !naming.is_empty() && failed.len() == naming.len() {
                let reasons: Vec<String> = failed
                    .iter()
                    .map(|(id, m)| format!("{}: {m}", &id[..id.len().min(7)]))
                    .collect();
                let reason = Some(format!("the commits were rejected: {}", reasons.join("; ")));
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Rejected,
                    Some(status),
                    reason,
                )
            } else {
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Linked,
                    Some(status),
                    None,
                )
            }
        })
        .collect()
}

/// Per key: unknown to Jira, rejected with the deployment, or recorded.
fn bulk_outcomes(delivery: &Delivery, body: &str, status: u16) -> Vec<KeyOutcome> {
    let Some(answer) = deployment::parse_bulk_answer(body) else {
        return all(
            delivery,
            IssueResult::Failed,
            Some(status),
            Some(format!(
                "Jira answered {status} with a body that is not the deployments answer: {}",
                response::describe(&crate::jira::client::Response {
                    status,
                    retry_after: None,
                    rate_limit_reset: None,
                    content_type: None,
                    location: None,
                    body: body.to_owned(),
                })
            )),
        );
    };
    let rejected = (!answer.rejected.is_empty()).then(|| answer.rejected.join("; "));
    delivery
        .keys
        .iter()
        .map(|key| {
            if answer.unknown_issue_keys.iter().any(|k| k == key) {
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Unknown,
                    Some(status),
                    Some("Jira does not know this issue".into()),
                )
            } else if let Some(reason) = &rejected {
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Rejected,
                    Some(status),
                    Some(format!("the deployment was rejected: {reason}")),
                )
            } else {
                outcome(
                    key,
                    delivery.action,
                    IssueResult::Linked,
                    Some(status),
                    None,
                )
            }
        })
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The site's `cloudId`, fetched once per run.
fn cloud_id(session: &Session, context: &Context, sent: &mut u32) -> Result<String, String> {
    let Ok(mut cached) = session.cloud_id.lock() else {
        return Err("internal: the cloudId cache is poisoned".into());
    };
    if let Some(id) = cached.as_ref() {
        return Ok(id.clone());
    }
    let url = deployment::tenant_info_url(&session.tracker.url);
    let request = Request {
        method: Method::Get,
        url: &url,
        auth: RequestAuth::None,
        body: Body::None,
        timeout: REQUEST_TIMEOUT,
    };
    let found = match attempt::send(
        session,
        request,
        Credential::None,
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(r) => deployment::parse_tenant_info(&r.body).ok_or_else(|| {
            format!("{url} answered without a cloudId: is the tracker's url a Jira Cloud site?")
        }),
        Sent::NotFound(r) | Sent::Refused { response: r, .. } => Err(format!(
            "cannot find the site's cloudId: {url}: {}; deployment records need a Jira Cloud site",
            response::describe(&r)
        )),
        Sent::Failed { reason, .. } => {
            Err(format!("cannot find the site's cloudId: {url}: {reason}"))
        }
    }?;
    *cached = Some(found.clone());
    Ok(found)
}

/// The OAuth token, fetched once per run (again when `refresh`, after a 401).
fn token(
    session: &Session,
    context: &Context,
    sent: &mut u32,
    refresh: bool,
) -> Result<String, String> {
    let Some(oauth) = &session.oauth else {
        return Err(format!(
            "tracker '{}' has no deployments: client credentials, which deployment records and development information need",
            session.tracker.name
        ));
    };
    let Ok(mut cached) = session.token.lock() else {
        return Err("internal: the token cache is poisoned".into());
    };
    if let Some((token, expires)) = cached.as_ref() {
        if !refresh && Instant::now() < *expires {
            return Ok(token.clone());
        }
    }
    let Some(deployments) = &session.tracker.deployments else {
        return Err("internal: OAuth credentials without deployments settings".into());
    };
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", oauth.client_id.expose()),
        ("client_secret", oauth.client_secret.expose()),
    ];
    let request = Request {
        method: Method::Post,
        url: &deployments.token_url,
        auth: RequestAuth::None,
        body: Body::Form(&form),
        timeout: REQUEST_TIMEOUT,
    };
    let answer = match attempt::send(session, request, Credential::None, Idempotency::Idempotent, context, sent) {
        Sent::Answer(r) => deployment::parse_token(&r.body).ok_or_else(|| {
            format!("{} answered without an access_token", deployments.token_url)
        }),
        Sent::NotFound(r) | Sent::Refused { response: r, .. } => Err(format!(
            "the OAuth token request was refused: {}; check the tracker's deployments client_id and \
             client_secret (created in Jira settings > Apps > OAuth credentials)",
            response::describe(&r)
        )),
        Sent::Failed { reason, .. } => Err(format!("cannot get an OAuth token: {reason}")),
    }?;
    // Renew a minute early; without `expires_in`, assume the hour Atlassian's tokens last.
    let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600).saturating_sub(60));
    *cached = Some((answer.access_token.clone(), Instant::now() + lifetime));
    Ok(answer.access_token)
}

/// SPEC 6.3: skip the issue if the deploy already commented, else comment and remember.
fn comment_once(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Vec<KeyOutcome> {
    let Some(key) = delivery.keys.first() else {
        return Vec::new();
    };
    let version = session.tracker.kind.rest_api_version();
    let property_url = comment::property_url(&session.tracker.url, version, key);
    // A 404 here means no property yet (or no issue: the comment's 404 will say which).
    let property: Option<Value> = match attempt::send_site(
        session,
        Method::Get,
        &property_url,
        None,
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(r) => serde_json::from_str::<Value>(&r.body)
            .ok()
            .map(|v| v["value"].clone()),
        Sent::NotFound(_) => None,
        other => return ended(session, delivery, other, Credential::Site),
    };
    if comment::already_commented(property.as_ref(), &delivery.deploy) {
        return all(
            delivery,
            IssueResult::Updated,
            None,
            Some("this deploy already commented on the issue".into()),
        );
    }
    // A spooled comment may have been posted by a run killed before it recorded it: the
    // comment carries the deploy's marker, so one look at the newest comments tells.
    let posted = if context.look_for_posted {
        let url = comment::recent_comments_url(&session.tracker.url, version, key);
        match attempt::send_site(
            session,
            Method::Get,
            &url,
            None,
            Idempotency::Idempotent,
            context,
            sent,
        ) {
            Sent::Answer(r) => serde_json::from_str::<Value>(&r.body)
                .is_ok_and(|page| comment::marked_comment(&page, &delivery.deploy)),
            other => return ended(session, delivery, other, Credential::Site),
        }
    } else {
        false
    };
    if !posted {
        if let Some(outcome) = post_comment(session, delivery, context, sent) {
            return outcome;
        }
    }
    let value = comment::remember(property.as_ref(), &delivery.deploy);
    match attempt::send_site(
        session,
        Method::Put,
        &property_url,
        Some(&value),
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(_) => all(delivery, IssueResult::Linked, Some(201), None),
        Sent::NotFound(r) | Sent::Refused { response: r, .. } => {
            remembered_failure(delivery, key, &response::describe(&r))
        }
        Sent::Failed { reason, .. } => remembered_failure(delivery, key, &reason),
    }
}

/// Posts the comment; `Some` with the outcome when it was not posted.
fn post_comment(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Option<Vec<KeyOutcome>> {
    // Not idempotent: a comment POST that may have been processed is not sent again.
    match attempt::send_site(
        session,
        Method::Post,
        &delivery.url,
        Some(&delivery.body),
        Idempotency::NotIdempotent,
        context,
        sent,
    ) {
        Sent::Answer(_) => None,
        other => Some(ended(session, delivery, other, Credential::Site)),
    }
}

/// The comment is posted, but the property that prevents a second one could not be written.
fn remembered_failure(delivery: &Delivery, key: &str, reason: &str) -> Vec<KeyOutcome> {
    let reason = format!(
        "commented, but could not record it in the issue property {}: {reason}; a re-run of this deploy may comment again",
        comment::PROPERTY_KEY
    );
    log::warn!("{key}: {reason}");
    all(delivery, IssueResult::Linked, Some(201), Some(reason))
}
