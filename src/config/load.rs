//! Reads each file on its own: the organization file and the project file.

use std::collections::BTreeMap;

use super::document::{AllowListDoc, ProjectDoc, ProjectFileDoc, TrackerDoc, TrackersFileDoc};
use super::error::{ConfigError, FieldPath};
use super::identity::{check_identity, identify, warn_once, Identity, RepoFacts};
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
    allow_repository_trackers: Vec<String>,
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

    /// The tracker URLs a repository file's own `trackers:` may use, without a trailing `/`.
    pub fn allow_repository_trackers(&self) -> &[String] {
        &self.allow_repository_trackers
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
    pub(crate) identity: Identity,
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

    /// The repository's identity `{repo}`, and where it came from.
    pub fn identity(&self) -> &Identity {
        &self.identity
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
        allow_repository_trackers: compile_allow_list(&doc, raw.allow_repository_trackers)?,
    })
}

/// `allow_repository_trackers:`, checked: the URLs as `check_url` writes them.
fn compile_allow_list(doc: &Document, raw: AllowListDoc) -> Result<Vec<String>, ConfigError> {
    let path = FieldPath::root().key("allow_repository_trackers");
    match raw {
        AllowListDoc::Nothing => Ok(Vec::new()),
        AllowListDoc::All => Err(doc
            .error_at(&path, Part::Value, "`allow_repository_trackers: true` is no longer accepted: it let any repository file send this machine's credentials to a URL of its choosing")
            .with_hint("list the tracker URLs a repository file may use, like\n    allow_repository_trackers:\n      - https://jira.acme.com\n  or write `false` (the default) to use only the trackers of this file")),
        AllowListDoc::Urls(urls) => urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                check_url(url, UrlUse::Credentials).map_err(|p| {
                    doc.error_at(&path.index(i), Part::Value, p.message)
                        .with_hint(p.hint)
                })
            })
            .collect(),
    }
}

/// Reads and checks a project file. `facts` are what the repository says about its name, for
/// its identity (see [`super::identity`]), which names the project of the single-project form.
pub fn parse_project(src: &Source, facts: &RepoFacts) -> Result<ProjectFile, ConfigError> {
    let doc = Document::decode(src)?;
    let mut raw: ProjectFileDoc = doc.deserialize()?;
    if let Some(repository) = &raw.repository {
        check_identity(repository).map_err(|(m, h)| {
            doc.error_at(&FieldPath::root().key("repository"), Part::Value, m)
                .with_hint(h)
        })?;
    }
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
        .take()
        .map(|url| check_url(&url, UrlUse::Link))
        .transpose()
        .map_err(|p| {
            doc.error_at(&FieldPath::root().key("repo_url"), Part::Value, p.message)
                .with_hint(p.hint)
        })?;
    let identity = identify(raw.repository.as_deref(), repo_url.as_deref(), facts);
    let projects = compile_projects(&doc, &mut raw, identity.name())?;
    let trackers = raw
        .trackers
        .map(|t| compile_trackers(&doc, t))
        .transpose()?;
    // Only for a file that loads: an error is the thing to fix first.
    warn_once(&identity);
    Ok(ProjectFile {
        doc,
        projects,
        default_tracker: raw.default_tracker,
        max_commits,
        max_issues,
        repo_url,
        identity,
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
    identity: &str,
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
            let project = compile_project(doc, &FieldPath::root(), identity, top.unwrap_or_default())?;
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
