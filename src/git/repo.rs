//! Access to the git repository: opening it (bare or not), resolving revisions, reading the
//! project file from a commit, listing refs, and reading raw commits for the range walk.
//!
//! Commits are read straight from the object database and parsed here, once each: libgit2's
//! revwalk followed by `find_commit` inflates every commit twice (measured in
//! `docs/dependencies.md`).

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::git::commit::{parse_commit, CommitRef};
use crate::git::pack::{Inflater, Packs, OBJ_COMMIT, OBJ_TAG, OBJ_TREE};
use crate::git::GitError;

/// A file read from a commit, or only its size when that is over the limit asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum FileAt {
    Bytes(Vec<u8>),
    TooLarge { size: u64 },
}

/// An opened repository.
pub struct Repo {
    git: Repository,
    shallow: HashSet<Oid>,
    /// git's commit-graph file, when present and usable: parents and commit times without
    /// inflating commits, so messages can then be read on several threads.
    graph: Option<gix_commitgraph::Graph>,
    /// How it was opened, so worker threads open it the same way (a hook's `GIT_DIR`).
    from_env: bool,
    /// The fast path for commits stored whole in packs (src/pack.rs); libgit2 does the rest.
    packs: Packs,
    /// One decompressor and one buffer, reused for every commit this thread reads.
    reader: RefCell<(Inflater, Vec<u8>)>,
}

