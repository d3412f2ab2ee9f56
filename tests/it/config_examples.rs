//! The SPEC's examples and the single-project form load, with every default filled in, and the
//! loaded configuration answers what the rest of deploylink asks it.

use std::path::{Path, PathBuf};

use deploylink::config::{
    parse_project, parse_trackers, resolve, Action, EnvironmentType, ProjectFile, Requirement,
    SecretRef, Source, TrackerKind, TrackersFile, TrustMode,
};
use deploylink::template::Placeholder;

fn fixture(name: &str) -> Source {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name);
    Source {
        name: format!("fixtures/{name}"),
        text: std::fs::read(&path).unwrap(),
    }
}

fn spec_trackers() -> TrackersFile {
    parse_trackers(&fixture("spec-trackers.yml")).unwrap()
}

fn spec_project() -> ProjectFile {
    parse_project(
        &fixture("spec-project.yml"),
        &deploylink::config::RepoFacts::directory("shop"),
    )
    .unwrap()
}

#[test]
fn spec_organization_file_loads() {
    let file = spec_trackers();
    assert!(file.allow_repository_trackers().is_empty());
    let acme = file.tracker("acme").unwrap();
    assert_eq!(acme.kind, TrackerKind::JiraCloud);
    assert_eq!(acme.kind.rest_api_version(), 3);
    assert_eq!(acme.url, "https://acme.atlassian.net");
    assert_eq!(acme.auth.user, Some(SecretRef::Env("JIRA_USER".into())));
    assert_eq!(acme.auth.token, SecretRef::Env("JIRA_API_TOKEN".into()));
    let deployments = acme.deployments.as_ref().unwrap();
    assert_eq!(
        deployments.client_id,
        SecretRef::Env("JIRA_CLIENT_ID".into())
    );
    assert_eq!(
        deployments.client_secret,
        SecretRef::Env("JIRA_CLIENT_SECRET".into())
    );
    assert_eq!(deployments.api_url, "https://api.atlassian.com");
    assert_eq!(
        deployments.token_url,
        "https://api.atlassian.com/oauth/token"
    );
    assert_eq!(acme.ca_file, Some(PathBuf::from("/etc/ssl/acme-ca.pem")));
    assert_eq!(acme.max_concurrency, 8);
}

#[test]
fn spec_project_file_loads() {
    let config = resolve(spec_project(), Some(spec_trackers()), TrustMode::ServerHook).unwrap();
    assert_eq!(config.max_commits(), 2000);
    assert_eq!(config.repo_url(), None);
    assert_eq!(config.source_name(), "fixtures/spec-project.yml");
    let names: Vec<&str> = config.projects().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["web"]);
    let web = config.project("web").unwrap();
    assert_eq!(web.tracker().unwrap().name, "acme");
    let keys = web.key_rules_spec();
    assert_eq!(keys.projects, ["WEB", "OPS"]);
    assert_eq!(keys.ignore, ["^WEB-0$"]);
    assert!(!keys.case_insensitive);
    assert_eq!(keys.pattern, None);
    assert_eq!(web.actions(), [Action::RemoteLink]);
    assert_eq!(web.validate().require(), Requirement::EveryCommit);
    assert!(web.validate().is_exempt("Merge branch 'main'"));
    assert!(!web.validate().is_exempt("WEB-1: fix"));
    assert!(!web.validate().check_exists());
    assert_eq!(
        web.link_title().as_str(),
        "Deployed {project} {short_sha} to {environment}"
    );
    assert_eq!(web.link_url().as_str(), "{run_url}");
}

#[test]
fn environments_map_refs() {
    let config = resolve(spec_project(), Some(spec_trackers()), TrustMode::Client).unwrap();
    let web = config.project("web").unwrap();
    let names: Vec<&str> = web.environments().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["production", "staging"]);
    let env = |r: &str| web.environment_for_ref(r).map(|e| e.name.as_str());
    assert_eq!(env("refs/heads/main"), Some("production"));
    assert_eq!(env("refs/tags/v1.2"), Some("production"));
    assert_eq!(env("refs/heads/release/2024.1"), Some("staging"));
    assert_eq!(
        env("refs/heads/release/2024/1"),
        None,
        "`*` does not cross `/`"
    );
    assert_eq!(env("refs/heads/feature/x"), None);
    assert_eq!(
        web.environment("staging").unwrap().kind,
        EnvironmentType::Staging
    );
    assert_eq!(EnvironmentType::Staging.as_str(), "staging");
}

#[test]
fn paths_decide_which_commits_belong() {
    let config = resolve(spec_project(), None, TrustMode::Client).unwrap();
    let web = config.project("web").unwrap();
    assert!(web.has_paths());
    assert!(web.owns_path(b"apps/web/src/index.ts"));
    assert!(
        web.owns_path(b"apps/web/\xff\xfe.bin"),
        "git paths are bytes"
    );
    assert!(!web.owns_path(b"apps/api/main.go"));
}

