//! Joins the two files: chooses the trackers by the trust rule (SPEC 3.3) and gives each
//! project its tracker.

use std::sync::Arc;

use super::error::{ConfigError, FieldPath};
use super::identity::Identity;
use super::load::{ProjectFile, TrackersFile};
use super::locate::Part;
use super::project::{Action, Project};
use super::tracker::{
    check_repository_tracker, Tracker, DEFAULT_DEPLOYMENTS_API_URL, DEFAULT_TOKEN_URL,
};
use super::yaml::Document;
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
    identity: Identity,
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

    /// The repository's identity `{repo}`, and where it came from.
    pub fn identity(&self) -> &Identity {
        &self.identity
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
        identity,
        trackers: repo_trackers,
    } = project;
    let choice = choose_trackers(&doc, repo_trackers, org, mode)?;
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
        identity,
        trackers: choice.trackers,
    })
}

/// The trackers in force, and the names of the repository's trackers that were set aside.
struct TrackerChoice {
    trackers: Vec<(Arc<Tracker>, TrackersOrigin)>,
    ignored: Vec<String>,
    file: String,
    mode: TrustMode,
}

/// SPEC 3.3: client hooks use the organization file's trackers only. Otherwise, with an
/// organization file, its trackers, plus the repository's whose URLs it lists in
/// `allow_repository_trackers` (an organization tracker wins a name clash: the repository
/// cannot redirect it). With none, the repository's own trackers, except on a git server,
/// where whoever can push writes that file. A repository tracker in use must keep to
/// [`check_repository_tracker`]'s rule, or the file is refused.
fn choose_trackers(
    doc: &Document,
    repo: Option<Vec<Tracker>>,
    org: Option<TrackersFile>,
    mode: TrustMode,
) -> Result<TrackerChoice, ConfigError> {
    let file = doc.name();
    let repo = repo.unwrap_or_default();
    let from_repo = |t: Tracker| -> Result<(Arc<Tracker>, TrackersOrigin), ConfigError> {
        check_repository_tracker(doc, &FieldPath::root().key("trackers").key(&t.name), &t)?;
        Ok((Arc::new(t), TrackersOrigin::Repository))
    };
    let mut choice = TrackerChoice {
        trackers: Vec::new(),
        ignored: Vec::new(),
        file: file.to_owned(),
        mode,
    };
    let org = match (org, mode) {
        (org, TrustMode::ClientHook) => {
            choice.ignored = repo.into_iter().map(|t| t.name).collect();
            if !choice.ignored.is_empty() {
                log::debug!("{file}: its `trackers:` are not used by client hooks, which use only the organization file's");
            }
            org
        }
        (None, TrustMode::Client) => {
            choice.trackers = repo.into_iter().map(from_repo).collect::<Result<_, _>>()?;
            None
        }
        (None, TrustMode::ServerHook) => {
            choice.ignored = repo.into_iter().map(|t| t.name).collect();
            if !choice.ignored.is_empty() {
                log::warn!("{file}: its `trackers:` are ignored: on a git server, trackers come only from the organization file, and there is none");
            }
            None
        }
        (Some(org), _) => {
            let allowed = org.allow_repository_trackers().to_vec();
            let mut reasons = Vec::new();
            for tracker in repo {
                let reason = if org.tracker(&tracker.name).is_some() {
                    "the organization file has a tracker of that name".to_owned()
                } else if let Some(url) = unlisted_url(&tracker, &allowed) {
                    format!(
                        "the organization file does not list {url} in `allow_repository_trackers`"
                    )
                } else {
                    choice.trackers.push(from_repo(tracker)?);
                    continue;
                };
                reasons.push(format!("'{}' ({reason})", tracker.name));
                choice.ignored.push(tracker.name);
            }
            if !reasons.is_empty() {
                log::warn!("{file}: its trackers are ignored: {}", reasons.join(", "));
            }
            Some(org)
        }
    };
    if let Some(org) = org {
        let origin = TrackersOrigin::Organization(org.source_name().to_owned());
        choice.trackers.extend(
            org.trackers
                .into_iter()
                .map(|t| (Arc::new(t), origin.clone())),
        );
    }
    choice.trackers.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(choice)
}

/// The first URL `tracker` would send credentials to that `allowed` does not list; the
/// deployments API's Atlassian defaults need not be listed.
fn unlisted_url<'t>(tracker: &'t Tracker, allowed: &[String]) -> Option<&'t str> {
    let listed = |url: &str| allowed.iter().any(|a| a.eq_ignore_ascii_case(url));
    let mut urls = vec![tracker.url.as_str()];
    if let Some(d) = &tracker.deployments {
        for (url, default) in [
            (&d.api_url, DEFAULT_DEPLOYMENTS_API_URL),
            (&d.token_url, DEFAULT_TOKEN_URL),
        ] {
            if url != default {
                urls.push(url);
            }
        }
    }
    urls.into_iter().find(|url| !listed(url))
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
            let here = match choice.mode {
                TrustMode::ClientHook => "client hooks use only the trackers of your organization file (`deploylink tracker connect` adds one there)",
                _ => "see the trust rule in docs/configuration.md",
            };
            format!("'{name}' is defined in the repository file's `trackers:`, which are not used here: {here}")
        } else {
            format!(
                "`deploylink tracker connect {name} --kind jira-cloud --url https://...` connects it; {}",
                connected_list(&connected)
            )
        };
        return Err(unbound(message, hint));
    };
    // Deployment records and development information both go through Jira Software Cloud's
    // DevOps APIs, with the tracker's OAuth client credentials.
    let oauth_action = project
        .actions()
        .iter()
        .position(|a| matches!(a, Action::Deployment | Action::DevelopmentInfo));
    if let (Some(index), None) = (oauth_action, &tracker.deployments) {
        let action = project.actions()[index];
        let cloud = if tracker.kind == super::TrackerKind::JiraDataCenter {
            format!(" (a Jira Cloud feature: tracker '{name}' is `jira-data-center`)")
        } else {
            String::new()
        };
        return Err(Unbound {
            message: format!(
                "project '{}' lists the `{action}` action, but tracker '{name}' has no `deployments:` credentials{cloud}",
                project.name()
            ),
            hint: format!("add `deployments:` (OAuth client id and secret) to a Jira Cloud tracker, or remove `{action}` from `actions`"),
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
