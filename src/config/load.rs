//! Reads each file on its own: the organization file and the project file.

use std::collections::BTreeMap;

use super::document::{ProjectDoc, ProjectFileDoc, TrackerDoc, TrackersFileDoc};
use super::error::{ConfigError, FieldPath};
use super::locate::Part;
use super::names::check_name;
use super::project::{compile_project, Project};
use super::tracker::{compile_tracker, Tracker};
use super::url::{check_url, UrlUse};
use super::yaml::Document;
use super::Source;

/// A range longer than this many commits is refused, unless the file says otherwise.
pub const DEFAULT_MAX_COMMITS: u64 = 2000;
/// The default of `max_issues`: the most issues one deploy writes to.
pub const DEFAULT_MAX_ISSUES: u64 = 500;

/// The organization file, checked.
#[derive(Clone, Debug)]
pub struct TrackersFile {
    source_name: String,
    pub(crate) trackers: Vec<Tracker>,
    allow_repository_trackers: bool,
}

impl TrackersFile {
    /// The file's name, as the caller gave it.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// The connected trackers, in name order.
    pub fn trackers(&self) -> &[Tracker] {
        &self.trackers
    }

    /// The tracker named `name`.
    pub fn tracker(&self, name: &str) -> Option<&Tracker> {
        self.trackers.iter().find(|t| t.name == name)
    }

    /// Whether a repository's own `trackers:` may be used on a git server.
    pub fn allow_repository_trackers(&self) -> bool {
        self.allow_repository_trackers
    }
}

/// The project file, checked, before its trackers are chosen (see [`super::resolve`]).
pub struct ProjectFile {
    pub(crate) doc: Document,
    pub(crate) projects: Vec<Project>,
    pub(crate) default_tracker: Option<String>,
    pub(crate) max_commits: u64,
    pub(crate) max_issues: u64,
    pub(crate) repo_url: Option<String>,
    pub(crate) trackers: Option<Vec<Tracker>>,
}

impl ProjectFile {
    /// The file's name, as the caller gave it.
    pub fn source_name(&self) -> &str {
        self.doc.name()
    }

    /// The projects, in name order, their trackers not yet resolved.
    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The trackers the repository file defines itself, if it has a `trackers:` section.
    pub fn trackers(&self) -> Option<&[Tracker]> {
        self.trackers.as_deref()
    }

    /// The name of the tracker `project` uses: its own `tracker:`, else `default_tracker:`.
    pub fn tracker_of<'a>(&'a self, project: &'a Project) -> Option<&'a str> {
        project.tracker_name().or(self.default_tracker.as_deref())
    }
}

impl std::fmt::Debug for ProjectFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectFile")
            .field("source_name", &self.doc.name())
            .field("projects", &self.projects)
            .field("default_tracker", &self.default_tracker)
            .finish_non_exhaustive()
    }
}

/// Reads and checks an organization file.
pub fn parse_trackers(src: &Source) -> Result<TrackersFile, ConfigError> {
    let doc = Document::decode(src)?;
    let raw: TrackersFileDoc = doc.deserialize()?;
    Ok(TrackersFile {
        source_name: src.name.clone(),
        trackers: compile_trackers(&doc, raw.trackers)?,
        allow_repository_trackers: raw.allow_repository_trackers,
    })
}

/// Reads and checks a project file. `repo_name` names the project of the single-project form.
pub fn parse_project(src: &Source, repo_name: &str) -> Result<ProjectFile, ConfigError> {
    let doc = Document::decode(src)?;
    let mut raw: ProjectFileDoc = doc.deserialize()?;
    let projects = compile_projects(&doc, &mut raw, repo_name)?;
    if let Some(tracker) = &raw.default_tracker {
        check_name(tracker, "tracker").map_err(|(m, h)| {
            doc.error_at(&FieldPath::root().key("default_tracker"), Part::Value, m)
                .with_hint(h)
        })?;
    }
    let max_commits = raw.max_commits.unwrap_or(DEFAULT_MAX_COMMITS);
    if max_commits == 0 {
        return Err(doc
            .error_at(
                &FieldPath::root().key("max_commits"),
                Part::Value,
                "`max_commits` is 0, so every deploy would be refused",
            )
            .with_hint(format!(
                "leave it out for the default of {DEFAULT_MAX_COMMITS}"
            )));
    }
    let max_issues = raw.max_issues.unwrap_or(DEFAULT_MAX_ISSUES);
    if max_issues == 0 {
        return Err(doc
            .error_at(
                &FieldPath::root().key("max_issues"),
                Part::Value,
                "`max_issues` is 0, so every deploy would write nothing",
            )
            .with_hint(format!(
                "leave it out for the default of {DEFAULT_MAX_ISSUES}"
            )));
    }
    let repo_url = raw
        .repo_url
        .map(|url| check_url(&url, UrlUse::Link))
        .transpose()
        .map_err(|p| {
            doc.error_at(&FieldPath::root().key("repo_url"), Part::Value, p.message)
                .with_hint(p.hint)
        })?;
    let trackers = raw
        .trackers
        .map(|t| compile_trackers(&doc, t))
        .transpose()?;
    Ok(ProjectFile {
        doc,
        projects,
        default_tracker: raw.default_tracker,
        max_commits,
        max_issues,
        repo_url,
        trackers,
    })
}

fn compile_trackers(
    doc: &Document,
    raw: BTreeMap<String, TrackerDoc>,
) -> Result<Vec<Tracker>, ConfigError> {
    let path = FieldPath::root().key("trackers");
    raw.into_iter()
        .map(|(name, tracker)| compile_tracker(doc, &path.key(&name), &name, tracker))
        .collect()
}

/// The projects of either form: a `projects:` mapping, or one project at the top level.
fn compile_projects(
    doc: &Document,
    raw: &mut ProjectFileDoc,
    repo_name: &str,
) -> Result<Vec<Project>, ConfigError> {
    let shorthand = raw.take_shorthand();
    match (raw.projects.take(), shorthand) {
        (Some(_), Some(top)) => {
            let field = first_field(&top);
            Err(doc
                .error_at(&FieldPath::root().key(field), Part::Key, format!("`{field}` is a project field at the top level, but the file also has `projects:`"))
                .with_hint(format!("move `{field}` under `projects.<name>:`, or remove `projects:` to use the single-project form")))
        }
        (Some(projects), None) if projects.is_empty() => Err(doc
            .error_at(&FieldPath::root().key("projects"), Part::Value, "`projects` is empty")
            .with_hint("add a project, or leave `projects:` out and write the project's fields at the top level")),
        (Some(projects), None) => {
            let path = FieldPath::root().key("projects");
            let limit = super::limits::MAX_PROJECTS;
            super::limits::check_count(doc, &path, projects.len(), limit, "projects")?;
            projects
                .into_iter()
                .map(|(name, p)| compile_project(doc, &path.key(&name), &name, p.unwrap_or_default()))
                .collect()
        }
        (None, top) => {
            let project = compile_project(doc, &FieldPath::root(), repo_name, top.unwrap_or_default())?;
            Ok(vec![project])
        }
    }
}

/// The first project field written at the top level, in the order of the file format.
fn first_field(project: &ProjectDoc) -> &'static str {
    [
        ("tracker", project.tracker.is_some()),
        ("keys", project.keys.is_some()),
        ("paths", project.paths.is_some()),
        ("environments", project.environments.is_some()),
        ("actions", project.actions.is_some()),
        ("validate", project.validate.is_some()),
        ("link", project.link.is_some()),
    ]
    .into_iter()
    .find_map(|(name, set)| set.then_some(name))
    .unwrap_or("tracker")
}
