//! The deliveries of the `fix-version` and `transition` actions: one per issue, each a read
//! that decides and a write made only when needed, so that a re-run of a deploy (or a retry
//! from the spool) only reads.
//!
//! A fix version is found or created once per Jira project and run, however many issues
//! share it: delivery keeps what it found per tracker, so the issues of a project wait for
//! one lookup and are then edited concurrently.

use serde_json::json;

use super::{Deploy, DeployState, DeployTarget, RangeStatus};
use crate::config::release_name_problem;
use crate::config::{Action, Project, Tracker};
use crate::error::Result;
use crate::jira::{transition, version};
use crate::plan::delivery::{Step, TransitionPlan, VersionPlan};
use crate::plan::Delivery;
use crate::template::Placeholder;

/// Whether the deploy changes its issues' versions and statuses: only a successful deploy
/// of new commits does (a failed, pending or rolled-back deploy leaves them alone).
fn moves_issues(deploy: &Deploy) -> bool {
    deploy.state == DeployState::Successful && deploy.status == RangeStatus::Deployed
}

/// The `fix-version` deliveries of `deploy`, one per issue.
pub(super) fn fix_versions(
    target: &DeployTarget<'_>,
    tracker: &Tracker,
    deploy: &Deploy,
    value: &dyn Fn(Placeholder) -> Option<String>,
    out: &mut Vec<Delivery>,
    notes: &mut Vec<String>,
) -> Result<()> {
    let project: &Project = target.project;
    let Some(rule) = project.fix_version() else {
        return Ok(());
    };
    if !rule.applies_to(target.refname.as_deref()) {
        notes.push("fix-version: not a tag deploy, so no version is set (`fix_version.on: every-deploy` sets one on every deploy)".into());
        return Ok(());
    }
    if !moves_issues(deploy) {
        notes.push(format!(
            "fix-version: a {} deploy sets no version",
            deploy.state.as_str()
        ));
        return Ok(());
    }
    let name = rule.name.render(value);
    if let Some(problem) = release_name_problem(&name) {
        return Err(rule.name_error(problem).into());
    }
    let description = rule.description.as_ref().map(|d| d.render(value));
    let release_date = rule.release_on.contains(&deploy.environment).then(today);
    let api = tracker.kind.rest_api_version();
    let site = tracker.url.as_str();
    for issue in &deploy.issues {
        let key = issue.key.as_str();
        let plan = VersionPlan {
            project: issue.key.project().to_owned(),
            name: name.clone(),
            description: description.clone(),
            release_date: release_date.clone(),
        };
        let body = version::add_body(version::VERSION_ID);
        let url = version::issue_url(site, api, key);
        let mut steps = version_steps(tracker, &plan);
        steps.push(step(
            "GET",
            version::issue_read_url(site, api, key),
            "always",
            None,
        ));
        steps.push(step(
            "PUT",
            url.clone(),
            &format!("if {key} lacks version \"{name}\" ({{versionId}}: its id)"),
            Some(body.clone()),
        ));
        out.push(Delivery {
            tracker: tracker.name.clone(),
            action: Action::FixVersion,
            deploy: deploy.id.clone(),
            keys: vec![key.to_owned()],
            method: "PUT".into(),
            url,
            body,
            left_out: Vec::new(),
            fix_version: Some(plan),
            transition: None,
            steps,
        });
    }
    Ok(())
}

/// The requests that find (or create, or release) the version, made once per Jira project.
fn version_steps(tracker: &Tracker, plan: &VersionPlan) -> Vec<Step> {
    let api = tracker.kind.rest_api_version();
    let site = tracker.url.as_str();
    let once = format!("once per run for project {}", plan.project);
    let mut steps = vec![
        step(
            "GET",
            version::lookup_url(site, tracker.kind, &plan.project, &plan.name),
            &format!("{once}: find version \"{}\"", plan.name),
            None,
        ),
        step(
            "GET",
            version::project_url(site, api, &plan.project),
            &format!("{once}, if the version does not exist: the project's id"),
            None,
        ),
        step(
            "POST",
            version::create_url(site, api),
            &format!("{once}, if the version does not exist"),
            Some({
                let mut body = version::create_body(&plan.name, 0, plan.description.as_deref());
                body["projectId"] = json!("{projectId}");
                body
            }),
        ),
    ];
    if let Some(date) = &plan.release_date {
        steps.push(step(
            "PUT",
            version::update_url(site, api, version::VERSION_ID),
            &format!("{once}, if the version is not released yet"),
            Some(version::release_body(date)),
        ));
    }
    steps
}

/// The `transition` deliveries of `deploy`, one per issue.
pub(super) fn transitions(
    tracker: &Tracker,
    project: &Project,
    deploy: &Deploy,
    out: &mut Vec<Delivery>,
    notes: &mut Vec<String>,
) {
    let Some(rule) = project.transition_for(&deploy.environment) else {
        notes.push(format!(
            "transition: `transition:` names no status for {}, so issues keep theirs",
            deploy.environment
        ));
        return;
    };
    if !moves_issues(deploy) {
        notes.push(format!(
            "transition: a {} deploy moves no issue",
            deploy.state.as_str()
        ));
        return;
    }
    let api = tracker.kind.rest_api_version();
    let site = tracker.url.as_str();
    let plan = TransitionPlan {
        path: rule.path.clone(),
        fields: rule.fields.clone(),
    };
    for issue in &deploy.issues {
        let key = issue.key.as_str();
        let url = transition::transitions_url(site, api, key);
        let body = transition::body(transition::TRANSITION_ID, &plan.fields);
        let mut steps = vec![step(
            "GET",
            transition::status_url(site, api, key),
            "always: the issue's status and its category",
            None,
        )];
        for (i, status) in plan.path.iter().enumerate() {
            let when = format!("if {key} is before {status} on the path (and not done)");
            // The screen's fields go with the transition into the target only.
            let fields = if i + 1 == plan.path.len() {
                body.clone()
            } else {
                transition::body(transition::TRANSITION_ID, &serde_json::Map::new())
            };
            steps.push(step("GET", url.clone(), &when, None));
            steps.push(step(
                "POST",
                url.clone(),
                &format!("{when}: the transition to {status} ({{transitionId}}: its id)"),
                Some(fields),
            ));
        }
        out.push(Delivery {
            tracker: tracker.name.clone(),
            action: Action::Transition,
            deploy: deploy.id.clone(),
            keys: vec![key.to_owned()],
            method: "POST".into(),
            url,
            body,
            left_out: Vec::new(),
            fix_version: None,
            transition: Some(plan.clone()),
            steps,
        });
    }
}

fn step(method: &str, url: String, when: &str, body: Option<serde_json::Value>) -> Step {
    Step {
        method: method.into(),
        url,
        when: when.into(),
        body,
    }
}

/// Today's date, `YYYY-MM-DD` (UTC): a released version's release date.
fn today() -> String {
    crate::time::format_date(crate::time::now())
}
