//! The command line: argument types only. `command.rs` runs them.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::TrackerKind;
use crate::plan::DeployState;
use crate::report::Format;

/// Record deployments on the Jira issues they ship.
///
/// deploylink resolves the exact commit range a deploy ships, extracts the Jira issue keys
/// from those commits, and records the deploy on each issue: remote links, Jira Software
/// deployment records, comments. Every write is idempotent: running a deploy twice changes
/// nothing in Jira.
#[derive(Debug, Parser)]
#[command(name = "deploylink", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 done, 1 policy violation, 2 usage error, 3 configuration error, \
4 delivery failed, 5 git error (missing commit, shallow history)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository (work tree, .git directory or bare); default: the one around the current directory
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The project file to use instead of .deploylink.yml in the deployed commit
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The organization trackers file (default: $DEPLOYLINK_TRACKERS, then ~/.config/deploylink/trackers.yml)
    #[arg(long, global = true, value_name = "FILE")]
    pub trackers: Option<PathBuf>,
    /// Output format of results on stdout
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// More logging on stderr (-v debug, -vv trace); RUST_LOG overrides
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl GlobalArgs {
    /// The configuration files the command line names (the rest is discovered).
    pub fn config_paths(&self) -> crate::config::ConfigPaths {
        crate::config::ConfigPaths {
            project: self.config.clone(),
            trackers: self.trackers.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the Jira issue keys of a commit range, or of text on stdin, one per line
    Keys(KeysArgs),
    /// Print release notes of a commit range: its issues with their Jira summary, type and status, grouped by type, each with its commits, then the commits that name no issue
    ///
    /// `--format markdown` writes them for a release description or a CI job summary (a
    /// `## Stories` heading per issue type); `human` (default) and `json` as elsewhere. Without
    /// a project file, credentials or a reachable Jira the notes still list every key and
    /// commit subject, and say which summaries are missing and why; the exit code is then 0.
    Notes(NotesArgs),
    /// Resolve the deploy(s) and print what would be written to Jira, with the exact requests
    Plan(PlanArgs),
    /// Resolve the deploy(s) and record them in Jira
    Link(LinkArgs),
    /// Connect, list and disconnect Jira sites in the organization file
    #[command(subcommand)]
    Tracker(TrackerCommand),
    /// Write a starter .deploylink.yml
    Init(InitArgs),
    /// Run a local Jira-compatible server (the API subset deploylink uses), with a page showing what it received
    #[cfg(feature = "sandbox")]
    Sandbox(SandboxArgs),
    /// Validate the configuration and print it
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check, per project, that Jira will accept what deploylink is configured to write
    ///
    /// One line per check, `ok`, `warn` or `fail`, with the fix: the credentials work
    /// (`myself`), each Jira project of `keys.projects` exists, the account has there the
    /// permissions the actions need (Browse Projects; Link Issues for remote-link, Add Comments
    /// for comment, Edit Issues and Administer Projects for fix-version, which creates versions,
    /// Transition Issues for transition), `fixVersions` is on the edit screen of a recent issue
    /// (fix-version), and every status transitions move to is one of the project's. Nothing is
    /// written to Jira. Exits 0 when no check fails (warnings included), 3 when one fails, 4
    /// when Jira could not be reached.
    Doctor(DoctorArgs),
    /// Print the JSON Schema of the configuration files
    Schema,
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), for packagers; scripts/dist.sh puts it in the release archives
    #[command(hide = true)]
    Man,
    /// In CI: detect the provider from the environment, then resolve and record the deploy (as `link`)
    Ci(CiArgs),
    /// Run as a git hook: post-receive on a server, pre-push or commit-msg on a developer's machine
    #[command(subcommand)]
    Hook(HookCommand),
    /// Send the deliveries waiting in the spool again (credentials are read now)
    Retry(RetryArgs),
    /// Install a hook shim in a repository that runs `deploylink hook ...`
    InstallHook(InstallHookArgs),
    /// Build a sample repository, deliver its deploys to an in-process sandbox Jira, and show the result
    Demo(DemoArgs),
    /// List the recorded deploys (refs/deploylink-history/<project>/<environment>), oldest first
    History(HistoryArgs),
    /// DORA's four keys over the recorded deploys, per project and environment (--format html: a report page)
    Metrics(HistoryArgs),
}

/// Which recorded deploys: shared by `history` and `metrics`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this environment
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Only this project (repeatable)
    #[arg(long = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// From this far back (90d, 12w) or this date (2026-01-01, or an RFC 3339 time); default: the whole history
    #[arg(long, value_name = "DURATION|DATE")]
    pub since: Option<String>,
}

