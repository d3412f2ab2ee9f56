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
use crate::plan::{self, BaseRule, CommitSummary};
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

/// The range as a deploy to `environment` has it: per project that has the environment, the
/// base `plan` would choose (the last recorded deploy first) and the commits the project owns;
/// commits and keys of several projects merged (each once). Nothing is planned for Jira.
fn planned(
    repo: &Repo,
    config: &Config,
    args: &NotesArgs,
    environment: &str,
    to: Oid,
) -> Result<Shipped> {
    let refname = repo.full_refname(&args.range.to);
    let rule = args
        .range
        .from
        .as_deref()
        .map(BaseRule::parse)
        .unwrap_or_default();
    let targets = plan::deploy::targets(config, &[], Some(environment), refname.as_deref())?;
    let mut shipped = Shipped {
        from: None,
        base: "none".to_owned(),
        commits: Vec::new(),
        issues: Vec::new(),
    };
    let mut index = KeyIndex::default();
    for (n, (project, env)) in targets.into_iter().enumerate() {
        let has_tag_patterns = env.refs().iter().any(|r| r.starts_with("refs/tags/"));
        let tags = |name: &str| !has_tag_patterns || env.matches_ref(name);
        let deployed = range::Deployed {
            project: project.name(),
            environment: &env.name,
            to,
            refname: refname.as_deref(),
            fallback: None,
            tags: &tags,
        };
        let choice = range::choose(repo, &rule, &deployed)?;
        if let Some(note) = choice.note {
            log::warn!("{} -> {}: {note}", project.name(), env.name);
        }
        // A rollback ships nothing new: its notes are the commits that leave.
        let (tip, base) = match choice.rollback_from {
            Some(last) => (
                last,
                range::Base {
                    exclude: vec![to],
                    source: choice.base.source.clone(),
                },
            ),
            None => (to, choice.base.clone()),
        };
        if n == 0 {
            shipped.from = choice.base.from();
            shipped.base = match choice.rollback_from {
                Some(_) => format!(
                    "{}; a rollback: the commits listed leave {}",
                    choice.base.source.describe(),
                    env.name
                ),
                None => choice.base.source.describe(),
            };
        }
        let rules = [project.key_rules().clone()];
        let commits = walk(repo, tip, base, args.range.first_parent, &rules)?;
        for commit in commits {
            if project.has_paths() {
                let paths = repo.changed_paths(commit.id)?;
                if !paths.iter().any(|p| project.owns_path(p)) {
                    continue;
                }
            }
            for key in &commit.digest.keys {
                index.add(key.clone(), Some(commit.id));
            }
            let id = commit.id.to_string();
            if !shipped.commits.iter().any(|c| c.id == id) {
                shipped.commits.push(CommitSummary {
                    id,
                    subject: commit.digest.subject,
                });
            }
        }
    }
    shipped.issues = index.into_vec();
    Ok(shipped)
}

/// The commits from `tip` down to `base`, oldest first, with their subjects and keys.
fn walk(
    repo: &Repo,
    tip: Oid,
    base: range::Base,
    first_parent: bool,
    rules: &[KeyRules],
) -> Result<Vec<range::WalkedCommit<CommitFacts>>> {
    let options = WalkOptions {
        parents: ParentMode::first_parent(first_parent),
        max_commits: None,
    };
    let mut progress = Progress::new();
    let facts = |_: Oid, message: &[u8]| CommitFacts::read(rules, message);
    let mut report = |read| progress.update(read);
    match range::resolve(repo, tip, base, options, &mut report, &facts)? {
        Resolved::Range(range) => Ok(range.commits),
        Resolved::TooLarge { .. } => {
            Err(Error::internal("an unlimited walk reported a size limit"))
        }
    }
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
    let (from, described) = (base.from(), base.source.describe());
    let commits = walk(repo, to, base, args.range.first_parent, &rules)?;
    let branch_keys = crate::keys::branch_keys(&rules, refname.as_deref());
    let walked: Vec<_> = commits.iter().collect();
    let issues = KeyIndex::build(branch_keys, &walked).into_vec();
    Ok(Shipped {
        from,
        base: described,
        commits: commits
            .iter()
            .map(|c| CommitSummary {
                id: c.id.to_string(),
                subject: c.digest.subject.clone(),
            })
            .collect(),
        issues,
    })
}
