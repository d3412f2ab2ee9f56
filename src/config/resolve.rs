//! Joins the two files: chooses the trackers by the trust rule (SPEC 3.3) and gives each
//! project its tracker.

use std::sync::Arc;

use super::error::{ConfigError, FieldPath};
use super::load::{ProjectFile, TrackersFile};
use super::locate::Part;
use super::project::{Action, Project};
use super::tracker::Tracker;
use super::TrustMode;

/// Where the trackers in force were defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackersOrigin {
    /// The organization file, by name.
    Organization(String),
    /// The repository's project file.
    Repository,
}

/// The configuration in force for one deploy: the project file, with its trackers chosen.
#[derive(Clone, Debug)]
pub struct Config {
    source_name: String,
    projects: Vec<Project>,
    max_commits: u64,
    max_issues: u64,
    repo_url: Option<String>,
    trackers: Vec<(Arc<Tracker>, TrackersOrigin)>,
}

impl Config {
    /// The projects, in name order.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The project named `name`.
    pub fn project(&self, name: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.name() == name)
    }

    /// The most commits one deploy may ship.
    pub fn max_commits(&self) -> u64 {
        self.max_commits
    }

    /// The most issues one deploy writes to (`max_issues`).
    pub fn max_issues(&self) -> u64 {
        self.max_issues
    }

    /// The repository's web URL, for `{repo_url}`.
    pub fn repo_url(&self) -> Option<&str> {
        self.repo_url.as_deref()
    }

    /// The project file's name, as the caller gave it.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The trackers in force, in name order, each with where it was defined.
    pub fn trackers(&self) -> impl Iterator<Item = (&Tracker, &TrackersOrigin)> {
        self.trackers.iter().map(|(t, o)| (t.as_ref(), o))
    }
}

/// Joins the project file with the organization file, if there is one.
///
/// A project whose tracker is not connected is not an error here (listing keys needs no
/// tracker); [`Project::tracker`] reports it.
pub fn resolve(
    project: ProjectFile,
    org: Option<TrackersFile>,
    mode: TrustMode,
) -> Result<Config, ConfigError> {
    let ProjectFile {
        doc,
        mut projects,
        default_tracker,
        max_commits,
        max_issues,
        repo_url,
        trackers: repo_trackers,
    } = project;
    let choice = choose_trackers(doc.name(), repo_trackers, org, mode);
    for project in &mut projects {
        let name = project
            .tracker_name
            .clone()
            .or_else(|| default_tracker.clone());
        let field = if project.tracker_name.is_some() {
            project.path.key("tracker")
        } else {
            FieldPath::root().key("default_tracker")
        };
        project.tracker = bind(project, name.as_deref(), &field, &choice).map_err(|unbound| {
            doc.error_at(&unbound.field, Part::Value, unbound.message)
                .with_hint(unbound.hint)
        });
        project.tracker_name = name;
    }
    Ok(Config {
        source_name: doc.name().to_owned(),
        projects,
        max_commits,
        max_issues,
        repo_url,
        trackers: choice.trackers,
    })
}

/// The trackers in force, and the names of the repository's trackers that were set aside.
struct TrackerChoice {
    trackers: Vec<(Arc<Tracker>, TrackersOrigin)>,
    ignored: Vec<String>,
    file: String,
}

/// SPEC 3.3: with an organization file, its trackers, plus the repository's where it allows
/// them (an organization tracker wins a name clash: the repository cannot redirect it). With
/// none, the repository's own trackers, except on a git server, where whoever can push writes
/// that file.
fn choose_trackers(
    file: &str,
    repo: Option<Vec<Tracker>>,
    org: Option<TrackersFile>,
    mode: TrustMode,
) -> TrackerChoice {
    let repo = repo.unwrap_or_default();
    let from_repo = |t: Tracker| (Arc::new(t), TrackersOrigin::Repository);
    let mut choice = TrackerChoice {
        trackers: Vec::new(),
        ignored: Vec::new(),
        file: file.to_owned(),
    };
    match (org, mode) {
        (None, TrustMode::Client) => choice.trackers = repo.into_iter().map(from_repo).collect(),
        (None, TrustMode::ServerHook) => {
            choice.ignored = repo.into_iter().map(|t| t.name).collect();
            if !choice.ignored.is_empty() {
                log::warn!("{file}: its `trackers:` are ignored: on a git server, trackers come only from the organization file, and there is none");
            }
        }
        (Some(org), _) => {
            let origin = TrackersOrigin::Organization(org.source_name().to_owned());
            let allowed = org.allow_repository_trackers();
            choice.trackers = org
                .trackers
                .into_iter()
                .map(|t| (Arc::new(t), origin.clone()))
                .collect();
            for tracker in repo {
                let clash = choice.trackers.iter().any(|(t, _)| t.name == tracker.name);
                if allowed && !clash {
                    choice.trackers.push(from_repo(tracker));
                } else {
                    choice.ignored.push(tracker.name);
                }
            }
            if !choice.ignored.is_empty() {
                let why = if allowed {
                    "the organization file defines trackers of the same names"
                } else {
                    "the organization file does not set `allow_repository_trackers: true`"
                };
                log::warn!(
                    "{file}: its trackers {} are ignored: {why}",
                    choice.ignored.join(", ")
                );
            }
            choice.trackers.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        }
    }
    choice
}

/// Why a project has no usable tracker, and the field to fix.
struct Unbound {
    message: String,
    hint: String,
    field: FieldPath,
}

/// The tracker of `project`, named `name` at `field`.
fn bind(
    project: &Project,
    name: Option<&str>,
    field: &FieldPath,
    choice: &TrackerChoice,
) -> Result<Arc<Tracker>, Unbound> {
    let connected: Vec<&str> = choice
        .trackers
        .iter()
        .map(|(t, _)| t.name.as_str())
        .collect();
    let unbound = |message: String, hint: String| Unbound {
        message,
        hint,
        field: field.clone(),
    };
    let Some(name) = name else {
        let message = format!(
            "project '{}' names no tracker, and the file has no `default_tracker`",
            project.name()
        );
        let hint = format!(
            "add `default_tracker: <name>` to {} ({})",
            choice.file,
            connected_list(&connected)
        );
        return Err(unbound(message, hint));
    };
    let Some((tracker, _)) = choice.trackers.iter().find(|(t, _)| t.name == name) else {
        let message = format!(
            "project '{}' uses tracker '{name}', which is not connected; connect it or choose another tracker ({field} in {})",
            project.name(),
            choice.file
        );
        let hint = if choice.ignored.iter().any(|n| n == name) {
            format!("'{name}' is defined in the repository file's `trackers:`, which are not used here (see the trust rule in docs/configuration.md)")
        } else {
            format!(
                "`deploylink tracker connect {name} --kind jira-cloud --url https://...` connects it; {}",
                connected_list(&connected)
            )
        };
        return Err(unbound(message, hint));
    };
    let deployment = project
        .actions()
        .iter()
        .position(|a| *a == Action::Deployment);
    if let (Some(index), None) = (deployment, &tracker.deployments) {
        return Err(Unbound {
            message: format!(
                "project '{}' lists the `deployment` action, but tracker '{name}' has no `deployments:` credentials",
                project.name()
            ),
            hint: "add `deployments:` (OAuth client id and secret) to the tracker, or remove `deployment` from `actions`".to_owned(),
            field: project.path.key("actions").index(index),
        });
    }
    Ok(Arc::clone(tracker))
}

fn connected_list(connected: &[&str]) -> String {
    if connected.is_empty() {
        "no tracker is connected".to_owned()
    } else {
        format!("connected: {}", connected.join(", "))
    }
}