#[test]
fn single_project_form_is_named_after_the_repository() {
    let file = parse_project(
        &fixture("shorthand.yml"),
        &deploylink::config::RepoFacts::directory("shop"),
    )
    .unwrap();
    let config = resolve(file, None, TrustMode::Client).unwrap();
    assert_eq!(config.repo_url(), Some("https://github.com/acme/shop"));
    // Named after the repository's identity: the path of `repo_url`.
    assert_eq!(config.identity().name(), "acme/shop");
    let shop = config.project("acme/shop").unwrap();
    assert!(!shop.has_paths());
    assert!(shop.owns_path(b"anything/at/all"));
    assert_eq!(shop.actions(), [Action::RemoteLink, Action::Comment]);
    assert!(shop.link_url().uses(Placeholder::RepoUrl));
    // `type` left out: the name says `production`, and `qa` is `unmapped`.
    assert_eq!(
        shop.environment("production").unwrap().kind,
        EnvironmentType::Production
    );
    assert_eq!(
        shop.environment("qa").unwrap().kind,
        EnvironmentType::Unmapped
    );
    assert_eq!(
        shop.environment_for_ref("refs/heads/qa/a/b").unwrap().name,
        "qa"
    );
    // The repository's own tracker is used in CI when there is no organization file.
    let tracker = shop.tracker().unwrap();
    assert_eq!(tracker.kind, TrackerKind::JiraDataCenter);
    assert_eq!(
        tracker.url, "https://jira.acme.example/jira",
        "no trailing slash"
    );
    assert_eq!(tracker.auth.user, None);
    assert_eq!(tracker.auth.token, SecretRef::Env("JIRA_PAT".into()));
}

#[test]
fn a_minimal_file_is_one_project_with_defaults() {
    let src = Source {
        name: ".deploylink.yml at 1a2b3c4".into(),
        text: b"version: 1\ndefault_tracker: acme\n".to_vec(),
    };
    let config = resolve(
        parse_project(&src, &deploylink::config::RepoFacts::directory("web")).unwrap(),
        Some(spec_trackers()),
        TrustMode::ServerHook,
    )
    .unwrap();
    let web = config.project("web").unwrap();
    assert_eq!(web.tracker().unwrap().name, "acme");
    assert_eq!(web.actions(), [Action::RemoteLink]);
    assert!(web.environments().is_empty());
    assert_eq!(web.validate().exempt().len(), 4);
    let title = web.link_title().render(&|p| match p {
        Placeholder::Project => Some("web".into()),
        Placeholder::ShortSha => Some("1a2b3c4".into()),
        Placeholder::Environment => Some("production".into()),
        _ => None,
    });
    assert_eq!(title, "Deployed web 1a2b3c4 to production");
}

#[test]
fn projects_and_environments_without_fields_take_the_defaults() {
    let text = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n  api:\n";
    let src = Source {
        name: "f".into(),
        text: text.as_bytes().to_vec(),
    };
    let config = resolve(
        parse_project(&src, &deploylink::config::RepoFacts::directory("repo")).unwrap(),
        None,
        TrustMode::Client,
    )
    .unwrap();
    let names: Vec<&str> = config.projects().iter().map(|p| p.name()).collect();
    assert_eq!(names, ["api", "web"], "sorted by name");
    let production = config
        .project("web")
        .unwrap()
        .environment("production")
        .unwrap();
    assert_eq!(production.kind, EnvironmentType::Production);
    assert!(production.refs().is_empty());
    assert!(!production.matches_ref("refs/heads/main"));
}

#[test]
fn overlapping_environments_pick_the_first_by_name() {
    let text = "version: 1\nenvironments:\n  zeta: {refs: [refs/heads/main]}\n  alpha: {refs: [\"refs/heads/*\"]}\n";
    let src = Source {
        name: "f".into(),
        text: text.as_bytes().to_vec(),
    };
    let config = resolve(
        parse_project(&src, &deploylink::config::RepoFacts::directory("web")).unwrap(),
        None,
        TrustMode::Client,
    )
    .unwrap();
    let web = config.project("web").unwrap();
    assert_eq!(
        web.environment_for_ref("refs/heads/main").unwrap().name,
        "alpha"
    );
}

#[test]
fn effective_yaml_shows_references_never_values() {
    let config = resolve(spec_project(), Some(spec_trackers()), TrustMode::ServerHook).unwrap();
    let yaml = config.effective_yaml();
    assert!(yaml.contains("<from $JIRA_API_TOKEN>"), "{yaml}");
    assert!(yaml.contains("<from $JIRA_USER>"), "{yaml}");
    assert!(yaml.contains("<from $JIRA_CLIENT_SECRET>"), "{yaml}");
    assert!(yaml.contains("max_commits: 2000"), "{yaml}");
    assert!(
        yaml.contains("Deployed {project} {short_sha} to {environment}"),
        "{yaml}"
    );
    assert!(yaml.contains("every-commit"), "{yaml}");
    assert!(
        yaml.contains("organization file fixtures/spec-trackers.yml"),
        "{yaml}"
    );
    assert!(!yaml.contains("token_env"), "{yaml}");

    let file = parse_project(
        &fixture("shorthand.yml"),
        &deploylink::config::RepoFacts::directory("shop"),
    )
    .unwrap();
    let yaml = resolve(file, None, TrustMode::Client)
        .unwrap()
        .effective_yaml();
    assert!(yaml.contains("<from $JIRA_PAT>"), "{yaml}");
    assert!(yaml.contains("repository file"), "{yaml}");
}

#[test]
fn secrets_in_referenced_files_are_never_read() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cr3t-t0ken-value").unwrap();
    let text = format!(
        "version: 1\ntrackers:\n  dc:\n    kind: jira-data-center\n    url: https://jira.example.com\n    auth:\n      token_file: {}\n",
        token.display()
    );
    let src = Source {
        name: "trackers.yml".into(),
        text: text.into_bytes(),
    };
    let org = parse_trackers(&src).unwrap();
    let project = Source {
        name: "p".into(),
        text: b"version: 1\ntracker: dc\n".to_vec(),
    };
    let config = resolve(
        parse_project(&project, &deploylink::config::RepoFacts::directory("web")).unwrap(),
        Some(org),
        TrustMode::ServerHook,
    )
    .unwrap();
    let yaml = config.effective_yaml();
    assert!(
        yaml.contains(&format!("<from file {}>", token.display())),
        "{yaml}"
    );
    assert!(!yaml.contains("s3cr3t"), "{yaml}");
    assert!(!format!("{config:?}").contains("s3cr3t"));
}
