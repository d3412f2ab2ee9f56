//! Where the configuration comes from: the one discovery order every command and hook uses.
//!
//! The project file:
//! 1. `--config FILE`, when given;
//! 2. otherwise `.deploylink.yml` in the commit being deployed or checked, read through git
//!    (so it works in a bare server repository, and a deploy uses the file it ships);
//! 3. for `commit-msg`, which has no commit yet: the work tree's file, else the one at `HEAD`.
//!
//! The organization's trackers file: [`super::trackers_file_candidates`] (`--trackers`,
//! `$DEPLOYLINK_TRACKERS`, the user's configuration directory; in a server hook
//! `$GIT_DIR/deploylink/trackers.yml`, then `/etc/deploylink/trackers.yml`). Both orders are
//! written down in `docs/configuration.md`.

use std::io::Read;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::yaml::{too_large, MAX_FILE_BYTES};
use super::{
    parse_project, resolve, Config, ConfigError, RepoFacts, Source, TrackersFile, TrustMode,
};
use crate::git::repo::FileAt;
use crate::git::Repo;

/// The project file's name at the repository root.
pub const PROJECT_FILE: &str = ".deploylink.yml";

/// The files a command line names (`--config`, `--trackers`); `None` means "discover".
#[derive(Clone, Debug, Default)]
pub struct ConfigPaths {
    pub project: Option<PathBuf>,
    pub trackers: Option<PathBuf>,
}

/// A configuration problem, or the git problem met while reading the file from a commit.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
}

/// The file at `path`: at most [`MAX_FILE_BYTES`] (one byte more is read to tell a file that
/// is too large), and only a regular file (or a link to one): a device such as `/dev/zero`
/// would never end, and a FIFO would wait for a writer forever.
pub fn read_source(path: &Path) -> Result<Source, ConfigError> {
    let name = path.display().to_string();
    let unreadable = |e: std::io::Error| ConfigError::unreadable(path, &e);
    let kind = std::fs::metadata(path).map_err(unreadable)?.file_type();
    if !kind.is_file() && !kind.is_dir() {
        return Err(ConfigError::in_file(
            &name,
            format!("the file is not a regular file but {}", file_kind(kind)),
        )
        .with_hint("a deploylink configuration is a regular file; check what this path names"));
    }
    let file = std::fs::File::open(path).map_err(unreadable)?;
    // What was opened, in case the path changed since it was looked at.
    let opened = file.metadata().map_err(unreadable)?.file_type();
    if !opened.is_file() && !opened.is_dir() {
        return Err(ConfigError::in_file(
            &name,
            format!("the file is not a regular file but {}", file_kind(opened)),
        ));
    }
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
    let mut text = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut text)
        .map_err(unreadable)?;
    if text.len() > MAX_FILE_BYTES {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        return Err(too_large(&name, size.max(limit + 1)));
    }
    Ok(Source { name, text })
}

/// What a path names that is not a regular file, for the error.
#[cfg(unix)]
fn file_kind(kind: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn file_kind(_: std::fs::FileType) -> &'static str {
    "not a file"
}

/// `.deploylink.yml` in commit `at`, when it has one, within [`MAX_FILE_BYTES`] (the size is
/// checked from the object's header before anything is read).
pub fn file_in_commit(repo: &Repo, at: Oid) -> Result<Option<Source>, LoadError> {
    let Some(blob) = repo.blob_at(at, PROJECT_FILE)? else {
        return Ok(None);
    };
    blob_source(repo, at, blob).map(Some)
}

/// The project file blob `blob` of commit `at`, within [`MAX_FILE_BYTES`].
pub fn blob_source(repo: &Repo, at: Oid, blob: Oid) -> Result<Source, LoadError> {
    let name = format!("{PROJECT_FILE} at {}", &at.to_string()[..7]);
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
    match repo.read_blob(at, blob, limit)? {
        FileAt::Bytes(text) => Ok(Source { name, text }),
        FileAt::TooLarge { size } => Err(too_large(&name, size).into()),
    }
}

/// The project file: `--config FILE`, else `.deploylink.yml` in commit `at`.
pub fn project_source(
    paths: &ConfigPaths,
    repo: &Repo,
    at: Oid,
) -> Result<Option<Source>, LoadError> {
    match &paths.project {
        Some(path) => Ok(Some(read_source(path)?)),
        None => file_in_commit(repo, at),
    }
}

/// The project file of commit `at` and the trackers file, joined: what planning needs.
pub fn load_config(
    paths: &ConfigPaths,
    repo: &Repo,
    at: Oid,
    mode: TrustMode,
) -> Result<Config, LoadError> {
    let source = project_source(paths, repo, at)?
        .ok_or_else(|| ConfigError::missing_project_file(PROJECT_FILE, &at.to_string()))?;
    log::debug!("project file: {}", source.name);
    let project = parse_project(&source, &RepoFacts::of(repo))?;
    let org = load_trackers(paths, Some(repo.git_dir()), mode)?;
    Ok(resolve(project, org, mode)?)
}

/// The organization's trackers file, found in the documented order; `None` when there is
/// none.
pub fn load_trackers(
    paths: &ConfigPaths,
    git_dir: Option<&Path>,
    mode: TrustMode,
) -> Result<Option<TrackersFile>, ConfigError> {
    let env = |name: &str| std::env::var(name).ok();
    let candidates =
        super::trackers_file_candidates(paths.trackers.as_deref(), &env, git_dir, mode);
    let trackers = super::load_trackers_file(&candidates)?;
    match &trackers {
        Some(file) => log::debug!("trackers file: {}", file.source_name()),
        None => log::debug!("no trackers file found"),
    }
    Ok(trackers)
}

/// The configuration a client hook checks against: that of commit `at` (`pre-push`), or
/// with no commit yet (`commit-msg`) the work tree's file, else `HEAD`'s. `None` when the
/// repository has no project file there: nothing to check. Its trackers come only from the
/// organization file ([`TrustMode::ClientHook`]): the repository may have been cloned from
/// anyone.
pub fn client_config(
    paths: &ConfigPaths,
    repo: &Repo,
    at: Option<Oid>,
) -> Result<Option<Config>, LoadError> {
    if let Some(at) = at {
        if paths.project.is_some() || repo.blob_at(at, PROJECT_FILE)?.is_some() {
            return load_config(paths, repo, at, TrustMode::ClientHook).map(Some);
        }
        return Ok(None);
    }
    let source = match &paths.project {
        Some(path) => Some(read_source(path)?),
        None => match work_tree_file(repo)? {
            Some(source) => Some(source),
            None => head_file(repo),
        },
    };
    let Some(source) = source else {
        return Ok(None);
    };
    let project = parse_project(&source, &RepoFacts::of(repo))?;
    let org = load_trackers(paths, Some(repo.git_dir()), TrustMode::ClientHook)?;
    Ok(Some(resolve(project, org, TrustMode::ClientHook)?))
}

/// The work tree's project file; `None` when there is none. A file that is there but cannot
/// be read within the limits is an error, not a silent fallback to `HEAD`'s.
fn work_tree_file(repo: &Repo) -> Result<Option<Source>, ConfigError> {
    let Some(dir) = repo.git().workdir() else {
        return Ok(None);
    };
    let path = dir.join(PROJECT_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(None);
    }
    read_source(&path).map(Some)
}

fn head_file(repo: &Repo) -> Option<Source> {
    let head = repo.resolve("HEAD").ok()?;
    let mut source = file_in_commit(repo, head).ok()??;
    source.name = format!("{PROJECT_FILE} at HEAD");
    Some(source)
}
