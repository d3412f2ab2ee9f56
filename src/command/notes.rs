//! `deploylink notes`: release notes of a commit range. The range is chosen as `keys` chooses
//! it, or with `--environment` as `plan` does (the last recorded deploy to it first); Jira is
//! asked for summaries, types and statuses, and its absence only leaves them out.

use std::io::Write;

use git2::Oid;

use super::{write_report, Progress};
use crate::command::cli::{GlobalArgs, NotesArgs};
use crate::config::{self, Config, TrustMode};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::issues::{CommitFacts, IssueCommits, KeyIndex};
use crate::keys::KeyRules;
use crate::notes;
use crate::plan::{self, BaseRule, CommitSummary, DeployInputs, DeployState, RunInfo};
use crate::range::{self, ParentMode, Resolved, WalkOptions};
use crate::report::{Group, Notes};

/// A range's commits and issues, however the base was chosen.
struct Shipped {
    from: Option<Oid>,
    base: String,
    commits: Vec<CommitSummary>,
    issues: Vec<IssueCommits>,
}

pub fn notes(global: &GlobalArgs, args: &NotesArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let to = repo.resolve(&args.range.to)?;
    let config = load_config(global, &repo, to)?;
    let shipped = match &args.environment {
        Some(environment) => {
            let config = config.as_ref().ok_or_else(|| {
                Error::usage(format!(
                    "--environment {environment} needs a project file ({}) that defines it",
                    config::PROJECT_FILE
                ))
            })?;
            planned(&repo, config, args, environment, to)?
        }
        None => walked(&repo, config.as_ref(), args, to)?,
    };
    let keys: Vec<String> = shipped
        .issues
        .iter()
        .map(|i| i.key.as_str().to_owned())
        .collect();
    let lookups = notes::look_up(config.as_ref(), &keys);
    for reason in &lookups.missing {
        log::warn!("{reason}");
    }
    let (groups, other_commits) = notes::assemble(&shipped.commits, &shipped.issues, &lookups);
    let report = Notes {
        from: shipped.from.map(|id| id.to_string()),
        to: to.to_string(),
        base: shipped.base,
        commits: shipped.commits.len(),
        groups: groups.into_iter().map(Group).collect(),
        other_commits,
        missing: lookups.missing,
    };
    write_report(out, global.format, &report)
}

/// The project file of `to` with the trackers, or `None` when the commit has none: notes
/// work without configuration.
fn load_config(global: &GlobalArgs, repo: &Repo, to: Oid) -> Result<Option<Config>> {
    let paths = global.config_paths();
    let Some(source) = config::project_source(&paths, repo, to)? else {
        return Ok(None);
    };
    let project = config::parse_project(&source, &config::RepoFacts::of(repo))?;
    let trackers = config::load_trackers(&paths, Some(repo.git_dir()), TrustMode::Client)?;
    Ok(Some(config::resolve(project, trackers, TrustMode::Client)?))
}

/// The range as `plan` resolves it for `environment`: one deploy per project that has it,
/// their commits and issues merged (a commit or a key once).
fn planned(
    repo: &Repo,
    config: &Config,
    args: &NotesArgs,
    environment: &str,
    to: Oid,
) -> Result<Shipped> {
    let inputs = DeployInputs {
        to,
        refname: repo.full_refname(&args.range.to),
        environment: Some(environment.to_owned()),
        projects: Vec::new(),
        base: args
            .range
            .from
            .as_deref()
            .map(BaseRule::parse)
            .unwrap_or_default(),
        fallback: None,
        state: DeployState::Successful,
        // Notes write nothing to Jira: the size limit of deploys does not apply.
        max_commits: Some(usize::MAX),
        repo_url: None,
        first_parent: args.range.first_parent,
        run: RunInfo::default(),
        mode: TrustMode::Client,
    };
    let mut progress = Progress::new();
    let deploys = plan::prepare_with(config, repo, &inputs, &mut |read| progress.update(read))?;
    let mut shipped = Shipped {
        from: deploys.first().and_then(|d| d.base.from()),
        base: deploys
            .first()
            .map(|d| d.base.source.describe())
            .unwrap_or_else(|| "none".to_owned()),
        commits: Vec::new(),
        issues: Vec::new(),
    };
    for deploy in deploys {
        for commit in deploy.commits {
            if !shipped.commits.iter().any(|c| c.id == commit.id) {
                shipped.commits.push(commit);
            }
        }
        for issue in deploy.issues {
            match shipped.issues.iter_mut().find(|i| i.key == issue.key) {
                Some(known) => known.commits.extend(
                    issue
                        .commits
                        .into_iter()
                        .filter(|c| !known.commits.contains(c))
                        .collect::<Vec<_>>(),
                ),
                None => shipped.issues.push(issue),
            }
        }
    }
    Ok(shipped)
}

/// The range as `keys` resolves it: `--from`, else the previous tag for a tag, else `to`
/// alone; keys by the project file's rules (every project's), else the default rules.
fn walked(repo: &Repo, config: Option<&Config>, args: &NotesArgs, to: Oid) -> Result<Shipped> {
    let rules: Vec<KeyRules> = match config {
        Some(config) => config
            .projects()
            .iter()
            .map(|p| p.key_rules().clone())
            .collect(),
        None => vec![KeyRules::default_rules()],
    };
    let refname = repo.full_refname(&args.range.to);
    let from = args.range.from.as_deref().map(BaseRule::parse);
    let (base, warning) = range::for_keys(repo, to, refname.as_deref(), from.as_ref())?;
    if let Some(warning) = warning {
        log::warn!("{warning}");
    }
    let options = WalkOptions {
        parents: ParentMode::first_parent(args.range.first_parent),
        max_commits: None,
    };
    let mut progress = Progress::new();
    let facts = |_: Oid, message: &[u8]| CommitFacts::read(&rules, message);
    let mut report = |read| progress.update(read);
    let Resolved::Range(range) = range::resolve(repo, to, base, options, &mut report, &facts)?
    else {
        return Err(Error::internal("an unlimited walk reported a size limit"));
    };
    let branch_keys = refname
        .as_deref()
        .filter(|r| r.starts_with("refs/heads/"))
        .map(|branch| {
            rules
                .iter()
                .flat_map(|r| r.extract_branch(branch))
                .collect()
        })
        .unwrap_or_default();
    let walked: Vec<_> = range.commits.iter().collect();
    let issues = KeyIndex::build(branch_keys, &walked).into_vec();
    Ok(Shipped {
        from: range.base.from(),
        base: range.base.source.describe(),
        commits: range
            .commits
            .iter()
            .map(|c| CommitSummary {
                id: c.id.to_string(),
                subject: c.digest.subject.clone(),
            })
            .collect(),
        issues,
    })
}
