//! Trackers: the connected Jira sites and where their credentials are read from.
//!
//! This module only ever handles the *names* of credentials (a variable, a file): it never
//! reads a secret, so no secret can leak from here into an error, a log or `config check`.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::document::{AuthDoc, DeploymentsDoc, TrackerDoc};
use super::error::{quoted, ConfigError, FieldPath};
use super::locate::Part;
use super::names::check_name;
use super::url::{check_url, UrlUse};
use super::yaml::Document;

/// The Jira deployments API, unless a tracker names another.
pub const DEFAULT_DEPLOYMENTS_API_URL: &str = "https://api.atlassian.com";
/// The OAuth token endpoint, unless a tracker names another.
pub const DEFAULT_TOKEN_URL: &str = "https://api.atlassian.com/oauth/token";
/// Requests in flight to one tracker at once, unless it says otherwise.
pub const DEFAULT_MAX_CONCURRENCY: u32 = 8;
const MAX_CONCURRENCY_LIMIT: u32 = 64;

/// Which Jira product a tracker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrackerKind {
    /// Jira Cloud (`*.atlassian.net`): REST API 3, e-mail and API token.
    JiraCloud,
    /// Jira Data Center or Server: REST API 2, personal access token.
    JiraDataCenter,
}

impl TrackerKind {
    /// The REST API version its issue endpoints use: 3 on Cloud, 2 on Data Center.
    pub fn rest_api_version(&self) -> u8 {
        match self {
            TrackerKind::JiraCloud => 3,
            TrackerKind::JiraDataCenter => 2,
        }
    }

    /// The name written in the file.
    pub fn as_str(&self) -> &'static str {
        match self {
            TrackerKind::JiraCloud => "jira-cloud",
            TrackerKind::JiraDataCenter => "jira-data-center",
        }
    }
}

impl fmt::Display for TrackerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a credential is read from at run time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// An environment variable, by name.
    Env(String),
    /// A file, by absolute path; its content, without a final newline, is the value.
    File(PathBuf),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "<from ${name}>"),
            SecretRef::File(path) => write!(f, "<from file {}>", path.display()),
        }
    }
}

/// How deploylink authenticates to a tracker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    /// Jira Cloud's account e-mail (basic auth with the token); `None` on Data Center.
    pub user: Option<SecretRef>,
    /// The API token (Cloud) or personal access token (Data Center, sent as a Bearer token).
    pub token: SecretRef,
}

/// OAuth client credentials for Jira Software deployment records (Cloud only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentsAuth {
    /// The OAuth client id.
    pub client_id: SecretRef,
    /// The OAuth client secret.
    pub client_secret: SecretRef,
    /// The deployments API, without a trailing `/`.
    pub api_url: String,
    /// The OAuth token endpoint.
    pub token_url: String,
}

/// One connected Jira site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tracker {
    /// The name projects choose it by.
    pub name: String,
    /// Cloud or Data Center.
    pub kind: TrackerKind,
    /// The site's base URL, without a trailing `/`.
    pub url: String,
    /// Where the credentials are read from.
    pub auth: Auth,
    /// OAuth client credentials, when the `deployment` action is to be used.
    pub deployments: Option<DeploymentsAuth>,
    /// An extra root certificate to trust.
    pub ca_file: Option<PathBuf>,
    /// The most requests in flight to this site at once.
    pub max_concurrency: u32,
}

