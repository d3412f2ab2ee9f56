//! The deploy history: every recorded deploy of a project to an environment, whatever its
//! state, kept in git itself as a chain of commits (`refs/deploylink-history/<project>/<environment>`)
//! so that it travels with fetch and push; and DORA's four keys computed over it.

mod chain;
pub mod metrics;
mod push;
mod record;

pub use chain::{append, history_refs, read, Entry, History, HistoryError, Problem};
pub use push::push;
pub use record::{DeployRecord, RecordedCommit, FILE, VERSION};
