//! Runs one parsed command line. Results go to `out` (stdout in the binary); logs go through
//! the `log` facade to stderr; nothing here prints directly.

use std::io::{IsTerminal, Write};

use clap::CommandFactory;

use crate::command::cli::{Cli, Command, ConfigCommand, GlobalArgs, PlanArgs};
use crate::config::{self, Config, TrustMode};
use crate::deliver::{DryRun, Sink};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::plan::{self, BaseRule, Deploy, DeployInputs, RunInfo};
use crate::report::{self, Format, Report, Run};

mod ci;
pub mod cli;
pub mod demo;
mod doctor;
mod history;
mod hook;
pub mod install;
mod keys;
mod link;
mod notes;
mod project_file;
mod retry;
mod tracker;

pub use crate::deliver::run::all_deliveries;

pub use crate::config::PROJECT_FILE;

/// `markdown` is only for `notes` and `html` only for `metrics`: no other report has them.
fn check_format(command: &Command, format: Format) -> Result<()> {
    let (fits, only_for) = match format {
        Format::Human | Format::Json => return Ok(()),
        Format::Markdown => (matches!(command, Command::Notes(_)), "notes"),
        Format::Html => (matches!(command, Command::Metrics(_)), "metrics"),
    };
    if fits {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--format {} is for `deploylink {only_for}` only\n  hint: use --format human or --format json",
        format.as_str()
    )))
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<()> {
    let global = &cli.global;
    check_format(&cli.command, global.format)?;
    match cli.command {
        Command::Keys(args) => keys::keys(global, &args, out),
        Command::Notes(args) => notes::notes(global, &args, out),
        Command::Doctor(args) => doctor::doctor(global, &args, out),
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
        Command::Init(args) => project_file::init(global, &args, out),
        Command::Hook(command) => hook::run(global, command, out),
        Command::Ci(args) => ci::ci(global, &args, out),
        Command::Retry(args) => retry::retry(global, &args, out),
        Command::InstallHook(args) => {
            crate::command::install::install(global.repo.as_deref(), &args, global.format, out)
        }
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox(&args, out),
        Command::Config(ConfigCommand::Check { rev }) => {
            project_file::config_check(global, rev.as_deref(), out)
        }
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
        Command::History(args) => history::history(global, &args, out),
        Command::Metrics(args) => history::metrics(global, &args, out),
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
        setup: Default::default(),
        details: Default::default(),
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
