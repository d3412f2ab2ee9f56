//! deploylink records deployments on the Jira issues they ship.
//!
//! The pipeline, one module each: [`config`] (the versioned project file and the
//! organization's trackers) -> [`range`] (the commits a deploy ships, read through [`repo`])
//! -> [`keys`] (the Jira issue keys in them) -> [`plan`] (exactly what will be written to
//! Jira, as [`jira`] requests) -> [`report`] (human and JSON output). [`command`] runs a
//! parsed [`cli`] command line; `main.rs` only maps its result to an exit code.

pub mod ci;
pub mod command;
pub mod config;
pub mod deliver;
pub mod error;
pub mod git;
pub mod issues;
pub mod jira;
pub mod keys;
pub mod plan;
pub mod policy;
pub mod range;
pub mod report;
pub mod template;

pub use error::{Error, ExitCode};
