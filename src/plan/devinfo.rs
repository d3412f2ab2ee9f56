//! Development information (the `development-info` action): the commits of a push or a
//! deploy that name an issue, as bulk calls of at most [`devinfo::MAX_COMMITS`] commits, and
//! the planning of a push that deploys nothing (a feature branch), which sends only these.

use std::time::{Duration, UNIX_EPOCH};

use git2::Oid;

use super::{fill_range, Delivery, Deploy, DeployState, RangeStatus};
use crate::config::{Action, EnvironmentType, Project, Tracker};
use crate::error::{Error, Result};
use crate::git::{GitError, Repo};
use crate::issues::CommitFacts;
use crate::jira::devinfo::{self, DevCommit, RepositoryFacts};
use crate::range::{self, Base, WalkOptions, WalkedCommit};

/// A push to a ref that maps to no environment, for a project with `development-info`.
pub struct PushTarget<'a> {
    pub repo_name: &'a str,
    pub repo_url: Option<&'a str>,
    pub project: &'a Project,
    pub refname: &'a str,
    pub to: Oid,
    /// The pushed range's base (`range::push_base`: the old tip, or for a new branch the refs
    /// as they were before the push).
    pub base: Base,
    pub walk: WalkOptions,
    pub max_issues: usize,
}

/// Plans a push that deploys nothing: its range and its development information, reported
/// as a deploy with status `pushed` and no environment. Nothing is recorded for it.
pub fn plan_push(
    repo: &Repo,
    target: &PushTarget<'_>,
    progress: &mut dyn FnMut(usize),
) -> Result<Deploy> {
    let project = target.project;
    let rules = [project.key_rules().clone()];
    let facts = |_: Oid, message: &[u8]| CommitFacts::read(&rules, message);
    let resolved = range::resolve(
        repo,
        target.to,
        target.base.clone(),
        target.walk,
        progress,
        &facts,
    )?;
    let mut deploy = Deploy {
        id: push_id(target),
        project: project.name().to_owned(),
        environment: String::new(),
        environment_type: EnvironmentType::Unmapped,
        refname: Some(target.refname.to_owned()),
        to: target.to,
        base: target.base.clone(),
        state: DeployState::Successful,
        status: RangeStatus::Pushed,
        max_commits: target.walk.max_commits,
        refused: None,
        commits: Vec::new(),
        issues: Vec::new(),
        left_out: Vec::new(),
        deliveries: Vec::new(),
        notes: Vec::new(),
    };
    let Some(commits) = fill_range(
        repo,
        project,
        Some(target.refname),
        target.max_issues,
        resolved,
        &mut deploy,
    )?
    else {
        return Ok(deploy);
    };
    let dev_commits = dev_commits(repo, project, target.repo_url, &commits)?;
    let tracker = project.tracker()?;
    deploy.deliveries = deliveries(
        tracker,
        &deploy.id,
        target.repo_name,
        target.repo_url,
        &dev_commits,
    );
    Ok(deploy)
}

/// A push's identity in reports and the spool: like a deploy's, with the ref for environment.
fn push_id(target: &PushTarget<'_>) -> String {
    crate::jira::remote_link::global_id(
        target.repo_name,
        target.project.name(),
        &format!("push {}", target.refname),
        &target.to.to_string(),
    )
}

/// The commits of `commits` that name an issue, as development information; empty unless
/// the project lists `development-info`. Each commit is read once more for its author, its
/// whole message and the files it changes.
pub(super) fn dev_commits(
    repo: &Repo,
    project: &Project,
    repo_url: Option<&str>,
    commits: &[WalkedCommit<CommitFacts>],
) -> Result<Vec<DevCommit>> {
    if !project.actions().contains(&Action::DevelopmentInfo) {
        return Ok(Vec::new());
    }
    let naming: Vec<&WalkedCommit<CommitFacts>> = commits
        .iter()
        .filter(|c| !c.digest.keys.is_empty())
        .collect();
    if naming.is_empty() {
        return Ok(Vec::new());
    }
    let Some(repo_url) = repo_url else {
        return Err(Error::usage(format!(
            "project '{}' lists `development-info`, which needs each commit's web URL, but the \
             repository's web URL is unknown\n  hint: set `repo_url:` in .deploylink.yml, or give \
             a remote named origin with an https URL",
            project.name()
        )));
    };
    naming
        .into_iter()
        .map(|c| dev_commit(repo, repo_url, c))
        .collect()
}

fn dev_commit(
    repo: &Repo,
    repo_url: &str,
    walked: &WalkedCommit<CommitFacts>,
) -> Result<DevCommit> {
    let id = walked.id;
    let commit = repo
        .git()
        .find_commit(id)
        .map_err(|source| GitError::Read { id, source })?;
    let author = commit.author();
    let seconds = u64::try_from(author.when().seconds()).unwrap_or(0);
    let time = UNIX_EPOCH + Duration::from_secs(seconds);
    let hash = id.to_string();
    Ok(DevCommit {
        keys: walked.digest.keys.iter().map(|k| k.to_string()).collect(),
        message: String::from_utf8_lossy(commit.message_bytes())
            .trim_end()
            .to_owned(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        author_time: humantime::format_rfc3339_seconds(time).to_string(),
        url: format!("{}/commit/{hash}", repo_url.trim_end_matches('/')),
        file_count: u32::try_from(repo.changed_paths(id)?.len()).unwrap_or(u32::MAX),
        merge: commit.parent_count() > 1,
        id: hash,
    })
}

/// One bulk call per [`devinfo::MAX_COMMITS`] commits, each for the keys its commits name.
pub(super) fn deliveries(
    tracker: &Tracker,
    deploy_id: &str,
    repo_name: &str,
    repo_url: Option<&str>,
    commits: &[DevCommit],
) -> Vec<Delivery> {
    let Some(repo_url) = repo_url else {
        return Vec::new(); // no commit names an issue (dev_commits checked the URL otherwise)
    };
    let repository = RepositoryFacts {
        identity: repo_name,
        url: repo_url,
    };
    let api_url = tracker
        .deployments
        .as_ref()
        .map(|d| d.api_url.as_str())
        .unwrap_or(crate::config::DEFAULT_DEPLOYMENTS_API_URL);
    commits
        .chunks(devinfo::MAX_COMMITS)
        .map(|chunk| {
            let mut keys: Vec<String> = Vec::new();
            for key in chunk.iter().flat_map(|c| &c.keys) {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
            Delivery {
                tracker: tracker.name.clone(),
                action: Action::DevelopmentInfo,
                deploy: deploy_id.to_owned(),
                keys,
                method: "POST".into(),
                url: devinfo::bulk_url(api_url, "{cloudId}"),
                body: devinfo::request_body(&repository, chunk),
                left_out: Vec::new(),
                fix_version: None,
                transition: None,
                steps: Vec::new(),
            }
        })
        .collect()
}
