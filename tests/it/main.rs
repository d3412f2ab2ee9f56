//! The integration tests, one binary (`cargo test --test it`; one module: `cargo test --test it
//! deliver::`). One binary links the library, libgit2, the HTTP stack and the sandbox once
//! instead of once per file.
//!
//! Shared harness in `support/`: [`support::TestRepo`] builds repositories with the real git,
//! [`support::cli`] runs the `deploylink` binary under test, [`support::jira`] writes the
//! organization file that points a repository at a sandbox Jira, [`support::openapi`] checks
//! request bodies against Atlassian's schemas.
//!
//! Tests that need more than the Rust toolchain and git (the CI template tools, Atlassian's full
//! OpenAPI files and python3) are `#[ignore]`d with what they need; `bash .ci/run` runs them
//! with `cargo test --locked -- --ignored`, where a missing tool or file fails the test.

mod support;

mod action_download;
mod bad_input;
mod ci_command;
mod ci_detect;
mod cli;
mod cli_snapshots;
mod config_edit;
mod config_errors;
mod config_examples;
mod config_hostile;
mod config_schema;
mod config_trust;
mod deliver;
mod devinfo;
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod dist;
mod doctor;
mod faults;
mod fuzz_regressions;
mod history;
mod hooks;
mod hostile;
mod identity;
mod init;
mod jira_schemas;
mod keys_corpus;
mod keys_rules;
mod lifecycle;
mod notes;
mod nothing_lost;
mod range;
mod release;
mod reports;
mod sandbox;
mod spool;
mod template_structure;
mod templates;
mod tracker;
