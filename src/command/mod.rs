//! Runs one parsed command line. Results go to `out` (stdout in the binary); logs go through
//! the `log` facade to stderr; nothing here prints directly.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use clap::CommandFactory;
use git2::Oid;

use crate::command::cli::{Cli, Command, ConfigCommand, InitArgs, KeysArgs, PlanArgs};
use crate::config::{self, Config, ConfigError, Source, TrustMode};
use crate::deliver::{Recorder, Sink};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::GitError;
use crate::issues::{CommitFacts, IssueCommits, KeyIndex};
use crate::keys::{KeyRules, KeyRulesError, KeyRulesSpec};
use crate::plan::{self, BaseRule, Deploy, DeployTarget, RunInfo};
use crate::range::{self, Base, ParentMode, Resolved, WalkOptions};
use crate::report::{self, Format, Run};

mod ci;
pub mod cli;
pub mod demo;
mod hook;
pub mod install;
mod link;
mod retry;
mod tracker;

pub use link::all_deliveries;

/// The project file's name at the repository root.
pub const PROJECT_FILE: &str = ".deploylink.yml";

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Keys(args) => keys(global, &args, out),
        Command::Plan(args) => {
            let repo = Repo::open(global.repo.as_deref())?;
            let (_, deploys) = prepare(global, &repo, &args, RunInfo::default())?;
            let outcomes = Recorder.deliver(link::all_deliveries(&deploys));
            write_run(
                out,
                global.format,
                &Run {
                    deploys: &deploys,
                    outcomes: &outcomes,
                    sent: false,
                },
            )
        }
        Command::Link(args) => link::link(global, &args, out),
        Command::Tracker(command) => tracker::run(global, command, out),
        Command::Init(args) => init(global, &args, out),
        Command::Hook(command) => hook::run(global, command, out),
        Command::Ci(args) => ci::ci(global, &args, out),
        Command::Retry(args) => retry::retry(global, &args, out),
        Command::InstallHook(args) => {
            crate::command::install::install(global.repo.as_deref(), &args, out)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox(&args, out),
        Command::Config(ConfigCommand::Check { rev }) => config_check(global, rev.as_deref(), out),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
            write(out, &format!("{text}\n"))
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "deploylink", out);
            Ok(())
        }
        Command::Demo(args) => crate::command::demo::run(args.keep, args.serve, global.format, out),
    }
}

pub fn write(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("write to stdout", e))
}

pub fn write_run(out: &mut dyn Write, format: Format, run: &Run<'_>) -> Result<()> {
    match format {
        Format::Human => write(out, &report::run_human(run)),
        Format::Json => write(out, &format!("{:#}\n", report::run_json(run))),
    }
}