/// Checks one tracker of `doc` at `path` (`trackers.acme`).
pub(crate) fn compile_tracker(
    doc: &Document,
    path: &FieldPath,
    name: &str,
    raw: TrackerDoc,
) -> Result<Tracker, ConfigError> {
    check_name(name, "tracker")
        .map_err(|(message, hint)| doc.error_at(path, Part::Key, message).with_hint(hint))?;
    let url = check_url(&raw.url, UrlUse::Credentials).map_err(|p| {
        doc.error_at(&path.key("url"), Part::Value, p.message)
            .with_hint(p.hint)
    })?;
    let auth = compile_auth(doc, &path.key("auth"), raw.kind, raw.auth)?;
    let deployments = match raw.deployments {
        Some(_) if raw.kind == TrackerKind::JiraDataCenter => {
            return Err(doc
                .error_at(&path.key("deployments"), Part::Key, "deployment records are a Jira Cloud feature; this tracker is `jira-data-center`")
                .with_hint("remove `deployments:`, and use the `remote-link` or `comment` action"));
        }
        Some(d) => Some(compile_deployments(doc, &path.key("deployments"), d)?),
        None => None,
    };
    if let Some(ca_file) = &raw.ca_file {
        check_file(doc, &path.key("ca_file"), ca_file)?;
    }
    let max_concurrency = raw.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY);
    if !(1..=MAX_CONCURRENCY_LIMIT).contains(&max_concurrency) {
        return Err(doc
            .error_at(&path.key("max_concurrency"), Part::Value, format!("`max_concurrency` is {max_concurrency}; it must be from 1 to {MAX_CONCURRENCY_LIMIT}"))
            .with_hint(format!("leave it out for the default of {DEFAULT_MAX_CONCURRENCY}")));
    }
    Ok(Tracker {
        name: name.to_owned(),
        kind: raw.kind,
        url,
        auth,
        deployments,
        ca_file: raw.ca_file,
        max_concurrency,
    })
}

fn compile_auth(
    doc: &Document,
    path: &FieldPath,
    kind: TrackerKind,
    raw: AuthDoc,
) -> Result<Auth, ConfigError> {
    let user = secret_ref(doc, path, "user", raw.user_env, raw.user_file)?;
    let token = secret_ref(doc, path, "token", raw.token_env, raw.token_file)?;
    let token = token.ok_or_else(|| {
        let what = match kind {
            TrackerKind::JiraCloud => "an API token",
            TrackerKind::JiraDataCenter => "a personal access token",
        };
        doc.error_at(path, Part::Key, format!("`auth` names no token; this tracker needs {what}"))
            .with_hint("add `token_env: JIRA_API_TOKEN` and export the token in that variable, or `token_file: /run/secrets/jira`")
    })?;
    match (kind, &user) {
        (TrackerKind::JiraCloud, None) => Err(doc
            .error_at(path, Part::Key, "Jira Cloud authenticates with the account e-mail and an API token, and `auth` names no account")
            .with_hint("add `user_env: JIRA_USER` and export the account e-mail in that variable, or `user_file: /run/secrets/jira-user`")),
        (TrackerKind::JiraDataCenter, Some(_)) => {
            let written = match user {
                Some(SecretRef::Env(_)) => "user_env",
                _ => "user_file",
            };
            let field = path.key(written);
            Err(doc
                .error_at(&field, Part::Key, "Jira Data Center authenticates with a personal access token alone; the account is not used")
                .with_hint("remove the `user_*` field; the token is sent as a Bearer token"))
        }
        _ => Ok(Auth { user, token }),
    }
}

fn compile_deployments(
    doc: &Document,
    path: &FieldPath,
    raw: DeploymentsDoc,
) -> Result<DeploymentsAuth, ConfigError> {
    let missing = |what: &str| {
        doc.error_at(path, Part::Key, format!("`deployments` names no OAuth {what}"))
            .with_hint(format!("add `{what}_env: JIRA_{}` and export it in that variable, or `{what}_file: /run/secrets/jira-{}`", what.to_ascii_uppercase(), what.replace('_', "-")))
    };
    let client_id = secret_ref(
        doc,
        path,
        "client_id",
        raw.client_id_env,
        raw.client_id_file,
    )?
    .ok_or_else(|| missing("client_id"))?;
    let client_secret = secret_ref(
        doc,
        path,
        "client_secret",
        raw.client_secret_env,
        raw.client_secret_file,
    )?
    .ok_or_else(|| missing("client_secret"))?;
    let url = |field: &str, given: Option<String>, default: &str| {
        let text = given.unwrap_or_else(|| default.to_owned());
        check_url(&text, UrlUse::Credentials).map_err(|p| {
            doc.error_at(&path.key(field), Part::Value, p.message)
                .with_hint(p.hint)
        })
    };
    Ok(DeploymentsAuth {
        client_id,
        client_secret,
        api_url: url("api_url", raw.api_url, DEFAULT_DEPLOYMENTS_API_URL)?,
        token_url: url("token_url", raw.token_url, DEFAULT_TOKEN_URL)?,
    })
}

