//! Projects: the deployable units of a repository, compiled from the project file.

use std::fmt;
use std::sync::Arc;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::document::{KeysDoc, LinkDoc, ProjectDoc, ValidateDoc};
use super::environment::{compile_environments, environment_for_ref, Environment};
use super::error::{ConfigError, FieldPath};
use super::locate::Part;
use super::names::{check_name, check_project_key};
use super::patterns::{compile_regex, GlobKind, GlobList, PatternProblem};
use super::release::{compile_fix_version, compile_transitions, FixVersionRule, TransitionRule};
use super::tracker::Tracker;
use super::yaml::Document;
use crate::keys::{KeyRules, KeyRulesSpec};
use crate::template::Template;

/// The link title, unless a project sets `link.title`.
pub const DEFAULT_LINK_TITLE: &str = "Deployed {project} {short_sha} to {environment}";
/// The link URL, unless a project sets `link.url`.
pub const DEFAULT_LINK_URL: &str = "{run_url}";
/// Messages that need no issue key, unless a project sets `validate.exempt`.
pub const DEFAULT_EXEMPT: [&str; 4] = ["^Merge ", "^Revert ", "^fixup! ", "^squash! "];

/// What is written to each issue of a deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A remote link to the deploy on each issue (Cloud and Data Center).
    RemoteLink,
    /// A Jira Software deployment record (Cloud; needs the tracker's `deployments:`).
    Deployment,
    /// A comment on each issue, once per deploy.
    Comment,
    /// Puts the issues of a tag deploy into a Jira version (`fix_version:`), created once per
    /// Jira project, and releases it on a production deploy (Cloud and Data Center).
    FixVersion,
    /// Moves each issue to a workflow status per environment (`transition:`), never back.
    Transition,
    /// Jira Software development information: the pushed commits that name an issue, on
    /// every push (any branch) and deploy (Cloud; needs the tracker's `deployments:`).
    DevelopmentInfo,
}

impl Action {
    /// The name written in the file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::RemoteLink => "remote-link",
            Action::Deployment => "deployment",
            Action::Comment => "comment",
            Action::FixVersion => "fix-version",
            Action::Transition => "transition",
            Action::DevelopmentInfo => "development-info",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client hooks require of commit messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// Every pushed commit names an issue (unless exempt).
    EveryCommit,
    /// At least one commit of each pushed ref names an issue.
    OnePerPush,
    /// Nothing is required.
    None,
}

impl Requirement {
    /// The name written in the file.
    pub fn as_str(&self) -> &'static str {
        match self {
            Requirement::EveryCommit => "every-commit",
            Requirement::OnePerPush => "one-per-push",
            Requirement::None => "none",
        }
    }
}

/// What the client hooks (`pre-push`, `commit-msg`) enforce for a project.
#[derive(Clone, Debug)]
pub struct ValidatePolicy {
    require: Requirement,
    exempt: Vec<Regex>,
    check_exists: bool,
}

impl ValidatePolicy {
    /// What is required.
    pub fn require(&self) -> Requirement {
        self.require
    }

    /// The regexes of messages that need no key.
    pub fn exempt(&self) -> &[Regex] {
        &self.exempt
    }

    /// Whether `message` needs no key.
    pub fn is_exempt(&self, message: &str) -> bool {
        self.exempt.iter().any(|r| r.is_match(message))
    }

    /// Whether the hooks also ask Jira that the issues exist.
    pub fn check_exists(&self) -> bool {
        self.check_exists
    }
}

/// One deployable unit of a repository.
#[derive(Clone, Debug)]
pub struct Project {
    name: String,
    pub(crate) tracker_name: Option<String>,
    /// Where the project is written (`projects.web`, or the root for the single-project
    /// form), for the errors found when its tracker is resolved.
    pub(crate) path: FieldPath,
    pub(crate) tracker: Result<Arc<Tracker>, ConfigError>,
    keys: KeysDoc,
    /// The same rules, compiled once at load.
    key_rules: KeyRules,
    paths: Option<GlobList>,
    environments: Vec<Environment>,
    actions: Vec<Action>,
    validate: ValidatePolicy,
    link_title: Template,
    link_url: Template,
    /// `fix_version:` (its defaults when the section is left out).
    fix_version: Option<FixVersionRule>,
    /// `transition:`, one entry per environment that moves issues.
    transitions: Vec<TransitionRule>,
}

