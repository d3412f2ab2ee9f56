//! Runs one parsed command line. Results go to `out` (stdout in the binary); logs go through
//! the `log` facade to stderr; nothing here prints directly.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use clap::CommandFactory;
use git2::Oid;

use crate::command::cli::{Cli, Command, ConfigCommand, GlobalArgs, InitArgs, KeysArgs, PlanArgs};
use crate::config::{self, Config, ConfigError, Source, TrustMode};
use crate::deliver::{DryRun, Sink};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::GitError;
use crate::issues::{CommitFacts, IssueCommits, KeyIndex};
use crate::keys::{KeyRules, KeyRulesError, KeyRulesSpec};
use crate::plan::{self, BaseRule, Deploy, DeployInputs, RunInfo};
use crate::range::{self, ParentMode, Resolved, WalkOptions};
use crate::report::{self, Format, Keys, Report, Run};

mod ci;
pub mod cli;
pub mod demo;
mod hook;
pub mod install;
mod link;
mod retry;
mod tracker;

pub use crate::deliver::run::all_deliveries;

pub use crate::config::PROJECT_FILE;

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Keys(args) => keys(global, &args, out),
        Command::Plan(args) => {
            let repo = Repo::open(global.repo.as_deref())?;
            let (_, deploys) = prepare(global, &repo, &args, RunInfo::default())?;
            let outcomes = DryRun.deliver(all_deliveries(&deploys));
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
            crate::command::install::install(global.repo.as_deref(), &args, global.format, out)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox(&args, out),
        Command::Config(ConfigCommand::Check { rev }) => config_check(global, rev.as_deref(), out),
        Command::Schema => {
            let text = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
            write(out, &format!("{text}\n"))
        }
        Command::Completions { shell } => {
            // Into memory first: the generator panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "deploylink", &mut script);
            write(out, &String::from_utf8_lossy(&script))
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|e| Error::io("render the man page", e))?;
            write(out, &String::from_utf8_lossy(&page))
        }
        Command::Demo(args) => crate::command::demo::run(args.keep, args.serve, global.format, out),
    }
}

/// Writes `text` to stdout. A reader that has gone away (`deploylink keys | head -1`) has what
/// it wanted: that is not an error, and the run ends quietly with its own exit code (0, or 4
/// when a delivery failed all the same).
pub fn write(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            log::debug!("stdout is closed: {e}");
            Ok(())
        }
        written => written.map_err(|e| Error::io("write to stdout", e)),
    }
}

/// Writes a command's report in the `--format` asked for.
pub fn write_report(out: &mut dyn Write, format: Format, report: &impl Report) -> Result<()> {
    write(out, &report::render(report, format))
}

