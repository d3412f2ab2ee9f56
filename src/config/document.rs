//! The two files as they are written: the serde types that read them and that the JSON Schema
//! is generated from. Their doc comments are the schema's descriptions.
//!
//! These types hold text as written; `tracker.rs` and `project.rs` check and compile them into
//! the types the rest of deploylink uses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

use super::environment::EnvironmentType;
use super::project::{Action, Requirement};
use super::release::{FixVersionDoc, TransitionDoc};
use super::tracker::TrackerKind;

/// The organization file (`trackers.yml`): the Jira sites this machine or CI can write to, and
/// the names of the variables or files that hold their credentials. Never the secrets themselves.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "deploylink organization file (trackers.yml)")]
#[schemars(rename = "TrackersFile")]
pub(crate) struct TrackersFileDoc {
    /// Format version. Always `1`.
    #[schemars(extend("const" = 1))]
    #[serde(rename = "version")]
    pub(crate) _version: u32,
    /// The connected Jira sites, by the name projects use to choose one (`acme`).
    #[serde(default)]
    pub(crate) trackers: BTreeMap<String, TrackerDoc>,
    /// The tracker URLs a repository's `.deploylink.yml` may define trackers of its own for
    /// (`[https://jira.acme.com]`). Empty by default: whoever can push could otherwise send this
    /// machine's credentials to a URL of their choosing. Such a tracker may name only variables
    /// whose names start with `JIRA_` or `DEPLOYLINK_`, and no files. `false` is the same as an
    /// empty list; `true` is refused (list the URLs instead). Client hooks never use them.
    #[serde(default)]
    #[schemars(schema_with = "allow_list_schema")]
    pub(crate) allow_repository_trackers: AllowListDoc,
}

/// `allow_repository_trackers:` as written: a list of URLs, or the old `true`/`false`.
#[derive(Debug, Default)]
pub(crate) enum AllowListDoc {
    /// Not written, or `false`.
    #[default]
    Nothing,
    /// The old form `true`, refused with a hint to list the URLs.
    All,
    /// The URLs, as written.
    Urls(Vec<String>),
}

impl<'de> Deserialize<'de> for AllowListDoc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AllowListVisitor)
    }
}

struct AllowListVisitor;

impl<'de> serde::de::Visitor<'de> for AllowListVisitor {
    type Value = AllowListDoc;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of tracker URLs")
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<AllowListDoc, E> {
        Ok(if value {
            AllowListDoc::All
        } else {
            AllowListDoc::Nothing
        })
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<AllowListDoc, E> {
        Ok(AllowListDoc::Urls(Vec::new()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AllowListDoc, A::Error> {
        let mut urls = Vec::new();
        while let Some(url) = seq.next_element::<String>()? {
            urls.push(url);
        }
        Ok(AllowListDoc::Urls(urls))
    }
}

fn allow_list_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            { "type": "array", "items": { "type": "string" } },
            { "const": false }
        ]
    })
}

/// One connected Jira site.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Tracker")]
pub(crate) struct TrackerDoc {
    /// `jira-cloud` (REST API 3, e-mail and API token) or `jira-data-center` (REST API 2,
    /// personal access token).
    pub(crate) kind: TrackerKind,
    /// The site's base URL, like `https://acme.atlassian.net`. `https` only; `http` only for
    /// loopback hosts (`localhost`, `127.0.0.1`, `[::1]`). No user name or password in it.
    pub(crate) url: String,
    /// Where the credentials are read from at run time.
    pub(crate) auth: AuthDoc,
    /// OAuth client credentials for Jira Software deployment records (the `deployment`
    /// action). Jira Cloud only.
    pub(crate) deployments: Option<DeploymentsDoc>,
    /// An extra root certificate (PEM) to trust for this site, for a self-hosted Data Center
    /// with a private certificate authority. An absolute path.
    pub(crate) ca_file: Option<PathBuf>,
    /// The most requests in flight to this site at once. Default 8; at most 64.
    #[schemars(range(min = 1, max = 64))]
    pub(crate) max_concurrency: Option<u32>,
}

/// Where the credentials are read from: each one is an environment variable (`*_env`) or a file
/// (`*_file`), never a literal value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Auth")]
pub(crate) struct AuthDoc {
    /// Jira Cloud: the environment variable that holds the account e-mail (`JIRA_USER`).
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub(crate) user_env: Option<String>,
    /// Jira Cloud: the file that holds the account e-mail. An absolute path.
    pub(crate) user_file: Option<PathBuf>,
    /// The environment variable that holds the token: the API token on Jira Cloud, the
    /// personal access token on Data Center (`JIRA_API_TOKEN`).
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub(crate) token_env: Option<String>,
    /// The file that holds the token (`/run/secrets/jira`). An absolute path.
    pub(crate) token_file: Option<PathBuf>,
}

