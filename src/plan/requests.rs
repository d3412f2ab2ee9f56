//! The writes a planned deploy makes (SPEC 6), as [`Delivery`] values: a remote link per
//! issue, one deployment record for the deploy, a comment per issue.

use std::collections::HashMap;

use super::Delivery;
use super::{Deploy, DeployState, DeployTarget};
use crate::config::{Action, Project, Tracker};
use crate::error::{Error, Result};
use crate::issues::CommitFacts;
use crate::jira::comment::{self, CommentFacts};
use crate::jira::deployment::{self, DeploymentFacts, MAX_ASSOCIATIONS};
use crate::jira::devinfo::{self, DevCommit};
use crate::jira::remote_link::{self, Application, Icon, RemoteLinkRequest, RemoteObject, Status};
use crate::keys::IssueKey;
use crate::range::WalkedCommit;
use crate::template::Placeholder;

/// Adds the deliveries of each of the project's actions to `deploy`.
pub(super) fn plan_requests(
    target: &DeployTarget<'_>,
    deploy: &mut Deploy,
    commits: &[WalkedCommit<CommitFacts>],
    committed_at: i64,
    dev_commits: &[DevCommit],
) -> Result<()> {
    if deploy.issues.is_empty() {
        return Ok(());
    }
    let project = target.project;
    let tracker = project.tracker()?;
    let value = |p: Placeholder| placeholder_value(target, deploy, p);
    let title = remote_link::truncate(&project.link_title().render(&value), remote_link::TEXT_MAX);
    let url = link_url(target, deploy, project)?;
    let subjects: HashMap<String, String> = commits
        .iter()
        .map(|c| (c.id.to_string(), c.digest.subject.clone()))
        .collect();
    let text = Text {
        title: &title,
        url: &url,
        subjects: &subjects,
        dev_commits,
    };
    let mut deliveries = Vec::new();
    let mut notes = Vec::new();
    for action in project.actions() {
        match action {
            Action::RemoteLink => remote_links(tracker, deploy, &text, &mut deliveries),
            Action::Deployment => deliveries.push(deployment_record(
                target,
                tracker,
                deploy,
                &text,
                committed_at,
            )),
            Action::Comment if deploy.state.has_shipped() => {
                comments(tracker, deploy, &text, &mut deliveries)
            }
            Action::Comment => notes.push(format!(
                "no comment for a deploy that is {}: the comment is posted once the same deploy is reported successful",
                deploy.state.as_str()
            )),
            Action::FixVersion => super::release::fix_versions(
                target,
                tracker,
                deploy,
                &value,
                &mut deliveries,
                &mut notes,
            )?,
            Action::Transition => {
                super::release::transitions(tracker, project, deploy, &mut deliveries, &mut notes)
            }
            Action::DevelopmentInfo => deliveries.extend(super::devinfo::deliveries(
                tracker,
                &deploy.id,
                target.repo_name,
                target.repo_url,
                dev_commits,
            )),
        }
    }
    deploy.notes.extend(notes);
    if let Some(record) = deliveries.iter().find(|d| !d.left_out.is_empty()) {
        deploy.notes.push(format!(
            "the deployment record carries the first {MAX_ASSOCIATIONS} issue keys; {} more are reported as rejected",
            record.left_out.len()
        ));
    }
    if deliveries.iter().any(|d| d.action == Action::Comment) {
        deploy.notes.push(format!(
            "a comment is posted only if the issue property {} does not list this deploy yet",
            comment::PROPERTY_KEY
        ));
    }
    deploy.deliveries = deliveries;
    Ok(())
}

/// What every action says about the deploy.
struct Text<'a> {
    title: &'a str,
    url: &'a str,
    subjects: &'a HashMap<String, String>,
    /// With `development-info`: the commits that name an issue (empty otherwise).
    dev_commits: &'a [DevCommit],
}

impl Text<'_> {
    /// The subjects of `commits`, for a link's summary.
    fn subjects_of(&self, commits: &[String]) -> Vec<&str> {
        commits
            .iter()
            .filter_map(|id| self.subjects.get(id).map(String::as_str))
            .collect()
    }
}