pub fn write_run(out: &mut dyn Write, format: Format, run: &Run<'_>) -> Result<()> {
    write_report(out, format, run)
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

fn keys(global: &GlobalArgs, args: &KeysArgs, out: &mut dyn Write) -> Result<()> {
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

/// The deploy a `plan` or `link` command line asks for.
fn plan_inputs(repo: &Repo, args: &PlanArgs, run: RunInfo) -> Result<DeployInputs> {
    Ok(DeployInputs {
        to: repo.resolve(&args.range.to)?,
        refname: args
            .refname
            .clone()
            .or_else(|| repo.full_refname(&args.range.to)),
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

/// Plans the deploys of a `plan` or `link` command line: the configuration they were
/// planned with, and each deploy with its deliveries.
pub fn prepare(
    global: &GlobalArgs,
    repo: &Repo,
    args: &PlanArgs,
    run: RunInfo,
) -> Result<(Config, Vec<Deploy>)> {
    let inputs = plan_inputs(repo, args, run)?;
    prepare_inputs(global, repo, &inputs)
}

/// Plans `inputs` with the command line's configuration files, showing a progress spinner
/// on a terminal while commits are read.
pub fn prepare_inputs(
    global: &GlobalArgs,
    repo: &Repo,
    inputs: &DeployInputs,
) -> Result<(Config, Vec<Deploy>)> {
    let mut progress = Progress::new();
    plan::prepare_inputs(&global.config_paths(), repo, inputs, &mut |read| {
        progress.update(read)
    })
}

fn config_check(global: &GlobalArgs, rev: Option<&str>, out: &mut dyn Write) -> Result<()> {
    // Outside a repository the work tree's file can still be checked; `--rev` needs one.
    let (repo, mut open_error) = match Repo::open(global.repo.as_deref()) {
        Ok(repo) => (Some(repo), None),
        Err(error) => (None, Some(error)),
    };
    let source = match (&global.config, rev, &repo) {
        (Some(path), _, _) => config::read_source(path)?,
        (None, Some(rev), Some(repo)) => {
            let at = repo.resolve(rev)?;
            let mut source = config::file_in_commit(repo, at)?
                .ok_or_else(|| ConfigError::missing_project_file(PROJECT_FILE, &at.to_string()))?;
            source.name = format!("{PROJECT_FILE} at {rev}");
            source
        }
        (None, Some(_), None) => return Err(open_error.take().ok_or(GitError::Internal)?.into()),
        (None, None, _) => {
            let dir = repo
                .as_ref()
                .and_then(|r| r.git().workdir().map(Path::to_path_buf))
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            config::read_source(&dir.join(PROJECT_FILE))?
        }
    };
    let facts = repo
        .as_ref()
        .map_or_else(config::RepoFacts::none, config::RepoFacts::of);
    let project = config::parse_project(&source, &facts)?;
    let org = config::load_trackers(
        &global.config_paths(),
        repo.as_ref().map(Repo::git_dir),
        TrustMode::Client,
    )?;
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
fn init(global: &GlobalArgs, args: &InitArgs, out: &mut dyn Write) -> Result<()> {
    use crate::config::init::{starter_project_file, InitOptions, SchemaLine};
    const SCHEMA_FILE: &str = ".deploylink.schema.json";
    let repo = Repo::open(global.repo.as_deref()).ok();
    let dir = repo
        .as_ref()
        .and_then(|r| r.git().workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    // Outside a repository, the directory it is written in.
    let facts = match &repo {
        Some(repo) => config::RepoFacts::of(repo),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .map_or_else(config::RepoFacts::none, |n| {
                config::RepoFacts::directory(&n)
            }),
    };
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
        repository: config::identity::identify_repository(&facts),
    });
    let source = Source {
        name: path.display().to_string(),
        text: text.clone().into_bytes(),
    };
    config::parse_project(&source, &config::RepoFacts::none())?;
    if let Some(name) = &args.tracker {
        let org = config::load_trackers(&global.config_paths(), None, TrustMode::Client)
            .ok()
            .flatten();
        if org.as_ref().and_then(|o| o.tracker(name)).is_none() {
            log::warn!(
                "tracker '{name}' is not connected on this machine; `deploylink tracker connect {name} --kind jira-cloud --url https://...` connects it"
            );
        }
    }
    let write_file = |path: &Path, text: &str| {
        crate::durable::write(path, text.as_bytes(), crate::durable::Access::KeepOrShared)
            .map_err(|e| Error::io(format!("write {}", path.display()), e))
    };
    write_file(&path, &text)?;
    let mut written = vec![path];
    if args.schema_url.is_none() {
        let schema = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
        let schema_path = dir.join(SCHEMA_FILE);
        write_file(&schema_path, &format!("{schema}\n"))?;
        written.push(schema_path);
    }
    write_report(out, global.format, &report::Initialized { written })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe whose reader has gone, or a full disk.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_stdout_is_not_an_error_but_other_write_failures_are() {
        let mut closed = Failing(std::io::ErrorKind::BrokenPipe);
        assert!(write(&mut closed, "WEB-1\n").is_ok());
        let mut full = Failing(std::io::ErrorKind::StorageFull);
        let error = write(&mut full, "WEB-1\n").unwrap_err();
        assert!(
            error.to_string().starts_with("cannot write to stdout"),
            "{error}"
        );
    }
}
