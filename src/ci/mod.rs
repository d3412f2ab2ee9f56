//! CI providers: what a CI's environment says about the run (SPEC 9), for `deploylink ci`.
//!
//! [`detect`] is pure: it reads variables through a lookup function and, for GitHub Actions only,
//! the event payload file named by `GITHUB_EVENT_PATH` through a read function, so tests pass
//! recorded environments and fixture payloads. It fills what the CI offers and leaves the rest
//! `None`; the caller lets every explicit flag win over a detected value.
//!
//! Decisions the SPEC leaves open:
//! - An empty or all-blank variable counts as unset, and values are trimmed. `true` flags
//!   (`GITHUB_ACTIONS`, `TF_BUILD`, ...) are compared case-insensitively.
//! - A commit (the deployed one or a base) must look like a commit id: 7 to 64 hex digits. An
//!   all-zeros id (a new branch, a GitLab merge-request pipeline) or anything else (Buildkite's
//!   `HEAD`) is no commit, with a note that says why.
//! - Refs are full: branch names become `refs/heads/...`, tag names `refs/tags/...`, and a tag wins
//!   over a branch. A ref git would refuse (`git check-ref-format`) is dropped with a note.
//!   Jenkins: `TAG_NAME` (set by multibranch pipelines for tag builds) wins over `GIT_BRANCH`.
//! - Repository URLs are web URLs: `https://host/path`, without credentials (Azure puts the
//!   organization in `BUILD_REPOSITORY_URI` as `https://org@dev.azure.com/...`), a trailing `.git`
//!   or a trailing `/`. `git@host:path` and `ssh://git@host/path` become `https://host/path` where
//!   the SPEC allows them (CircleCI, Buildkite). Bitbucket's `http://bitbucket.org/...` origin is
//!   upgraded to https.
//! - A run number that is not an `i64` is an error ([`CiError::RunNumber`]), not a note: it would
//!   otherwise silently lose the deployment's sequence number.

mod env;
mod github;
mod job;
mod providers;

use std::fmt;
use std::path::{Path, PathBuf};

use env::Env;
pub use job::{job_status, JobResult, JobStatus, JOB_STATUS_VARIABLE};

/// A CI provider of SPEC 9, in detection order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    GitHubActions,
    GitLab,
    Bitbucket,
    Jenkins,
    CircleCi,
    Azure,
    Buildkite,
}

impl Provider {
    /// Every provider, in the order [`detect`] tries them.
    pub const ALL: [Provider; 7] = [
        Provider::GitHubActions,
        Provider::GitLab,
        Provider::Bitbucket,
        Provider::Jenkins,
        Provider::CircleCi,
        Provider::Azure,
        Provider::Buildkite,
    ];

    /// The provider's own name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHubActions => "GitHub Actions",
            Provider::GitLab => "GitLab CI",
            Provider::Bitbucket => "Bitbucket Pipelines",
            Provider::Jenkins => "Jenkins",
            Provider::CircleCi => "CircleCI",
            Provider::Azure => "Azure Pipelines",
            Provider::Buildkite => "Buildkite",
        }
    }

    /// Whether the environment is this provider's.
    fn is_present(self, env: &Env) -> bool {
        match self {
            Provider::GitHubActions => env.is_true("GITHUB_ACTIONS"),
            Provider::GitLab => env.is_true("GITLAB_CI"),
            Provider::Bitbucket => env.var("BITBUCKET_BUILD_NUMBER").is_some(),
            Provider::Jenkins => env.var("JENKINS_URL").is_some(),
            Provider::CircleCi => env.is_true("CIRCLECI"),
            Provider::Azure => env.is_true("TF_BUILD"),
            Provider::Buildkite => env.is_true("BUILDKITE"),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the CI's environment says about the run. Every field is optional: a flag fills what is
/// missing, and a flag always wins (the caller does that).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detected {
    /// `None`: not in a known CI (and every other field is empty).
    pub provider: Option<Provider>,
    /// The deployed commit's id.
    pub to: Option<String>,
    /// The CI's own previous commit: never the all-zeros id, `None` when the CI gives none.
    pub base: Option<String>,
    /// The deployed ref, full: `refs/heads/main`, `refs/tags/v1.2`.
    pub refname: Option<String>,
    pub run_url: Option<String>,
    pub run_id: Option<String>,
    pub run_number: Option<i64>,
    /// The repository's web URL (https), when the CI tells it.
    pub repo_url: Option<String>,
    /// The environment the CI deploys to (`CI_ENVIRONMENT_NAME`, `BITBUCKET_DEPLOYMENT_ENVIRONMENT`).
    pub environment: Option<String>,
    /// Things worth a warning, as sentences (a variable that was ignored and why, no CI base).
    pub notes: Vec<String>,
}

/// Why the CI's environment cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CiError {
    /// The GitHub event payload named by `GITHUB_EVENT_PATH` cannot be read.
    #[error(
        "cannot read the GitHub event payload {} (named by GITHUB_EVENT_PATH): {source}\n  \
         hint: run in the GitHub Actions job that wrote it, or give the base with --from",
        path.display()
    )]
    EventRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The GitHub event payload is not JSON, or not a JSON object.
    #[error(
        "the GitHub event payload {} (named by GITHUB_EVENT_PATH) is not a JSON object: {reason}\n  \
         hint: run in the GitHub Actions job that wrote it, or give the base with --from",
        path.display()
    )]
    EventPayload { path: PathBuf, reason: String },
    /// A run number variable that is set but not an `i64`.
    #[error(
        "{variable} is '{value}', which is not a run number\n  \
         hint: set {variable} to an integer, or unset it"
    )]
    RunNumber {
        variable: &'static str,
        /// The value as quoted: control characters escaped, cut at 80 characters.
        value: String,
    },
    /// `--state from-job` where no variable holds the job's result.
    #[error(
        "--state from-job: no job result: {looked_for} is not set ({provider})\n  hint: {hint}"
    )]
    NoJobStatus {
        provider: &'static str,
        /// The variable or variables read, in order.
        looked_for: String,
        hint: &'static str,
    },
    /// `--state from-job` where the job's result is not a known value.
    #[error(
        "--state from-job: {variable} is '{value}', which is not a job result\n  \
         hint: expected {expected}"
    )]
    JobStatus {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// The repository's name as a CI gives it: the variable, and its value (`acme/shop`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CiRepository {
    /// The variable (or variables, joined by `/`) it was read from.
    pub variable: &'static str,
    pub value: String,
}

