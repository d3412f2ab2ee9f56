//! `deploylink hook post-receive|pre-push|commit-msg`: the arguments and standard input
//! exactly as git passes them (githooks(5)).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use git2::Oid;

use super::link::{deliver_deploys, Delivering};
use super::PROJECT_FILE;
use crate::command::cli::{GlobalArgs, HookCommand, OnError, PostReceiveArgs};
use crate::config::{self, Config, Tracker, TrackersFile, TrustMode};
use crate::deliver::run::RunOptions;
use crate::deliver::spool::{self, Spool};
use crate::error::{Error, Result};
use crate::git::push::{self, ReceivedRef};
use crate::git::repo::Repo;
use crate::plan::DeployInputs;
use crate::plan::{BaseRule, Deploy, DeployState, RunInfo};
use crate::policy;
use crate::range;
use crate::report::{Format, Violation, Violations};

pub fn run(global: &GlobalArgs, command: HookCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        HookCommand::PostReceive(args) => post_receive(global, &args, out),
        HookCommand::PrePush { remote, url } => pre_push(global, &remote, &url, out),
        HookCommand::CommitMsg { file } => commit_msg(global, &file, out),
    }
}

/// Where deploylink records what each environment runs; the hook's own writes, never a deploy.
const RECORDS: &str = "refs/deploylink/";
const RECORDS_PREFIX: &str = "refs/deploylink";

fn read_stdin() -> Result<Vec<u8>> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| Error::io("read the hook's standard input", e))?;
    Ok(input)
}

/// SPEC 4: for each pushed ref that maps to an environment, the commits it brings, delivered
/// and recorded. Errors of one ref are reported and the others still deploy; under the
/// default `--on-error warn` the hook exits 0, since the push has happened anyway.
fn post_receive(global: &GlobalArgs, args: &PostReceiveArgs, out: &mut dyn Write) -> Result<()> {
    let started = Instant::now();
    let input = read_stdin()?;
    let repo = Repo::open(global.repo.as_deref())?;
    let spool_dir = spool::location(args.spool.as_deref(), Some(repo.git_dir()));
    let spool = match spool_dir.as_deref().map(Spool::open).transpose() {
        Ok(spool) => spool,
        Err(error) => {
            log::error!("{error}; delivering without a spool");
            None
        }
    };
    // The push is journaled before anything else, and pushes whose hook was killed before
    // it recorded them are taken up again first.
    let (input, held) = match &spool {
        Some(spool) => spool.hold_push(&input),
        None => (input, spool::HeldPushes::default()),
    };
    let (refs, bad) = push::parse_received(&input);
    for line in &bad {
        log::error!("{line}; this line is skipped, the others are used");
    }
    let mut first_error: Option<Error> = None;
    for pushed in refs.iter().filter(|r| r.refname.starts_with(RECORDS)) {
        if let Err(error) = put_back_record(&repo, pushed) {
            log::error!("{}: {error}", pushed.refname);
            first_error.get_or_insert(error);
        }
    }
    let mut deploys: Vec<Deploy> = Vec::new();
    let mut configs: Vec<Config> = Vec::new();
    let mut loaded = ProjectFiles::default();
    for pushed in &refs {
        if pushed.is_deletion() {
            log::info!("{}: deleted, nothing is deployed", pushed.refname);
            continue;
        }
        if pushed.refname.starts_with(RECORDS) {
            continue; // put back above: never a deploy
        }
        if pushed.refname.starts_with(range::HISTORY_REFS) {
            continue; // a CI's `--push-history`: never a deploy
        }
        if started.elapsed() >= args.budget {
            log::error!(
                "{}: not planned: the time budget (--budget {}) ran out while planning\n  \
                 hint: deliver it by hand: {}",
                pushed.refname,
                humantime::format_duration(args.budget),
                link_command(
                    &format!("--ref {}", pushed.refname),
                    Some(pushed.old),
                    pushed.new
                )
            );
            first_error.get_or_insert(Error::DeliveryFailed { failed: 1 });
            continue;
        }
        match plan_received(global, &repo, pushed, &refs, &mut loaded) {
            Ok(Some((config, planned))) => {
                deploys.extend(planned);
                if !configs
                    .iter()
                    .any(|c| c.source_name() == config.source_name())
                {
                    configs.push(config);
                }
            }
            Ok(None) => {}
            Err(error) => {
                log::error!("{}: {error}", pushed.refname);
                first_error.get_or_insert(error);
            }
        }
    }
    let deploys = within_delivery_cap(deploys, args.max_deliveries, &mut first_error);
    let mut trackers: Vec<&Tracker> = Vec::new();
    for config in &configs {
        for (tracker, _) in config.trackers() {
            if !trackers.iter().any(|t| t.name == tracker.name) {
                trackers.push(tracker);
            }
        }
    }
    let how = Delivering {
        options: RunOptions {
            dry_run: false,
            // Planning counted against the same budget.
            budget: args.budget.saturating_sub(started.elapsed()),
            request_timeout: args.request_timeout.duration,
            record: true,
            spool: spool.clone(),
            not_spooled: configs.iter().flat_map(super::link::not_spooled).collect(),
            progress: None,
            history: Default::default(),
        },
        on_error: args.on_error,
        push_history: None,
    };
    let delivered = if deploys.is_empty() {
        Ok(())
    } else {
        deliver_deploys(global, &repo, &trackers, &deploys, how, out)
    };
    if let (Some(spool), true) = (&spool, delivered.is_ok()) {
        spool.release_pushes(held);
    }
    match (args.on_error, first_error, delivered) {
        (_, _, Err(error)) => Err(error),
        (OnError::Fail, Some(error), _) => Err(error),
        _ => Ok(()),
    }
}