impl Project {
    /// The project's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The project's tracker; an error when it names none, or one that is not connected, or
    /// one that cannot do what the project's actions need.
    pub fn tracker(&self) -> Result<&Tracker, ConfigError> {
        self.tracker.as_deref().map_err(Clone::clone)
    }

    /// The name of the project's tracker, connected or not.
    pub fn tracker_name(&self) -> Option<&str> {
        self.tracker_name.as_deref()
    }

    /// The key rules as written (for `config check`).
    pub fn key_rules_spec(&self) -> KeyRulesSpec {
        key_rules_spec(&self.keys)
    }

    /// The key rules, compiled when the file was loaded.
    pub fn key_rules(&self) -> &KeyRules {
        &self.key_rules
    }

    /// Whether a commit that changes `path` (as git's bytes) belongs to this project: always
    /// when the project has no `paths:`.
    pub fn owns_path(&self, path: &[u8]) -> bool {
        self.paths.as_ref().is_none_or(|globs| globs.is_match(path))
    }

    /// Whether the project has `paths:`, so that its commits must be filtered by path.
    pub fn has_paths(&self) -> bool {
        self.paths.is_some()
    }

    /// The `paths:` globs as written.
    pub fn paths(&self) -> &[String] {
        self.paths.as_ref().map_or(&[], |g| g.patterns())
    }

    /// The environments, in name order.
    pub fn environments(&self) -> &[Environment] {
        &self.environments
    }

    /// The environment named `name`.
    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The environment whose `refs` match `refname` (a full ref name like `refs/heads/main`).
    /// When several match, the first in name order, with a warning in the log.
    pub fn environment_for_ref(&self, refname: &str) -> Option<&Environment> {
        environment_for_ref(&self.name, &self.environments, refname)
    }

    /// What is written to each issue, in the order written.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The remote link's title.
    pub fn link_title(&self) -> &Template {
        &self.link_title
    }

    /// The remote link's URL.
    pub fn link_url(&self) -> &Template {
        &self.link_url
    }

    /// What the client hooks enforce.
    pub fn validate(&self) -> &ValidatePolicy {
        &self.validate
    }

    /// The version rule of the `fix-version` action.
    pub fn fix_version(&self) -> Option<&FixVersionRule> {
        self.fix_version.as_ref()
    }

    /// `transition:`, one entry per environment that moves issues.
    pub fn transitions(&self) -> &[TransitionRule] {
        &self.transitions
    }

    /// Where a deploy to `environment` moves its issues, if anywhere.
    pub fn transition_for(&self, environment: &str) -> Option<&TransitionRule> {
        self.transitions
            .iter()
            .find(|t| t.environment == environment)
    }
}