/// A progress bar on stderr for walks of more than ~1,000 commits, on a terminal only;
/// cleared when the walk is done (dropped).
pub struct Progress {
    enabled: bool,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            bar: None,
        }
    }

    /// Told the number of commits read so far.
    pub fn update(&mut self, read: usize) {
        if !self.enabled || read < 1000 || !read.is_multiple_of(256) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} {human_pos} commits read")
            {
                bar.set_style(style);
            }
            bar
        });
        bar.set_position(read as u64);
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn keys(
    global: &crate::command::cli::GlobalArgs,
    args: &KeysArgs,
    out: &mut dyn Write,
) -> Result<()> {
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
        None => match project_source(global, &repo, to)? {
            Some(source) => {
                let project = config::parse_project(&source, &repo.name())?;
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
    let refname = full_refname(&repo, &args.range.to);
    let base = keys_base(&repo, to, refname.as_deref(), args.range.from.as_deref())?;
    let options = WalkOptions {
        parents: parent_mode(args.range.first_parent),
        max_commits: None,
    };
    let mut progress = Progress::new();
    let facts = |_: Oid, message: &[u8]| CommitFacts::keys_only(&rules, message);
    let mut report = |read| progress.update(read);
    let started = std::time::Instant::now();
    let Resolved::Range(range) = range::resolve(&repo, to, base, options, &mut report, &facts)?
    else {
        return Err(Error::usage(
            "internal: an unlimited walk reported a size limit",
        ));
    };
    let branch_keys: Vec<_> = refname
        .as_deref()
        .filter(|r| r.starts_with("refs/heads/"))
        .map(|branch| {
            rules
                .iter()
                .flat_map(|r| r.extract_branch(branch))
                .collect()
        })
        .unwrap_or_default();
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
    match format {
        Format::Human => write(out, &report::keys_human(issues)),
        Format::Json => write(out, &format!("{:#}\n", report::keys_json(issues, commits))),
    }
}

/// `keys` has no project or environment, so its base rules are: `--from`, else the previous
/// tag when `--to` is a tag, else `to` alone.
fn keys_base(repo: &Repo, to: Oid, refname: Option<&str>, from: Option<&str>) -> Result<Base> {
    let is_tag = refname.is_some_and(|r| r.starts_with("refs/tags/"));
    let rule = match from.map(BaseRule::parse) {
        Some(rule) => rule,
        None if is_tag => BaseRule::LastTag,
        None => {
            log::warn!("no base given: only the commit itself is scanned; pass --from REV, --from last-tag or --from other-refs");
            return Ok(Base::none());
        }
    };
    match range::given_base(repo, &rule, to, refname, &|_| true)? {
        Some(base) => Ok(base),
        None => {
            log::warn!("no earlier tag: only the commit itself is scanned");
            Ok(Base::none())
        }
    }
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

fn parent_mode(first_parent: bool) -> ParentMode {
    if first_parent {
        ParentMode::First
    } else {
        ParentMode::All
    }
}

/// The full ref name when `rev` names a ref (`main` -> `refs/heads/main`).
pub fn full_refname(repo: &Repo, rev: &str) -> Option<String> {
    let reference = repo.git().resolve_reference_from_short_name(rev).ok()?;
    let reference = reference
        .resolve()
        .ok()
        .filter(|_| rev == "HEAD")
        .unwrap_or(reference);
    reference.name().ok().map(str::to_owned)
}

/// The project file: `--config FILE`, else `.deploylink.yml` in commit `at` (read through
/// git, so it works in a bare repository).
fn project_source(
    global: &crate::command::cli::GlobalArgs,
    repo: &Repo,
    at: Oid,
) -> Result<Option<Source>> {
    match &global.config {
        Some(path) => Ok(Some(read_source(path)?)),
        None => Ok(repo.read_file_at(at, PROJECT_FILE)?.map(|text| Source {
            name: format!("{PROJECT_FILE} at {}", &at.to_string()[..7]),
            text,
        })),
    }
}

/// The project file and the trackers file, joined: what `plan` needs.
pub fn load_config(
    global: &crate::command::cli::GlobalArgs,
    repo: &Repo,
    at: Oid,
    mode: TrustMode,
) -> Result<Config> {
    let source = project_source(global, repo, at)?
        .ok_or_else(|| ConfigError::missing_project_file(PROJECT_FILE, &at.to_string()))?;
    log::debug!("project file: {}", source.name);
    let project = config::parse_project(&source, &repo.name())?;
    let org = load_trackers(global, Some(repo.git_dir()), mode)?;
    Ok(config::resolve(project, org, mode)?)
}

/// The organization file, found in SPEC 3.1's order.
pub(crate) fn load_trackers(
    global: &crate::command::cli::GlobalArgs,
    git_dir: Option<&Path>,
    mode: TrustMode,
) -> Result<Option<config::TrackersFile>> {
    let env = |name: &str| std::env::var(name).ok();
    let candidates =
        config::trackers_file_candidates(global.trackers.as_deref(), &env, git_dir, mode);
    let trackers = config::load_trackers_file(&candidates)?;
    match &trackers {
        Some(file) => log::debug!("trackers file: {}", file.source_name()),
        None => log::debug!("no trackers file found"),
    }
    Ok(trackers)
}

pub fn read_source(path: &Path) -> Result<Source> {
    let text = std::fs::read(path).map_err(|e| ConfigError::unreadable(path, &e))?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

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
    pub state: crate::plan::DeployState,
    pub max_commits: Option<usize>,
    pub repo_url: Option<String>,
    pub first_parent: bool,
    pub run: RunInfo,
    pub mode: TrustMode,
}

impl DeployInputs {
    /// The inputs of `plan` and `link` flags.
    pub fn from_args(repo: &Repo, args: &PlanArgs, run: RunInfo) -> Result<DeployInputs> {
        Ok(DeployInputs {
            to: repo.resolve(&args.range.to)?,
            refname: args
                .refname
                .clone()
                .or_else(|| full_refname(repo, &args.range.to)),
            environment: args.environment.clone(),
            projects: args.projects.clone(),
            base: args
                .range
                .from
                .as_deref()
                .map(BaseRule::parse)
                .unwrap_or_default(),
            fallback: None,
            state: args.state,
            max_commits: args.max_commits,
            repo_url: args.repo_url.clone(),
            first_parent: args.range.first_parent,
            run,
            mode: TrustMode::Client,
        })
    }
}

/// Plans the deploys of a `plan` or `link` command line: the configuration they were
/// planned with, and each deploy with its deliveries.
pub fn prepare(
    global: &crate::command::cli::GlobalArgs,
    repo: &Repo,
    args: &PlanArgs,
    run: RunInfo,
) -> Result<(Config, Vec<Deploy>)> {
    let inputs = DeployInputs::from_args(repo, args, run)?;
    prepare_inputs(global, repo, &inputs)
}

/// Plans the deploys `inputs` describe, with the project file of the deployed commit.
pub fn prepare_inputs(
    global: &crate::command::cli::GlobalArgs,
    repo: &Repo,
    inputs: &DeployInputs,
) -> Result<(Config, Vec<Deploy>)> {
    let config = load_config(global, repo, inputs.to, inputs.mode)?;
    let repo_name = repo.name();
    let repo_url = inputs
        .repo_url
        .clone()
        .or_else(|| config.repo_url().map(str::to_owned))
        .or_else(|| origin_web_url(repo));
    let targets = crate::plan::deploy::targets(
        &config,
        &inputs.projects,
        inputs.environment.as_deref(),
        inputs.refname.as_deref(),
    )?;
    let max_commits = inputs
        .max_commits
        .unwrap_or(usize::try_from(config.max_commits()).unwrap_or(usize::MAX));
    let mut progress = Progress::new();
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
                parents: parent_mode(inputs.first_parent),
                max_commits: Some(max_commits),
            },
            state: inputs.state,
            run: inputs.run.clone(),
        };
        let started = std::time::Instant::now();
        let deploy = plan::plan_deploy(repo, &target, &mut |read| progress.update(read))?;
        log::debug!(
            "{} -> {}: base {}, {} commits, {} issues, planned in {:?}",
            deploy.project,
            deploy.environment,
            deploy.base.source.describe(),
            deploy.commits.len(),
            deploy.issues.len(),
            started.elapsed()
        );
        for note in &deploy.notes {
            log::warn!("{} -> {}: {note}", deploy.project, deploy.environment);
        }
        deploys.push(deploy);
    }
    Ok((config, deploys))
}

