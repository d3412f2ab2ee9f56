//! Reading ahead in a pack for a long walk without a commit-graph: a second thread inflates
//! and parses commits in the order they are stored, while the walking thread looks up ids,
//! orders commits and digests the messages the helper hands over.
//!
//! Why this split: without a commit-graph every commit must be inflated to learn its parents,
//! and inflating is most of a walk's time. Splitting one commit's work between two threads
//! (headers on one, message on the other) pays zlib's per-stream setup twice and was slower.
//! Here each commit is inflated once, by one thread. It works because `git pack-objects`
//! stores commits in the order `rev-list` gives them, which is the walk's order: in a clone of
//! apache/kafka, 13,635 of the 14,053 commits of `trunk` follow the previous one in the pack.
//! Where the walk leaves that order (a merged branch stored elsewhere, a commit stored as a
//! delta, another pack), the walking thread reads the commit itself and points the helper at
//! the object after it.
//!
//! Results cross threads in batches: one channel message and one allocation per batch, not
//! per commit (a per-commit channel was measured slower: futex wakes and cross-thread frees).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::Scope;

use git2::Oid;

use crate::git::commit::parse_commit;
use crate::git::pack::{Inflater, Packs, Position};
use crate::git::repo::Repo;
use crate::git::GitError;

/// Commits the walking thread reads itself before a helper is worth a thread: short ranges
/// (the common deploy) never start one.
const START_AFTER: usize = 1000;
/// Commits per batch handed from the helper to the walking thread. A run's first batches are
/// smaller, because the walking thread is usually waiting for them: 8, 16, 32, then 64.
const BATCH: usize = 64;
const FIRST_BATCH: usize = 8;
/// Batches the helper may have ready before it waits: 1,024 commits, about 1 MB of messages.
const QUEUED_BATCHES: usize = 16;
/// How far past the helper's position a wanted commit may be for the walking thread to wait
/// for the helper rather than read the commit itself (about 250 commits of ~1 KB).
const WAIT_WITHIN: u64 = 256 * 1024;
/// Decoded commits kept but not (yet) wanted (about 1 KB each with their batch text); past
/// this many the leftovers are dropped, and the walking thread reads such a commit itself.
const MAX_READY: usize = 4096;

/// A commit as the helper leaves it: its links, and where its message is in the batch's text.
struct Item {
    offset: u64,
    parents: Vec<Oid>,
    time: i64,
    message: std::ops::Range<usize>,
}

/// A decoded commit waiting to be taken: the message stays in its batch's shared text.
struct Decoded {
    parents: Vec<Oid>,
    time: i64,
    text: Rc<Vec<u8>>,
    message: std::ops::Range<usize>,
}

/// The helper's output: commits decoded in pack order from one starting point (a "run").
/// The messages are in one buffer, so a batch costs two allocations, not one per commit.
struct Batch {
    run: u64,
    pack: usize,
    items: Vec<Item>,
    text: Vec<u8>,
    /// Where the helper goes on (or stopped) in this pack.
    next: u64,
    /// The run met an object that is not a whole commit and ended there.
    stopped: bool,
}

/// A start request: run number and where to begin.
type Start = (u64, Position);

struct Helper {
    starts: Sender<Start>,
    batches: Receiver<Batch>,
}

/// The walking thread's side. Created inside a `std::thread::scope`; the helper thread is
/// spawned only once a walk has read `START_AFTER` commits, and it ends when this is dropped.
pub struct ReadAhead<'scope, 'env, T, F> {
    scope: &'scope Scope<'scope, 'env>,
    repo: &'env Repo,
    digest: &'env F,
    helper: Option<Helper>,
    /// Commits read so far (by either thread), and how many of them the helper decoded.
    reads: usize,
    taken: usize,
    /// Decoded commits not taken yet, by position.
    ready: HashMap<Position, Decoded>,
    /// The current run's number, and where the helper is in it (`None`: no live run).
    run: u64,
    frontier: Option<Position>,
    inflater: Inflater,
    buffer: Vec<u8>,
    _digests: std::marker::PhantomData<fn() -> T>,
}

