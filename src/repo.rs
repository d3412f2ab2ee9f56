//! Access to the git repository: opening it (bare or not), resolving revisions, reading the
//! project file from a commit, listing refs, and reading raw commits for the range walk.
//!
//! Commits are read straight from the object database and parsed here, once each: libgit2's
//! revwalk followed by `find_commit` inflates every commit twice (measured in
//! `docs/dependencies.md`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::range::GitError;

/// One commit as the range walk needs it.
#[derive(Clone, Debug)]
pub struct RawCommit {
    pub parents: Vec<Oid>,
    /// Committer time, seconds since the epoch: the walk's ordering key, as in git.
    pub time: i64,
    /// The message bytes exactly as stored (may be non-UTF-8, may be megabytes).
    pub message: Vec<u8>,
}

/// An opened repository.
pub struct Repo {
    git: Repository,
    shallow: HashSet<Oid>,
}

/// Process-wide libgit2 settings, applied once before the first repository is opened.
///
/// - Strict hash verification re-hashes every object read (SHA-1 with collision detection);
///   git itself only does that in `fsck`. Turning it off makes reading 20,000 commits ~35%
///   faster (docs/dependencies.md).
/// - The object cache keeps every commit read; a range walk reads each commit once, so the
///   cache only costs memory (the peak-RSS target is 50 MB).
fn configure_libgit2() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::strict_hash_verification(false);
        git2::opts::enable_caching(false);
    });
}

impl Repo {
    /// Opens `dir` (a work tree, a `.git` directory or a bare repository), or when `None`
    /// the repository around the current directory, honouring `$GIT_DIR` like git does (a
    /// server hook runs with `GIT_DIR` set).
    pub fn open(dir: Option<&Path>) -> Result<Repo, GitError> {
        configure_libgit2();
        let git = match dir {
            Some(dir) => Repository::open_ext(
                dir,
                git2::RepositoryOpenFlags::empty(),
                std::iter::empty::<&std::ffi::OsStr>(),
            ),
            None if std::env::var_os("GIT_DIR").is_some() => Repository::open_from_env(),
            None => Repository::discover("."),
        }
        .map_err(|source| GitError::Open {
            path: dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            source,
        })?;
        let shallow = read_shallow_file(git.path())?;
        Ok(Repo { git, shallow })
    }

    pub fn git(&self) -> &Repository {
        &self.git
    }

    pub fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The repository's name: its directory name without `.git` (`/srv/git/shop.git` -> `shop`).
    pub fn name(&self) -> String {
        let dir = self.git.workdir().unwrap_or_else(|| self.git.path());
        let dir = if dir.file_name().is_some_and(|n| n == ".git") {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repository".to_owned());
        name.strip_suffix(".git").unwrap_or(&name).to_owned()
    }

    pub fn is_shallow(&self) -> bool {
        !self.shallow.is_empty()
    }

    /// Is `id` a commit whose parents were cut off by a shallow clone?
    pub fn is_shallow_boundary(&self, id: Oid) -> bool {
        self.shallow.contains(&id)
    }

    /// Resolves a revision (`HEAD`, `main`, `v1.2`, `HEAD~3`, a sha) to a commit id.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        let object = self.git.revparse_single(rev).map_err(|source| {
            if self.is_shallow() {
                GitError::ShallowMissing {
                    what: format!("revision '{rev}'"),
                }
            } else {
                GitError::UnknownRevision {
                    rev: rev.to_owned(),
                    source,
                }
            }
        })?;
        let commit = object
            .peel(ObjectType::Commit)
            .map_err(|_| GitError::NotACommit {
                rev: rev.to_owned(),
            })?;
        Ok(commit.id())
    }

    /// Reads one commit from the object database.
    pub fn read_commit(&self, id: Oid) -> Result<RawCommit, GitError> {
        let odb = self
            .git
            .odb()
            .map_err(|source| GitError::Read { id, source })?;
        let object = odb.read(id).map_err(|source| {
            if source.code() == git2::ErrorCode::NotFound {
                if self.is_shallow() {
                    GitError::ShallowMissing {
                        what: format!("commit {id}"),
                    }
                } else {
                    GitError::MissingObject { id }
                }
            } else {
                GitError::Read { id, source }
            }
        })?;
        if object.kind() != ObjectType::Commit {
            return Err(GitError::NotACommit {
                rev: id.to_string(),
            });
        }
        let mut commit = parse_commit(object.data()).ok_or(GitError::Corrupt { id })?;
        if self.is_shallow_boundary(id) {
            // The parents exist in the commit object but not in this clone.
            commit.parents.clear();
        }
        Ok(commit)
    }

    /// The file at `path` in the tree of commit `id`, if it exists there.
    pub fn read_file_at(&self, id: Oid, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let read = |source| GitError::Read { id, source };
        let commit = self.git.find_commit(id).map_err(read)?;
        let tree = commit.tree().map_err(read)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(source) => return Err(read(source)),
        };
        let blob = entry
            .to_object(&self.git)
            .and_then(|o| o.peel_to_blob())
            .map_err(read)?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Every ref (full name) with the commit it points to; refs that do not point to a
    /// commit (a tag of a tree or blob) are skipped, as `git rev-list --all` skips them.
    pub fn refs(&self) -> Result<Vec<(String, Oid)>, GitError> {
        let list = |source| GitError::Refs { source };
        let mut out = Vec::new();
        for reference in self.git.references().map_err(list)? {
            let reference = reference.map_err(list)?;
            let Ok(name) = reference.name() else {
                continue; // a non-UTF-8 ref name cannot be configured; git accepts it, we skip it
            };
            let name = name.to_owned();
            if let Ok(commit) = reference.peel_to_commit() {
                out.push((name, commit.id()));
            }
        }
        Ok(out)
    }

    /// Is `ancestor` reachable from `descendant` (or equal to it)?
    pub fn is_ancestor(&self, ancestor: Oid, descendant: Oid) -> Result<bool, GitError> {
        if ancestor == descendant {
            return Ok(true);
        }
        self.git
            .graph_descendant_of(descendant, ancestor)
            .map_err(|source| GitError::Read {
                id: descendant,
                source,
            })
    }

    /// The paths that commit `id` changes relative to its first parent (all paths for a
    /// root commit). Used only for projects with `paths:`.
    pub fn changed_paths(&self, id: Oid) -> Result<Vec<Vec<u8>>, GitError> {
        let read = |source| GitError::Read { id, source };
        let commit = self.git.find_commit(id).map_err(read)?;
        let tree = commit.tree().map_err(read)?;
        let parent_tree = match commit.parents().next() {
            Some(parent) => Some(parent.tree().map_err(read)?),
            None => None,
        };
        let diff = self
            .git
            .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
            .map_err(read)?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path_bytes() {
                    if !paths.iter().any(|p: &Vec<u8>| p == path) {
                        paths.push(path.to_vec());
                    }
                }
            }
        }
        Ok(paths)
    }
}

