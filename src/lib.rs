//! deploylink records deployments on the Jira issues they ship.
//!
//! The pipeline, one module each, in the order a deploy goes through them:
//! [`config`] (the versioned project file and the organization's trackers, found in one
//! documented order) -> [`git`] and [`range`] (the commits a deploy ships: its base, chosen in
//! `range/base.rs`, and the walk down to it) -> [`keys`] and [`issues`] (the Jira issue keys in
//! them) -> [`plan`] (exactly what will be written to Jira, as [`jira`] requests) ->
//! [`deliver`] (the delivery run: spool, retries, records) -> [`report`] (human and JSON
//! output). [`ci`] reads a CI's environment, [`policy`] judges commit messages for the client
//! hooks. [`command`] is the edge: it turns a command line into plain requests, calls the
//! pipeline and renders the result; `main.rs` only maps it to an exit code.

pub mod ci;
pub mod command;
pub mod config;
pub mod deliver;
pub mod doctor;
pub mod durable;
pub mod error;
pub mod git;
pub mod history;
pub mod issues;
pub mod jira;
pub mod keys;
pub mod notes;
pub mod plan;
pub mod policy;
pub mod range;
pub mod report;
pub mod template;
pub mod time;

pub use error::{Error, ExitCode};
