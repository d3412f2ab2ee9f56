//! The requests a planned deploy will send: one remote link per issue (SPEC 6.1).

use std::collections::HashMap;

use super::{Deploy, DeployState, DeployTarget, PlannedRequest};
use crate::config::{Action, Project, Tracker};
use crate::error::{Error, Result};
use crate::issues::CommitFacts;
use crate::jira::remote_link::{self, Application, Icon, RemoteLinkRequest, RemoteObject, Status};
use crate::keys::IssueKey;
use crate::range::WalkedCommit;
use crate::template::Placeholder;

/// The remote-link requests (SPEC 6.1), one per issue.
pub(super) fn plan_requests(
    target: &DeployTarget<'_>,
    deploy: &mut Deploy,
    commits: &[WalkedCommit<CommitFacts>],
) -> Result<()> {
    let project = target.project;
    for action in project.actions() {
        if *action != Action::RemoteLink {
            deploy.notes.push(format!(
                "action '{}' is not planned by this version of deploylink; only remote-link is",
                action.as_str()
            ));
        }
    }
    if !project.actions().contains(&Action::RemoteLink) || deploy.issues.is_empty() {
        return Ok(());
    }
    let tracker = project.tracker()?;
    let subjects: HashMap<String, String> = commits
        .iter()
        .map(|c| (c.id.to_string(), c.digest.subject.clone()))
        .collect();
    let value = |p: Placeholder| placeholder_value(target, deploy, p);
    let title = remote_link::truncate(&project.link_title().render(&value), remote_link::TEXT_MAX);
    let url = link_url(target, deploy, project)?;
    let global_id = remote_link::global_id(
        target.repo_name,
        project.name(),
        &deploy.environment,
        &deploy.to.to_string(),
    );
    for issue in &deploy.issues {
        let summary: Vec<&str> = issue
            .commits
            .iter()
            .filter_map(|id| subjects.get(id).map(String::as_str))
            .collect();
        let body = RemoteLinkRequest {
            global_id: global_id.clone(),
            application: Application {
                kind: "deploylink".into(),
                name: "deploylink".into(),
            },
            relationship: "deployed in".into(),
            object: RemoteObject {
                url: url.clone(),
                title: title.clone(),
                summary: remote_link::truncate(&summary.join("; "), remote_link::TEXT_MAX),
                icon: Icon {
                    url_16x16: None,
                    title: format!("Deployment to {}", deploy.environment),
                },
                status: Status {
                    resolved: deploy.state == DeployState::Successful,
                },
            },
        };
        deploy.requests.push(PlannedRequest {
            tracker: tracker.name.clone(),
            key: issue.key.clone(),
            method: "POST",
            url: remote_link_url(tracker, &issue.key),
            body,
        });
    }
    Ok(())
}

pub fn remote_link_url(tracker: &Tracker, key: &IssueKey) -> String {
    format!(
        "{}/rest/api/{}/issue/{}/remotelink",
        tracker.url,
        tracker.kind.rest_api_version(),
        key
    )
}

/// `link.url`, or when it renders empty (`{run_url}` outside CI) the commit page under
/// `repo_url`; a link needs a URL, so with neither the plan fails with a hint.
fn link_url(target: &DeployTarget<'_>, deploy: &Deploy, project: &Project) -> Result<String> {
    let value = |p: Placeholder| placeholder_value(target, deploy, p);
    let url = project.link_url().render(&value);
    if !url.trim().is_empty() {
        return Ok(url);
    }
    match target.repo_url {
        Some(repo_url) => Ok(format!("{}/commit/{}", repo_url.trim_end_matches('/'), deploy.to)),
        None => Err(Error::usage(format!(
            "project '{}': link.url (\"{}\") is empty for this deploy, and the repository's web URL is unknown\n  \
             hint: set `repo_url:` in .deploylink.yml, give a remote named origin with an https URL, \
             or set link.url to a URL that does not depend on CI",
            project.name(),
            project.link_url().as_str()
        ))),
    }
}

fn placeholder_value(target: &DeployTarget<'_>, deploy: &Deploy, p: Placeholder) -> Option<String> {
    let refname = target.refname.as_deref();
    match p {
        Placeholder::Project => Some(deploy.project.clone()),
        Placeholder::Environment => Some(deploy.environment.clone()),
        Placeholder::Repo => Some(target.repo_name.to_owned()),
        Placeholder::RepoUrl => target.repo_url.map(str::to_owned),
        Placeholder::Ref => refname.map(str::to_owned),
        Placeholder::Branch => refname
            .and_then(|r| r.strip_prefix("refs/heads/"))
            .map(str::to_owned),
        Placeholder::Tag => refname
            .and_then(|r| r.strip_prefix("refs/tags/"))
            .map(str::to_owned),
        Placeholder::From => deploy.base.from().map(|id| id.to_string()),
        Placeholder::To => Some(deploy.to.to_string()),
        Placeholder::ShortSha => Some(deploy.to.to_string()[..7].to_owned()),
        Placeholder::RunUrl => target.run.url.clone(),
        Placeholder::RunId => target.run.id.clone(),
        Placeholder::State => Some(deploy.state.as_str().to_owned()),
    }
}