/// Which commits: shared by `keys` and `plan`.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The base: a revision, `last-tag` (previous release tag: for a version tag the greatest smaller version, else the nearest earlier tag) or `other-refs` (commits on no other ref, as for a new branch); default: the last recorded deploy, else for a tag the previous release tag, else the deployed commit alone
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// The deployed commit or ref
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub to: String,
    /// Follow only the first parent of merge commits
    #[arg(long)]
    pub first_parent: bool,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Read the text from stdin instead of a commit range
    #[arg(long, conflicts_with_all = ["from", "first_parent"])]
    pub stdin: bool,
    /// Accept only keys of this Jira project (repeatable); default: the project file's `keys:`, else any well-formed key
    #[arg(long = "project", value_name = "KEY")]
    pub projects: Vec<String>,
    /// Also accept lower- and mixed-case keys (reported in upper case)
    #[arg(long)]
    pub case_insensitive: bool,
}

#[derive(Debug, Args)]
pub struct NotesArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// Take the base as `plan` does for this environment (its last recorded deploy first); default: the base rules of `keys`
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Only this project of the project file (repeatable); default: every project
    #[arg(long = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// The commit whose project file is checked
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// Also check what this action needs, before it is configured (repeatable)
    #[arg(long, value_enum, value_name = "ACTION")]
    pub also: Vec<PlannedAction>,
}

/// An action `doctor --also` checks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlannedAction {
    RemoteLink,
    Comment,
    FixVersion,
    Transition,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub range: RangeArgs,
    /// The environment; default: the one whose `refs` match the deployed ref
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Only this project of the project file (repeatable); default: every project deployed by the ref
    #[arg(long = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// The deployed ref when --to is a commit id (e.g. refs/heads/main)
    #[arg(long = "ref", value_name = "REF")]
    pub refname: Option<String>,
    /// The deploy's state
    #[arg(long, value_enum, default_value_t = DeployState::Successful)]
    pub state: DeployState,
    /// Refuse ranges with more commits than this (default: max_commits of the project file, 2000)
    #[arg(long, value_name = "N")]
    pub max_commits: Option<usize>,
    /// The repository's web URL, for {repo_url} (default: repo_url of the project file, else remote origin)
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
}

/// What `--on-error` does when a delivery fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OnError {
    /// Report the failure and exit 0
    Warn,
    /// Report the failure and exit 4
    Fail,
}

impl From<OnError> for crate::deliver::run::OnError {
    fn from(value: OnError) -> Self {
        match value {
            OnError::Warn => crate::deliver::run::OnError::Warn,
            OnError::Fail => crate::deliver::run::OnError::Fail,
        }
    }
}

/// `--request-timeout`, shared by every command that sends to Jira.
#[derive(Clone, Copy, Debug, Args)]
pub struct RequestTimeout {
    /// The longest one request to Jira may take before it counts as failed (and is retried if that is safe)
    #[arg(long = "request-timeout", value_name = "DURATION", value_parser = parse_duration, default_value = "30s", env = "DEPLOYLINK_REQUEST_TIMEOUT")]
    pub duration: std::time::Duration,
}

