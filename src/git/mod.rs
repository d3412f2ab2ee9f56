//! The git layer: opening a repository, reading commits (through libgit2 and a pack reader
//! of our own for speed), and the refs a push updates. Everything above this module sees
//! commits and refs, never packs.

pub mod commit;
pub mod pack;
pub mod push;
pub mod remote;
pub mod repo;

use std::path::PathBuf;

use git2::Oid;

pub use repo::Repo;

/// A git problem. Every variant maps to exit code 5 and says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot open a git repository at {}: {}\n  hint: run inside a repository or pass --repo DIR", path.display(), source.message())]
    Open { path: PathBuf, source: git2::Error },
    #[error("unknown revision '{rev}': {}\n  hint: check the name, or fetch it first (`git fetch origin {rev}`)", source.message())]
    UnknownRevision { rev: String, source: git2::Error },
    #[error("'{rev}' does not name a commit")]
    NotACommit { rev: String },
    #[error("commit {id} is missing from the repository\n  hint: the repository is incomplete; fetch the missing history (`git fetch`)")]
    MissingObject { id: Oid },
    #[error("{what} is not in this shallow clone, so the range cannot be computed exactly\n  hint: fetch the whole history (GitHub Actions: `fetch-depth: 0`; GitLab CI: `GIT_DEPTH: 0`; elsewhere `git fetch --unshallow`)")]
    ShallowMissing { what: String },
    #[error("the range reaches commit {boundary}, where this shallow clone's history is cut off, so it would be silently truncated\n  hint: fetch the whole history (GitHub Actions: `fetch-depth: 0`; GitLab CI: `GIT_DEPTH: 0`; elsewhere `git fetch --unshallow`) or give a base with --from")]
    ShallowRange { boundary: Oid },
    #[error("cannot read commit {id}: {}", source.message())]
    Read { id: Oid, source: git2::Error },
    #[error("commit {id} is malformed (no committer or a bad parent id)")]
    Corrupt { id: Oid },
    #[error("cannot list the repository's refs: {}", source.message())]
    Refs { source: git2::Error },
    #[error("cannot read {}: {source}", path.display())]
    ShallowFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a list of commit ids", path.display())]
    CorruptShallowFile { path: PathBuf },
    #[error("internal error in the commit walk (a bug; please report it)")]
    Internal,
    #[error("cannot record the deploy in {refname}: {source}\n  hint: the repository must be writable by this user")]
    RecordFailed {
        refname: String,
        #[source]
        source: git2::Error,
    },
}