/// Below this many messages to read, threads cost more than they save.
const PARALLEL_READ_MIN: usize = 512;
const MAX_READ_THREADS: usize = 4;

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
        let graph = if shallow.is_empty() && !git.path().join("info/grafts").exists() {
            open_commit_graph(git.path())
        } else {
            None // git itself ignores the commit-graph when history is cut or grafted
        };
        let from_env = dir.is_none() && std::env::var_os("GIT_DIR").is_some();
        let packs = Packs::open(&git.path().join("objects"));
        Ok(Repo {
            git,
            shallow,
            graph,
            from_env,
            packs,
            reader: RefCell::default(),
        })
    }

    /// Parents and committer time of `id` from the commit-graph, if it holds `id`.
    pub fn graph_links(&self, id: Oid) -> Option<(Vec<Oid>, i64)> {
        let graph = self.graph.as_ref()?;
        let commit = graph.commit_by_id(gix_hash::oid::try_from_bytes(id.as_bytes()).ok()?)?;
        let mut parents = Vec::new();
        for parent in commit.iter_parents() {
            // A corrupt entry: fall back to the object database for this commit.
            let position = parent.ok()?;
            parents.push(Oid::from_bytes(graph.id_at(position).as_bytes()).ok()?);
        }
        let time = i64::try_from(commit.committer_timestamp()).unwrap_or(i64::MAX);
        Some((parents, time))
    }

    /// `digest` of the message of each of `ids`, in order, read on up to four threads when
    /// there are many (each thread with its own decompressor; see src/git/pack.rs).
    pub fn read_digests<T, F>(&self, ids: &[Oid], digest: &F) -> Result<Vec<T>, GitError>
    where
        T: Send,
        F: Fn(Oid, &[u8]) -> T + Sync,
    {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_READ_THREADS);
        if threads < 2 || ids.len() < PARALLEL_READ_MIN {
            let read = |&id: &Oid| self.with_commit(id, |c| digest(id, c.message));
            return ids.iter().map(read).collect();
        }
        let chunk = ids.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = ids
                .chunks(chunk)
                .map(|part| {
                    let mut reader = self.commit_reader();
                    scope.spawn(move || -> Result<Vec<T>, GitError> {
                        part.iter().map(|&id| reader.digest(id, digest)).collect()
                    })
                })
                .collect();
            let mut digests = Vec::with_capacity(ids.len());
            for worker in workers {
                digests.extend(worker.join().map_err(|_| GitError::Internal)??);
            }
            Ok(digests)
        })
    }

    /// A reader of whole commits for another thread (`read_digests`): the packs shared, its
    /// own decompressor.
    pub fn commit_reader(&self) -> CommitReader<'_> {
        CommitReader {
            packs: &self.packs,
            git_dir: self.git.path(),
            from_env: self.from_env,
            inflater: Inflater::default(),
            buffer: Vec::new(),
            git: None,
        }
    }

    pub fn git(&self) -> &Repository {
        &self.git
    }

    pub fn git_dir(&self) -> &Path {
        self.git.path()
    }

    /// The name of the repository's directory, as it is (`shop.git` for `/srv/git/shop.git`,
    /// `shop@2` for a work tree there): a fact for `config::identity`, which owns the rule
    /// that names the repository.
    pub fn directory_name(&self) -> String {
        let dir = self.git.workdir().unwrap_or_else(|| self.git.path());
        let dir = if dir.file_name().is_some_and(|n| n == ".git") {
            dir.parent().unwrap_or(dir)
        } else {
            dir
        };
        dir.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn is_shallow(&self) -> bool {
        !self.shallow.is_empty()
    }

    /// Is `id` a commit whose parents were cut off by a shallow clone?
    pub fn is_shallow_boundary(&self, id: Oid) -> bool {
        self.shallow.contains(&id)
    }

    /// Resolves a revision (`HEAD`, `main`, `v1.2`, `HEAD~3`, a sha) to a commit id.
    ///
    /// The common forms (a full id or a ref name, then `~N` and `^N`) are resolved from the
    /// refs and the pack reader; anything else, and every error, goes to libgit2's revparse,
    /// which would otherwise open and map every pack index a second time.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        if let Some(id) = self.resolve_fast(rev) {
            return Ok(id);
        }
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

    /// `resolve` without libgit2's object database, or `None` to ask libgit2.
    fn resolve_fast(&self, rev: &str) -> Option<Oid> {
        let (base, mut suffix) = rev.split_at(rev.find(['~', '^']).unwrap_or(rev.len()));
        let full_id = base.len() == 40 && base.bytes().all(|b| b.is_ascii_hexdigit());
        // libgit2 tries `git describe` output (`v1.0-3-gabc1234`) before refs: leave it that
        if base.is_empty() || (!full_id && base.contains("-g")) {
            return None;
        }
        let mut id = if full_id {
            Oid::from_str(base).ok()?
        } else {
            let reference = self.git.resolve_reference_from_short_name(base).ok()?;
            reference.resolve().ok()?.target()?
        };
        id = self.peel_fast(id)?;
        while let Some(op) = suffix.bytes().next() {
            suffix = &suffix[1..];
            let digits = suffix.bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = if digits == 0 {
                1
            } else {
                suffix[..digits].parse().ok()?
            };
            suffix = &suffix[digits..];
            match op {
                b'~' => {
                    for _ in 0..n {
                        id = self.parent_fast(id, 0)?;
                    }
                }
                b'^' if n > 0 => id = self.parent_fast(id, n - 1)?,
                b'^' => {}
                _ => return None, // `^{...}`, `@{...}`, `:path`: libgit2
            }
        }
        Some(id)
    }

    /// Peels `id` (a commit, or a chain of annotated tags) to a commit from the packs.
    fn peel_fast(&self, mut id: Oid) -> Option<Oid> {
        for _ in 0..16 {
            match self.packs.kind(id)? {
                OBJ_COMMIT => return Some(id),
                OBJ_TAG => {
                    let mut reader = self.reader.borrow_mut();
                    let (inflater, buffer) = &mut *reader;
                    self.packs.read_object(id, inflater, buffer)?;
                    let hex = buffer.strip_prefix(b"object ")?.get(..40)?;
                    id = Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?;
                }
                _ => return None,
            }
        }
        None
    }

    /// Parent number `n` (from 0) of commit `id`, read from a pack.
    fn parent_fast(&self, id: Oid, n: usize) -> Option<Oid> {
        if self.is_shallow_boundary(id) {
            return None;
        }
        let mut reader = self.reader.borrow_mut();
        let (inflater, buffer) = &mut *reader;
        if !self.packs.read_commit(id, inflater, buffer) {
            return None;
        }
        parse_commit(buffer)?.parents.get(n).copied()
    }

    /// Reads commit `id` and hands it to `use_commit`: from a pack directly (stored whole or
    /// as a delta), else through libgit2 (loose objects, alternates, anything unexpected),
    /// which also reports every error.
    pub fn with_commit<R>(
        &self,
        id: Oid,
        use_commit: impl FnOnce(CommitRef<'_>) -> R,
    ) -> Result<R, GitError> {
        let mut reader = self.reader.borrow_mut();
        let (inflater, buffer) = &mut *reader;
        if !self.packs.read_commit_or_delta(id, inflater, buffer) {
            *buffer = read_raw_commit(&self.git, id, self.is_shallow())?;
        }
        let mut commit = parse_commit(buffer).ok_or(GitError::Corrupt { id })?;
        // The walk looks the parents up next, after `use_commit` digested the message.
        commit.parents.iter().for_each(|&p| self.packs.prefetch(p));
        if self.is_shallow_boundary(id) {
            // The parents exist in the commit object but not in this clone.
            commit.parents.clear();
        }
        Ok(use_commit(commit))
    }

    /// The committer time of commit `id`, in seconds since the epoch.
    pub fn committed_at(&self, id: Oid) -> Result<i64, GitError> {
        self.with_commit(id, |commit| commit.time)
    }

    /// Points `refname` (`refs/deploylink/web/production`) at `id`: the record of what an
    /// environment runs, which the next deploy's range starts from.
    pub fn record_deploy(&self, refname: &str, id: Oid) -> Result<(), GitError> {
        // Concurrent deploys (hooks of simultaneous pushes) take the ref's lock in turn.
        let mut attempts = 0;
        loop {
            match self
                .git
                .reference(refname, id, true, "deploylink: deployed")
            {
                Err(e) if e.code() == git2::ErrorCode::Locked && attempts < 100 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                done => {
                    return done.map(|_| ()).map_err(|source| GitError::RecordFailed {
                        refname: refname.to_owned(),
                        source,
                    })
                }
            }
        }
    }

    /// Removes the deploy record `refname`, if it exists.
    pub fn delete_record(&self, refname: &str) -> Result<(), GitError> {
        let failed = |source| GitError::RecordFailed {
            refname: refname.to_owned(),
            source,
        };
        match self.git.find_reference(refname) {
            Ok(mut reference) => reference.delete().map_err(failed),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }

    /// The file at `path` in the tree of commit `id`, if it exists there, when it is at most
    /// `limit` bytes. Its size is read from the object's header first, so a huge blob is
    /// never inflated.
    pub fn read_file_at(
        &self,
        id: Oid,
        path: &str,
        limit: u64,
    ) -> Result<Option<FileAt>, GitError> {
        let Some(blob) = self.blob_at(id, path)? else {
            return Ok(None);
        };
        self.read_blob(id, blob, limit).map(Some)
    }

    /// The id of the blob at `path` in the tree of commit `id`, if there is one.
    pub fn blob_at(&self, id: Oid, path: &str) -> Result<Option<Oid>, GitError> {
        if let Some(found) = self.blob_at_fast(id, path) {
            return Ok(found);
        }
        let read = |source| GitError::Read { id, source };
        let commit = self.git.find_commit(id).map_err(read)?;
        let tree = commit.tree().map_err(read)?;
        match tree.get_path(Path::new(path)) {
            Ok(entry) => Ok(Some(entry.id())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(source) => Err(read(source)),
        }
    }

    /// Blob `blob` (found in commit `id`) when it is at most `limit` bytes: the size comes
    /// from the object header (the pack entry's, or libgit2's header read of a loose object).
    pub fn read_blob(&self, id: Oid, blob: Oid, limit: u64) -> Result<FileAt, GitError> {
        let read = |source| GitError::Read { id, source };
        let odb = self.git.odb().map_err(read)?;
        let (size, kind) = odb.read_header(blob).map_err(read)?;
        if kind != ObjectType::Blob {
            return Err(read(git2::Error::from_str(&format!(
                "{blob} is a {kind}, not a file"
            ))));
        }
        let size = size as u64;
        if size > limit {
            return Ok(FileAt::TooLarge { size });
        }
        let object = odb.read(blob).map_err(read)?;
        Ok(FileAt::Bytes(object.data().to_vec()))
    }

    /// `blob_at` from the packs: `Some(None)` when the path is not in the tree, `None` to ask
    /// libgit2 (an object outside the packs, a submodule, anything unexpected).
    fn blob_at_fast(&self, id: Oid, path: &str) -> Option<Option<Oid>> {
        let mut inflater = Inflater::default();
        let mut object = Vec::new();
        if self.packs.read_object(id, &mut inflater, &mut object)? != OBJ_COMMIT {
            return None;
        }
        let hex = object.strip_prefix(b"tree ")?.get(..40)?;
        let mut tree = Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?;
        let mut parts = path.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(name) = parts.next() {
            if self.packs.read_object(tree, &mut inflater, &mut object)? != OBJ_TREE {
                return None;
            }
            let Some((mode, entry)) = tree_entry(&object, name.as_bytes())? else {
                return Some(None);
            };
            let is_tree = mode == b"40000";
            match (parts.peek().is_some(), is_tree) {
                (true, true) => tree = entry,
                (false, false) if mode != b"160000" => return Some(Some(entry)),
                _ => return None, // libgit2 decides what a blob-as-directory or a tree means
            }
        }
        None
    }

    /// Every ref (full name) with the commit it points to; refs that do not point to a
    /// commit (a tag of a tree or blob) are skipped, as `git rev-list --all` skips them.
    ///
    /// Peeling is done without reading commits: a ref's own target when the object database
    /// says it is a commit (a header read), the peeled id `packed-refs` records for an
    /// annotated tag, and only otherwise libgit2's peel. Reading each tip commit through
    /// libgit2 was half the time of a new branch's range with 700 refs.
    pub fn refs(&self) -> Result<Vec<(String, Oid)>, GitError> {
        let list = |source| GitError::Refs { source };
        let mut odb = None;
        let mut out = Vec::new();
        for reference in self.git.references().map_err(list)? {
            let reference = reference.map_err(list)?;
            let (Ok(name), Some(target)) = (reference.name(), reference.target()) else {
                continue; // symbolic (its target is listed itself), or a non-UTF-8 name
            };
            let commit = match reference.target_peel() {
                Some(peeled) => Some(peeled),
                None => {
                    // the pack reader's header first; libgit2's object database only if needed
                    let kind = match self.packs.kind(target) {
                        Some(OBJ_COMMIT) => Ok((0, ObjectType::Commit)),
                        Some(OBJ_TAG) => Ok((0, ObjectType::Tag)),
                        Some(_) => Ok((0, ObjectType::Blob)),
                        None => {
                            if odb.is_none() {
                                odb = Some(self.git.odb().map_err(list)?);
                            }
                            odb.as_ref().ok_or(GitError::Internal)?.read_header(target)
                        }
                    };
                    match kind {
                        Ok((_, ObjectType::Commit)) => Some(target),
                        Ok((_, ObjectType::Tag)) => match self.peel_fast(target) {
                            Some(peeled) => Some(peeled),
                            None => reference.peel_to_commit().ok().map(|c| c.id()),
                        },
                        _ => None, // a tree or blob, or missing: `git rev-list --all` skips it too
                    }
                }
            };
            if let Some(commit) = commit {
                out.push((name.to_owned(), commit));
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

/// The `(mode, id)` of entry `name` in a raw tree object (`<mode> <name>\0<20-byte id>`...):
/// `Some(None)` when there is no such entry, `None` when the tree is malformed.
#[allow(clippy::type_complexity)]
fn tree_entry<'t>(tree: &'t [u8], name: &[u8]) -> Option<Option<(&'t [u8], Oid)>> {
    let mut rest = tree;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let nul = space + rest[space..].iter().position(|&b| b == 0)?;
        let id = rest.get(nul + 1..nul + 21)?;
        if &rest[space + 1..nul] == name {
            return Some(Some((&rest[..space], Oid::from_bytes(id).ok()?)));
        }
        rest = &rest[nul + 21..];
    }
    Some(None)
}

fn reopen(git_dir: &Path, from_env: bool) -> Result<Repository, GitError> {
    let opened = if from_env {
        Repository::open_from_env()
    } else {
        Repository::open(git_dir)
    };
    opened.map_err(|source| GitError::Open {
        path: git_dir.to_path_buf(),
        source,
    })
}

/// Reads and digests whole commits on a thread of its own (`Repo` itself stays on one
/// thread): from the shared packs with its own decompressor, and through its own libgit2
/// handle, opened only if some commit is not stored whole in a pack.
pub struct CommitReader<'r> {
    packs: &'r Packs,
    git_dir: &'r Path,
    from_env: bool,
    inflater: Inflater,
    buffer: Vec<u8>,
    git: Option<Repository>,
}

impl CommitReader<'_> {
    /// `digest` of the message of commit `id`.
    pub fn digest<T>(&mut self, id: Oid, digest: &impl Fn(Oid, &[u8]) -> T) -> Result<T, GitError> {
        let read = self
            .packs
            .read_commit_or_delta(id, &mut self.inflater, &mut self.buffer);
        if !read {
            if self.git.is_none() {
                self.git = Some(reopen(self.git_dir, self.from_env)?);
            }
            let git = self.git.as_ref().ok_or(GitError::Internal)?;
            self.buffer = read_raw_commit(git, id, false)?;
        }
        let commit = parse_commit(&self.buffer).ok_or(GitError::Corrupt { id })?;
        Ok(digest(id, commit.message))
    }
}

/// A commit's raw bytes through libgit2.
fn read_raw_commit(git: &Repository, id: Oid, shallow: bool) -> Result<Vec<u8>, GitError> {
    let odb = git.odb().map_err(|source| GitError::Read { id, source })?;
    let object = odb.read(id).map_err(|source| match source.code() {
        git2::ErrorCode::NotFound if shallow => GitError::ShallowMissing {
            what: format!("commit {id}"),
        },
        git2::ErrorCode::NotFound => GitError::MissingObject { id },
        _ => GitError::Read { id, source },
    })?;
    if object.kind() != ObjectType::Commit {
        return Err(GitError::NotACommit {
            rev: id.to_string(),
        });
    }
    Ok(object.data().to_vec())
}

/// git's commit-graph (`objects/info/commit-graph` or a `commit-graphs/` chain). A missing
/// one is normal; an unreadable one is ignored with a note, since the object database has
/// the same facts.
fn open_commit_graph(git_dir: &Path) -> Option<gix_commitgraph::Graph> {
    let info = git_dir.join("objects/info");
    if !info.join("commit-graph").exists() && !info.join("commit-graphs").exists() {
        return None;
    }
    match gix_commitgraph::Graph::from_info_dir(&info, gix_hash::Kind::Sha1) {
        Ok(graph) => Some(graph),
        Err(e) => {
            log::info!("ignoring the commit-graph in {}: {e}", info.display());
            None
        }
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
