//! What a deploy is, however it was asked for (flags, a CI's environment, a pushed ref), and
//! the planning of every deploy it makes: one per project and environment it maps to.

use git2::Oid;

use super::{deploy, plan_deploy, BaseRule, Deploy, DeployState, DeployTarget, RunInfo};
use crate::config::{self, Config, ConfigPaths, TrustMode};
use crate::error::Result;
use crate::git::remote::{self, UrlForms};
use crate::git::Repo;
use crate::range::{Base, ParentMode, WalkOptions};

/// What a deploy is, however it was asked for: flags (`plan`, `link`), a CI's environment
/// (`ci`) or a pushed ref (`hook post-receive`).
#[derive(Clone, Debug)]
pub struct DeployInputs {
    pub to: Oid,
    pub refname: Option<String>,
    pub environment: Option<String>,
    pub projects: Vec<String>,
    pub base: BaseRule,
    /// With `BaseRule::Auto`, used when no deploy was recorded (see `plan::DeployTarget`).
    pub fallback: Option<Base>,
    pub state: DeployState,
    pub max_commits: Option<usize>,
    pub repo_url: Option<String>,
    pub first_parent: bool,
    pub run: RunInfo,
    pub mode: TrustMode,
}

/// Plans the deploys `inputs` describe, with the project file of the deployed commit.
pub fn prepare_inputs(
    paths: &ConfigPaths,
    repo: &Repo,
    inputs: &DeployInputs,
    progress: &mut dyn FnMut(usize),
) -> Result<(Config, Vec<Deploy>)> {
    let config = config::load_config(paths, repo, inputs.to, inputs.mode)?;
    let deploys = prepare_with(&config, repo, inputs, progress)?;
    Ok((config, deploys))
}

/// Plans the deploys `inputs` describe with `config`, already loaded.
pub fn prepare_with(
    config: &Config,
    repo: &Repo,
    inputs: &DeployInputs,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Deploy>> {
    let repo_name = config.identity().name().to_owned();
    log::debug!(
        "repository: {repo_name} (from {})",
        config.identity().describe_source()
    );
    let repo_url = inputs
        .repo_url
        .clone()
        .or_else(|| config.repo_url().map(str::to_owned))
        .or_else(|| origin_web_url(repo));
    let targets = deploy::targets(
        config,
        &inputs.projects,
        inputs.environment.as_deref(),
        inputs.refname.as_deref(),
    )?;
    let max_commits = inputs
        .max_commits
        .unwrap_or(usize::try_from(config.max_commits()).unwrap_or(usize::MAX));
    let mut deploys = Vec::new();
    for (project, environment) in targets {
        let target = DeployTarget {
            repo_name: &repo_name,
            repo_url: repo_url.as_deref(),
            project,
            environment,
            refname: inputs.refname.clone(),
            to: inputs.to,
            base: inputs.base.clone(),
            fallback: inputs.fallback.clone(),
            walk: WalkOptions {
                parents: ParentMode::first_parent(inputs.first_parent),
                max_commits: Some(max_commits),
            },
            max_issues: usize::try_from(config.max_issues()).unwrap_or(usize::MAX),
            state: inputs.state,
            run: inputs.run.clone(),
        };
        let started = std::time::Instant::now();
        let deploy = plan_deploy(repo, &target, progress)?;
        log::debug!(
            "{} -> {}: base {}, {}, {} issues, planned in {:?}",
            deploy.project,
            deploy.environment,
            deploy.base.source.describe(),
            deploy.range_size(),
            deploy.issues.len(),
            started.elapsed()
        );
        for note in &deploy.notes {
            log::warn!("{} -> {}: {note}", deploy.project, deploy.environment);
        }
        deploys.push(deploy);
    }
    Ok(deploys)
}

/// The web URL of `remote.origin.url`: `https://host/path` as is, `git@host:path.git` as
/// `https://host/path`; other forms are not guessed.
fn origin_web_url(repo: &Repo) -> Option<String> {
    let remote = repo.git().find_remote("origin").ok()?;
    remote::web_url(remote.url().ok()?, UrlForms::HttpsOrSsh)
}

/// The pushes of a branch `refname` moved to `to` for each project that lists
/// `development-info` but deploys nothing from that ref: their development information only.
pub fn prepare_pushes(
    config: &Config,
    repo: &Repo,
    refname: &str,
    to: Oid,
    base: &Base,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Deploy>> {
    if !refname.starts_with("refs/heads/") {
        return Ok(Vec::new());
    }
    let repo_name = config.identity().name().to_owned();
    let repo_url = config
        .repo_url()
        .map(str::to_owned)
        .or_else(|| origin_web_url(repo));
    let max_commits = usize::try_from(config.max_commits()).unwrap_or(usize::MAX);
    let mut pushes = Vec::new();
    for project in config.projects() {
        let sends = project
            .actions()
            .contains(&crate::config::Action::DevelopmentInfo);
        if !sends || project.environment_for_ref(refname).is_some() {
            continue;
        }
        let target = super::PushTarget {
            repo_name: &repo_name,
            repo_url: repo_url.as_deref(),
            project,
            refname,
            to,
            base: base.clone(),
            walk: WalkOptions {
                parents: ParentMode::first_parent(false),
                max_commits: Some(max_commits),
            },
            max_issues: usize::try_from(config.max_issues()).unwrap_or(usize::MAX),
        };
        let push = super::plan_push(repo, &target, progress)?;
        if push.deliveries.is_empty() && push.refused.is_none() {
            log::debug!(
                "{} pushed {refname}: no commit names an issue",
                push.project
            );
            continue;
        }
        log::debug!(
            "{} pushed {refname}: {}, {} issues, {} development information calls",
            push.project,
            push.range_size(),
            push.issues.len(),
            push.deliveries.len()
        );
        pushes.push(push);
    }
    Ok(pushes)
}
