//! The history ref: a chain of commits, one per deploy, each tree holding only `deploy.json`,
//! each parent the previous entry. Appends are compare-and-swap updates of the ref, retried
//! when another deploy appended first, so concurrent deploys all end up in the chain.

use std::time::Duration;

use git2::{ErrorCode, FileMode, Oid, Repository, Signature, Time};

use super::record::{DeployRecord, FILE, VERSION};
use crate::plan::DeployState;
use crate::time::{self, Seconds};

/// How often an append is tried when other deploys keep moving the ref first.
const ATTEMPTS: u32 = 200;

/// Past this many commits in a row that are no deploy entries, the ref is no history at all
/// (a branch pushed there by mistake): reading stops instead of walking the code's history.
const MAX_FOREIGN_RUN: usize = 100;

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot append the deploy to {refname}: {source}\n  hint: the repository must be writable by this user")]
    Append {
        refname: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot append the deploy to {refname}: {attempts} other deploys moved it first each time\n  hint: run the same command again")]
    Contended { refname: String, attempts: u32 },
    #[error("cannot read the deploy history {refname}: {source}")]
    Read {
        refname: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot list the deploy histories of the repository: {source}")]
    List {
        #[source]
        source: git2::Error,
    },
    #[error("cannot push the deploy history to {remote}: {message}\n  hint: {hint}")]
    Push {
        remote: String,
        message: String,
        hint: String,
    },
}

/// A readable entry of the history.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The history commit that holds it.
    pub id: Oid,
    pub record: DeployRecord,
    pub deployed_at: Seconds,
    /// Each commit's committer time, parallel to `record.commits`; `None` where it cannot
    /// be used (unreadable, or later than the deploy: a skewed clock).
    pub committed_at: Vec<Option<Seconds>>,
}

impl Entry {
    pub fn state(&self) -> DeployState {
        self.record.state
    }
}

/// Something wrong with one entry of a history: reported with the entry, and the rest of the
/// history still counts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The history ref.
    #[serde(rename = "ref")]
    pub refname: String,
    /// The history commit.
    pub entry: String,
    pub message: String,
}