/// How `link` and `ci` deliver.
#[derive(Debug, Args)]
pub struct DeliveryArgs {
    /// What a failed delivery does to the exit code (fail: exit 4, so the job can be run again)
    #[arg(long, value_enum, default_value_t = OnError::Fail)]
    pub on_error: OnError,
    /// The time the whole delivery may take (500ms, 20s, 2m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "120s")]
    pub budget: std::time::Duration,
    #[command(flatten)]
    pub request_timeout: RequestTimeout,
    /// After the deploy is delivered, record it in refs/deploylink/<project>/<environment> (the next deploy's base)
    #[arg(long)]
    pub record: bool,
    /// The deploy's time in its history entry (RFC 3339: 2026-01-02T15:04:05Z), for back-filling; default: now
    #[arg(long, value_name = "TIME", value_parser = parse_deployed_at, requires = "record")]
    pub deployed_at: Option<i64>,
    /// After the run, push the history refs it appended to (refs/deploylink-history/...) to this remote: for a CI clone that is thrown away
    #[arg(long, value_name = "REMOTE", requires = "record")]
    pub push_history: Option<String>,
    /// Do everything but write to Jira, and print the requests (as `plan`)
    #[arg(long)]
    pub dry_run: bool,
    /// Keep each delivery in this directory until it is made (default: $DEPLOYLINK_SPOOL; without either, a failure is only reported)
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// The CI run's URL, for {run_url}
    #[arg(long, value_name = "URL")]
    pub run_url: Option<String>,
    /// The CI run's id, for {run_id}
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The CI run's number: the deployment record's sequence number (default: the deployed commit's time)
    #[arg(long, value_name = "N")]
    pub run_number: Option<i64>,
}

/// `deploylink ci`: every flag optional; a flag wins over what the CI's environment says.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// The base: a revision, `last-tag` or `other-refs`; default: the last recorded deploy, else the CI's previous commit, else for a tag the previous release tag, else the deployed commit alone
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// The deployed commit; default: the CI's commit
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// The deployed ref; default: the CI's branch or tag
    #[arg(long = "ref", value_name = "REF")]
    pub refname: Option<String>,
    /// The environment; default: the CI's (GitLab, Bitbucket), else the one whose `refs` match the ref
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Only this project of the project file (repeatable)
    #[arg(long = "project", value_name = "NAME")]
    pub projects: Vec<String>,
    /// The deploy's state; from-job: the CI job's own result (success, failure, cancelled), read where the CI gives it (GitLab's after_script, Bitbucket's after-script) or from DEPLOYLINK_JOB_STATUS
    #[arg(long, value_enum, default_value_t = CiState::Given(DeployState::Successful))]
    pub state: CiState,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Follow only the first parent of merge commits
    #[arg(long)]
    pub first_parent: bool,
    /// The run's URL; default: the CI's
    #[arg(long, value_name = "URL")]
    pub run_url: Option<String>,
    /// The run's id; default: the CI's
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The run's number (the deployment record's sequence number); default: the CI's
    #[arg(long, value_name = "N")]
    pub run_number: Option<i64>,
    /// The repository's web URL; default: the CI's, else repo_url of the project file, else remote origin
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// Refuse ranges with more commits than this
    #[arg(long, value_name = "N")]
    pub max_commits: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// Only list what waits: age, attempts, last error
    #[arg(long)]
    pub list: bool,
    /// Remove the waiting delivery ID (its file name without .json, as --list shows) unsent
    #[arg(long, value_name = "ID", conflicts_with = "list")]
    pub drop: Vec<String>,
    /// Remove every waiting delivery of tracker NAME unsent (one whose site moved: re-run the deploy instead)
    #[arg(long, value_name = "NAME", conflicts_with = "list")]
    pub drop_tracker: Vec<String>,
    /// The spool (default: $DEPLOYLINK_SPOOL, else the repository's $GIT_DIR/deploylink/spool)
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// The time the whole run may take (500ms, 20s, 2m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "120s")]
    pub budget: std::time::Duration,
    #[command(flatten)]
    pub request_timeout: RequestTimeout,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// The server hook: records the deploys of every pushed ref that maps to an environment (stdin as git passes it)
    PostReceive(PostReceiveArgs),
    /// The client hook: refuses a push whose commits break the project's `validate:` policy
    PrePush {
        /// The remote's name, as git passes it
        remote: String,
        /// The remote's URL, as git passes it
        url: String,
    },
    /// The client hook: refuses a commit message that breaks the project's `validate:` policy
    CommitMsg {
        /// The file holding the message, as git passes it
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct PostReceiveArgs {
    /// What a failed delivery does to the exit code (a push has already happened either way)
    #[arg(long, value_enum, default_value_t = OnError::Warn)]
    pub on_error: OnError,
    /// The time the whole delivery may take (500ms, 20s, 2m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "20s")]
    pub budget: std::time::Duration,
    #[command(flatten)]
    pub request_timeout: RequestTimeout,
    /// Where deliveries wait until they are made (default: $DEPLOYLINK_SPOOL, else $GIT_DIR/deploylink/spool)
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// The most writes to Jira one push makes: deploys past it are not delivered nor recorded (the next push includes them)
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_deliveries: u64,
}

/// The hooks deploylink provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HookKind {
    PostReceive,
    PrePush,
    CommitMsg,
}