/// Compiles the project `name` written at `path` (`projects.web`, or the root for the
/// single-project form).
pub(crate) fn compile_project(
    doc: &Document,
    path: &FieldPath,
    name: &str,
    raw: ProjectDoc,
) -> Result<Project, ConfigError> {
    // The single-project form's name is the repository's identity, checked by its own rule
    // (`acme/shop`: segments that each fit in a ref name).
    if !path.is_root() {
        check_name(name, "project")
            .map_err(|(m, h)| doc.error_at(path, Part::Key, m).with_hint(h))?;
    }
    if let Some(tracker) = &raw.tracker {
        check_name(tracker, "tracker").map_err(|(m, h)| {
            doc.error_at(&path.key("tracker"), Part::Value, m)
                .with_hint(h)
        })?;
    }
    let (keys, key_rules) = compile_keys(doc, path, raw.keys.unwrap_or_default())?;
    let paths = match raw.paths {
        Some(paths) if paths.is_empty() => {
            return Err(doc
                .error_at(
                    &path.key("paths"),
                    Part::Value,
                    "`paths` is empty, so the project would own no commit",
                )
                .with_hint("leave `paths:` out for a project that owns every path"));
        }
        Some(paths) => Some({
            let limits = (super::limits::MAX_PATH_GLOBS, "path globs");
            super::limits::check_count(doc, &path.key("paths"), paths.len(), limits.0, limits.1)?;
            GlobList::new(&paths, GlobKind::Path)
                .map_err(|(i, p)| pattern_error(doc, &path.key("paths").index(i), p))?
        }),
        None => None,
    };
    let environments = compile_environments(
        doc,
        &path.key("environments"),
        raw.environments.unwrap_or_default(),
    )?;
    let actions = compile_actions(doc, &path.key("actions"), raw.actions)?;
    let validate = compile_validate(doc, &path.key("validate"), raw.validate.unwrap_or_default())?;
    let (link_title, link_url) =
        compile_link(doc, &path.key("link"), raw.link.unwrap_or_default())?;
    let (fix_version, transitions) = compile_release(
        doc,
        path,
        &actions,
        &environments,
        raw.fix_version,
        raw.transition,
    )?;
    Ok(Project {
        name: name.to_owned(),
        path: path.clone(),
        tracker_name: raw.tracker,
        tracker: Err(ConfigError::in_file(
            doc.name(),
            "the tracker is not resolved yet",
        )),
        keys,
        key_rules,
        paths,
        environments,
        actions,
        validate,
        link_title,
        link_url,
        fix_version,
        transitions,
    })
}

/// The `fix_version:` and `transition:` sections, each only with its action listed.
fn compile_release(
    doc: &Document,
    path: &FieldPath,
    actions: &[Action],
    environments: &[Environment],
    fix_version: Option<super::release::FixVersionDoc>,
    transition: Option<std::collections::BTreeMap<String, super::release::TransitionDoc>>,
) -> Result<(Option<FixVersionRule>, Vec<TransitionRule>), ConfigError> {
    let unused = |field: &str, action: &str| {
        doc.error_at(
            &path.key(field),
            Part::Key,
            format!("`{field}` is set but `actions` does not list `{action}`"),
        )
        .with_hint(format!("add `{action}` to `actions`, or remove `{field}`"))
    };
    let fix_version = match (actions.contains(&Action::FixVersion), fix_version) {
        (true, raw) => Some(compile_fix_version(
            doc,
            &path.key("fix_version"),
            raw.unwrap_or_default(),
            environments,
        )?),
        (false, Some(_)) => return Err(unused("fix_version", "fix-version")),
        (false, None) => None,
    };
    let transitions = match (actions.contains(&Action::Transition), transition) {
        (true, Some(raw)) => compile_transitions(doc, &path.key("transition"), raw, environments)?,
        (true, None) => {
            let at = actions
                .iter()
                .position(|a| *a == Action::Transition)
                .unwrap_or(0);
            return Err(doc
                .error_at(
                    &path.key("actions").index(at),
                    Part::Value,
                    "`transition` needs a `transition:` section: the status to move issues to, per environment",
                )
                .with_hint("add, for example, `transition: { production: { to: Done } }`"));
        }
        (false, Some(_)) => return Err(unused("transition", "transition")),
        (false, None) => Vec::new(),
    };
    Ok((fix_version, transitions))
}

fn pattern_error(doc: &Document, path: &FieldPath, problem: PatternProblem) -> ConfigError {
    let err = doc.error_at(path, Part::Value, problem.message);
    match problem.hint {
        Some(hint) => err.with_hint(hint),
        None => err,
    }
}

