//! `transition`: an issue's status read, then one hop after another along the path.

use super::{read, unsent, Ended};
use crate::deliver::attempt;
use crate::deliver::attempt::{Context, Sent};
use crate::deliver::retry::Idempotency;
use crate::deliver::session::Session;
use crate::deliver::{outcome, Delivery, IssueResult, KeyOutcome};
use crate::jira::client::Method;
use crate::jira::transition::{self, Move, Status};

/// `transition`: the issue's status read, then one hop after another along the path, each
/// a read of the transitions open to it and the one that leads to the next status.
pub(in crate::deliver) fn transition(
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
        match attempt::send_site(
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