/// The reference `<what>_env` or `<what>_file`, checked; `None` when neither is given.
fn secret_ref(
    doc: &Document,
    path: &FieldPath,
    what: &str,
    env: Option<String>,
    file: Option<PathBuf>,
) -> Result<Option<SecretRef>, ConfigError> {
    match (env, file) {
        (Some(_), Some(_)) => Err(doc
            .error_at(
                &path.key(&format!("{what}_file")),
                Part::Key,
                format!("both `{what}_env` and `{what}_file` are given"),
            )
            .with_hint("keep one of them")),
        (Some(name), None) => {
            check_env_name(doc, &path.key(&format!("{what}_env")), &name)?;
            Ok(Some(SecretRef::Env(name)))
        }
        (None, Some(file)) => {
            check_file(doc, &path.key(&format!("{what}_file")), &file)?;
            Ok(Some(SecretRef::File(file)))
        }
        (None, None) => Ok(None),
    }
}

/// Checks that `name` is an environment variable's name, and not a secret pasted in its place.
/// The error never quotes the value: it may be the very token.
fn check_env_name(doc: &Document, path: &FieldPath, name: &str) -> Result<(), ConfigError> {
    let field = path.leaf_key().unwrap_or_default().to_owned();
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let problem = if !valid {
        Some(format!("`{field}` is not an environment variable name (letters, digits and `_`, not starting with a digit)"))
    } else if looks_like_a_token(name) {
        Some(format!("`{field}` looks like a token, not the name of the variable that holds it; secrets never go in configuration files"))
    } else {
        None
    };
    match problem {
        Some(message) => Err(doc.error_at(path, Part::Value, message).with_hint(format!(
            "write the variable's name, like `{field}: {}`, and export the value in it",
            example_env(&field)
        ))),
        None => Ok(()),
    }
}

/// Variable names are words joined by `_`; a long run of mixed-case letters and digits without
/// one is what API tokens and personal access tokens look like.
fn looks_like_a_token(name: &str) -> bool {
    name.len() >= 24
        && !name.contains('_')
        && name.chars().any(|c| c.is_ascii_lowercase())
        && name.chars().any(|c| c.is_ascii_digit())
}

fn example_env(field: &str) -> &'static str {
    match field {
        "user_env" => "JIRA_USER",
        "client_id_env" => "JIRA_CLIENT_ID",
        "client_secret_env" => "JIRA_CLIENT_SECRET",
        _ => "JIRA_API_TOKEN",
    }
}

/// File references are absolute: a relative one would depend on the directory deploylink
/// happens to run in, which differs between a hook, a CI job and a shell.
fn check_file(doc: &Document, path: &FieldPath, file: &std::path::Path) -> Result<(), ConfigError> {
    if file.is_absolute() {
        return Ok(());
    }
    let field = path.leaf_key().unwrap_or_default();
    Err(doc
        .error_at(
            path,
            Part::Value,
            format!(
                "`{field}` is {}, a relative path",
                quoted(&file.display().to_string())
            ),
        )
        .with_hint("write an absolute path, like `/run/secrets/jira`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs_display_without_values() {
        assert_eq!(
            SecretRef::Env("JIRA_API_TOKEN".into()).to_string(),
            "<from $JIRA_API_TOKEN>"
        );
        assert_eq!(
            SecretRef::File("/run/secrets/jira".into()).to_string(),
            "<from file /run/secrets/jira>"
        );
    }

    #[test]
    fn tokens_are_told_from_variable_names() {
        assert!(looks_like_a_token("ATATT3xFfGF0a1b2c3d4e5f6g7h8"));
        assert!(!looks_like_a_token("JIRA_API_TOKEN"));
        assert!(!looks_like_a_token(
            "MY_VERY_LONG_ORGANIZATION_JIRA_TOKEN_2"
        ));
    }

    #[test]
    fn api_versions() {
        assert_eq!(TrackerKind::JiraCloud.rest_api_version(), 3);
        assert_eq!(TrackerKind::JiraDataCenter.rest_api_version(), 2);
    }
}
