//! Finds the organization file (SPEC 3.1): `--trackers FILE`, `$DEPLOYLINK_TRACKERS`, the user's
//! configuration directory, and on a git server `$GIT_DIR/deploylink/trackers.yml` and
//! `/etc/deploylink/trackers.yml`. The first that exists is used.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::load::{parse_trackers, TrackersFile};
use super::yaml::{too_large, MAX_FILE_BYTES};
use super::{Source, TrustMode};

/// Where a candidate organization file comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateOrigin {
    /// `--trackers FILE`.
    Flag,
    /// `$DEPLOYLINK_TRACKERS`.
    EnvVar,
    /// `$XDG_CONFIG_HOME/deploylink/trackers.yml` or `~/.config/deploylink/trackers.yml`.
    UserConfig,
    /// `$GIT_DIR/deploylink/trackers.yml` (git server only).
    GitDir,
    /// `/etc/deploylink/trackers.yml` (git server only).
    System,
}

impl fmt::Display for CandidateOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CandidateOrigin::Flag => "--trackers",
            CandidateOrigin::EnvVar => "$DEPLOYLINK_TRACKERS",
            CandidateOrigin::UserConfig => "the user configuration directory",
            CandidateOrigin::GitDir => "$GIT_DIR",
            CandidateOrigin::System => "/etc",
        })
    }
}

/// One place the organization file may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackersCandidate {
    path: PathBuf,
    origin: CandidateOrigin,
}

impl TrackersCandidate {
    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the path comes from.
    pub fn origin(&self) -> CandidateOrigin {
        self.origin
    }

    /// Whether the user named this file (`--trackers` or `$DEPLOYLINK_TRACKERS`), so that it
    /// must exist: a named file that is missing is an error, never a silent fallback.
    pub fn is_explicit(&self) -> bool {
        matches!(self.origin, CandidateOrigin::Flag | CandidateOrigin::EnvVar)
    }
}

/// Where to look for the organization file, in SPEC 3.1 order. `env` reads an environment
/// variable; `git_dir` and [`TrustMode::ServerHook`] add the git server's locations.
pub fn trackers_file_candidates(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    git_dir: Option<&Path>,
    mode: TrustMode,
) -> Vec<TrackersCandidate> {
    // An empty variable is treated as unset, as shells and most tools do.
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut candidates = Vec::new();
    let mut push = |path: PathBuf, origin| candidates.push(TrackersCandidate { path, origin });
    if let Some(path) = explicit {
        push(path.to_owned(), CandidateOrigin::Flag);
    }
    if let Some(path) = var("DEPLOYLINK_TRACKERS") {
        push(PathBuf::from(path), CandidateOrigin::EnvVar);
    }
    // The XDG spec says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
    let config_home = var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|home| Path::new(&home).join(".config")));
    if let Some(dir) = config_home {
        push(
            dir.join("deploylink/trackers.yml"),
            CandidateOrigin::UserConfig,
        );
    }
    if mode == TrustMode::ServerHook {
        if let Some(git_dir) = git_dir {
            push(
                git_dir.join("deploylink/trackers.yml"),
                CandidateOrigin::GitDir,
            );
        }
        push(
            PathBuf::from("/etc/deploylink/trackers.yml"),
            CandidateOrigin::System,
        );
    }
    candidates
}

/// Reads the first candidate that exists; `None` when none does. A file that exists but cannot
/// be read is an error: skipping it would quietly use another file's trackers.
pub fn load_trackers_file(
    candidates: &[TrackersCandidate],
) -> Result<Option<TrackersFile>, ConfigError> {
    for candidate in candidates {
        let name = candidate.path.display().to_string();
        let file = match std::fs::File::open(&candidate.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !candidate.is_explicit() => {
                continue
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::in_file(
                    &name,
                    format!(
                        "the organization file named by {} does not exist",
                        candidate.origin
                    ),
                )
                .with_hint("check the path, or `deploylink tracker connect` to create the file"));
            }
            Err(e) => return Err(unreadable(&candidate.path, &e)),
        };
        let size = file
            .metadata()
            .map_err(|e| unreadable(&candidate.path, &e))?
            .len();
        if size > u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX) {
            return Err(too_large(&name, size));
        }
        let text = read_bounded(file).map_err(|e| unreadable(&candidate.path, &e))?;
        return parse_trackers(&Source { name, text }).map(Some);
    }
    Ok(None)
}

/// Reads at most one byte more than the size limit, so that the size error can say the file is
/// too large without reading a huge file whole.
fn read_bounded(file: std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut text = Vec::new();
    let limit = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
    file.take(limit + 1).read_to_end(&mut text)?;
    Ok(text)
}

fn unreadable(path: &Path, error: &std::io::Error) -> ConfigError {
    ConfigError::unreadable_as(path, error, "organization file")
}
