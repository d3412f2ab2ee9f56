//! Environments: where a project deploys, and which refs deploy there.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::document::EnvironmentDoc;
use super::error::{ConfigError, FieldPath};
use super::locate::Part;
use super::names::check_name;
use super::patterns::{GlobKind, GlobList};
use super::yaml::Document;

/// The Jira environment type of an environment (Jira Software deployments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentType {
    /// Serves users.
    Production,
    /// A pre-production copy.
    Staging,
    /// For tests.
    Testing,
    /// For development.
    Development,
    /// None of the others.
    Unmapped,
}

impl EnvironmentType {
    /// The name Jira and the file use.
    pub fn as_str(&self) -> &'static str {
        match self {
            EnvironmentType::Production => "production",
            EnvironmentType::Staging => "staging",
            EnvironmentType::Testing => "testing",
            EnvironmentType::Development => "development",
            EnvironmentType::Unmapped => "unmapped",
        }
    }

    /// The type an environment has when its `type` is not written: the one its name says
    /// (`staging`), else `unmapped`.
    fn for_name(name: &str) -> EnvironmentType {
        match name {
            "production" => EnvironmentType::Production,
            "staging" => EnvironmentType::Staging,
            "testing" => EnvironmentType::Testing,
            "development" => EnvironmentType::Development,
            _ => EnvironmentType::Unmapped,
        }
    }
}

impl fmt::Display for EnvironmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One environment of a project.
#[derive(Clone, Debug)]
pub struct Environment {
    /// Its name in the file (`production`).
    pub name: String,
    /// Its Jira environment type.
    pub kind: EnvironmentType,
    refs: GlobList,
}

impl Environment {
    /// Whether a push to `refname` (a full ref name, `refs/heads/main`) deploys here.
    pub fn matches_ref(&self, refname: &str) -> bool {
        self.refs.is_match(refname.as_bytes())
    }

    /// The ref globs as written.
    pub fn refs(&self) -> &[String] {
        self.refs.patterns()
    }
}

/// Compiles the environments of a project at `path` (`projects.web.environments`), in name
/// order.
pub(crate) fn compile_environments(
    doc: &Document,
    path: &FieldPath,
    raw: BTreeMap<String, Option<EnvironmentDoc>>,
) -> Result<Vec<Environment>, ConfigError> {
    use super::limits::{check_count, MAX_ENVIRONMENTS, MAX_REF_PATTERNS};
    check_count(doc, path, raw.len(), MAX_ENVIRONMENTS, "environments")?;
    raw.into_iter()
        .map(|(name, env)| {
            let env = env.unwrap_or_default();
            let env_path = path.key(&name);
            check_count(
                doc,
                &env_path.key("refs"),
                env.refs.len(),
                MAX_REF_PATTERNS,
                "ref patterns",
            )?;
            check_name(&name, "environment")
                .map_err(|(m, h)| doc.error_at(&env_path, Part::Key, m).with_hint(h))?;
            let refs = GlobList::new(&env.refs, GlobKind::Ref).map_err(|(i, p)| {
                let err = doc.error_at(&env_path.key("refs").index(i), Part::Value, p.message);
                match p.hint {
                    Some(hint) => err.with_hint(hint),
                    None => err,
                }
            })?;
            Ok(Environment {
                kind: env.kind.unwrap_or_else(|| EnvironmentType::for_name(&name)),
                name,
                refs,
            })
        })
        .collect()
}

/// The environment that `refname` deploys to. When several match, the first in name order
/// wins, with a warning: refusing the whole file for an overlap would stop every deploy, and
/// the warning names both so the overlap gets fixed.
pub(crate) fn environment_for_ref<'a>(
    project: &str,
    environments: &'a [Environment],
    refname: &str,
) -> Option<&'a Environment> {
    let mut matching = environments.iter().filter(|e| e.matches_ref(refname));
    let first = matching.next()?;
    let others: Vec<&str> = matching.map(|e| e.name.as_str()).collect();
    if !others.is_empty() {
        log::warn!(
            "{refname} matches the refs of several environments of project '{project}' ({}, {}); deploying to '{}', the first in name order",
            first.name,
            others.join(", "),
            first.name
        );
    }
    Some(first)
}
