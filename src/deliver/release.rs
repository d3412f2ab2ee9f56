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
use crate::jira::client::{Body, Method, Request, RequestAuth, Response, REQUEST_TIMEOUT};
use crate::jira::transition::{self, Move};
use crate::jira::version::{self, Version};
use crate::jira::{response, transition::Status};
use crate::plan::VersionPlan;

/// What a run found or made of each version: `(project, name, released on this run)`.
pub(super) type VersionCache = Mutex<HashMap<(String, String, bool), Arc<Mutex<Option<Found>>>>>;

/// A version as a run knows it, or how finding or creating it ended.
type Found = Result<Version, Ended>;

/// How an issue's delivery ended, when it ended early.
#[derive(Clone, Debug)]
pub(super) struct Ended {
    result: IssueResult,
    status: Option<u16>,
    reason: String,
}

impl Ended {
    fn new(result: IssueResult, status: Option<u16>, reason: impl Into<String>) -> Ended {
        Ended {
            result,
            status,
            reason: reason.into(),
        }
    }

    fn outcomes(self, delivery: &Delivery) -> Vec<KeyOutcome> {
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

/// One request with the site's credentials.
fn send(
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
    attempt::send(
        session,
        request,
        Credential::Site,
        idempotency,
        context,
        sent,
    )
}

/// A GET whose answer must be JSON; anything else ends the delivery.
fn read(
    session: &Session,
    url: &str,
    context: &Context,
    sent: &mut u32,
    fix: &str,
) -> Result<Value, Ended> {
    match send(
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
fn unsent(session: &Session, sent: Sent, fix: &str) -> Ended {
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

fn refusal(status: u16, response: &Response, fix: &str) -> Ended {
    Ended::new(
        IssueResult::Rejected,
        Some(status),
        format!("{}; {fix}", response::describe(response)),
    )
}

/// `fix-version`: the project's version (found or created once per run), then the issue's
/// versions read, and the version added only when it lacks it.
pub(super) fn fix_version(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Vec<KeyOutcome> {
    let (Some(plan), Some(key)) = (&delivery.fix_version, delivery.keys.first()) else {
        return Ended::new(
            IssueResult::Failed,
            None,
            "internal: a fix-version delivery without its version",
        )
        .outcomes(delivery);
    };
    let found = match cached_version(session, plan, context, sent) {
        Ok(found) => found,
        Err(ended) => return ended.outcomes(delivery),
    };
    let api = session.tracker.kind.rest_api_version();
    let site = &session.tracker.url;
    let edit_fix = format!(
        "add the Fix versions field to the edit screen of project {}, and give the account Edit Issues there",
        plan.project
    );
    let issue = match read(
        session,
        &version::issue_read_url(site, api, key),
        context,
        sent,
        &edit_fix,
    ) {
        Ok(issue) => issue,
        Err(ended) => return ended.outcomes(delivery),
    };
    if version::issue_has(&issue, &found.id) {
        return Ended::new(
            IssueResult::Updated,
            None,
            format!("already in version \"{}\"", found.name),
        )
        .outcomes(delivery);
    }
    let body = version::add_body(&found.id);
    match send(
        session,
        Method::Put,
        &version::issue_url(site, api, key),
        Some(&body),
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(r) => vec![outcome(
            key,
            delivery.action,
            IssueResult::Linked,
            Some(r.status),
            Some(format!("added to version \"{}\"", found.name)),
        )],
        other => unsent(session, other, &edit_fix).outcomes(delivery),
    }
}

/// The version of `plan`, found or created by the first delivery of its project in this
/// run; the others wait for it and use what it found.
fn cached_version(
    session: &Session,
    plan: &VersionPlan,
    context: &Context,
    sent: &mut u32,
) -> Result<Version, Ended> {
    let slot = {
        let Ok(mut cache) = session.versions.lock() else {
            return Err(Ended::new(
                IssueResult::Failed,
                None,
                "internal: the version cache is poisoned",
            ));
        };
        let id = (
            plan.project.clone(),
            plan.name.clone(),
            plan.release_date.is_some(),
        );
        Arc::clone(cache.entry(id).or_default())
    };
    let Ok(mut held) = slot.lock() else {
        return Err(Ended::new(
            IssueResult::Failed,
            None,
            "internal: the version cache is poisoned",
        ));
    };
    if let Some(found) = held.as_ref() {
        return found.clone();
    }
    let found = find_or_create(session, plan, context, sent)
        .and_then(|v| release(session, plan, v, context, sent));
    *held = Some(found.clone());
    found
}

fn find_or_create(
    session: &Session,
    plan: &VersionPlan,
    context: &Context,
    sent: &mut u32,
) -> Result<Version, Ended> {
    if let Some(found) = find(session, plan, context, sent)? {
        return Ok(found);
    }
    let api = session.tracker.kind.rest_api_version();
    let site = &session.tracker.url;
    let fix = format!(
        "give the account Administer Projects in project {p}, or create version \"{n}\" in project {p} by hand (deploylink then finds it)",
        p = plan.project,
        n = plan.name
    );
    let project = read(
        session,
        &version::project_url(site, api, &plan.project),
        context,
        sent,
        &fix,
    )?;
    let Some(project_id) = version::project_id(&project) else {
        return Err(Ended::new(
            IssueResult::Failed,
            None,
            format!("the answer about project {} has no id", plan.project),
        ));
    };
    let body = version::create_body(&plan.name, project_id, plan.description.as_deref());
    let created = send(
        session,
        Method::Post,
        &version::create_url(site, api),
        Some(&body),
        Idempotency::NotIdempotent,
        context,
        sent,
    );
    match created {
        Sent::Answer(r) => serde_json::from_str::<Value>(&r.body)
            .ok()
            .as_ref()
            .and_then(version::parse)
            .ok_or_else(|| {
                Ended::new(
                    IssueResult::Failed,
                    Some(r.status),
                    format!("{}: not a version", response::describe_body(&r)),
                )
            }),
        // Refused: another run may have created it meanwhile (Jira refuses a second version of
        // the same name); otherwise the account may not create versions.
        other => match find(session, plan, context, sent)? {
            Some(found) => Ok(found),
            None => {
                let ended = match other {
                    Sent::NotFound(r) => refusal(r.status, &r, &fix),
                    other => unsent(session, other, &fix),
                };
                Err(Ended {
                    reason: format!(
                        "cannot create version \"{}\" in project {}: {}",
                        plan.name, plan.project, ended.reason
                    ),
                    ..ended
                })
            }
        },
    }
}

/// The version named `plan.name` in its project, if it exists.
fn find(
    session: &Session,
    plan: &VersionPlan,
    context: &Context,
    sent: &mut u32,
) -> Result<Option<Version>, Ended> {
    let site = &session.tracker.url;
    let fix = format!(
        "give the account Browse Projects in project {}",
        plan.project
    );
    if session.tracker.kind.rest_api_version() == 2 {
        let url = version::lookup_url(site, session.tracker.kind, &plan.project, &plan.name);
        return Ok(version::find(
            &read(session, &url, context, sent, &fix)?,
            &plan.name,
        ));
    }
    let mut start = 0;
    loop {
        let url = version::page_url(site, &plan.project, &plan.name, start);
        let page = read(session, &url, context, sent, &fix)?;
        if let Some(found) = version::find(&page, &plan.name) {
            return Ok(Some(found));
        }
        if version::is_last_page(&page) {
            return Ok(None);
        }
        start += page["values"].as_array().map_or(0, |v| v.len() as u64);
    }
}

/// Marks the version released with the deploy's date, unless it is already released.
fn release(
    session: &Session,
    plan: &VersionPlan,
    found: Version,
    context: &Context,
    sent: &mut u32,
) -> Result<Version, Ended> {
    let Some(date) = &plan.release_date else {
        return Ok(found);
    };
    if found.released {
        return Ok(found);
    }
    let api = session.tracker.kind.rest_api_version();
    let url = version::update_url(&session.tracker.url, api, &found.id);
    let fix = format!(
        "give the account Administer Projects in project {p}, or release version \"{n}\" by hand",
        p = plan.project,
        n = found.name
    );
    match send(
        session,
        Method::Put,
        &url,
        Some(&version::release_body(date)),
        Idempotency::Idempotent,
        context,
        sent,
    ) {
        Sent::Answer(_) => Ok(Version {
            released: true,
            ..found
        }),
        other => {
            let ended = unsent(session, other, &fix);
            Err(Ended {
                reason: format!(
                    "cannot release version \"{}\": {}",
                    found.name, ended.reason
                ),
                ..ended
            })
        }
    }
}

/// `transition`: the issue's status read, then one hop after another along the path, each
/// a read of the transitions open to it and the one that leads to the next status.
pub(super) fn transition(
    session: &Session,
    delivery: &Delivery,
    context: &Context,
    sent: &mut u32,
) -> Vec<KeyOutcome> {
    let (Some(plan), Some(key)) = (&delivery.transition, delivery.keys.first()) else {
        return Ended::new(
            IssueResult::Failed,
            None,
            "internal: a transition delivery without its path",
        )
        .outcomes(delivery);
    };
    let api = session.tracker.kind.rest_api_version();
    let site = &session.tracker.url;
    let browse = format!(
        "give the account Browse Projects in project {}",
        key_project(key)
    );
    let issue = match read(
        session,
        &transition::status_url(site, api, key),
        context,
        sent,
        &browse,
    ) {
        Ok(issue) => issue,
        Err(ended) => return ended.outcomes(delivery),
    };
    let Some(status) = transition::parse_status(&issue) else {
        return Ended::new(
            IssueResult::Failed,
            None,
            format!("Jira's answer about {key} has no status"),
        )
        .outcomes(delivery);
    };
    let hops = match transition::plan_move(&status, &plan.path) {
        Move::AtTarget => {
            return Ended::new(
                IssueResult::Updated,
                None,
                format!("already {}", status.name),
            )
            .outcomes(delivery)
        }
        Move::Ahead(reason) => {
            return Ended::new(IssueResult::Updated, None, reason).outcomes(delivery)
        }
        Move::Hops(hops) => hops,
    };
    match walk(session, delivery, key, &status, &hops, context, sent) {
        Ok(moved) => vec![outcome(
            key,
            delivery.action,
            IssueResult::Linked,
            Some(204),
            Some(moved),
        )],
        Err(ended) => ended.outcomes(delivery),
    }
}

/// Takes each hop; `Ok` with the way the issue went (`To Do -> In Progress -> Done`).
fn walk(
    session: &Session,
    delivery: &Delivery,
    key: &str,
    from: &Status,
    hops: &[String],
    context: &Context,
    sent: &mut u32,
) -> Result<String, Ended> {
    let api = session.tracker.kind.rest_api_version();
    let url = transition::transitions_url(&session.tracker.url, api, key);
    let fields = delivery
        .transition
        .as_ref()
        .map(|p| p.fields.clone())
        .unwrap_or_default();
    let no_fields = serde_json::Map::new();
    let mut way = vec![from.name.clone()];
    let permission = format!(
        "give the account Transition Issues in project {}",
        key_project(key)
    );
    for (i, hop) in hops.iter().enumerate() {
        let current = way.last().cloned().unwrap_or_default();
        let moved = |ended: Ended| {
            if way.len() > 1 {
                Ended {
                    reason: format!("moved {}; then: {}", way.join(" -> "), ended.reason),
                    ..ended
                }
            } else {
                ended
            }
        };
        let open = read(session, &url, context, sent, &permission).map_err(moved)?;
        let open = transition::parse_transitions(&open);
        let Some(taken) = transition::leading_to(&open, hop) else {
            return Err(moved(Ended::new(
                IssueResult::Rejected,
                None,
                format!(
                    "no transition from {current} to {hop}; the transitions open to {key} were: {}",
                    transition::describe(&open)
                ),
            )));
        };
        // The screen fields belong to the transition into the target: the screens of the
        // hops before it may not have them, and Jira refuses a field off the screen.
        let last = i + 1 == hops.len();
        let body = transition::body(&taken.id, if last { &fields } else { &no_fields });
        let fix = format!(
            "set the transition screen's required fields under `transition.{}.fields`, or {permission}",
            environment_of(&delivery.deploy)
        );
        match send(
            session,
            Method::Post,
            &url,
            Some(&body),
            Idempotency::NotIdempotent,
            context,
            sent,
        ) {
            Sent::Answer(_) => way.push(taken.to.clone()),
            other => return Err(moved(unsent(session, other, &fix))),
        }
    }
    Ok(way.join(" -> "))
}

fn key_project(key: &str) -> &str {
    key.rsplit_once('-').map_or(key, |(p, _)| p)
}

/// The environment of a deploy id (`deploylink:{repo}:{project}:{environment}:{to}`).
fn environment_of(deploy: &str) -> &str {
    deploy.rsplit(':').nth(1).unwrap_or("<environment>")
}
