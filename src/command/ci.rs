//! `deploylink ci`: the provider's environment (SPEC 9) fills what the flags leave out, the
//! base follows SPEC 4's order, and a shallow checkout is deepened in bounded steps until the
//! range is whole, or the run fails naming the fix.

use std::io::Write;

use super::link::{deliver_deploys, Delivering};
use super::prepare_inputs;
use crate::command::cli::{CiArgs, CiState, GlobalArgs};
use crate::config::{Config, Tracker, TrustMode};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::GitError;
use crate::plan::DeployInputs;
use crate::plan::{BaseRule, Deploy, DeployState, RunInfo};
use crate::range::{self, Base};

/// `git fetch --deepen` steps: CI checkouts hold 1 to 50 commits; after these the history
/// is as deep as a deploy's range reasonably is, and the run fails with the fix instead.
const DEEPEN_STEPS: [u32; 4] = [50, 200, 1000, 5000];

pub fn ci(global: &GlobalArgs, args: &CiArgs, out: &mut dyn Write) -> Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let state = deploy_state(args.state, &env)?;
    let detected = crate::ci::detect(&env, &|path| std::fs::read(path))?;
    for note in &detected.notes {
        log::warn!("{note}");
    }
    match detected.provider {
        Some(provider) => log::info!("CI: {}", provider.name()),
        None => log::warn!(
            "no CI provider detected: using the flags, HEAD and the project file's rules"
        ),
    }
    let mut repo = Repo::open(global.repo.as_deref())?;
    let mut deepened = 0;
    let to_rev = args
        .to
        .clone()
        .or(detected.to.clone())
        .unwrap_or_else(|| "HEAD".into());
    let to = repo.resolve(&to_rev)?;
    let refname = args
        .refname
        .clone()
        .or(detected.refname.clone())
        .or_else(|| repo.full_refname(&to_rev));
    let run = RunInfo {
        url: args.run_url.clone().or(detected.run_url.clone()),
        id: args.run_id.clone().or(detected.run_id.clone()),
        number: args.run_number.or(detected.run_number),
    };
    let base = args
        .from
        .as_deref()
        .map(BaseRule::parse)
        .unwrap_or_default();
    let ci_previous = match (&base, detected.base.as_deref()) {
        (BaseRule::Auto, Some(before)) => ci_base(&mut repo, before, &mut deepened)?,
        _ => None,
    };
    let inputs = DeployInputs {
        to,
        refname,
        environment: args.environment.clone().or(detected.environment.clone()),
        projects: args.projects.clone(),
        base,
        fallback: ci_previous,
        state,
        max_commits: args.max_commits,
        repo_url: args.repo_url.clone().or(detected.repo_url.clone()),
        first_parent: args.first_parent,
        run,
        mode: TrustMode::Client,
    };
    let (config, deploys) = plan_deepening(global, &mut repo, &inputs, &mut deepened)?;
    let trackers: Vec<&Tracker> = config.trackers().map(|(t, _)| t).collect();
    let mut how = Delivering::from_args(&args.delivery)?;
    how.options.not_spooled = super::link::not_spooled(&config);
    how.options.history.run = inputs.run.clone();
    deliver_deploys(global, &repo, &trackers, &deploys, how, out)
}

/// The state to report: the flag's, or with `from-job` the CI job's own result.
fn deploy_state(state: CiState, env: &dyn Fn(&str) -> Option<String>) -> Result<DeployState> {
    match state {
        CiState::Given(state) => Ok(state),
        CiState::FromJob => job_state(env),
    }
}

/// The CI job's result as a final state (a usage error when the CI gives none).
fn job_state(env: &dyn Fn(&str) -> Option<String>) -> Result<DeployState> {
    let job = crate::ci::job_status(env)?;
    let state = match job.result {
        crate::ci::JobResult::Succeeded => DeployState::Successful,
        crate::ci::JobResult::Failed => DeployState::Failed,
        crate::ci::JobResult::Cancelled => DeployState::Cancelled,
    };
    log::info!(
        "--state from-job: {}={} reports the deploy {}",
        job.variable,
        job.value,
        state.as_str()
    );
    Ok(state)
}

/// The CI's previous commit as a base, deepening a shallow clone until it is there. A commit
/// that is not in a full history (a force push rewrote it) is dropped with a warning, and
/// the next rule of SPEC 4 applies.
fn ci_base(repo: &mut Repo, before: &str, deepened: &mut usize) -> Result<Option<Base>> {
    loop {
        match repo.resolve(before) {
            Ok(id) => return Ok(Some(range::ci_previous(id))),
            Err(_) if repo.is_shallow() => deepen(repo, deepened)?,
            Err(_) => {
                log::warn!(
                    "the CI's previous commit {before} is not in this repository (a force push may have \
                     replaced it): the base falls back to a tag or the deployed commit alone"
                );
                return Ok(None);
            }
        }
    }
}

/// Plans, and while the range runs into a shallow clone's cut-off, deepens and plans again.
fn plan_deepening(
    global: &GlobalArgs,
    repo: &mut Repo,
    inputs: &DeployInputs,
    deepened: &mut usize,
) -> Result<(Config, Vec<Deploy>)> {
    loop {
        match prepare_inputs(global, repo, inputs) {
            Err(Error::Git(GitError::ShallowRange { .. } | GitError::ShallowMissing { .. }))
                if repo.is_shallow() && *deepened < DEEPEN_STEPS.len() =>
            {
                deepen(repo, deepened)?
            }
            other => return other,
        }
    }
}

/// One `git fetch --deepen=N` step, then the repository is opened again (new packs, a new
/// shallow file).
fn deepen(repo: &mut Repo, deepened: &mut usize) -> Result<()> {
    let Some(&depth) = DEEPEN_STEPS.get(*deepened) else {
        return Err(GitError::ShallowMissing {
            what: format!(
                "the deploy's base after deepening the clone by {} commits",
                DEEPEN_STEPS.iter().sum::<u32>()
            ),
        }
        .into());
    };
    *deepened += 1;
    let dir = repo
        .git()
        .workdir()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| repo.git_dir().to_path_buf());
    log::warn!("shallow clone: git fetch --deepen={depth}");
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["fetch", "--quiet", &format!("--deepen={depth}")])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| Error::io("run git fetch --deepen", e))?;
    if !status.success() {
        return Err(GitError::ShallowMissing {
            what: format!("more history (`git fetch --deepen={depth}` failed)"),
        }
        .into());
    }
    *repo = Repo::open(Some(&dir))?;
    Ok(())
}