/// OAuth client credentials (client id and secret) of a Jira Software deployments integration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Deployments")]
pub(crate) struct DeploymentsDoc {
    /// The environment variable that holds the OAuth client id.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub(crate) client_id_env: Option<String>,
    /// The file that holds the OAuth client id. An absolute path.
    pub(crate) client_id_file: Option<PathBuf>,
    /// The environment variable that holds the OAuth client secret.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub(crate) client_secret_env: Option<String>,
    /// The file that holds the OAuth client secret. An absolute path.
    pub(crate) client_secret_file: Option<PathBuf>,
    /// The deployments API. Default `https://api.atlassian.com`; override for tests or a proxy.
    pub(crate) api_url: Option<String>,
    /// The OAuth token endpoint. Default `https://api.atlassian.com/oauth/token`.
    pub(crate) token_url: Option<String>,
}

/// The project file (`.deploylink.yml` at the repository root, read from the deployed commit).
///
/// Either a `projects:` mapping, or, for a repository with a single project, that project's
/// fields (`keys`, `paths`, `environments`, ...) at the top level; its name is then the
/// repository's identity (`repository:`). Not both.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "deploylink project file (.deploylink.yml)")]
#[schemars(rename = "ProjectFile")]
pub(crate) struct ProjectFileDoc {
    /// Format version. Always `1`.
    #[schemars(extend("const" = 1))]
    #[serde(rename = "version")]
    pub(crate) _version: u32,
    /// The repository's identity: its path on its host (`acme/shop`). It names the repository
    /// in every id deploylink writes (remote links, deployment records, `refs/deploylink/...`),
    /// and it is the project's name in the single-project form. Without it, the path of
    /// `repo_url`, of the `origin` remote's URL or the CI's repository variable is used, and
    /// last the directory's name, with a warning.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$"))]
    #[schemars(length(min = 1, max = 128))]
    pub(crate) repository: Option<String>,
    /// The tracker of every project that does not name one.
    pub(crate) default_tracker: Option<String>,
    /// The deployable units of this repository, by name (`web`, `api`). A project written
    /// without fields (`web:`) takes every default.
    pub(crate) projects: Option<BTreeMap<String, Option<ProjectDoc>>>,
    /// A deploy whose range holds more commits than this writes nothing and warns (a first push
    /// of an old history, a wrong base). Default 2000.
    #[schemars(range(min = 1))]
    pub(crate) max_commits: Option<u64>,
    /// The most issues one deploy writes to: the keys past it (in the order the range names
    /// them) are left out and listed in the report. Default 500.
    #[schemars(range(min = 1))]
    pub(crate) max_issues: Option<u64>,
    /// The repository's web URL (`https://github.com/acme/web`), for `{repo_url}` in link
    /// templates. `https` or `http`; no user name or password in it.
    pub(crate) repo_url: Option<String>,
    /// Trackers defined by the repository itself (same fields as in the organization file).
    /// Used only in CI (or a command run by hand) where no organization file exists, or where
    /// the organization file lists the tracker's URL in `allow_repository_trackers`; never by
    /// the client hooks. May name only variables whose names start with `JIRA_` or
    /// `DEPLOYLINK_`, and no files.
    pub(crate) trackers: Option<BTreeMap<String, TrackerDoc>>,
    /// Single-project form: see `projects.*.tracker`.
    pub(crate) tracker: Option<String>,
    /// Single-project form: see `projects.*.keys`.
    pub(crate) keys: Option<KeysDoc>,
    /// Single-project form: see `projects.*.paths`.
    pub(crate) paths: Option<Vec<String>>,
    /// Single-project form: see `projects.*.environments`.
    pub(crate) environments: Option<BTreeMap<String, Option<EnvironmentDoc>>>,
    /// Single-project form: see `projects.*.actions`.
    pub(crate) actions: Option<Vec<Action>>,
    /// Single-project form: see `projects.*.validate`.
    pub(crate) validate: Option<ValidateDoc>,
    /// Single-project form: see `projects.*.link`.
    pub(crate) link: Option<LinkDoc>,
    /// Single-project form: see `projects.*.fix_version`.
    pub(crate) fix_version: Option<FixVersionDoc>,
    /// Single-project form: see `projects.*.transition`.
    pub(crate) transition: Option<BTreeMap<String, TransitionDoc>>,
}

impl ProjectFileDoc {
    /// The top-level project fields, for the single-project form; `None` when there are none.
    pub(crate) fn take_shorthand(&mut self) -> Option<ProjectDoc> {
        let project = ProjectDoc {
            tracker: self.tracker.take(),
            keys: self.keys.take(),
            paths: self.paths.take(),
            environments: self.environments.take(),
            actions: self.actions.take(),
            validate: self.validate.take(),
            link: self.link.take(),
            fix_version: self.fix_version.take(),
            transition: self.transition.take(),
        };
        (!project.is_empty()).then_some(project)
    }
}