/// The deploys whose writes fit within `--max-deliveries`, in push order; those past it are
/// neither delivered nor recorded, and reported with the command that delivers them.
fn within_delivery_cap(
    deploys: Vec<Deploy>,
    cap: u64,
    first_error: &mut Option<Error>,
) -> Vec<Deploy> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut total = 0usize;
    let mut kept = Vec::new();
    let mut dropped = 0;
    for deploy in deploys {
        if total + deploy.deliveries.len() > cap {
            log::error!(
                "{} -> {}: not delivered: its {} writes would take the push past {cap} \
                 (--max-deliveries), and its record is not moved\n  hint: deliver it by hand: {}",
                deploy.project,
                deploy.environment,
                deploy.deliveries.len(),
                link_command(
                    &format!(
                        "--project {} --environment {} --ref {}",
                        deploy.project,
                        deploy.environment,
                        deploy.refname.as_deref().unwrap_or("")
                    ),
                    deploy.base.from(),
                    deploy.to
                )
            );
            dropped += 1;
            continue;
        }
        total += deploy.deliveries.len();
        kept.push(deploy);
    }
    if dropped > 0 {
        first_error.get_or_insert(Error::DeliveryFailed { failed: dropped });
    }
    kept
}

/// The command line that delivers a deploy the hook left out (`which`: its flags).
fn link_command(which: &str, from: Option<Oid>, to: Oid) -> String {
    let from = from
        .filter(|id| !id.is_zero())
        .map(|id| format!(" --from {id}"))
        .unwrap_or_default();
    format!("`deploylink link --record {which}{from} --to {to}` in this repository")
}

/// A push that moved a deploy record (`refs/deploylink/<project>/<environment>`) would choose
/// the next deploy's base, and could hide the commits it ships: the record is put back where it
/// was before the push, and the push is reported.
fn put_back_record(repo: &Repo, pushed: &ReceivedRef) -> Result<()> {
    log::warn!(
        "{}: the push moved a deploy record, which only deploylink writes; it is put back and \
         not taken as a deploy\n  hint: refuse such pushes on the server with \
         `git config receive.hideRefs {RECORDS_PREFIX}`",
        pushed.refname
    );
    if pushed.is_creation() {
        repo.delete_record(&pushed.refname)?;
    } else {
        repo.record_deploy(&pushed.refname, pushed.old)?;
    }
    Ok(())
}

/// The project files of one push, each parsed once: by blob id (many refs push the same
/// file), or the one `--config` names. A file that fails to load is reported once.
#[derive(Default)]
struct ProjectFiles {
    parsed: HashMap<Option<Oid>, Option<Config>>,
    trackers: Option<Option<TrackersFile>>,
}

impl ProjectFiles {
    /// The configuration of commit `at`; `None` when it has no project file, or when its file
    /// failed to load before (already reported).
    fn config_at(&mut self, global: &GlobalArgs, repo: &Repo, at: Oid) -> Result<Option<Config>> {
        let paths = global.config_paths();
        let blob = match paths.project {
            Some(_) => None,
            None => match repo.blob_at(at, PROJECT_FILE)? {
                Some(blob) => Some(blob),
                None => return Ok(None),
            },
        };
        if let Some(known) = self.parsed.get(&blob) {
            return Ok(known.clone());
        }
        self.parsed.insert(blob, None);
        let source = match blob {
            Some(blob) => config::blob_source(repo, at, blob)?,
            None => config::project_source(&paths, repo, at)?
                .ok_or(Error::internal("--config names no file"))?,
        };
        let project = config::parse_project(&source, &config::RepoFacts::of(repo))?;
        if self.trackers.is_none() {
            let found = config::load_trackers(&paths, Some(repo.git_dir()), TrustMode::ServerHook)?;
            self.trackers = Some(found);
        }
        let org = self.trackers.clone().flatten();
        let config = config::resolve(project, org, TrustMode::ServerHook)?;
        self.parsed.insert(blob, Some(config.clone()));
        Ok(Some(config))
    }
}

