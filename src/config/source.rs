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

use std::path::{Path, PathBuf};

use git2::Oid;

use super::{
    parse_project, resolve, Config, ConfigError, RepoFacts, Source, TrackersFile, TrustMode,
};
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

/// The file at `path`, whole.
pub fn read_source(path: &Path) -> Result<Source, ConfigError> {
    let text = std::fs::read(path).map_err(|e| ConfigError::unreadable(path, &e))?;
    Ok(Source {
        name: path.display().to_string(),
        text,
    })
}

/// The project file: `--config FILE`, else `.deploylink.yml` in commit `at`.
pub fn project_source(
    paths: &ConfigPaths,
    repo: &Repo,
    at: Oid,
) -> Result<Option<Source>, LoadError> {
    match &paths.project {
        Some(path) => Ok(Some(read_source(path)?)),
        None => Ok(repo.read_file_at(at, PROJECT_FILE)?.map(|text| Source {
            name: format!("{PROJECT_FILE} at {}", &at.to_string()[..7]),
            text,
        })),
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
        if paths.project.is_some() || repo.read_file_at(at, PROJECT_FILE)?.is_some() {
            return load_config(paths, repo, at, TrustMode::ClientHook).map(Some);
        }
        return Ok(None);
    }
    let source = match &paths.project {
        Some(path) => Some(read_source(path)?),
        None => work_tree_file(repo).or_else(|| head_file(repo)),
    };
    let Some(source) = source else {
        return Ok(None);
    };
    let project = parse_project(&source, &RepoFacts::of(repo))?;
    let org = load_trackers(paths, Some(repo.git_dir()), TrustMode::ClientHook)?;
    Ok(Some(resolve(project, org, TrustMode::ClientHook)?))
}

fn work_tree_file(repo: &Repo) -> Option<Source> {
    let path = repo.git().workdir()?.join(PROJECT_FILE);
    let text = std::fs::read(&path).ok()?;
    Some(Source {
        name: path.display().to_string(),
        text,
    })
}

fn head_file(repo: &Repo) -> Option<Source> {
    let head = repo.resolve("HEAD").ok()?;
    let text = repo.read_file_at(head, PROJECT_FILE).ok()??;
    Some(Source {
        name: format!("{PROJECT_FILE} at HEAD"),
        text,
    })
}
