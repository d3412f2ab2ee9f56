//! What a deploy will write to Jira, computed without writing anything: the `plan` command
//! prints it, `link --dry-run` reports it, and delivery executes exactly these requests.

use git2::Oid;
use serde::{Deserialize, Serialize};

use crate::config::{Environment, EnvironmentType, Project};
use crate::error::Result;

mod delivery;
pub mod deploy;
mod devinfo;
mod inputs;
mod release;
mod requests;
use crate::git::repo::Repo;
use crate::issues::{self, CommitFacts, IssueCommits, KeyIndex};
use crate::jira::remote_link;
use crate::keys::IssueKey;
use crate::range::{self, Base, CommitRange, Resolved, SizeRefusal, WalkOptions, WalkedCommit};
pub use delivery::{Delivery, Step, TransitionPlan, VersionPlan};
pub use devinfo::{plan_push, PushTarget};
pub use inputs::{prepare_inputs, prepare_pushes, prepare_with, DeployInputs};
pub use requests::remote_link_url;

/// The state a deploy reports (Jira Software's deployment states; `--state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    #[default]
    Successful,
    Failed,
    Pending,
    InProgress,
    Cancelled,
    RolledBack,
    Unknown,
}

impl DeployState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployState::Successful => "successful",
            DeployState::Failed => "failed",
            DeployState::Pending => "pending",
            DeployState::InProgress => "in_progress",
            DeployState::Cancelled => "cancelled",
            DeployState::RolledBack => "rolled_back",
            DeployState::Unknown => "unknown",
        }
    }

    /// Whether the deploy has shipped: it ended `successful`, or it is a rollback. Only such a
    /// deploy is commented on. A comment cannot be updated and is posted once per deploy (the
    /// same commit to the same environment), so one posted for `in_progress` or `failed` would
    /// keep a later successful run of the same deploy from saying it shipped; the remote link
    /// and the deployment record show every other state.
    pub fn has_shipped(self) -> bool {
        matches!(self, DeployState::Successful | DeployState::RolledBack)
    }
}

/// Facts about the CI run, when there is one: for templates and deployment records.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub url: Option<String>,
    pub id: Option<String>,
    /// The CI's run number: a deployment record's sequence number.
    pub number: Option<i64>,
}

pub use crate::range::BaseRule;

/// One deploy to plan.
pub struct DeployTarget<'a> {
    pub repo_name: &'a str,
    pub repo_url: Option<&'a str>,
    pub project: &'a Project,
    pub environment: &'a Environment,
    /// The full ref that was deployed, when known (`refs/heads/main`, `refs/tags/v1.2`).
    pub refname: Option<String>,
    pub to: Oid,
    pub base: BaseRule,
    /// With `BaseRule::Auto`: the base to use when there is no recorded deploy, before the
    /// tag rule (a hook's pushed range, the CI's previous commit).
    pub fallback: Option<Base>,
    pub walk: WalkOptions,
    /// The most issues the deploy writes to (`max_issues`).
    pub max_issues: usize,
    pub state: DeployState,
    pub run: RunInfo,
}

/// What happened to the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeStatus {
    /// The commits of the range are deployed.
    Deployed,
    /// `to` is older than the last recorded deploy: these commits left the environment.
    RolledBack,
    /// More commits than `max_commits`: nothing is written.
    TooLarge,
    /// A push that deploys nothing (a feature branch): only development information is sent.
    Pushed,
}

#[derive(Clone, Debug, Serialize)]
pub struct CommitSummary {
    pub id: String,
    pub subject: String,
}