/// What a history ref holds: its entries, oldest first (in the order they were appended),
/// and what could not be read.
#[derive(Debug, Default)]
pub struct History {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

/// The history refs of the repository (`refs/deploylink-history/<project>/<environment>`),
/// sorted by name.
pub fn history_refs(git: &Repository) -> Result<Vec<String>, HistoryError> {
    let glob = format!("{}*", crate::range::HISTORY_REFS);
    let refs = git
        .references_glob(&glob)
        .map_err(|source| HistoryError::List { source })?;
    let mut names: Vec<String> = refs
        .flatten()
        .filter_map(|r| r.name().ok().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Appends `record` to `refname`: a new commit on top of the current tip, then a
/// compare-and-swap of the ref from that tip, again from the new tip if another deploy
/// appended in between. Returns the new entry's commit.
pub fn append(git: &Repository, refname: &str, record: &DeployRecord) -> Result<Oid, HistoryError> {
    let failed = |source| HistoryError::Append {
        refname: refname.to_owned(),
        source,
    };
    let json = serde_json::to_vec_pretty(record)
        .map_err(|e| failed(git2::Error::from_str(&e.to_string())))?;
    let blob = git.blob(&json).map_err(failed)?;
    let mut builder = git.treebuilder(None).map_err(failed)?;
    builder
        .insert(FILE, blob, FileMode::Blob.into())
        .map_err(failed)?;
    let tree = git
        .find_tree(builder.write().map_err(failed)?)
        .map_err(failed)?;
    let at = time::parse_rfc3339(&record.deployed_at).unwrap_or_else(time::now);
    let signature =
        Signature::new("deploylink", "deploylink@localhost", &Time::new(at, 0)).map_err(failed)?;
    let message = format!(
        "deploy {} to {}: {} {}\n",
        record.project,
        record.environment,
        record.state.as_str(),
        record.to.get(..12).unwrap_or(&record.to)
    );
    for attempt in 0..ATTEMPTS {
        let tip = match git.find_reference(refname) {
            Ok(reference) => reference.target(),
            Err(e) if e.code() == ErrorCode::NotFound => None,
            Err(e) => return Err(failed(e)),
        };
        let parent = tip
            .map(|id| git.find_commit(id))
            .transpose()
            .map_err(failed)?;
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        let id = git
            .commit(None, &signature, &signature, &message, &tree, &parents)
            .map_err(failed)?;
        let updated = match tip {
            Some(old) => git.reference_matching(refname, id, true, old, &message),
            None => git.reference(refname, id, false, &message),
        };
        match updated {
            Ok(_) => return Ok(id),
            // Another deploy moved (or created, or holds the lock of) the ref first.
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::Modified | ErrorCode::Exists | ErrorCode::Locked
                ) =>
            {
                log::debug!(
                    "{refname}: moved by another deploy (attempt {}): {e}",
                    attempt + 1
                );
                std::thread::sleep(Duration::from_millis(fastrand::u64(
                    1..=5 + u64::from(attempt.min(20)),
                )));
            }
            Err(e) => return Err(failed(e)),
        }
    }
    Err(HistoryError::Contended {
        refname: refname.to_owned(),
        attempts: ATTEMPTS,
    })
}

/// Reads the history at `refname`: every entry down the first-parent chain, oldest first.
/// What is not a deploy entry (another commit pushed there, a `deploy.json` of a newer
/// format or unreadable) is reported in `problems` and skipped.
pub fn read(git: &Repository, refname: &str) -> Result<History, HistoryError> {
    let failed = |source| HistoryError::Read {
        refname: refname.to_owned(),
        source,
    };
    let tip = git
        .find_reference(refname)
        .and_then(|r| r.peel_to_commit())
        .map_err(failed)?;
    let mut history = History::default();
    let mut next = Some(tip);
    let mut foreign_run = 0;
    while let Some(commit) = next {
        let problem = |message: String| Problem {
            refname: refname.to_owned(),
            entry: commit.id().to_string(),
            message,
        };
        match read_entry(git, &commit) {
            Ok(entry) => {
                foreign_run = 0;
                if let Some(message) = skew(&entry) {
                    history.problems.push(problem(message));
                }
                history.entries.push(entry);
            }
            Err(Unreadable::Foreign(message)) => {
                foreign_run += 1;
                history.problems.push(problem(message));
                if foreign_run >= MAX_FOREIGN_RUN {
                    history.problems.push(problem(format!(
                        "{MAX_FOREIGN_RUN} commits in a row are not deploy entries: this is not a deploy history past here, so reading stops; \
                         if a branch was pushed to {refname} by mistake, reset the ref to the last deploy entry"
                    )));
                    break;
                }
            }
            Err(Unreadable::Entry(message)) => history.problems.push(problem(message)),
        }
        next = match commit.parent_count() {
            0 => None,
            _ => Some(commit.parent(0).map_err(failed)?),
        };
    }
    history.entries.reverse();
    history.problems.reverse();
    Ok(history)
}

enum Unreadable {
    /// Not a deploy entry at all.
    Foreign(String),
    /// A deploy entry this deploylink cannot use.
    Entry(String),
}

fn read_entry(git: &Repository, commit: &git2::Commit<'_>) -> Result<Entry, Unreadable> {
    let foreign = || {
        Unreadable::Foreign(format!(
            "commit {} is not a deploy entry (its tree is not one {FILE}): someone pushed another commit to the history; it is skipped",
            commit.id()
        ))
    };
    let tree = commit.tree().map_err(|_| foreign())?;
    let file = match (tree.len(), tree.get_name(FILE)) {
        (1, Some(file)) => file,
        _ => return Err(foreign()),
    };
    let blob = git.find_blob(file.id()).map_err(|_| foreign())?;
    let unusable = |why: String| {
        Unreadable::Entry(format!(
            "{FILE} of entry {}: {why}; it is skipped",
            commit.id()
        ))
    };
    let value: serde_json::Value =
        serde_json::from_slice(blob.content()).map_err(|e| unusable(format!("not JSON ({e})")))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    match version {
        Some(v) if v > u64::from(VERSION) => {
            return Err(unusable(format!(
                "format version {v} was written by a newer deploylink (this one reads up to {VERSION}); upgrade deploylink to count it"
            )))
        }
        Some(_) => {}
        None => return Err(unusable("no format version".to_owned())),
    }
    let record: DeployRecord =
        serde_json::from_value(value).map_err(|e| unusable(format!("unreadable ({e})")))?;
    let deployed_at = time::parse_rfc3339(&record.deployed_at).ok_or_else(|| {
        unusable(format!(
            "deployed_at {:?} is not an RFC 3339 time",
            record.deployed_at
        ))
    })?;
    let committed_at = record
        .commits
        .iter()
        .map(|c| time::parse_rfc3339(&c.committed_at).filter(|at| *at <= deployed_at))
        .collect();
    Ok(Entry {
        id: commit.id(),
        record,
        deployed_at,
        committed_at,
    })
}

/// Commits committed after the deploy that shipped them: a clock was wrong (the deploying
/// machine's or the committer's). They are left out of lead times.
fn skew(entry: &Entry) -> Option<String> {
    let skewed: Vec<&str> = entry
        .record
        .commits
        .iter()
        .zip(&entry.committed_at)
        .filter(|(_, at)| at.is_none())
        .map(|(c, _)| c.id.get(..12).unwrap_or(&c.id))
        .collect();
    if skewed.is_empty() {
        return None;
    }
    Some(format!(
        "entry {} (deployed at {}): {} {} a commit time after the deploy or none ({}): a clock is wrong; {} left out of lead times, the deploy still counts",
        entry.id,
        entry.record.deployed_at,
        skewed.len(),
        if skewed.len() == 1 { "commit has" } else { "commits have" },
        skewed.join(", "),
        if skewed.len() == 1 { "it is" } else { "they are" },
    ))
}
