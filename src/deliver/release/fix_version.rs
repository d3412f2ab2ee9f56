//! `fix-version`: the version of a deploy, found or created once per Jira project and run,
//! then added to each issue that lacks it.

use std::sync::Arc;

use serde_json::Value;

use super::{read, refusal, unsent, Ended};
use crate::deliver::attempt;
use crate::deliver::attempt::{Context, Sent};
use crate::deliver::retry::Idempotency;
use crate::deliver::session::Session;
use crate::deliver::{outcome, Delivery, IssueResult, KeyOutcome};
use crate::jira::client::Method;
use crate::jira::response;
use crate::jira::version::{self, Version};
use crate::plan::VersionPlan;

/// `fix-version`: the project's version (found or created once per run), then the issue's
/// versions read, and the version added only when it lacks it.
pub(in crate::deliver) fn fix_version(
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
    match attempt::send_site(
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
    let created = attempt::send_site(
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
    match attempt::send_site(
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
