//! The `fix_version:` and `transition:` sections of a project: which Jira version a deploy
//! puts its issues into, and which workflow status it moves them to, per environment.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::environment::{Environment, EnvironmentType};
use super::error::{ConfigError, FieldPath};
use super::locate::Part;
use super::yaml::Document;
use crate::template::Template;

/// The version name, unless `fix_version.name` sets it.
pub const DEFAULT_VERSION_NAME: &str = "{tag}";
/// Longest version name Jira accepts.
pub const VERSION_NAME_MAX: usize = 255;
/// Longest path of statuses (one transition per status).
pub const MAX_PATH: usize = 5;

/// The Jira version a deploy puts its issues into (with the `fix-version` action).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "FixVersion")]
pub(crate) struct FixVersionDoc {
    /// The version's name, a template with the link's placeholders. Default `{tag}`. Must not
    /// render empty or longer than 255 characters.
    pub(crate) name: Option<String>,
    /// Which deploys set it: `tags` (default: deploys of a tag) or `every-deploy`.
    pub(crate) on: Option<FixVersionOn>,
    /// Environments whose deploy marks the version released, with the deploy's date.
    /// Default: the project's environments of type `production`.
    pub(crate) release_on: Option<Vec<String>>,
    /// The description of a version deploylink creates (a template). Default: none.
    pub(crate) description: Option<String>,
}

/// Which deploys put their issues into a version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixVersionOn {
    /// Deploys of a tag (`refs/tags/...`).
    #[default]
    Tags,
    /// Every deploy.
    EveryDeploy,
}

/// Where a deploy to one environment moves its issues.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TransitionTarget")]
pub(crate) struct TransitionDoc {
    /// The target status (`Done`), or a path of statuses ending with it
    /// (`[In Progress, In Review, Done]`), matched by name, case-insensitively.
    pub(crate) to: StatusPathDoc,
    /// Fields for the transition screen (`{resolution: {name: Done}}`), sent as they are.
    #[serde(default)]
    pub(crate) fields: Option<Map<String, Value>>,
}

/// One status, or a path of statuses.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum StatusPathDoc {
    One(String),
    Path(Vec<String>),
}

/// The compiled `fix_version:` of a project.
#[derive(Clone, Debug)]
pub struct FixVersionRule {
    pub name: Template,
    pub on: FixVersionOn,
    /// Environments whose deploys release the version.
    pub release_on: Vec<String>,
    pub description: Option<Template>,
    /// Where `name` is written: the error when it renders to a name Jira refuses.
    name_at: ConfigError,
}

impl FixVersionRule {
    /// The error for a version name that renders to `problem` (empty, too long), at the
    /// line of `fix_version.name`.
    pub fn name_error(&self, problem: &str) -> ConfigError {
        self.name_at
            .clone()
            .with_message(format!(
                "the version name \"{}\" {problem}",
                self.name.as_str()
            ))
            .with_hint(format!(
                "Jira takes version names of 1 to {VERSION_NAME_MAX} characters: use placeholders this deploy has (`{{tag}}` only on tag deploys)"
            ))
    }

    /// Whether a deploy of `refname` sets the version.
    pub fn applies_to(&self, refname: Option<&str>) -> bool {
        match self.on {
            FixVersionOn::EveryDeploy => true,
            FixVersionOn::Tags => refname.is_some_and(|r| r.starts_with("refs/tags/")),
        }
    }
}

/// The compiled `transition:` entry of one environment.
#[derive(Clone, Debug)]
pub struct TransitionRule {
    pub environment: String,
    /// The statuses to pass through, the target last.
    pub path: Vec<String>,
    pub fields: Map<String, Value>,
}

