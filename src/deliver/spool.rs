//! The spool (SPEC 7): deliveries waiting to be made, one JSON file each, so that nothing is
//! lost when Jira is slow, down or rate-limiting, or when deploylink itself is killed.
//!
//! A run writes every delivery here *before* sending it (a write-ahead journal) and removes
//! each file once its delivery is made; what failed stays. A process killed at any instant
//! therefore leaves each delivery either made or here, and `deploylink retry` sends what is
//! here again (the writes are idempotent, so a delivery made just before the kill is not
//! duplicated in Jira).
//!
//! Durability, one flush per batch: a run writes all its entries to temporary files, flushes
//! them together (one `syncfs` on Linux, else an fsync each), renames them into place and
//! fsyncs the directory once. An entry file is written once and never rewritten: the
//! attempts and last error of a delivery live beside it in `NAME.state`, which is not
//! flushed (losing it loses a count, never a delivery). A removal is not flushed either: one
//! undone by a crash makes `retry` send again what Jira has, which the idempotent writes
//! absorb. Privacy: a directory deploylink creates is 0700 (an existing one keeps its
//! mode), files 0600, and a file holds the delivery as planned (tracker name, keys, URL,
//! body), never a credential. Concurrency: whoever sends a spooled delivery (the run that
//! wrote it, or `retry`) holds an exclusive lock on its file while it sends it and until it
//! settled it (released by the kernel when the process ends, so a killed run leaves nothing
//! stale); a run skips what another holds.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Action;
use crate::deliver::Delivery;
use crate::durable;

/// How old a temporary file must be to be taken as abandoned: a write takes milliseconds, and
/// even a stalled fsync far less than this.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// The variable that names the spool directory when `--spool` does not.
pub const SPOOL_VAR: &str = "DEPLOYLINK_SPOOL";

/// Where a repository's spool is kept when nothing else names one.
const IN_GIT_DIR: &str = "deploylink/spool";

/// Where the spool is, the one rule for every command: `--spool DIR`, else
/// `$DEPLOYLINK_SPOOL`, else `deploylink/spool` in the repository's git directory. `git_dir`
/// is `None` for a command that spools only when asked to (`link` and `ci`, whose clone is
/// usually thrown away with the job), and for `retry` outside a repository.
pub fn location(flag: Option<&Path>, git_dir: Option<&Path>) -> Option<PathBuf> {
    let from_env = || {
        std::env::var_os(SPOOL_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    flag.map(Path::to_path_buf)
        .or_else(from_env)
        .or_else(|| git_dir.map(|dir| dir.join(IN_GIT_DIR)))
}

/// One waiting delivery, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The format of this file.
    pub version: u32,
    pub delivery: Delivery,
    /// When it was first spooled, in seconds since the epoch.
    pub spooled_at: u64,
    /// Tries so far (0: written ahead of the first try); kept in the `.state` file.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub last_error: Option<String>,
}

/// The tries of an entry, beside it in `NAME.state`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Tries {
    attempts: u32,
    last_error: Option<String>,
}

/// Why the spool could not be used.
#[derive(Debug, thiserror::Error)]
#[error("spool {}: cannot {action}: {source}\n  hint: the spool directory must be writable by this user (--spool DIR or DEPLOYLINK_SPOOL chooses another)", dir.display())]
pub struct SpoolError {
    pub dir: PathBuf,
    pub action: String,
    #[source]
    pub source: std::io::Error,
}

/// A spool directory.
#[derive(Clone, Debug)]
pub struct Spool {
    dir: PathBuf,
}

/// A spooled delivery and its file.
#[derive(Debug)]
pub struct Spooled {
    pub path: PathBuf,
    pub entry: Entry,
}

