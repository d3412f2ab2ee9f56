//! The commit range of a deploy: its base (the commits it excludes, chosen in [`base`]), and
//! the walk from `to` down to it.

mod base;
mod version;
mod walk;

pub use base::{
    choose, ci_previous, deploy_ref, for_keys, history_ref, is_deploy_ref, last_tag_base,
    other_refs_base, pre_push_base, push_base, Base, BaseRule, BaseSource, Choice, Deployed,
    TagRule, DEPLOY_REFS, HISTORY_REFS,
};

use git2::Oid;

use crate::git::{GitError, Repo};
pub use walk::{ParentMode, WalkedCommit};

impl ParentMode {
    /// `--first-parent`: only the first parent of merges is followed.
    pub fn first_parent(first_parent: bool) -> ParentMode {
        if first_parent {
            ParentMode::First
        } else {
            ParentMode::All
        }
    }
}

/// The commits a deploy ships, oldest first, each with the digest of its message.
#[derive(Clone, Debug)]
pub struct CommitRange<T> {
    pub to: Oid,
    pub base: Base,
    pub commits: Vec<WalkedCommit<T>>,
}

/// The outcome of resolving a range.
pub enum Resolved<T> {
    Range(CommitRange<T>),
    /// More than `limit` commits (SPEC 4 "Size"): nothing is written.
    TooLarge {
        base: Base,
        limit: usize,
    },
}

/// A range refused for its size: it has more commits than `limit` (`max_commits`), and
/// nothing is written for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeRefusal {
    pub limit: usize,
}

impl SizeRefusal {
    /// How large the range is at least, in words: `more than 2,000 commits`.
    pub fn describe(&self) -> String {
        let digits = self.limit.to_string();
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let noun = if self.limit == 1 { "commit" } else { "commits" };
        format!("more than {grouped} {noun}")
    }
}

/// Options of a walk.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkOptions {
    pub parents: ParentMode,
    pub max_commits: Option<usize>,
}

/// Resolves the commits reachable from `to` and not from the base, keeping of each message
/// only what `digest` makes of it (messages can be megabytes, ranges thousands of commits).
///
/// With no base the range is `to` alone (SPEC 4: "otherwise only `to` itself").
pub fn resolve<T, F>(
    repo: &Repo,
    to: Oid,
    base: Base,
    options: WalkOptions,
    progress: &mut dyn FnMut(usize),
    digest: &F,
) -> Result<Resolved<T>, GitError>
where
    T: Send,
    F: Fn(Oid, &[u8]) -> T + Sync,
{
    // No base at all means `to` alone; an empty set of other refs means all of history.
    if base.exclude.is_empty() && matches!(base.source, BaseSource::None) {
        let only = repo.with_commit(to, |commit| WalkedCommit {
            id: to,
            digest: digest(to, commit.message),
        })?;
        return Ok(Resolved::Range(CommitRange {
            to,
            base,
            commits: vec![only],
        }));
    }
    let walk = walk::Walk::new(repo, options.parents, progress, digest);
    match walk.run(&[to], &base.exclude, options.max_commits)? {
        walk::WalkResult::TooLarge { limit } => Ok(Resolved::TooLarge { base, limit }),
        walk::WalkResult::Commits(mut commits) => {
            if let Some(cut) = commits.iter().find(|c| repo.is_shallow_boundary(c.id)) {
                return Err(GitError::ShallowRange { boundary: cut.id });
            }
            commits.reverse();
            Ok(Resolved::Range(CommitRange { to, base, commits }))
        }
    }
}