impl HookKind {
    /// git's name for the hook.
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PostReceive => "post-receive",
            HookKind::PrePush => "pre-push",
            HookKind::CommitMsg => "commit-msg",
        }
    }
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// Which hook
    #[arg(value_enum)]
    pub hook: HookKind,
    /// Replace an existing hook that deploylink did not write
    #[arg(long, conflicts_with = "chain")]
    pub force: bool,
    /// Keep an existing hook and run it before deploylink (renamed to <hook>.chained)
    #[arg(long)]
    pub chain: bool,
}

#[derive(Debug, Subcommand)]
pub enum TrackerCommand {
    /// Check a Jira site's credentials live and add it to the organization file
    ///
    /// Create the token first: Jira Cloud at https://id.atlassian.com/manage-profile/security/api-tokens,
    /// Data Center under your profile > Personal Access Tokens.
    Connect(Box<ConnectArgs>),
    /// List the connected trackers and which credentials each reads
    List {
        /// Also check that each tracker's credentials work now
        #[arg(long)]
        check: bool,
    },
    /// Remove a tracker from the organization file
    Disconnect {
        /// The tracker's name
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The name projects use for it (`tracker:` in .deploylink.yml)
    pub name: String,
    /// jira-cloud or jira-data-center
    #[arg(long, value_enum)]
    pub kind: TrackerKind,
    /// The site's URL (https; http only for loopback hosts)
    #[arg(long)]
    pub url: String,
    /// Cloud: the environment variable that holds the account e-mail
    #[arg(long, value_name = "VAR", conflicts_with = "user_file")]
    pub user_env: Option<String>,
    /// Cloud: the file that holds the account e-mail
    #[arg(long, value_name = "PATH")]
    pub user_file: Option<PathBuf>,
    /// The environment variable that holds the API token (Cloud) or personal access token (Data Center)
    #[arg(
        long,
        value_name = "VAR",
        required_unless_present = "token_file",
        conflicts_with = "token_file"
    )]
    pub token_env: Option<String>,
    /// The file that holds the token
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Cloud deployment records: the environment variable that holds the OAuth client id
    #[arg(long, value_name = "VAR", requires = "client_secret_env")]
    pub client_id_env: Option<String>,
    /// Cloud deployment records: the environment variable that holds the OAuth client secret
    #[arg(long, value_name = "VAR", requires = "client_id_env")]
    pub client_secret_env: Option<String>,
    /// An extra root certificate (PEM) to trust, for a self-hosted Data Center
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// The most requests in flight to this site at once (default 8)
    #[arg(long, value_name = "N")]
    pub max_concurrency: Option<u32>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The project's tracker (a name from `deploylink tracker list`)
    #[arg(long, value_name = "NAME")]
    pub tracker: Option<String>,
    /// The Jira project keys this repository's commits use (repeatable)
    #[arg(long = "key", value_name = "KEY")]
    pub keys: Vec<String>,
    /// The branch that deploys to production
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// Point the editor schema line at this URL instead of writing .deploylink.schema.json beside the file
    #[arg(long, value_name = "URL")]
    pub schema_url: Option<String>,
    /// Overwrite an existing .deploylink.yml
    #[arg(long)]
    pub force: bool,
}

