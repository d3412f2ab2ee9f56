//! The effective configuration, as YAML, for `deploylink config check`: every default filled
//! in, every credential shown as where it is read from (`<from $JIRA_API_TOKEN>`).
//!
//! It is for people to read, not a file to load: the credential fields have the form
//! `token: <from $JIRA_API_TOKEN>`, which the file format refuses on purpose.

use std::collections::BTreeMap;

use serde::Serialize;

use super::project::{Action, Project};
use super::resolve::{Config, TrackersOrigin};
use super::tracker::Tracker;

#[derive(Serialize)]
struct Effective<'a> {
    version: u32,
    source: &'a str,
    repository: &'a str,
    repository_from: String,
    max_commits: u64,
    max_issues: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo_url: Option<&'a str>,
    trackers: BTreeMap<&'a str, EffectiveTracker<'a>>,
    projects: BTreeMap<&'a str, EffectiveProject<'a>>,
}

#[derive(Serialize)]
struct EffectiveTracker<'a> {
    defined_in: String,
    kind: &'static str,
    url: &'a str,
    auth: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployments: Option<BTreeMap<&'static str, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca_file: Option<String>,
    max_concurrency: u32,
}

#[derive(Serialize)]
struct EffectiveProject<'a> {
    tracker: String,
    keys: EffectiveKeys,
    /// Left out when the project owns every path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<&'a str>,
    environments: BTreeMap<&'a str, EffectiveEnvironment<'a>>,
    actions: Vec<&'static str>,
    validate: EffectiveValidate<'a>,
    link: BTreeMap<&'static str, &'a str>,
    /// With the `fix-version` action only.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix_version: Option<EffectiveFixVersion<'a>>,
    /// With the `transition` action only: the statuses per environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    transition: BTreeMap<&'a str, EffectiveTransition<'a>>,
}

#[derive(Serialize)]
struct EffectiveFixVersion<'a> {
    name: &'a str,
    on: super::FixVersionOn,
    release_on: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize)]
struct EffectiveTransition<'a> {
    to: &'a [String],
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    fields: &'a serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
struct EffectiveKeys {
    projects: Vec<String>,
    ignore: Vec<String>,
    case_insensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
}

#[derive(Serialize)]
struct EffectiveEnvironment<'a> {
    refs: Vec<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct EffectiveValidate<'a> {
    require: &'static str,
    exempt: Vec<&'a str>,
    check_exists: bool,
}

/// The effective configuration of `config` as YAML.
pub(crate) fn effective_yaml(config: &Config) -> String {
    let effective = Effective {
        version: 1,
        source: config.source_name(),
        repository: config.identity().name(),
        repository_from: config.identity().describe_source(),
        max_commits: config.max_commits(),
        max_issues: config.max_issues(),
        repo_url: config.repo_url(),
        trackers: config
            .trackers()
            .map(|(t, origin)| (t.name.as_str(), tracker(t, origin)))
            .collect(),
        projects: config
            .projects()
            .iter()
            .map(|p| (p.name(), project(p)))
            .collect(),
    };
    let header = "# effective deploylink configuration: defaults filled in, credentials shown by where they are read from\n";
    match serde_saphyr::to_string(&effective) {
        Ok(yaml) => format!("{header}{yaml}"),
        // Serializing plain strings, numbers and maps cannot fail; say so rather than panic.
        Err(e) => format!("{header}# the effective configuration could not be written: {e}\n"),
    }
}

fn tracker<'a>(tracker: &'a Tracker, origin: &TrackersOrigin) -> EffectiveTracker<'a> {
    let mut auth = BTreeMap::new();
    if let Some(user) = &tracker.auth.user {
        auth.insert("user", user.to_string());
    }
    auth.insert("token", tracker.auth.token.to_string());
    let deployments = tracker.deployments.as_ref().map(|d| {
        BTreeMap::from([
            ("client_id", d.client_id.to_string()),
            ("client_secret", d.client_secret.to_string()),
            ("api_url", d.api_url.clone()),
            ("token_url", d.token_url.clone()),
        ])
    });
    EffectiveTracker {
        defined_in: match origin {
            TrackersOrigin::Organization(file) => format!("organization file {file}"),
            TrackersOrigin::Repository => "repository file".to_owned(),
        },
        kind: tracker.kind.as_str(),
        url: &tracker.url,
        auth,
        deployments,
        ca_file: tracker.ca_file.as_ref().map(|p| p.display().to_string()),
        max_concurrency: tracker.max_concurrency,
    }
}

fn project(project: &Project) -> EffectiveProject<'_> {
    let tracker = match (project.tracker_name(), project.tracker()) {
        (Some(name), Ok(_)) => name.to_owned(),
        (Some(name), Err(_)) => format!("{name} (not usable: see `config check`)"),
        (None, _) => "(none)".to_owned(),
    };
    let spec = project.key_rules_spec();
    let validate = project.validate();
    EffectiveProject {
        tracker,
        keys: EffectiveKeys {
            projects: spec.projects,
            ignore: spec.ignore,
            case_insensitive: spec.case_insensitive,
            pattern: spec.pattern,
        },
        paths: project.paths().iter().map(String::as_str).collect(),
        environments: project
            .environments()
            .iter()
            .map(|e| {
                let refs = e.refs().iter().map(String::as_str).collect();
                (
                    e.name.as_str(),
                    EffectiveEnvironment {
                        refs,
                        kind: e.kind.as_str(),
                    },
                )
            })
            .collect(),
        actions: project.actions().iter().map(Action::as_str).collect(),
        validate: EffectiveValidate {
            require: validate.require().as_str(),
            exempt: validate.exempt().iter().map(|r| r.as_str()).collect(),
            check_exists: validate.check_exists(),
        },
        link: BTreeMap::from([
            ("title", project.link_title().as_str()),
            ("url", project.link_url().as_str()),
        ]),
        fix_version: project.fix_version().map(|rule| EffectiveFixVersion {
            name: rule.name.as_str(),
            on: rule.on,
            release_on: &rule.release_on,
            description: rule.description.as_ref().map(|d| d.as_str()),
        }),
        transition: project
            .transitions()
            .iter()
            .map(|t| {
                (
                    t.environment.as_str(),
                    EffectiveTransition {
                        to: &t.path,
                        fields: &t.fields,
                    },
                )
            })
            .collect(),
    }
}