/// The repository's name from the detected CI's own variable: `GITHUB_REPOSITORY`,
/// `CI_PROJECT_PATH`, `BITBUCKET_REPO_FULL_NAME`, the path of Jenkins' `GIT_URL`,
/// `CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME`, `BUILD_REPOSITORY_NAME`,
/// `BUILDKITE_PIPELINE_SLUG`. `None` outside a known CI or when the variable is unset. Only
/// variables are read, never a file, so any command may ask.
pub fn repository(env: &dyn Fn(&str) -> Option<String>) -> Option<CiRepository> {
    let env = Env::new(env);
    let provider = Provider::ALL.into_iter().find(|p| p.is_present(&env))?;
    let from = |variable: &'static str| {
        env.var(variable)
            .map(|value| CiRepository { variable, value })
    };
    match provider {
        Provider::GitHubActions => from("GITHUB_REPOSITORY"),
        Provider::GitLab => from("CI_PROJECT_PATH"),
        Provider::Bitbucket => from("BITBUCKET_REPO_FULL_NAME"),
        Provider::Jenkins => {
            let value = crate::git::remote::url_path(&env.var("GIT_URL")?)?;
            Some(CiRepository {
                variable: "GIT_URL",
                value,
            })
        }
        Provider::CircleCi => {
            let (user, repo) = (
                env.var("CIRCLE_PROJECT_USERNAME"),
                env.var("CIRCLE_PROJECT_REPONAME")?,
            );
            Some(CiRepository {
                variable: "CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME",
                value: user.map_or(repo.clone(), |user| format!("{user}/{repo}")),
            })
        }
        Provider::Azure => from("BUILD_REPOSITORY_NAME"),
        Provider::Buildkite => from("BUILDKITE_PIPELINE_SLUG"),
    }
}

/// Detects the provider from `env` (a lookup of environment variables; empty values count as
/// unset) and reads what it offers. `read_file` reads the GitHub event payload named by
/// `GITHUB_EVENT_PATH` (the binary passes `std::fs::read`).
pub fn detect(
    env: &dyn Fn(&str) -> Option<String>,
    read_file: &dyn Fn(&Path) -> std::io::Result<Vec<u8>>,
) -> Result<Detected, CiError> {
    let mut env = Env::new(env);
    let Some(provider) = Provider::ALL.into_iter().find(|p| p.is_present(&env)) else {
        return Ok(Detected::default());
    };
    let mut detected = match provider {
        Provider::GitHubActions => github::read(&mut env, read_file)?,
        Provider::GitLab => providers::gitlab(&mut env)?,
        Provider::Bitbucket => providers::bitbucket(&mut env)?,
        Provider::Jenkins => providers::jenkins(&mut env)?,
        Provider::CircleCi => providers::circleci(&mut env)?,
        Provider::Azure => providers::azure(&mut env)?,
        Provider::Buildkite => providers::buildkite(&mut env)?,
    };
    detected.provider = Some(provider);
    detected.notes = env.into_notes();
    Ok(detected)
}