/// The deploys of one pushed ref, with the project file of its new commit, and for a branch
/// the pushes of the projects that send development information without deploying it; `None`
/// when the commit has no project file, or the ref maps to no environment and no project
/// sends development information. Both are found before the
/// range is walked, so a ref that deploys nothing costs a tree lookup.
fn plan_received(
    global: &GlobalArgs,
    repo: &Repo,
    pushed: &ReceivedRef,
    push: &[ReceivedRef],
    loaded: &mut ProjectFiles,
) -> Result<Option<(Config, Vec<Deploy>)>> {
    let Some(config) = loaded.config_at(global, repo, pushed.new)? else {
        log::debug!(
            "{}: no {PROJECT_FILE} in {}, nothing to do",
            pushed.refname,
            pushed.new
        );
        return Ok(None);
    };
    let maps = config
        .projects()
        .iter()
        .any(|p| p.environment_for_ref(&pushed.refname).is_some());
    let sends_devinfo = config
        .projects()
        .iter()
        .any(|p| p.actions().contains(&config::Action::DevelopmentInfo));
    if !maps && !sends_devinfo {
        log::debug!("{}: maps to no environment, nothing to do", pushed.refname);
        return Ok(None);
    }
    let fallback = range::push_base(repo, pushed, push)?;
    let mut progress = super::Progress::new();
    // Development information goes with every branch push, deploy or not.
    let mut pushes = match &fallback {
        Some(base) => crate::plan::prepare_pushes(
            &config,
            repo,
            &pushed.refname,
            pushed.new,
            base,
            &mut |read| progress.update(read),
        )?,
        None => Vec::new(),
    };
    if !maps {
        return Ok(Some((config, pushes)));
    }
    let inputs = DeployInputs {
        to: pushed.new,
        refname: Some(pushed.refname.clone()),
        environment: None,
        projects: Vec::new(),
        base: BaseRule::Auto,
        fallback,
        state: DeployState::Successful,
        max_commits: None,
        repo_url: None,
        first_parent: false,
        run: RunInfo::default(),
        mode: TrustMode::ServerHook,
    };
    let mut deploys =
        crate::plan::prepare_with(&config, repo, &inputs, &mut |read| progress.update(read))?;
    deploys.append(&mut pushes);
    Ok(Some((config, deploys)))
}

/// SPEC 4: per pushed ref, `local` minus `remote` (a new remote ref: minus every
/// `refs/remotes/REMOTE/*`), checked against the `validate:` policy of the project file in
/// the pushed commit. Nothing is written to Jira.
fn pre_push(global: &GlobalArgs, remote: &str, _url: &str, out: &mut dyn Write) -> Result<()> {
    let input = read_stdin()?;
    let repo = Repo::open(global.repo.as_deref())?;
    let (refs, bad) = push::parse_pushed(&input);
    for line in &bad {
        log::error!("{line}; this line is skipped, the others are checked");
    }
    let mut problems = Vec::new();
    for pushed in refs.iter().filter(|r| !r.local.is_zero()) {
        let Some(config) =
            config::client_config(&global.config_paths(), &repo, Some(pushed.local))?
        else {
            continue;
        };
        let projects = policy::enforcing(config.projects());
        if projects.is_empty() {
            continue;
        }
        let base = range::pre_push_base(&repo, remote, pushed.remote)?;
        if let Some(problem) = policy::judge_push(&repo, pushed, base, &projects)? {
            problems.push(problem);
        }
    }
    refuse(global, problems, out)
}

/// No violation: done. Otherwise exit 1, the violations on stderr; with `--format json` their
/// document on stdout too.
fn refuse(global: &GlobalArgs, violations: Vec<Violation>, out: &mut dyn Write) -> Result<()> {
    if violations.is_empty() {
        return Ok(());
    }
    let violations = Violations { violations };
    if global.format == Format::Json {
        super::write_report(out, global.format, &violations)?;
    }
    Err(Error::Policy(violations))
}

/// One message, as `git commit` is about to record it. Only `every-commit` applies here:
/// whether a push names an issue is for `pre-push` to judge.
fn commit_msg(global: &GlobalArgs, file: &Path, out: &mut dyn Write) -> Result<()> {
    let raw = std::fs::read(file)
        .map_err(|e| Error::io(format!("read the commit message {}", file.display()), e))?;
    let repo = Repo::open(global.repo.as_deref())?;
    let comment = comment_char(&repo);
    let message = policy::clean_message(&String::from_utf8_lossy(&raw), comment);
    if message.is_empty() {
        return Ok(()); // git aborts an empty commit itself
    }
    let Some(config) = config::client_config(&global.config_paths(), &repo, None)? else {
        return Ok(());
    };
    match policy::judge_message(config.projects(), &message, file) {
        Some(violation) => refuse(global, vec![violation], out),
        None => Ok(()),
    }
}

/// git's `core.commentChar` (default `#`; `auto` is treated as `#`).
fn comment_char(repo: &Repo) -> char {
    repo.git()
        .config()
        .and_then(|c| c.get_string("core.commentChar"))
        .ok()
        .and_then(|v| v.chars().next())
        .filter(|c| *c != 'a')
        .unwrap_or('#')
}