/// Checks the key rules of the project at `project` (its path).
fn compile_keys(
    doc: &Document,
    project: &FieldPath,
    raw: KeysDoc,
) -> Result<(KeysDoc, KeyRules), ConfigError> {
    let path = project.key("keys");
    let limit = super::limits::check_count;
    limit(
        doc,
        &path.key("projects"),
        raw.projects.len(),
        super::limits::MAX_KEY_PROJECTS,
        "project keys",
    )?;
    limit(
        doc,
        &path.key("ignore"),
        raw.ignore.len(),
        super::limits::MAX_IGNORE_PATTERNS,
        "ignore patterns",
    )?;
    for (i, key) in raw.projects.iter().enumerate() {
        check_project_key(key).map_err(|(m, h)| {
            doc.error_at(&path.key("projects").index(i), Part::Value, m)
                .with_hint(h)
        })?;
    }
    for (i, regex) in raw.ignore.iter().enumerate() {
        compile_regex(regex).map_err(|p| pattern_error(doc, &path.key("ignore").index(i), p))?;
    }
    if let Some(pattern) = &raw.pattern {
        let regex =
            compile_regex(pattern).map_err(|p| pattern_error(doc, &path.key("pattern"), p))?;
        if regex.captures_len() < 2 {
            return Err(doc
                .error_at(
                    &path.key("pattern"),
                    Part::Value,
                    "`pattern` has no capture group, and its group 1 is the key",
                )
                .with_hint("put the key in parentheses, like `\\b(WEB-[1-9][0-9]*)\\b`"));
        }
    }
    // The keys module has the last word on its rules (it also refuses `case_insensitive`
    // without `projects`, for one): asking it here turns its refusals into errors at their
    // line, when the file loads, instead of failures in the middle of a deploy.
    let rules = KeyRules::new(&key_rules_spec(&raw)).map_err(|e| {
        let field = project.join_text(&e.field());
        doc.error_at(&field, Part::Value, e.to_string())
    })?;
    Ok((raw, rules))
}

fn key_rules_spec(keys: &KeysDoc) -> KeyRulesSpec {
    KeyRulesSpec {
        projects: keys.projects.clone(),
        case_insensitive: keys.case_insensitive,
        pattern: keys.pattern.clone(),
        ignore: keys.ignore.clone(),
    }
}

fn compile_actions(
    doc: &Document,
    path: &FieldPath,
    raw: Option<Vec<Action>>,
) -> Result<Vec<Action>, ConfigError> {
    let actions = raw.unwrap_or_else(|| vec![Action::RemoteLink]);
    if actions.is_empty() {
        return Err(doc
            .error_at(
                path,
                Part::Value,
                "`actions` is empty, so deploys would write nothing",
            )
            .with_hint("leave `actions:` out for the default `[remote-link]`"));
    }
    for (i, action) in actions.iter().enumerate() {
        if actions[..i].contains(action) {
            return Err(doc
                .error_at(
                    &path.index(i),
                    Part::Value,
                    format!("`{action}` is listed twice"),
                )
                .with_hint("list each action once"));
        }
    }
    Ok(actions)
}

fn compile_validate(
    doc: &Document,
    path: &FieldPath,
    raw: ValidateDoc,
) -> Result<ValidatePolicy, ConfigError> {
    let texts = raw
        .exempt
        .unwrap_or_else(|| DEFAULT_EXEMPT.iter().map(|s| s.to_string()).collect());
    let exempt = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            compile_regex(text).map_err(|p| pattern_error(doc, &path.key("exempt").index(i), p))
        })
        .collect::<Result<_, _>>()?;
    Ok(ValidatePolicy {
        require: raw.require.unwrap_or(Requirement::EveryCommit),
        exempt,
        check_exists: raw.check_exists,
    })
}

fn compile_link(
    doc: &Document,
    path: &FieldPath,
    raw: LinkDoc,
) -> Result<(Template, Template), ConfigError> {
    let template = |field: &str, text: Option<String>, default: &str| {
        let text = text.unwrap_or_else(|| default.to_owned());
        Template::parse(&text).map_err(|e| {
            doc.error_at(
                &path.key(field),
                Part::Value,
                format!("invalid template: {e}"),
            )
            .with_hint(e.hint())
        })
    };
    Ok((
        template("title", raw.title, DEFAULT_LINK_TITLE)?,
        template("url", raw.url, DEFAULT_LINK_URL)?,
    ))
}
