//! The configuration: the organization file (the connected trackers) and the project file
//! (`.deploylink.yml`, versioned with the code). Reference: `docs/configuration.md`.
//!
//! The pipeline, in calling order:
//! 1. [`trackers_file_candidates`] and [`load_trackers_file`] find and read the organization
//!    file, or [`parse_trackers`] reads one the caller has in hand;
//! 2. [`parse_project`] reads the project file (the caller reads it from the deployed commit)
//!    and names the repository ([`identity`]);
//! 3. [`resolve`] joins them under the trust rule into a [`Config`].
//!
//! [`edit`] changes the organization file for `tracker connect` and `tracker disconnect`,
//! keeping what people wrote in it.
//!
//! Every error is a [`ConfigError`] that names the file, the line and column, the field path,
//! and a hint. Regexes, globs and templates are compiled while loading, so a [`Config`] cannot
//! fail later on its own content. No secret is ever read here: credentials are references
//! ([`SecretRef`]) that the HTTP client resolves when it needs them.

mod diagnose;
mod discover;
mod document;
pub mod edit;
mod effective;
mod environment;
mod error;
pub mod identity;
pub mod init;
mod limits;
mod load;
mod locate;
mod names;
mod patterns;
mod project;
mod release;
mod resolve;
mod schema;
mod source;
mod tracker;
mod url;
mod yaml;

pub use discover::{
    load_trackers_file, trackers_file_candidates, CandidateOrigin, TrackersCandidate,
};
pub use edit::{
    remove_tracker, tracker_block, tracker_names, upsert_tracker, EditError, NewTracker,
};
pub use environment::{Environment, EnvironmentType};
pub(crate) use error::did_you_mean;
pub use error::ConfigError;
pub use identity::{Identity, IdentitySource, RepoFacts};
pub use load::{
    parse_project, parse_trackers, ProjectFile, TrackersFile, DEFAULT_MAX_COMMITS,
    DEFAULT_MAX_ISSUES,
};
pub use patterns::MAX_REGEX_BYTES;
pub use project::{
    Action, Project, Requirement, ValidatePolicy, DEFAULT_EXEMPT, DEFAULT_LINK_TITLE,
    DEFAULT_LINK_URL,
};
pub use release::{
    name_problem as release_name_problem, FixVersionOn, FixVersionRule, TransitionRule,
};
pub use resolve::{resolve, Config, TrackersOrigin};
pub use schema::json_schema;
pub use source::{
    blob_source, client_config, file_in_commit, load_config, load_trackers, project_source,
    read_source, ConfigPaths, LoadError, PROJECT_FILE,
};
pub use tracker::{
    shows_as_variable_name, Auth, DeploymentsAuth, SecretRef, Tracker, TrackerKind,
    DEFAULT_DEPLOYMENTS_API_URL, DEFAULT_MAX_CONCURRENCY, DEFAULT_TOKEN_URL,
    REPOSITORY_VARIABLE_PREFIXES,
};
pub use yaml::{MAX_ALIASES, MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_REPLAYED_EVENTS};

pub use crate::template::Template;

/// The text of a configuration file and the name to show in its errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Shown in errors: a path, or `.deploylink.yml at 1a2b3c4` for a file read from a commit.
    pub name: String,
    /// The file's bytes, as read; they need not be UTF-8 (that is checked).
    pub text: Vec<u8>,
}

/// Who can have written the repository's file, which decides whether its `trackers:` are
/// trusted (SPEC 3.3). Wherever they are used, they may name only variables whose names start
/// with `JIRA_` or `DEPLOYLINK_`, and no files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustMode {
    /// A git server hook: whoever can push wrote the file, so its trackers are used only where
    /// the organization file lists their URLs in `allow_repository_trackers`.
    ServerHook,
    /// CI, or a command run by hand: whoever can change the file can change the pipeline, so its
    /// trackers are used when there is no organization file (and where it lists their URLs).
    Client,
    /// A client hook (`pre-push`, `commit-msg`): it runs on every commit and push of any
    /// repository a developer clones, so trackers come only from the organization file.
    ClientHook,
}

impl Config {
    /// The effective configuration as YAML, for `config check`: defaults filled in, credentials
    /// shown as `<from $JIRA_API_TOKEN>` or `<from file /run/secrets/jira>`.
    pub fn effective_yaml(&self) -> String {
        effective::effective_yaml(self)
    }
}

#[cfg(test)]
mod tests {
    /// The CLI may hand the configuration to worker threads.
    #[test]
    fn config_is_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Config>();
        send_sync::<super::TrackersFile>();
        send_sync::<super::ConfigError>();
    }
}