/// The web URL of `remote.origin.url`: `https://host/path` as is, `git@host:path.git` as
/// `https://host/path`; other forms are not guessed.
fn origin_web_url(repo: &Repo) -> Option<String> {
    let remote = repo.git().find_remote("origin").ok()?;
    crate::plan::deploy::web_url(remote.url().ok()?)
}

fn config_check(
    global: &crate::command::cli::GlobalArgs,
    rev: Option<&str>,
    out: &mut dyn Write,
) -> Result<()> {
    // Outside a repository the work tree's file can still be checked; `--rev` needs one.
    let (repo, mut open_error) = match Repo::open(global.repo.as_deref()) {
        Ok(repo) => (Some(repo), None),
        Err(error) => (None, Some(error)),
    };
    let source = match (&global.config, rev, &repo) {
        (Some(path), _, _) => read_source(path)?,
        (None, Some(rev), Some(repo)) => {
            let at = repo.resolve(rev)?;
            let text = repo
                .read_file_at(at, PROJECT_FILE)?
                .ok_or_else(|| ConfigError::missing_project_file(PROJECT_FILE, &at.to_string()))?;
            Source {
                name: format!("{PROJECT_FILE} at {rev}"),
                text,
            }
        }
        (None, Some(_), None) => return Err(open_error.take().ok_or(GitError::Internal)?.into()),
        (None, None, _) => {
            let dir = repo
                .as_ref()
                .and_then(|r| r.git().workdir().map(Path::to_path_buf))
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            read_source(&dir.join(PROJECT_FILE))?
        }
    };
    let repo_name = repo
        .as_ref()
        .map(Repo::name)
        .unwrap_or_else(|| "repository".into());
    let project = config::parse_project(&source, &repo_name)?;
    let org = load_trackers(global, repo.as_ref().map(Repo::git_dir), TrustMode::Client)?;
    let config = config::resolve(project, org, TrustMode::Client)?;
    for project in config.projects() {
        if let Err(e) = project.tracker() {
            log::warn!("{e}");
        }
    }
    log::info!("{}: configuration is valid", config.source_name());
    write(out, &config.effective_yaml())
}