fn remote_links(tracker: &Tracker, deploy: &Deploy, text: &Text<'_>, out: &mut Vec<Delivery>) {
    for issue in &deploy.issues {
        let body = RemoteLinkRequest {
            global_id: deploy.id.clone(),
            application: Application {
                kind: "deploylink".into(),
                name: "deploylink".into(),
            },
            relationship: "deployed in".into(),
            object: RemoteObject {
                url: text.url.to_owned(),
                title: text.title.to_owned(),
                summary: remote_link::truncate(
                    &text.subjects_of(&issue.commits).join("; "),
                    remote_link::TEXT_MAX,
                ),
                icon: Icon {
                    url_16x16: None,
                    title: format!("Deployment to {}", deploy.environment),
                },
                status: Status {
                    resolved: deploy.state == DeployState::Successful,
                },
            },
        };
        out.push(Delivery {
            tracker: tracker.name.clone(),
            action: Action::RemoteLink,
            deploy: deploy.id.clone(),
            keys: vec![issue.key.to_string()],
            method: "POST".into(),
            url: remote_link_url(tracker, &issue.key),
            body: serde_json::to_value(&body).unwrap_or_default(),
            left_out: Vec::new(),
            fix_version: None,
            transition: None,
            steps: Vec::new(),
        });
    }
}

/// SPEC 6.2: stable identity (pipeline = repo + project, environment = its name, sequence =
/// the CI run number, else the deployed commit's time), issue keys first, at most 500.
fn deployment_record(
    target: &DeployTarget<'_>,
    tracker: &Tracker,
    deploy: &Deploy,
    text: &Text<'_>,
    committed_at: i64,
) -> Delivery {
    let keys: Vec<String> = deploy.issues.iter().map(|i| i.key.to_string()).collect();
    let (sent, left_out) = keys.split_at(keys.len().min(MAX_ASSOCIATIONS));
    // Commit associations take what the issue keys leave of the 500 values.
    let commits: Vec<String> = text
        .dev_commits
        .iter()
        .take(MAX_ASSOCIATIONS - sent.len())
        .map(|c| c.id.clone())
        .collect();
    let repository_id = devinfo::repository_id(target.repo_name);
    let to = deploy.to.to_string();
    let short = &to[..7];
    let pipeline_id = format!("{}/{}", target.repo_name, deploy.project);
    let pipeline_name = format!("{} {}", target.repo_name, deploy.project);
    let label = target
        .refname
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/tags/"))
        .unwrap_or(short);
    let display_name = format!("{} {label}", deploy.project);
    let last_updated = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let facts = DeploymentFacts {
        pipeline_id: &pipeline_id,
        pipeline_name: &pipeline_name,
        pipeline_url: target.repo_url.unwrap_or(text.url),
        environment: &deploy.environment,
        environment_type: deploy.environment_type.as_str(),
        sequence_number: target.run.number.unwrap_or(committed_at),
        display_name: &display_name,
        description: text.title,
        label,
        url: text.url,
        state: deploy.state.as_str(),
        last_updated: &last_updated,
        keys: sent,
        commits: &commits,
        repository_id: &repository_id,
    };
    let api_url = tracker
        .deployments
        .as_ref()
        .map(|d| d.api_url.as_str())
        .unwrap_or(crate::config::DEFAULT_DEPLOYMENTS_API_URL);
    Delivery {
        tracker: tracker.name.clone(),
        action: Action::Deployment,
        deploy: deploy.id.clone(),
        keys: sent.to_vec(),
        method: "POST".into(),
        url: deployment::bulk_url(api_url, "{cloudId}"),
        body: deployment::request_body(&facts),
        left_out: left_out.to_vec(),
        fix_version: None,
        transition: None,
        steps: Vec::new(),
    }
}

fn comments(tracker: &Tracker, deploy: &Deploy, text: &Text<'_>, out: &mut Vec<Delivery>) {
    let version = tracker.kind.rest_api_version();
    for issue in &deploy.issues {
        let lines: Vec<String> = issue
            .commits
            .iter()
            .map(|id| {
                let subject = text.subjects.get(id).map(String::as_str).unwrap_or("");
                format!("{}  {subject}", &id[..id.len().min(7)])
            })
            .collect();
        let facts = CommentFacts {
            title: text.title,
            url: text.url,
            commits: &lines,
        };
        out.push(Delivery {
            tracker: tracker.name.clone(),
            action: Action::Comment,
            deploy: deploy.id.clone(),
            keys: vec![issue.key.to_string()],
            method: "POST".into(),
            url: comment::comment_url(&tracker.url, version, issue.key.as_str()),
            body: comment::request_body(tracker.kind, &facts, &deploy.id),
            left_out: Vec::new(),
            fix_version: None,
            transition: None,
            steps: Vec::new(),
        });
    }
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