impl<'scope, 'env, T, F> ReadAhead<'scope, 'env, T, F>
where
    F: Fn(Oid, &[u8]) -> T,
{
    /// A reader for one walk. `None` when reading ahead cannot help: one CPU, or a shallow
    /// clone (whose boundary commits need their parents cut, which `Repo::with_commit` does).
    pub fn new(scope: &'scope Scope<'scope, 'env>, repo: &'env Repo, digest: &'env F) -> Option<Self> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cpus < 2 || repo.is_shallow() {
            return None;
        }
        Some(ReadAhead {
            scope,
            repo,
            digest,
            helper: None,
            reads: 0,
            taken: 0,
            ready: HashMap::new(),
            run: 0,
            frontier: None,
            inflater: Inflater::default(),
            buffer: Vec::new(),
            _digests: std::marker::PhantomData,
        })
    }

    /// Parents, committer time and (unless `excluded`) the digest of commit `id`.
    pub fn read(&mut self, id: Oid, excluded: bool) -> Result<(Vec<Oid>, i64, Option<T>), GitError> {
        self.reads += 1;
        let position = if self.reads > START_AFTER {
            self.repo.packs().position(id)
        } else {
            None
        };
        let Some(position) = position else {
            return self.read_slowly(id, excluded);
        };
        if let Some(decoded) = self.take(position) {
            self.taken += 1;
            let message = decoded
                .text
                .get(decoded.message.clone())
                .ok_or(GitError::Internal)?;
            let digest = (!excluded).then(|| (self.digest)(id, message));
            return Ok((decoded.parents, decoded.time, digest));
        }
        let Some(next) =
            self.repo
                .packs()
                .read_commit_at(position, &mut self.inflater, &mut self.buffer)
        else {
            return self.read_slowly(id, excluded); // a delta: libgit2 resolves it
        };
        let commit = parse_commit(&self.buffer).ok_or(GitError::Corrupt { id })?;
        let digest = (!excluded).then(|| (self.digest)(id, commit.message));
        let found = (commit.parents, commit.time, digest);
        self.point_helper(position, next);
        Ok(found)
    }

    /// Through `Repo::with_commit`: its own pack reading, else libgit2 (and its errors).
    fn read_slowly(&self, id: Oid, excluded: bool) -> Result<(Vec<Oid>, i64, Option<T>), GitError> {
        let digest = self.digest;
        self.repo.with_commit(id, |commit| {
            let digest = (!excluded).then(|| digest(id, commit.message));
            (commit.parents, commit.time, digest)
        })
    }

    /// The helper's result for `position`, waiting for it when the helper is about to get
    /// there; `None` when the walking thread should read the commit itself.
    fn take(&mut self, position: Position) -> Option<Decoded> {
        if let Some(decoded) = self.ready.remove(&position) {
            return Some(decoded);
        }
        self.helper.as_ref()?;
        self.absorb_waiting();
        loop {
            if let Some(decoded) = self.ready.remove(&position) {
                return Some(decoded);
            }
            let frontier = self.frontier?;
            let ahead = position.offset.checked_sub(frontier.offset)?;
            if frontier.pack != position.pack || ahead > WAIT_WITHIN {
                return None;
            }
            let batch = self.helper.as_ref()?.batches.recv();
            match batch {
                Ok(batch) => self.absorb(batch),
                Err(_) => {
                    self.frontier = None;
                    return None;
                }
            }
        }
    }

    /// Takes in every batch already sent, without waiting.
    fn absorb_waiting(&mut self) {
        loop {
            let Some(helper) = self.helper.as_ref() else {
                return;
            };
            match helper.batches.try_recv() {
                Ok(batch) => self.absorb(batch),
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.frontier = None;
                    return;
                }
            }
        }
    }

    fn absorb(&mut self, batch: Batch) {
        if self.ready.len() > MAX_READY {
            // Commits decoded for a part of the pack the walk never came to.
            self.ready.clear();
        }
        let pack = batch.pack;
        let text = Rc::new(batch.text);
        self.ready.extend(batch.items.into_iter().map(|item| {
            let decoded = Decoded {
                parents: item.parents,
                time: item.time,
                text: Rc::clone(&text),
                message: item.message,
            };
            (
                Position {
                    pack,
                    offset: item.offset,
                },
                decoded,
            )
        }));
        if batch.run == self.run {
            self.frontier = (!batch.stopped).then_some(Position {
                pack,
                offset: batch.next,
            });
        }
    }

    /// After the walking thread read the commit at `read` itself: start the helper at the
    /// object after it, unless the helper's live run is close by (the walk only stepped
    /// back for a commit it had passed).
    fn point_helper(&mut self, read: Position, next: Position) {
        if self.reads <= START_AFTER {
            return;
        }
        if let Some(frontier) = self.frontier {
            let behind = frontier.pack == read.pack && read.offset < frontier.offset;
            if behind {
                return;
            }
        }
        if self.helper.is_none() {
            self.helper = Some(self.spawn());
        }
        let Some(helper) = self.helper.as_ref() else {
            return;
        };
        self.run += 1;
        if helper.starts.send((self.run, next)).is_ok() {
            self.frontier = Some(next);
        } else {
            self.frontier = None;
        }
    }

    fn spawn(&self) -> Helper {
        let (starts, start_rx) = mpsc::channel::<Start>();
        let (batch_tx, batches) = mpsc::sync_channel::<Batch>(QUEUED_BATCHES);
        let packs = self.repo.packs();
        self.scope
            .spawn(move || decode_runs(packs, &start_rx, &batch_tx));
        Helper { starts, batches }
    }
}

