//! deploylink records deployments on the Jira issues they ship.
//!
//! The pipeline, one module each: [`config`] (the versioned project file and the
//! organization's trackers) -> [`range`] (the commits a deploy ships, read through [`repo`])
//! -> [`keys`] (the Jira issue keys in them) -> [`plan`] (exactly what will be written to
//! Jira, as [`jira`] requests) -> [`report`] (human and JSON output). [`command`] runs a
//! parsed [`cli`] command line; `main.rs` only maps its result to an exit code.

pub mod ci;
pub mod cli;
pub mod command;
pub mod commit;
pub mod config;
pub mod deliver;
pub mod demo;
pub mod deploy;
pub mod error;
pub mod init;
pub mod install;
pub mod issues;
pub mod jira;
pub mod keys;
pub mod pack;
pub mod plan;
pub mod policy;
pub mod push;
pub mod range;
pub mod repo;
pub mod report;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod spool;
pub mod template;

pub use error::{Error, ExitCode};