/// `$GIT_DIR/shallow` lists the commits whose parents a shallow clone does not have.
fn read_shallow_file(git_dir: &Path) -> Result<HashSet<Oid>, GitError> {
    let path = git_dir.join("shallow");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(source) => return Err(GitError::ShallowFile { path, source }),
    };
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            Oid::from_str(line.trim())
                .map_err(|_| GitError::CorruptShallowFile { path: path.clone() })
        })
        .collect()
}

/// Parses a raw commit object: headers up to the first empty line, then the message.
/// Returns `None` when the headers are malformed (no committer line, bad parent id).
pub fn parse_commit(data: &[u8]) -> Option<RawCommit> {
    let mut parents = Vec::new();
    let mut time = None;
    let mut rest = data;
    loop {
        let end = rest.iter().position(|&b| b == b'\n');
        let (line, next) = match end {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"parent ") {
            let hex = std::str::from_utf8(hex).ok()?;
            parents.push(Oid::from_str(hex).ok()?);
        } else if let Some(who) = line.strip_prefix(b"committer ") {
            time = parse_signature_time(who);
        }
        if end.is_none() {
            break;
        }
    }
    Some(RawCommit {
        parents,
        time: time?,
        message: rest.to_vec(),
    })
}

/// `Name <email> 1700000000 +0000` -> 1700000000. A malformed time counts as 0 (the epoch),
/// as git does, rather than failing the whole range.
fn parse_signature_time(who: &[u8]) -> Option<i64> {
    let after_email = who
        .iter()
        .rposition(|&b| b == b'>')
        .map_or(who, |i| &who[i + 1..]);
    let text = std::str::from_utf8(after_email).ok()?;
    Some(
        text.split_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
    )
}

/// The first line of a message, lossily decoded, for summaries and human output.
pub fn subject(message: &[u8]) -> String {
    let line = message.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(line)
        .trim_end_matches('\r')
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_and_message() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\nparent 2222222222222222222222222222222222222222\nauthor A <a@x> 1 +0000\ncommitter C <c@x> 1700000000 +0100\ngpgsig -----BEGIN\n more\n\nWEB-1: subject\n\nbody";
        let c = parse_commit(raw).unwrap();
        assert_eq!(c.parents.len(), 2);
        assert_eq!(c.time, 1700000000);
        assert_eq!(c.message, b"WEB-1: subject\n\nbody");
        assert_eq!(subject(&c.message), "WEB-1: subject");
    }

    #[test]
    fn malformed_commit_is_none_not_panic() {
        assert!(parse_commit(b"tree x\nparent zz\n\nmsg").is_none());
        assert!(parse_commit(b"").is_none());
        assert!(parse_commit(b"tree x\n").is_none());
    }
}
