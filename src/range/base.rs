//! The base of a deploy: the commits its range excludes. Every rule that picks one lives
//! here, for every entry point:
//!
//! - `--from REV`, `--from last-tag`, `--from other-refs` ([`BaseRule`]);
//! - the automatic rule ([`choose`] with [`BaseRule::Auto`]): the last recorded deploy of the
//!   project to the environment; else what the entry point knows (a pushed ref's previous
//!   tip, the refs as they were before a push, the CI's previous commit); else, for a tag,
//!   the previous release tag ([`last_tag_base`]); else the deployed commit alone;
//! - `keys`, which has no project or environment ([`for_keys`]);
//! - the client `pre-push` hook: what the remote already has ([`pre_push_base`]).

use std::collections::HashMap;

use git2::Oid;

use super::version::Version;
use crate::git::push::ReceivedRef;
use crate::git::{GitError, Repo};

/// Where deploylink records the last deploy of each project to each environment.
pub const DEPLOY_REFS: &str = "refs/deploylink/";

/// The ref that records the last successful deploy of `project` to `environment`.
pub fn deploy_ref(project: &str, environment: &str) -> String {
    format!("{DEPLOY_REFS}{project}/{environment}")
}

/// Where the history of every recorded deploy of a project to an environment is kept: a
/// chain of commits, one per deploy (`crate::history`).
pub const HISTORY_REFS: &str = "refs/deploylink-history/";

/// `refs/deploylink-history/<project>/<environment>`.
pub fn history_ref(project: &str, environment: &str) -> String {
    format!("{HISTORY_REFS}{project}/{environment}")
}

/// Whether `refname` is one of deploylink's own records or histories (never a deploy, never
/// a base).
pub fn is_deploy_ref(refname: &str) -> bool {
    refname.starts_with(DEPLOY_REFS) || refname.starts_with(HISTORY_REFS)
}

/// Where the base of a deploy comes from (`--from`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BaseRule {
    /// The last recorded deploy, else what the entry point knows, else the previous tag for a
    /// tag, else `to` alone.
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

/// Where the base of a range came from (reported with the plan).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseSource {
    /// `--from REV`.
    Given(String),
    /// `--from last-tag`, or a tag's automatic base: the previous tag matching the
    /// environment's tag patterns, and the rule that chose it.
    LastTag { tag: String, rule: TagRule },
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
            BaseSource::LastTag { tag, rule } => match rule {
                TagRule::PreviousVersion {
                    deployed,
                    pre_release: false,
                } => format!(
                    "previous release {tag} (the greatest version below {deployed} with the \
                     same prefix; pre-releases skipped)"
                ),
                TagRule::PreviousVersion { deployed, .. } => format!(
                    "previous tag {tag} (the greatest version below {deployed} with the same \
                     prefix)"
                ),
                TagRule::Reachable => format!(
                    "previous tag {tag} (the nearest earlier tag reachable from the deployed \
                     commit; the deployed ref is not a version tag)"
                ),
            },
            BaseSource::OtherRefs { refs } => format!("commits on no other ref ({refs} refs)"),
            BaseSource::LastDeploy(name) => format!("last recorded deploy {name}"),
            BaseSource::PreviousTip(id) => format!("the ref's previous tip {id}"),
            BaseSource::CiPrevious(id) => format!("the CI's previous commit {id}"),
            BaseSource::None => "none (only the deployed commit)".to_owned(),
        }
    }
}

/// How the previous-tag rule chose its tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagRule {
    /// The deployed tag reads as a version: the greatest tag with its prefix and a smaller
    /// version, pre-releases skipped when the deployed tag is a final release.
    PreviousVersion { deployed: String, pre_release: bool },
    /// The deployed ref is not a version tag: the nearest earlier tag reachable from it.
    Reachable,
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

/// What the base rules need to know of one deploy.
pub struct Deployed<'a> {
    pub project: &'a str,
    pub environment: &'a str,
    pub to: Oid,
    /// The full ref that was deployed, when known (`refs/tags/v1.2` makes the tag rule apply).
    pub refname: Option<&'a str>,
    /// What the entry point knows, used by the automatic rule when there is no recorded
    /// deploy: a pushed ref's previous tip, the refs before a push, the CI's previous commit.
    pub fallback: Option<Base>,
    /// The tags the previous-tag rule may pick.
    pub tags: &'a dyn Fn(&str) -> bool,
}

/// The chosen base, and what the plan should say about it.
#[derive(Debug)]
pub struct Choice {
    pub base: Base,
    /// `to` is an ancestor of the last recorded deploy: the commits from `to` up to this one
    /// leave the environment (a rollback).
    pub rollback_from: Option<Oid>,
    /// Why the range is only the deployed commit, when no base was found.
    pub note: Option<&'static str>,
}

impl Choice {
    fn of(base: Base) -> Choice {
        Choice {
            base,
            rollback_from: None,
            note: None,
        }
    }
}