/// `deploylink init`: a starter `.deploylink.yml` at the repository root (or here, outside
/// one), checked by the same loader as every other file before it is written.
fn init(
    global: &crate::command::cli::GlobalArgs,
    args: &InitArgs,
    out: &mut dyn Write,
) -> Result<()> {
    use crate::config::init::{starter_project_file, InitOptions, SchemaLine};
    const SCHEMA_FILE: &str = ".deploylink.schema.json";
    let dir = Repo::open(global.repo.as_deref())
        .ok()
        .and_then(|r| r.git().workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let path = dir.join(PROJECT_FILE);
    if path.exists() && !args.force {
        return Err(Error::usage(format!(
            "{} exists already\n  hint: pass --force to replace it, or `deploylink config check` to validate it",
            path.display()
        )));
    }
    let schema = match &args.schema_url {
        Some(url) => SchemaLine::Url(url.clone()),
        None => SchemaLine::LocalFile(SCHEMA_FILE.into()),
    };
    let text = starter_project_file(&InitOptions {
        tracker: args.tracker.clone(),
        project_keys: args.keys.clone(),
        branch: args.branch.clone(),
        schema,
    });
    let source = Source {
        name: path.display().to_string(),
        text: text.clone().into_bytes(),
    };
    config::parse_project(&source, "repository")?;
    if let Some(name) = &args.tracker {
        let org = load_trackers(global, None, TrustMode::Client)
            .ok()
            .flatten();
        if org.as_ref().and_then(|o| o.tracker(name)).is_none() {
            log::warn!(
                "tracker '{name}' is not connected on this machine; `deploylink tracker connect {name} --kind jira-cloud --url https://...` connects it"
            );
        }
    }
    let write_file = |path: &Path, text: &str| {
        crate::config::edit::write_atomically(path, text)
            .map_err(|e| Error::io(format!("write {}", path.display()), e))
    };
    write_file(&path, &text)?;
    let mut written = vec![path.display().to_string()];
    if args.schema_url.is_none() {
        let schema = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
        let schema_path = dir.join(SCHEMA_FILE);
        write_file(&schema_path, &format!("{schema}\n"))?;
        written.push(schema_path.display().to_string());
    }
    write(
        out,
        &format!(
            "wrote {}\nnext: edit it, then `deploylink config check` and `deploylink plan`\n",
            written.join(" and ")
        ),
    )
}

/// `deploylink sandbox`: serves until killed.
#[cfg(feature = "sandbox")]
fn sandbox(args: &crate::command::cli::SandboxArgs, out: &mut dyn Write) -> Result<()> {
    use jira_sandbox::{IssuePolicy, Options, Sandbox};
    let options = Options {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], args.port)),
        issues: if args.issues.is_empty() {
            IssuePolicy::Any
        } else {
            IssuePolicy::Listed(args.issues.clone())
        },
        state_file: args.state_file.clone(),
        latency: args.latency.unwrap_or_default(),
        credentials: None,
    };
    let sandbox = Sandbox::start(options)
        .map_err(|e| Error::io(format!("start the sandbox on 127.0.0.1:{}", args.port), e))?;
    let url = sandbox.url();
    write(
        out,
        &format!(
            "deploylink sandbox: a local Jira at {url}\n\
             \x20 page:     {url}/ (what it received)\n\
             \x20 tracker:  kind jira-cloud (or jira-data-center), url {url}, any user and token\n\
             \x20 deployments: api_url {url}, token_url {url}/oauth/token, any client id and secret\n\
             stop it with Ctrl-C\n"
        ),
    )?;
    let _ = out.flush();
    sandbox.wait();
    Ok(())
}
