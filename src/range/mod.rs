//! The commit range of a deploy (SPEC 4): which base to use, and the walk from `to` down to it.

mod walk;

use git2::Oid;

use crate::git::{GitError, Repo};
pub use walk::{ParentMode, WalkedCommit};

/// Where the base of a deploy comes from (`--from`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BaseRule {
    /// SPEC 4's order: last recorded deploy, previous tag for a tag, else `to` alone.
    #[default]
    Auto,
    Revision(String),
    LastTag,
    OtherRefs,
}

impl BaseRule {
    /// `--from` value: `last-tag`, `other-refs`, or a revision.
    pub fn parse(value: &str) -> BaseRule {
        match value {
            "last-tag" => BaseRule::LastTag,
            "other-refs" => BaseRule::OtherRefs,
            rev => BaseRule::Revision(rev.to_owned()),
        }
    }
}

/// The base that an explicit `--from` names: a revision, every other ref, or the nearest
/// earlier tag accepted by `tags` (`None` when there is none). `Auto` names none: its rules
/// need a project and an environment, so the caller applies them.
pub fn given_base(
    repo: &Repo,
    rule: &BaseRule,
    to: Oid,
    refname: Option<&str>,
    tags: &dyn Fn(&str) -> bool,
) -> Result<Option<Base>, GitError> {
    match rule {
        BaseRule::Revision(rev) => Ok(Some(Base {
            exclude: vec![repo.resolve(rev)?],
            source: BaseSource::Given(rev.clone()),
        })),
        BaseRule::OtherRefs => other_refs_base(repo, refname).map(Some),
        BaseRule::LastTag => last_tag_base(repo, to, tags),
        BaseRule::Auto => Ok(None),
    }
}

/// Where the base of a range came from (reported with the plan).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseSource {
    /// `--from REV`.
    Given(String),
    /// `--from last-tag`: the previous tag matching the environment's tag patterns.
    LastTag(String),
    /// `--from other-refs`, or a new ref in a hook: every other ref.
    OtherRefs { refs: usize },
    /// The last recorded deploy of this project to this environment.
    LastDeploy(String),
    /// A pushed ref's previous tip (a hook's `<old>`; after a force push too).
    PreviousTip(Oid),
    /// The CI's own previous commit (a GitHub push event's `before`, `CI_COMMIT_BEFORE_SHA`).
    CiPrevious(Oid),
    /// No base could be found: the range is `to` alone.
    None,
}

impl BaseSource {
    pub fn describe(&self) -> String {
        match self {
            BaseSource::Given(rev) => format!("--from {rev}"),
            BaseSource::LastTag(tag) => format!("previous tag {tag}"),
            BaseSource::OtherRefs { refs } => format!("commits on no other ref ({refs} refs)"),
            BaseSource::LastDeploy(name) => format!("last recorded deploy {name}"),
            BaseSource::PreviousTip(id) => format!("the ref's previous tip {id}"),
            BaseSource::CiPrevious(id) => format!("the CI's previous commit {id}"),
            BaseSource::None => "none (only the deployed commit)".to_owned(),
        }
    }
}

/// The base of a range: the commits it excludes and where they came from.
#[derive(Clone, Debug)]
pub struct Base {
    pub exclude: Vec<Oid>,
    pub source: BaseSource,
}

impl Base {
    pub fn none() -> Base {
        Base {
            exclude: Vec::new(),
            source: BaseSource::None,
        }
    }

    /// The single base commit, when there is exactly one (reported as `from`).
    pub fn from(&self) -> Option<Oid> {
        match self.exclude.as_slice() {
            [one] if !matches!(self.source, BaseSource::OtherRefs { .. }) => Some(*one),
            _ => None,
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

/// The base of one pushed ref update (`<old> <new> <ref>`, as a hook reads it; SPEC 4):
/// `None` for a deleted ref (nothing is deployed); every other ref for a new one; otherwise
/// the previous tip, which after a force push excludes exactly the commits both histories
/// share, so commits only in the old history are not deployed again.
pub fn push_base(repo: &Repo, old: Oid, new: Oid, refname: &str) -> Result<Option<Base>, GitError> {
    if new.is_zero() {
        return Ok(None);
    }
    if old.is_zero() {
        return other_refs_base(repo, Some(refname)).map(Some);
    }
    Ok(Some(Base {
        exclude: vec![old],
        source: BaseSource::PreviousTip(old),
    }))
}

/// `--from other-refs` and a new ref in a hook: every ref except `own_ref` (and `HEAD`,
/// which may point at it), as `git rev-list NEW --not --exclude=HEAD --exclude=REF --all`.
pub fn other_refs_base(repo: &Repo, own_ref: Option<&str>) -> Result<Base, GitError> {
    let mut exclude: Vec<Oid> = Vec::new();
    let mut refs = 0;
    for (name, id) in repo.refs()? {
        if Some(name.as_str()) == own_ref || name.starts_with("refs/deploylink/") {
            continue;
        }
        refs += 1;
        if !exclude.contains(&id) {
            exclude.push(id);
        }
    }
    Ok(Base {
        exclude,
        source: BaseSource::OtherRefs { refs },
    })
}

/// `--from last-tag`: the nearest tag reachable from `to` (excluding tags on `to` itself)
/// whose name matches `matches`, like `git describe --tags --abbrev=0 TO^`.
pub fn last_tag_base(
    repo: &Repo,
    to: Oid,
    matches: &dyn Fn(&str) -> bool,
) -> Result<Option<Base>, GitError> {
    let mut tagged: std::collections::HashMap<Oid, String> = std::collections::HashMap::new();
    for (name, id) in repo.refs()? {
        if name.starts_with("refs/tags/") && matches(&name) && id != to {
            // Two tags on one commit: keep the greater name (v1.2.0 over v1.2.0-rc1).
            let entry = tagged.entry(id).or_insert_with(|| name.clone());
            if name > *entry {
                *entry = name;
            }
        }
    }
    if tagged.is_empty() {
        return Ok(None);
    }
    let git = repo.git();
    let walk_err = |source| GitError::Read { id: to, source };
    let mut walk = git.revwalk().map_err(walk_err)?;
    walk.set_sorting(git2::Sort::TIME).map_err(walk_err)?;
    walk.push(to).map_err(walk_err)?;
    for id in walk {
        let id = id.map_err(walk_err)?;
        if let Some(name) = tagged.get(&id) {
            return Ok(Some(Base {
                exclude: vec![id],
                source: BaseSource::LastTag(name.trim_start_matches("refs/tags/").to_owned()),
            }));
        }
    }
    Ok(None)
}
