//! Jira's wire formats and the HTTP client that speaks them: request bodies (remote links,
//! deployment records, comments), credentials, and the reading of Jira's answers.

pub mod client;
pub mod comment;
pub mod credentials;
pub mod deployment;
pub mod details;
pub mod devinfo;
pub mod issue;
pub mod meta;
pub mod remote_link;
pub mod response;
mod tls;
pub mod transition;
pub mod version;

pub use tls::install_provider as install_tls_provider;