pub(crate) fn compile_fix_version(
    doc: &Document,
    path: &FieldPath,
    raw: FixVersionDoc,
    environments: &[Environment],
) -> Result<FixVersionRule, ConfigError> {
    let template = |field: &str, text: &str| {
        Template::parse(text).map_err(|e| {
            doc.error_at(
                &path.key(field),
                Part::Value,
                format!("invalid template: {e}"),
            )
            .with_hint(e.hint())
        })
    };
    let name = template("name", raw.name.as_deref().unwrap_or(DEFAULT_VERSION_NAME))?;
    let description = match &raw.description {
        Some(text) => Some(template("description", text)?),
        None => None,
    };
    let name_at = doc.error_at(&path.key("name"), Part::Value, "");
    let rule = FixVersionRule {
        name,
        on: raw.on.unwrap_or_default(),
        release_on: Vec::new(),
        description,
        name_at,
    };
    // A name without placeholders renders the same for every deploy: check it now.
    let fixed = rule.name.render(&|_| None);
    if rule.name.is_literal() {
        if let Some(problem) = name_problem(&fixed) {
            return Err(rule.name_error(problem.replace("for this deploy", "").trim_end()));
        }
    }
    let release_on = match raw.release_on {
        Some(names) => {
            for (i, name) in names.iter().enumerate() {
                check_environment(doc, &path.key("release_on").index(i), name, environments)?;
            }
            names
        }
        None => environments
            .iter()
            .filter(|e| e.kind == EnvironmentType::Production)
            .map(|e| e.name.clone())
            .collect(),
    };
    Ok(FixVersionRule { release_on, ..rule })
}

/// What is wrong with a rendered version name, if anything.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("renders empty for this deploy")
    } else if name.chars().count() > VERSION_NAME_MAX {
        Some("renders longer than 255 characters")
    } else {
        None
    }
}

pub(crate) fn compile_transitions(
    doc: &Document,
    path: &FieldPath,
    raw: BTreeMap<String, TransitionDoc>,
    environments: &[Environment],
) -> Result<Vec<TransitionRule>, ConfigError> {
    let mut rules = Vec::new();
    for (environment, entry) in raw {
        let at = path.key(&environment);
        if !environments.iter().any(|e| e.name == environment) {
            let known: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
            return Err(doc
                .error_at(
                    &at,
                    Part::Key,
                    format!("`{environment}` is not one of the project's environments"),
                )
                .with_hint(format!(
                    "name one of: {}",
                    if known.is_empty() {
                        "(none: add `environments:` first)".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
        }
        let statuses = match entry.to {
            StatusPathDoc::One(status) => vec![status],
            StatusPathDoc::Path(statuses) => statuses,
        };
        if statuses.is_empty() || statuses.len() > MAX_PATH {
            return Err(doc
                .error_at(
                    &at.key("to"),
                    Part::Value,
                    format!("`to` lists {} statuses", statuses.len()),
                )
                .with_hint(format!(
                    "name the target status, or a path of 1 to {MAX_PATH} statuses ending with it"
                )));
        }
        if let Some(i) = statuses.iter().position(|s| s.trim().is_empty()) {
            return Err(doc
                .error_at(
                    &at.key("to").index(i),
                    Part::Value,
                    "a status name is empty",
                )
                .with_hint("write the status as Jira shows it, like `In Review`"));
        }
        rules.push(TransitionRule {
            environment,
            path: statuses.into_iter().map(|s| s.trim().to_owned()).collect(),
            fields: entry.fields.unwrap_or_default(),
        });
    }
    Ok(rules)
}

fn check_environment(
    doc: &Document,
    at: &FieldPath,
    name: &str,
    environments: &[Environment],
) -> Result<(), ConfigError> {
    if environments.iter().any(|e| e.name == name) {
        return Ok(());
    }
    let known: Vec<&str> = environments.iter().map(|e| e.name.as_str()).collect();
    Err(doc
        .error_at(
            at,
            Part::Value,
            format!("`{name}` is not one of the project's environments"),
        )
        .with_hint(format!("name one of: {}", known.join(", "))))
}