impl<T, F> Drop for ReadAhead<'_, '_, T, F> {
    fn drop(&mut self) {
        if self.helper.is_some() {
            log::debug!(
                "read ahead: {} of {} commits decoded by the helper, {} runs, {} decoded and not taken",
                self.taken,
                self.reads,
                self.run,
                self.ready.len()
            );
        }
    }
}

/// The helper thread: decodes commits in pack order from each start it is given, until an
/// object is neither a whole commit nor a delta (a commit stored as a delta is stepped over;
/// the walking thread reads it through libgit2), a newer start arrives, or the walking
/// thread hangs up.
fn decode_runs(packs: &Packs, starts: &Receiver<Start>, out: &SyncSender<Batch>) {
    let mut inflater = Inflater::default();
    let mut buffer = Vec::new();
    let mut start = starts.recv().ok();
    while let Some((run, from)) = start.take() {
        let mut at = from;
        let mut batch_size = FIRST_BATCH;
        let mut items = Vec::with_capacity(batch_size);
        let mut text = Vec::with_capacity(batch_size * 1024);
        loop {
            let next = packs.read_commit_at(at, &mut inflater, &mut buffer);
            if next.is_none() {
                if let Some(after) = packs.skip_delta_at(at, &mut inflater, &mut buffer) {
                    at = after;
                    continue;
                }
            }
            let commit = next.and_then(|_| parse_commit(&buffer));
            let stopped = commit.is_none();
            if let (Some(next), Some(commit)) = (next, commit) {
                let begin = text.len();
                text.extend_from_slice(commit.message);
                items.push(Item {
                    offset: at.offset,
                    parents: commit.parents,
                    time: commit.time,
                    message: begin..text.len(),
                });
                at = next;
            }
            if stopped || items.len() >= batch_size {
                batch_size = (batch_size * 2).min(BATCH);
                let batch = Batch {
                    run,
                    pack: at.pack,
                    items: std::mem::replace(&mut items, Vec::with_capacity(batch_size)),
                    text: std::mem::replace(&mut text, Vec::with_capacity(batch_size * 1024)),
                    next: at.offset,
                    stopped,
                };
                if out.send(batch).is_err() {
                    return; // the walk is over
                }
                let newest = latest(starts);
                if newest.is_some() || stopped {
                    start = newest;
                    break;
                }
            }
        }
        if start.is_none() {
            start = starts.recv().ok();
        }
    }
}

/// The newest start request waiting, if any (older ones are out of date).
fn latest(starts: &Receiver<Start>) -> Option<Start> {
    let mut newest = None;
    while let Ok(start) = starts.try_recv() {
        newest = Some(start);
    }
    newest
}