impl Spool {
    /// Opens the spool at `dir`, creating it (0700) when it does not exist. An existing
    /// directory is left as it is: `--spool /tmp` must not change /tmp.
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        let spool = Spool {
            dir: dir.to_path_buf(),
        };
        if !dir.is_dir() {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| spool.error("create the directory", e))?;
            }
            match create_private_dir(dir) {
                Ok(()) => {}
                // Created a moment ago by another run, which set its mode.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => return Err(spool.error("create the directory", e)),
            }
        }
        Ok(spool)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn error(&self, action: &str, source: std::io::Error) -> SpoolError {
        SpoolError {
            dir: self.dir.clone(),
            action: action.to_owned(),
            source,
        }
    }

    /// The file of a delivery: named by a hash of what it writes, so the same delivery spooled
    /// twice (a re-run while Jira is still down) is one file.
    pub fn path_of(&self, delivery: &Delivery) -> PathBuf {
        let mut hash = Sha256::new();
        for part in [
            delivery.tracker.as_str(),
            delivery.action.as_str(),
            delivery.deploy.as_str(),
            delivery.method.as_str(),
            delivery.url.as_str(),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        // Development information goes in calls of at most 400 commits to one URL: the first
        // commit of each call tells them apart (other names stay as they were).
        if delivery.action == Action::DevelopmentInfo {
            let first = &delivery.body["repositories"][0]["commits"][0]["id"];
            hash.update(first.as_str().unwrap_or("").as_bytes());
        }
        let digest = hash.finalize();
        let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    /// Writes `delivery` ahead of its first try (an entry spooled earlier is kept as it is).
    pub fn put(&self, delivery: &Delivery) -> Result<PathBuf, SpoolError> {
        let mut paths = self.put_all(std::slice::from_ref(delivery))?;
        Ok(paths.remove(0))
    }

    /// Writes every delivery ahead of its first try, durably, with one flush for the whole
    /// batch; returns their files, in order. An entry already in the spool for the same write
    /// (an earlier run's) is kept as it is when it says the same, or when another run holds it;
    /// otherwise the new delivery replaces it, keeping its tries: it is a later report of the
    /// same deploy (`in_progress`, then `failed`), and only the last one may be sent. When
    /// this fails, no new entry was renamed into place.
    pub fn put_all(&self, deliveries: &[Delivery]) -> Result<Vec<PathBuf>, SpoolError> {
        let now = now();
        let mut paths = Vec::with_capacity(deliveries.len());
        let mut pending: Vec<(tempfile::TempPath, PathBuf)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // Held until the replacements are in place, so that no retry sends what they replace.
        let mut replacing: Vec<Claim> = Vec::new();
        for delivery in deliveries {
            let path = self.path_of(delivery);
            paths.push(path.clone());
            if !seen.insert(path.clone()) {
                continue;
            }
            let mut spooled_at = now;
            if path.exists() {
                let Some((claim, waiting)) = superseded(&path, delivery) else {
                    continue;
                };
                replacing.push(claim);
                spooled_at = waiting.spooled_at;
            }
            let entry = Entry {
                version: 1,
                delivery: delivery.clone(),
                spooled_at,
                attempts: 0,
                last_error: None,
            };
            let text = serde_json::to_vec_pretty(&entry)
                .map_err(|e| self.error("encode an entry", std::io::Error::other(e)))?;
            let temp = durable::write_unsynced_temp(&path, &text)
                .map_err(|e| self.error("write an entry", e))?;
            pending.push((temp, path));
        }
        if pending.is_empty() {
            return Ok(paths);
        }
        let temps: Vec<&Path> = pending.iter().map(|(t, _)| &**t).collect();
        durable::sync_files(&self.dir, &temps).map_err(|e| self.error("flush the entries", e))?;
        for (temp, path) in pending {
            temp.persist(&path)
                .map_err(|e| self.error("rename an entry into place", e.error))?;
        }
        durable::sync_dir(&self.dir).map_err(|e| self.error("sync the directory", e))?;
        drop(replacing);
        Ok(paths)
    }

    /// Records a failed try of the delivery at `path` (not flushed: only a count is at stake).
    pub fn failed(&self, path: &Path, error: &str) -> Result<(), SpoolError> {
        if !path.exists() {
            return Ok(());
        }
        let state = state_path(path);
        let mut tries = read_tries(&state);
        tries.attempts += 1;
        tries.last_error = Some(error.to_owned());
        let text = serde_json::to_vec(&tries)
            .map_err(|e| self.error("encode an entry's tries", std::io::Error::other(e)))?;
        let temp = durable::write_unsynced_temp(&state, &text)
            .map_err(|e| self.error("write an entry's tries", e))?;
        temp.persist(&state)
            .map_err(|e| self.error("write an entry's tries", e.error))?;
        Ok(())
    }

    /// Removes a delivery that was made (or dropped).
    pub fn done(&self, path: &Path) -> Result<(), SpoolError> {
        for file in [path.to_path_buf(), state_path(path)] {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.error("remove a delivered entry", e)),
            }
        }
        Ok(())
    }

    /// Removes the temporary files of writers killed mid-write, once older than
    /// [`ABANDONED_AFTER`], and `.state` files whose entry is gone. Such a file is never
    /// needed: an entry is renamed into place only once flushed, and its delivery is sent
    /// only after that. Returns how many.
    pub fn remove_abandoned(&self) -> Result<usize, SpoolError> {
        let Some(dir) = self.read_dir()? else {
            return Ok(0);
        };
        let now = SystemTime::now();
        let mut removed = 0;
        for item in dir.flatten() {
            let path = item.path();
            let temporary = path.extension().is_some_and(|e| e == "tmp");
            let orphan = path.extension().is_some_and(|e| e == "state")
                && !path.with_extension("json").exists();
            let age = item
                .metadata()
                .and_then(|m| m.modified())
                .map(|modified| now.duration_since(modified).unwrap_or_default());
            if (temporary || orphan) && age.is_ok_and(|age| age >= ABANDONED_AFTER) {
                match std::fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(self.error("remove an abandoned temporary file", e));
                    }
                }
            }
        }
        Ok(removed)
    }

    /// Every waiting delivery, oldest first. Files that cannot be read are reported and left.
    pub fn list(&self) -> Result<Vec<Spooled>, SpoolError> {
        let mut found = Vec::new();
        let Some(dir) = self.read_dir()? else {
            return Ok(found);
        };
        for item in dir.flatten() {
            let path = item.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match read_entry(&path) {
                Some(entry) => found.push(Spooled { path, entry }),
                None if !path.exists() => {} // made by another run a moment ago
                None => log::warn!("{}: not a spool entry, left as it is", path.display()),
            }
        }
        found.sort_by_key(|s| (s.entry.spooled_at, s.path.clone()));
        Ok(found)
    }

    /// The entry at `path` as it is now (`None` once made, or not an entry).
    pub fn read(&self, path: &Path) -> Option<Entry> {
        read_entry(path)
    }

    /// Journals a push's input (the post-receive hook's standard input) durably before it is
    /// planned, as `push-HASH.pending`, and takes up the pushes whose hook was killed before
    /// it recorded them: returns their lines first, then this push's (each line once), and
    /// the journal files to release once the run has recorded its deploys. A hook killed
    /// before its deploys are recorded so leaves them to the next push's hook, whose own
    /// range starts where the killed push ended. Best effort: a journal that cannot be
    /// written is logged, and the push is planned all the same.
    pub fn hold_push(&self, input: &[u8]) -> (Vec<u8>, HeldPushes) {
        let name: String = Sha256::digest(input)[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let own = self.dir.join(format!("push-{name}.pending"));
        let mut held = HeldPushes::default();
        let mut lines: Vec<&[u8]> = Vec::new();
        let earlier: Vec<(PathBuf, Vec<u8>)> = self
            .read_dir()
            .ok()
            .flatten()
            .into_iter()
            .flat_map(|dir| dir.flatten())
            .map(|item| item.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pending") && *p != own)
            // Held by a hook still running: its push is its own.
            .filter_map(|p| claim(&p).map(|c| (p, c)))
            .filter_map(|(p, c)| std::fs::read(&p).ok().map(|text| (p, text, c)))
            .map(|(path, text, claimed)| {
                log::warn!(
                    "{}: a push whose hook did not finish; its deploys are planned again now",
                    path.display()
                );
                held.paths.push(path.clone());
                held.claims.push(claimed);
                (path, text)
            })
            .collect();
        match durable::write(&own, input, durable::Access::Private) {
            Ok(()) => {
                if let Some(claimed) = claim(&own) {
                    held.claims.push(claimed);
                }
                held.paths.push(own);
            }
            Err(e) => log::error!("{}", self.error("journal the push", e)),
        }
        // This push's input is kept as it is (its line numbers name its errors), after the
        // lines of the earlier pushes that it does not repeat.
        let own_lines: std::collections::HashSet<&[u8]> = input.split(|&b| b == b'\n').collect();
        for (_, text) in &earlier {
            lines.extend(text.split(|&b| b == b'\n'));
        }
        let mut seen = std::collections::HashSet::new();
        let mut all = Vec::new();
        for line in lines
            .into_iter()
            .filter(|l| !l.is_empty() && !own_lines.contains(l))
        {
            if seen.insert(line) {
                all.extend_from_slice(line);
                all.push(b'\n');
            }
        }
        all.extend_from_slice(input);
        (all, held)
    }

    /// Removes the push journals of a run that recorded its deploys.
    pub fn release_pushes(&self, held: HeldPushes) {
        for path in &held.paths {
            if let Err(e) = std::fs::remove_file(path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::error!("{}", self.error("remove a push journal", e));
                }
            }
        }
    }

    /// The directory's files; `None` when it is gone (nothing waits).
    fn read_dir(&self) -> Result<Option<std::fs::ReadDir>, SpoolError> {
        match std::fs::read_dir(&self.dir) {
            Ok(dir) => Ok(Some(dir)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("list the directory", e)),
        }
    }
}