/// A planned deploy.
#[derive(Clone, Debug)]
pub struct Deploy {
    /// The deploy's identity: the remote links' `globalId`
    /// (`deploylink:{repo}:{project}:{environment}:{to}`).
    pub id: String,
    pub project: String,
    pub environment: String,
    pub environment_type: EnvironmentType,
    pub refname: Option<String>,
    pub to: Oid,
    pub base: Base,
    pub state: DeployState,
    pub status: RangeStatus,
    pub max_commits: Option<usize>,
    /// Set when the range was refused for its size: `commits` is then empty, not the range.
    pub refused: Option<SizeRefusal>,
    pub commits: Vec<CommitSummary>,
    pub issues: Vec<IssueCommits>,
    /// The keys past `max_issues`, in range order: nothing is written to them.
    pub left_out: Vec<IssueKey>,
    /// The writes to Jira, in the order they are listed (sent concurrently).
    pub deliveries: Vec<Delivery>,
    /// Notes worth showing with the plan (no base found, a range refused, reverted keys, how
    /// comments and deployment records behave).
    pub notes: Vec<String>,
}

impl Deploy {
    /// The size of the range in words: `3 commits`, or `refused: more than 2,000 commits`.
    pub fn range_size(&self) -> String {
        match self.refused {
            Some(refused) => format!("refused: {}", refused.describe()),
            None => format!(
                "{} commit{}",
                self.commits.len(),
                if self.commits.len() == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Plans one deploy: its range, its keys, and the requests it will send.
pub fn plan_deploy(
    repo: &Repo,
    target: &DeployTarget<'_>,
    progress: &mut dyn FnMut(usize),
) -> Result<Deploy> {
    let project = target.project;
    let tags = environment_tags(target);
    let deployed = range::Deployed {
        project: project.name(),
        environment: &target.environment.name,
        to: target.to,
        refname: target.refname.as_deref(),
        fallback: target.fallback.clone(),
        tags: &tags,
    };
    let range::Choice {
        base,
        rollback_from,
        note,
    } = range::choose(repo, &target.base, &deployed)?;
    let notes: Vec<String> = note.into_iter().map(str::to_owned).collect();
    let rules = [project.key_rules().clone()];
    let facts = |_: Oid, message: &[u8]| CommitFacts::read(&rules, message);
    let resolved = match rollback_from {
        // The commits that left: reachable from the last deploy, not from `to`.
        Some(last) => {
            let leaving = Base {
                exclude: vec![target.to],
                source: base.source.clone(),
            };
            range::resolve(repo, last, leaving, target.walk, progress, &facts)?
        }
        None => range::resolve(repo, target.to, base.clone(), target.walk, progress, &facts)?,
    };
    let mut deploy = Deploy {
        id: remote_link::global_id(
            target.repo_name,
            project.name(),
            &target.environment.name,
            &target.to.to_string(),
        ),
        project: project.name().to_owned(),
        environment: target.environment.name.clone(),
        environment_type: target.environment.kind,
        refname: target.refname.clone(),
        to: target.to,
        base,
        state: if rollback_from.is_some() {
            DeployState::RolledBack
        } else {
            target.state
        },
        status: if rollback_from.is_some() {
            RangeStatus::RolledBack
        } else {
            RangeStatus::Deployed
        },
        max_commits: target.walk.max_commits,
        refused: None,
        commits: Vec::new(),
        issues: Vec::new(),
        left_out: Vec::new(),
        deliveries: Vec::new(),
        notes,
    };
    let Some(commits) = fill_range(
        repo,
        project,
        target.refname.as_deref(),
        target.max_issues,
        resolved,
        &mut deploy,
    )?
    else {
        return Ok(deploy);
    };
    // A rollback's commits left the environment: they are already known to Jira.
    let dev_commits = match deploy.status {
        RangeStatus::Deployed => devinfo::dev_commits(repo, project, target.repo_url, &commits)?,
        _ => Vec::new(),
    };
    let committed_at = repo.committed_at(target.to)?;
    requests::plan_requests(target, &mut deploy, &commits, committed_at, &dev_commits)?;
    Ok(deploy)
}

/// Fills `deploy` with its range's commits and issues (or, for a range refused for its size,
/// the refusal); returns the commits, `None` when refused.
fn fill_range(
    repo: &Repo,
    project: &Project,
    refname: Option<&str>,
    max_issues: usize,
    resolved: Resolved<CommitFacts>,
    deploy: &mut Deploy,
) -> Result<Option<Vec<WalkedCommit<CommitFacts>>>> {
    let rules = [project.key_rules().clone()];
    let range = match resolved {
        Resolved::Range(range) => range,
        Resolved::TooLarge { limit, .. } => {
            let refused = SizeRefusal { limit };
            deploy.status = RangeStatus::TooLarge;
            deploy.refused = Some(refused);
            deploy.notes.push(format!(
                "the range has {} (max_commits), so nothing will be written: \
                 this is usually the first push of an existing history or a wrong base; \
                 give a base with --from, or raise the limit with --max-commits",
                refused.describe()
            ));
            return Ok(None);
        }
    };
    let commits = owned_commits(repo, project, range)?;
    let branch_keys = crate::keys::branch_keys(&rules[..1], refname);
    let (shipped, dropped) = issues::without_reverted_pairs(&commits);
    let index = KeyIndex::build(branch_keys, &shipped);
    if !dropped.is_empty() {
        deploy.notes.push(format!(
            "{} {} mentioned only by commits reverted within this range, so nothing of {} is deployed: {}",
            dropped.len(),
            if dropped.len() == 1 { "key is" } else { "keys are" },
            if dropped.len() == 1 { "it" } else { "them" },
            dropped.iter().map(IssueKey::as_str).collect::<Vec<_>>().join(", ")
        ));
    }
    deploy.issues = index.into_vec();
    if deploy.issues.len() > max_issues {
        deploy.left_out = deploy
            .issues
            .split_off(max_issues)
            .into_iter()
            .map(|i| i.key)
            .collect();
        deploy
            .notes
            .push(left_out_note(&deploy.left_out, max_issues));
    }
    deploy.commits = commits
        .iter()
        .map(|c| CommitSummary {
            id: c.id.to_string(),
            subject: c.digest.subject.clone(),
        })
        .collect();
    Ok(Some(commits))
}

/// The note of a deploy that names more issues than `max_issues`: the first keys left out.
fn left_out_note(left_out: &[IssueKey], limit: usize) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<&str> = left_out.iter().take(SHOWN).map(IssueKey::as_str).collect();
    let more = match left_out.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more (`--format json` lists them all)"),
    };
    format!(
        "the range names more than {limit} issues (max_issues), so {} {} left out: {}{more}; \
         raise max_issues in the project file if this deploy really ships them",
        left_out.len(),
        if left_out.len() == 1 {
            "key is"
        } else {
            "keys are"
        },
        shown.join(", ")
    )
}

/// Monorepo: a project with `paths:` takes only the commits that change a matching path
/// relative to their first parent (a merge counts when it brings such a change).
fn owned_commits(
    repo: &Repo,
    project: &Project,
    range: CommitRange<CommitFacts>,
) -> Result<Vec<WalkedCommit<CommitFacts>>> {
    if !project.has_paths() {
        return Ok(range.commits);
    }
    let mut owned = Vec::new();
    for commit in range.commits {
        let paths = repo.changed_paths(commit.id)?;
        if paths.iter().any(|p| project.owns_path(p)) {
            owned.push(commit);
        }
    }
    Ok(owned)
}

/// The tags `last-tag` may pick: those matching the environment's `refs/tags/...` patterns,
/// or every tag when it has none.
fn environment_tags<'t>(target: &'t DeployTarget<'_>) -> impl Fn(&str) -> bool + 't {
    let environment = target.environment;
    let has_tag_patterns = environment
        .refs()
        .iter()
        .any(|r| r.starts_with("refs/tags/"));
    move |name: &str| !has_tag_patterns || environment.matches_ref(name)
}