const NO_EARLIER_TAG: &str =
    "no earlier tag matches this environment, so the range is only the deployed commit";
const NO_BASE: &str = "no base found (no recorded deploy, no earlier tag): the range is only \
     the deployed commit; give one with --from REV, --from last-tag or --from other-refs";

/// The base of a deploy under `rule`.
pub fn choose(repo: &Repo, rule: &BaseRule, deployed: &Deployed<'_>) -> Result<Choice, GitError> {
    let given = match rule {
        BaseRule::Auto => return automatic(repo, deployed),
        BaseRule::Revision(rev) => Some(Base {
            exclude: vec![repo.resolve(rev)?],
            source: BaseSource::Given(rev.clone()),
        }),
        BaseRule::OtherRefs => Some(other_refs_base(repo, deployed.refname)?),
        BaseRule::LastTag => last_tag_base(repo, deployed.to, deployed.refname, deployed.tags)?,
    };
    Ok(match given {
        Some(base) => Choice::of(base),
        None => Choice {
            note: Some(NO_EARLIER_TAG),
            ..Choice::of(Base::none())
        },
    })
}

/// The automatic rule: the last recorded deploy when it is an ancestor of `to` (or a
/// rollback when `to` is its ancestor); else the entry point's fallback; for a tag, the
/// previous release tag; otherwise `to` alone, with a note.
fn automatic(repo: &Repo, deployed: &Deployed<'_>) -> Result<Choice, GitError> {
    let record = deploy_ref(deployed.project, deployed.environment);
    if let Ok(last) = repo.resolve(&record) {
        let source = BaseSource::LastDeploy(record);
        if repo.is_ancestor(last, deployed.to)? {
            return Ok(Choice::of(Base {
                exclude: vec![last],
                source,
            }));
        }
        if repo.is_ancestor(deployed.to, last)? {
            return Ok(Choice {
                rollback_from: Some(last),
                ..Choice::of(Base {
                    exclude: vec![deployed.to],
                    source,
                })
            });
        }
    }
    if let Some(base) = &deployed.fallback {
        return Ok(Choice::of(base.clone()));
    }
    if deployed.refname.is_some_and(is_tag) {
        if let Some(base) = last_tag_base(repo, deployed.to, deployed.refname, deployed.tags)? {
            return Ok(Choice::of(base));
        }
    }
    Ok(Choice {
        note: Some(NO_BASE),
        ..Choice::of(Base::none())
    })
}

/// `keys` has no project or environment, so its rules are: `--from`, else the previous tag
/// when `to` is a tag, else `to` alone (with a warning to log).
pub fn for_keys(
    repo: &Repo,
    to: Oid,
    refname: Option<&str>,
    from: Option<&BaseRule>,
) -> Result<(Base, Option<&'static str>), GitError> {
    let rule = match from {
        Some(rule) => rule.clone(),
        None if refname.is_some_and(is_tag) => BaseRule::LastTag,
        None => {
            return Ok((
                Base::none(),
                Some("no base given: only the commit itself is scanned; pass --from REV, --from last-tag or --from other-refs"),
            ))
        }
    };
    let deployed = Deployed {
        project: "",
        environment: "",
        to,
        refname,
        fallback: None,
        tags: &|_| true,
    };
    let choice = choose(repo, &rule, &deployed)?;
    let note = choice
        .note
        .map(|_| "no earlier tag: only the commit itself is scanned");
    Ok((choice.base, note))
}

/// The base of one pushed ref update (`<old> <new> <ref>`, as a hook reads it), used when
/// the environment has no recorded deploy: `None` for a deleted ref (nothing is deployed)
/// and for a new tag (the previous-tag rule applies); the refs as they were before the push
/// for a new branch; otherwise the previous tip, which after a force push excludes exactly
/// the commits both histories share, so commits only in the old history are not deployed
/// again.
pub fn push_base(
    repo: &Repo,
    pushed: &ReceivedRef,
    push: &[ReceivedRef],
) -> Result<Option<Base>, GitError> {
    if pushed.new.is_zero() {
        return Ok(None);
    }
    if pushed.old.is_zero() {
        if is_tag(&pushed.refname) {
            return Ok(None);
        }
        return refs_before_push(repo, pushed, push).map(Some);
    }
    Ok(Some(Base {
        exclude: vec![pushed.old],
        source: BaseSource::PreviousTip(pushed.old),
    }))
}

/// A new ref's base: every ref as it was before this push. The refs of the push count at
/// their old tips, and the ones it created not at all: a branch pushed together with main
/// must not hide main's new commits.
fn refs_before_push(
    repo: &Repo,
    pushed: &ReceivedRef,
    push: &[ReceivedRef],
) -> Result<Base, GitError> {
    refs_except(repo, &pushed.refname, |name, id| {
        match push.iter().find(|p| p.refname == name) {
            Some(update) if update.old.is_zero() => None,
            Some(update) => Some(update.old),
            None => Some(id),
        }
    })
}