#[cfg(feature = "sandbox")]
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The port to listen on, on 127.0.0.1 (0: any free port)
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The only issues that exist (comma-separated keys); default: every well-formed key exists
    #[arg(
        long,
        value_name = "K1,K2",
        value_delimiter = ',',
        conflicts_with = "any_issue"
    )]
    pub issues: Vec<String>,
    /// Every well-formed issue key exists (the default)
    #[arg(long)]
    pub any_issue: bool,
    /// Keep what it receives in this JSON file (loaded at start)
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Add this delay to every response (e.g. 50ms), to try timeouts and concurrency
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub latency: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate both configuration files and print the effective configuration (secrets shown as <from $VAR>)
    Check {
        /// The revision whose .deploylink.yml to check, instead of the work tree's file
        #[arg(long, value_name = "REV")]
        rev: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the sample repository instead of deleting it, and print its path
    #[arg(long)]
    pub keep: bool,
    /// Keep the sandbox Jira running after the demo, to browse its page (until Ctrl-C)
    #[arg(long)]
    pub serve: bool,
}

// ---- Domain values on the command line ----------------------------------------------------
// The library's types know nothing of clap: their command-line spelling is given here.

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Human, Format::Json, Format::Markdown, Format::Html]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Format::Human => PossibleValue::new("human"),
            Format::Json => PossibleValue::new("json"),
            // Hidden: only `deploylink notes` writes markdown, and its help says so.
            Format::Markdown => PossibleValue::new("markdown").hide(true),
            // Only `metrics` has a page to show: hidden from every other command's help.
            Format::Html => PossibleValue::new("html").hide(true),
        })
    }
}

impl ValueEnum for DeployState {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            DeployState::Successful,
            DeployState::Failed,
            DeployState::Pending,
            DeployState::InProgress,
            DeployState::Cancelled,
            DeployState::RolledBack,
            DeployState::Unknown,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

/// `ci --state`: a state, or the CI job's own result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiState {
    Given(DeployState),
    /// Read the job's result from the CI's environment (`crate::ci::job_status`).
    FromJob,
}

impl ValueEnum for CiState {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            CiState::Given(DeployState::Successful),
            CiState::Given(DeployState::Failed),
            CiState::Given(DeployState::Pending),
            CiState::Given(DeployState::InProgress),
            CiState::Given(DeployState::Cancelled),
            CiState::Given(DeployState::RolledBack),
            CiState::Given(DeployState::Unknown),
            CiState::FromJob,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        match self {
            CiState::Given(state) => state.to_possible_value(),
            CiState::FromJob => Some(PossibleValue::new("from-job")),
        }
    }
}

impl ValueEnum for TrackerKind {
    fn value_variants<'a>() -> &'a [Self] {
        &[TrackerKind::JiraCloud, TrackerKind::JiraDataCenter]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            TrackerKind::JiraCloud => PossibleValue::new(self.as_str())
                .help("Jira Cloud (`*.atlassian.net`): REST API 3, e-mail and API token"),
            TrackerKind::JiraDataCenter => PossibleValue::new(self.as_str())
                .help("Jira Data Center or Server: REST API 2, personal access token"),
        })
    }
}

/// The longest duration any flag or variable takes (a year): longer ones are usage errors, not
/// a clock overflow later.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// A duration flag (`500ms`, `20s`, `2m`): humantime's syntax, at most [`MAX_DURATION`].
fn parse_deployed_at(text: &str) -> Result<i64, String> {
    crate::time::parse_rfc3339(text).ok_or_else(|| {
        format!("{text:?} is not an RFC 3339 time: give it as 2026-01-02T15:04:05Z (or with an offset, +02:00)")
    })
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration > MAX_DURATION {
        return Err(format!(
            "{text} is longer than the longest duration taken, 365 days (365d)"
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