/// The push journals a post-receive run holds (locked while it runs, so that a concurrent
/// hook does not take them up).
#[derive(Default)]
pub struct HeldPushes {
    paths: Vec<PathBuf>,
    claims: Vec<Claim>,
}

/// Holds a spooled file while its delivery is sent and settled; the lock goes with the value
/// (or the process).
pub struct Claim {
    _file: File,
}

/// Takes the delivery at `path` for this run, unless another run holds it or it is gone
/// (`None`). One open file per claim: hold a claim only while sending its delivery.
pub fn claim(path: &Path) -> Option<Claim> {
    let file = File::open(path).ok()?;
    file.try_lock().ok()?;
    // The file may have been made and removed by the run that held it a moment ago (and
    // even spooled anew since, as another file at the same name).
    same_file(&file, path).then_some(Claim { _file: file })
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(now)) => held.dev() == now.dev() && held.ino() == now.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// The entry waiting at `path`, claimed, when `delivery` should replace it: it writes
/// something else to the same place, and no other run is sending it. `None`: keep it.
fn superseded(path: &Path, delivery: &Delivery) -> Option<(Claim, Entry)> {
    let waiting = read_entry(path)?;
    if waiting.delivery.body == delivery.body && waiting.delivery.keys == delivery.keys {
        return None;
    }
    Some((claim(path)?, waiting))
}