/// `--from other-refs`: every ref except `own_ref`, as
/// `git rev-list NEW --not --exclude=REF --all`.
pub fn other_refs_base(repo: &Repo, own_ref: Option<&str>) -> Result<Base, GitError> {
    refs_except(repo, own_ref.unwrap_or_default(), |_, id| Some(id))
}

/// Every ref but `own_ref` and deploylink's own records, each at the tip `tip` gives it
/// (`None` leaves it out).
fn refs_except(
    repo: &Repo,
    own_ref: &str,
    tip: impl Fn(&str, Oid) -> Option<Oid>,
) -> Result<Base, GitError> {
    let mut exclude: Vec<Oid> = Vec::new();
    let mut refs = 0;
    for (name, id) in repo.refs()? {
        if name == own_ref || is_deploy_ref(&name) {
            continue;
        }
        let Some(id) = tip(&name, id) else { continue };
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

/// The client `pre-push` hook's base: what the remote already has, i.e. its old tip when this
/// clone has it, and every `refs/remotes/REMOTE/*` (so a new branch is checked for its own
/// commits only).
pub fn pre_push_base(repo: &Repo, remote: &str, remote_tip: Oid) -> Result<Base, GitError> {
    let prefix = format!("refs/remotes/{remote}/");
    let mut exclude: Vec<Oid> = repo
        .refs()?
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(_, id)| id)
        .collect();
    if !remote_tip.is_zero() && repo.git().find_commit(remote_tip).is_ok() {
        exclude.push(remote_tip);
    }
    let refs = exclude.len();
    Ok(Base {
        exclude,
        source: BaseSource::OtherRefs { refs },
    })
}

/// The CI's previous commit (a push event's `before`) as a base.
pub fn ci_previous(id: Oid) -> Base {
    Base {
        exclude: vec![id],
        source: BaseSource::CiPrevious(id),
    }
}

/// The previous-tag rule, among the tags whose full name `matches`:
///
/// - when the deployed ref (`refname`) is a tag that reads as a version ([`Version`]): the
///   greatest tag with the same prefix and a smaller version, skipping pre-releases when the
///   deployed tag is a final release (the base of `3.6.2` is `3.6.1`, never `3.6.0-rc2`). It
///   need not be an ancestor of `to`: projects release from release branches. No history is
///   read;
/// - otherwise the nearest tag reachable from `to` (tags on `to` itself excluded), like
///   `git describe --tags --abbrev=0 TO^`.
pub fn last_tag_base(
    repo: &Repo,
    to: Oid,
    refname: Option<&str>,
    matches: &dyn Fn(&str) -> bool,
) -> Result<Option<Base>, GitError> {
    let tags: Vec<(String, Oid)> = repo
        .refs()?
        .into_iter()
        .filter(|(name, _)| is_tag(name) && matches(name))
        .collect();
    let deployed = refname.and_then(|name| name.strip_prefix("refs/tags/"));
    if let Some((deployed, version)) =
        deployed.and_then(|name| Version::parse(name).map(|v| (name, v)))
    {
        return Ok(previous_version(&tags, deployed, &version));
    }
    nearest_reachable_tag(repo, to, tags)
}

/// The greatest tag of `tags` with `version`'s prefix and a smaller version; for a final
/// release, final releases only. Two equal versions (`3.8` and `3.8.0`): the greater name.
fn previous_version(tags: &[(String, Oid)], deployed: &str, version: &Version<'_>) -> Option<Base> {
    let final_release = !version.is_pre_release();
    let (_, tag, id) = tags
        .iter()
        .filter_map(|(name, id)| {
            let short = name.strip_prefix("refs/tags/")?;
            let candidate = Version::parse(short)?;
            let fits = candidate.prefix() == version.prefix()
                && candidate < *version
                && !(final_release && candidate.is_pre_release());
            fits.then_some((candidate, short, *id))
        })
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))?;
    Some(Base {
        exclude: vec![id],
        source: BaseSource::LastTag {
            tag: tag.to_owned(),
            rule: TagRule::PreviousVersion {
                deployed: deployed.to_owned(),
                pre_release: !final_release,
            },
        },
    })
}

/// The nearest of `tags` reachable from `to`, excluding tags on `to` itself, like
/// `git describe --tags --abbrev=0 TO^`.
fn nearest_reachable_tag(
    repo: &Repo,
    to: Oid,
    tags: Vec<(String, Oid)>,
) -> Result<Option<Base>, GitError> {
    let mut tagged: HashMap<Oid, String> = HashMap::new();
    for (name, id) in tags {
        if id != to {
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
                source: BaseSource::LastTag {
                    tag: name.trim_start_matches("refs/tags/").to_owned(),
                    rule: TagRule::Reachable,
                },
            }));
        }
    }
    Ok(None)
}

fn is_tag(refname: &str) -> bool {
    refname.starts_with("refs/tags/")
}
