//! The command line (SPEC 12): argument types only. `command.rs` runs them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::plan::DeployState;
use crate::report::Format;

/// Record deployments on the Jira issues they ship.
///
/// deploylink resolves the exact commit range a deploy ships, extracts the Jira issue keys
/// from those commits, and records the deploy on each issue. This version plans: it prints
/// exactly what a deploy would write, and writes nothing.
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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the Jira issue keys of a commit range, or of text on stdin, one per line
    Keys(KeysArgs),
    /// Resolve the deploy(s) and print what would be written to Jira, with the exact requests
    Plan(PlanArgs),
    /// Validate the configuration and print it
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the JSON Schema of the configuration files
    Schema,
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Build a sample repository in a temporary directory and show its plan (no Jira needed)
    Demo(DemoArgs),
}

/// Which commits: shared by `keys` and `plan`.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The base: a revision, `last-tag` (previous matching tag) or `other-refs` (commits on no other ref, as for a new branch); default: SPEC 4's base rules
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
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