fn state_path(path: &Path) -> PathBuf {
    path.with_extension("state")
}

fn read_tries(state: &Path) -> Tries {
    std::fs::read(state)
        .ok()
        .and_then(|text| serde_json::from_slice(&text).ok())
        .unwrap_or_default()
}

fn read_entry(path: &Path) -> Option<Entry> {
    let text = std::fs::read(path).ok()?;
    let mut entry: Entry = serde_json::from_slice(&text).ok()?;
    let tries = read_tries(&state_path(path));
    entry.attempts = entry.attempts.max(tries.attempts);
    entry.last_error = tries.last_error.or(entry.last_error);
    Some(entry)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().mode(0o700).create(dir)?;
    // The umask may have taken bits away; this directory is ours, so set them exactly.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(key: &str) -> Delivery {
        Delivery {
            tracker: "acme".into(),
            action: Action::RemoteLink,
            deploy: "deploylink:shop:web:production:abc".into(),
            keys: vec![key.into()],
            method: "POST".into(),
            url: format!("https://acme.atlassian.net/rest/api/3/issue/{key}/remotelink"),
            body: serde_json::json!({"globalId": "g"}),
            left_out: vec![],
            fix_version: None,
            transition: None,
            steps: Vec::new(),
        }
    }

    #[test]
    fn temporary_files_of_killed_writers_are_removed_once_old() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        let kept = spool.put(&delivery("WEB-1")).unwrap();
        let old = spool.dir().join(".abc.json.4242.tmp");
        let fresh = spool.dir().join(".def.json.4243.tmp");
        std::fs::write(&old, "{\"version\":").unwrap();
        std::fs::write(&fresh, "{\"version\":").unwrap();
        let long_ago = SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(1);
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        assert_eq!(spool.remove_abandoned().unwrap(), 1);
        assert!(!old.exists());
        assert!(fresh.exists(), "it may be a live writer's");
        assert!(kept.exists());
        assert_eq!(spool.list().unwrap().len(), 1);
    }

    #[test]
    fn entries_are_private_durable_files_that_survive_a_second_spooling() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        let path = spool.put(&delivery("WEB-1")).unwrap();
        spool.failed(&path, "503 Service Unavailable").unwrap();
        // Spooled again by a re-run: one file, the attempts kept.
        assert_eq!(spool.put(&delivery("WEB-1")).unwrap(), path);
        spool.put(&delivery("WEB-2")).unwrap();
        let listed = spool.list().unwrap();
        assert_eq!(listed.len(), 2);
        let first = listed.iter().find(|s| s.path == path).unwrap();
        assert_eq!(first.entry.attempts, 1);
        assert_eq!(
            first.entry.last_error.as_deref(),
            Some("503 Service Unavailable")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(spool.dir()), 0o700);
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&path.with_extension("state")), 0o600);
        }
        // No temporary file is left.
        let names: Vec<String> = std::fs::read_dir(spool.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".json") || n.ends_with(".state")),
            "{names:?}"
        );
        spool.done(&path).unwrap();
        assert_eq!(spool.list().unwrap().len(), 1);
    }

    #[test]
    fn a_claimed_entry_is_not_claimed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let path = spool.put(&delivery("WEB-1")).unwrap();
        let first = claim(&path).expect("free");
        assert!(claim(&path).is_none(), "held by the first claim");
        drop(first);
        assert!(claim(&path).is_some(), "released with the claim");
        spool.done(&path).unwrap();
        assert!(claim(&path).is_none(), "gone");
    }

    #[cfg(unix)]
    #[test]
    fn only_a_directory_it_creates_gets_its_mode_set() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        Spool::open(dir.path()).unwrap();
        assert_eq!(
            mode(dir.path()),
            0o1777,
            "an existing directory is left as it is"
        );
        let made = dir.path().join("a/b/spool");
        Spool::open(&made).unwrap();
        assert_eq!(mode(&made), 0o700);
    }

    #[test]
    fn a_batch_is_put_in_place_whole_and_keeps_what_waits_already() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let first = spool.put(&delivery("WEB-1")).unwrap();
        spool.failed(&first, "503").unwrap();
        let batch: Vec<Delivery> = (1..=50).map(|i| delivery(&format!("WEB-{i}"))).collect();
        let paths = spool.put_all(&batch).unwrap();
        assert_eq!(paths.len(), 50);
        assert_eq!(paths[0], first);
        let listed = spool.list().unwrap();
        assert_eq!(listed.len(), 50);
        let kept = listed.iter().find(|s| s.path == first).unwrap();
        assert_eq!(
            kept.entry.attempts, 1,
            "the waiting entry and its tries are kept"
        );
        let names: Vec<String> = std::fs::read_dir(spool.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        spool.done(&first).unwrap();
        assert!(!first.exists() && !first.with_extension("state").exists());
    }

    #[test]
    fn a_later_report_of_the_same_write_replaces_the_waiting_one_and_keeps_its_tries() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let mut started = delivery("WEB-1");
        started.body = serde_json::json!({"globalId": "g", "state": "in_progress"});
        let path = spool.put(&started).unwrap();
        spool.failed(&path, "503").unwrap();
        let spooled_at = spool.read(&path).unwrap().spooled_at;
        let mut ended = started.clone();
        ended.body = serde_json::json!({"globalId": "g", "state": "failed"});
        // While another run sends the waiting entry, it is left to that run.
        let held = claim(&path).unwrap();
        assert_eq!(spool.put(&ended).unwrap(), path);
        assert_eq!(spool.read(&path).unwrap().delivery.body, started.body);
        drop(held);
        assert_eq!(spool.put(&ended).unwrap(), path, "the same file");
        let entry = spool.read(&path).unwrap();
        assert_eq!(
            entry.delivery.body, ended.body,
            "the later report replaced it"
        );
        assert_eq!(entry.attempts, 1, "its tries are kept");
        assert_eq!(entry.spooled_at, spooled_at, "and its age");
        assert_eq!(spool.list().unwrap().len(), 1);
    }

    /// The figure in docs/reliability.md: 20,000 deliveries spooled one durable file each
    /// (the former way: temporary file, fsync, rename, directory fsync) and as one batch.
    /// `cargo test --release --lib -- --ignored spooling_20000 --nocapture` (in a directory
    /// on a real disk: `TMPDIR=...`).
    #[test]
    #[ignore = "a measurement: run it on purpose"]
    fn spooling_20000_deliveries() {
        let batch: Vec<Delivery> = (1..=20_000)
            .map(|i| delivery(&format!("WEB-{i}")))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let each = Spool::open(&dir.path().join("each")).unwrap();
        let started = std::time::Instant::now();
        for d in &batch {
            let entry = Entry {
                version: 1,
                delivery: d.clone(),
                spooled_at: now(),
                attempts: 0,
                last_error: None,
            };
            let text = serde_json::to_vec_pretty(&entry).unwrap();
            durable::write(&each.path_of(d), &text, durable::Access::Private).unwrap();
        }
        let one_by_one = started.elapsed();
        let batched = Spool::open(&dir.path().join("batch")).unwrap();
        let started = std::time::Instant::now();
        batched.put_all(&batch).unwrap();
        let at_once = started.elapsed();
        let started = std::time::Instant::now();
        durable::sync_files(batched.dir(), &[]).unwrap();
        eprintln!("a syncfs alone: {:?}", started.elapsed());
        assert_eq!(batched.list().unwrap().len(), 20_000);
        eprintln!("20,000 deliveries: one fsync each {one_by_one:?}, one batch {at_once:?}");
    }
}
