//! `deploylink keys`: the Jira issue keys of a commit range, or of text on stdin.

use std::io::{Read, Write};

use git2::Oid;

use super::{write_report, Progress};
use crate::command::cli::{GlobalArgs, KeysArgs};
use crate::config::{self, TrustMode};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::issues::{CommitFacts, IssueCommits, KeyIndex};
use crate::keys::{KeyRules, KeyRulesError, KeyRulesSpec};
use crate::plan::BaseRule;
use crate::range::{self, ParentMode, Resolved, WalkOptions};
use crate::report::{Format, Keys};

pub fn keys(global: &GlobalArgs, args: &KeysArgs, out: &mut dyn Write) -> Result<()> {
    let flag_rules = (!args.projects.is_empty() || args.case_insensitive).then(|| KeyRulesSpec {
        projects: args.projects.clone(),
        case_insensitive: args.case_insensitive,
        ..KeyRulesSpec::default()
    });
    let flag_rules = match flag_rules {
        Some(spec) => Some(compile_flag_rules(&spec)?),
        None => None,
    };
    if args.stdin {
        let mut text = Vec::new();
        std::io::stdin()
            .read_to_end(&mut text)
            .map_err(|e| Error::io("read stdin", e))?;
        let rules = flag_rules.unwrap_or_else(KeyRules::default_rules);
        let mut index = KeyIndex::default();
        rules.for_each_key(&text, |key| index.add(key, None));
        return write_keys(out, global.format, &index.into_vec(), 0);
    }
    let repo = Repo::open(global.repo.as_deref())?;
    let to = repo.resolve(&args.range.to)?;
    let rules = match flag_rules {
        Some(rules) => vec![rules],
        // The project file's key rules when there is one; trackers are not needed here.
        None => match config::project_source(&global.config_paths(), &repo, to)? {
            Some(source) => {
                let project = config::parse_project(&source, &config::RepoFacts::of(&repo))?;
                let config = config::resolve(project, None, TrustMode::Client)?;
                config
                    .projects()
                    .iter()
                    .map(|p| p.key_rules().clone())
                    .collect()
            }
            None => vec![KeyRules::default_rules()],
        },
    };
    let refname = repo.full_refname(&args.range.to);
    let from = args.range.from.as_deref().map(BaseRule::parse);
    let (base, warning) = range::for_keys(&repo, to, refname.as_deref(), from.as_ref())?;
    if let Some(warning) = warning {
        log::warn!("{warning}");
    }
    let options = WalkOptions {
        parents: ParentMode::first_parent(args.range.first_parent),
        max_commits: None,
    };
    let mut progress = Progress::new();
    let facts = |_: Oid, message: &[u8]| CommitFacts::keys_only(&rules, message);
    let mut report = |read| progress.update(read);
    let started = std::time::Instant::now();
    let Resolved::Range(range) = range::resolve(&repo, to, base, options, &mut report, &facts)?
    else {
        return Err(Error::internal("an unlimited walk reported a size limit"));
    };
    let branch_keys = crate::keys::branch_keys(&rules, refname.as_deref());
    log::debug!(
        "{} commits read in {:?}",
        range.commits.len(),
        started.elapsed()
    );
    let commits: Vec<_> = range.commits.iter().collect();
    let index = KeyIndex::build(branch_keys, &commits);
    write_keys(out, global.format, &index.into_vec(), range.commits.len())
}

fn write_keys(
    out: &mut dyn Write,
    format: Format,
    issues: &[IssueCommits],
    commits: usize,
) -> Result<()> {
    write_report(
        out,
        format,
        &Keys {
            commits,
            keys: issues,
        },
    )
}

/// Rules from `--project` and `--case-insensitive`: errors name the flags, not the file's fields.
fn compile_flag_rules(spec: &KeyRulesSpec) -> Result<KeyRules> {
    KeyRules::new(spec).map_err(|e| match e {
        KeyRulesError::CaseInsensitiveWithoutProjects => Error::usage(
            "--case-insensitive needs --project: without a project list it would read words \
             such as `utf-8` or `step-1` as keys\n  hint: add --project KEY for each Jira project, \
             for example --project KAFKA",
        ),
        KeyRulesError::Project { value, problem, .. } => Error::usage(format!(
            "--project {value} is not a Jira project key: {problem}"
        )),
        other => Error::usage(other.to_string()),
    })
}