/// One deployable unit of the repository.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Project")]
pub(crate) struct ProjectDoc {
    /// The tracker (from `trackers:`) that this project's issues live in. Default:
    /// `default_tracker`.
    pub(crate) tracker: Option<String>,
    /// Which issue keys in commit messages and branch names belong to this project.
    pub(crate) keys: Option<KeysDoc>,
    /// Monorepo: only commits that change a path matching one of these globs belong to this
    /// project (`apps/web/**`). `*` stays within a directory, `**` crosses directories, and a
    /// glob ending in `/` means everything below that directory. Default: every commit.
    pub(crate) paths: Option<Vec<String>>,
    /// Where this project deploys, by environment name (`production`, `staging`). An
    /// environment written without fields is chosen only by `--environment` or the CI.
    pub(crate) environments: Option<BTreeMap<String, Option<EnvironmentDoc>>>,
    /// What is written to each issue of a deploy. Default `[remote-link]`.
    pub(crate) actions: Option<Vec<Action>>,
    /// What the client hooks (`pre-push`, `commit-msg`) enforce.
    pub(crate) validate: Option<ValidateDoc>,
    /// The remote link written on each issue.
    pub(crate) link: Option<LinkDoc>,
    /// The Jira version a deploy puts its issues into (the `fix-version` action).
    pub(crate) fix_version: Option<FixVersionDoc>,
    /// Where a deploy moves its issues in their workflow, by environment name (the
    /// `transition` action).
    pub(crate) transition: Option<BTreeMap<String, TransitionDoc>>,
}

impl ProjectDoc {
    fn is_empty(&self) -> bool {
        self.tracker.is_none()
            && self.keys.is_none()
            && self.paths.is_none()
            && self.environments.is_none()
            && self.actions.is_none()
            && self.validate.is_none()
            && self.link.is_none()
            && self.fix_version.is_none()
            && self.transition.is_none()
    }
}

/// The rules that find this project's issue keys (`WEB-12`) in text.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Keys")]
pub(crate) struct KeysDoc {
    /// The accepted Jira project keys (`[WEB, OPS]`): a letter, then letters, digits or `_`.
    /// Empty: any key that passes the default rule.
    #[serde(default)]
    pub(crate) projects: Vec<String>,
    /// Regexes of keys to drop (`^WEB-0$`).
    #[serde(default)]
    pub(crate) ignore: Vec<String>,
    /// Also accept lower- and mixed-case keys (`web-12`), reported in upper case.
    #[serde(default)]
    pub(crate) case_insensitive: bool,
    /// A regex that replaces the default rule; its capture group 1 is the key.
    pub(crate) pattern: Option<String>,
}

/// One environment: which refs deploy to it, and what kind of environment it is.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Environment")]
pub(crate) struct EnvironmentDoc {
    /// Globs of full ref names that deploy here (`refs/heads/main`, `refs/tags/v*`). `*` stays
    /// within one `/`-separated part, `**` crosses them. Default: none (the environment is then
    /// chosen only with `--environment` or by the CI).
    #[serde(default)]
    pub(crate) refs: Vec<String>,
    /// The Jira environment type. Default: the environment's name when it is one of the types,
    /// else `unmapped`.
    #[serde(rename = "type")]
    pub(crate) kind: Option<EnvironmentType>,
}

/// What the client hooks enforce.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Validate")]
pub(crate) struct ValidateDoc {
    /// `every-commit` (default): each pushed commit names an issue; `one-per-push`: at least one
    /// commit of each pushed ref does; `none`: nothing is enforced.
    pub(crate) require: Option<Requirement>,
    /// Regexes of commit messages that need no key. Default
    /// `["^Merge ", "^Revert ", "^fixup! ", "^squash! "]`; `[]` exempts nothing.
    pub(crate) exempt: Option<Vec<String>>,
    /// Also ask Jira that the issues exist (needs the tracker's credentials). Default false.
    #[serde(default)]
    pub(crate) check_exists: bool,
}

/// Templates of the remote link. Placeholders: `{project}`, `{environment}`, `{repo}`,
/// `{repo_url}`, `{ref}`, `{branch}`, `{tag}`, `{from}`, `{to}`, `{short_sha}`, `{run_url}`,
/// `{run_id}`, `{state}`; `{{` and `}}` write a brace.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Link")]
pub(crate) struct LinkDoc {
    /// The link's title. Default `Deployed {project} {short_sha} to {environment}`.
    pub(crate) title: Option<String>,
    /// The link's URL. Default `{run_url}`; for example `{repo_url}/compare/{from}...{to}`.
    pub(crate) url: Option<String>,
}
