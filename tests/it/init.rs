//! `deploylink init` writes a starter `.deploylink.yml` that loads as written, with the
//! organization file that `tracker connect` writes.

use deploylink::config::init::{starter_project_file, InitOptions, SchemaLine};
use deploylink::config::{
    parse_project, parse_trackers, resolve, upsert_tracker, Action, NewTracker, Requirement,
    SecretRef, Source, TrackerKind, TrustMode,
};

/// The organization file as `tracker connect` would write it from scratch.
fn trackers_file(name: &str) -> String {
    let tracker = NewTracker {
        name: name.into(),
        kind: TrackerKind::JiraCloud,
        url: "https://acme.atlassian.net".into(),
        user: Some(SecretRef::Env("JIRA_USER".into())),
        token: SecretRef::Env("JIRA_API_TOKEN".into()),
        deployments: None,
        ca_file: None,
        max_concurrency: None,
    };
    upsert_tracker(None, "trackers.yml", &tracker).unwrap()
}

fn source(name: &str, text: &str) -> Source {
    Source {
        name: name.into(),
        text: text.as_bytes().to_vec(),
    }
}

#[test]
fn every_combination_loads_and_resolves_with_a_connected_tracker() {
    for tracker in [Some("acme"), Some("1st-site"), None] {
        for keys in [
            vec![],
            vec!["WEB".to_owned()],
            vec!["WEB".into(), "NO".into()],
        ] {
            for schema in [
                SchemaLine::LocalFile(".deploylink.schema.json".into()),
                SchemaLine::Url("https://example.com/deploylink/config.schema.json".into()),
            ] {
                let options = InitOptions {
                    tracker: tracker.map(str::to_owned),
                    project_keys: keys.clone(),
                    branch: "trunk".into(),
                    schema: schema.clone(),
                    repository: deploylink::config::identity::identify_repository(
                        &deploylink::config::RepoFacts::directory("shop"),
                    ),
                };
                let text = starter_project_file(&options);
                let expected_first = match &schema {
                    SchemaLine::LocalFile(p) | SchemaLine::Url(p) => {
                        format!("# yaml-language-server: $schema={p}")
                    }
                };
                assert_eq!(text.lines().next(), Some(expected_first.as_str()));
                assert!(text.contains("\n# "), "no comments:\n{text}");
                let file = parse_project(
                    &source(".deploylink.yml", &text),
                    &deploylink::config::RepoFacts::directory("shop"),
                )
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
                let org = parse_trackers(&source(
                    "trackers.yml",
                    &trackers_file(tracker.unwrap_or("acme")),
                ))
                .unwrap();
                let config = resolve(file, Some(org), TrustMode::Client)
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
                let project = config.project("shop").unwrap();
                match tracker {
                    Some(name) => assert_eq!(project.tracker().unwrap().name, name),
                    None => {
                        let err = project.tracker().unwrap_err();
                        assert!(err.to_string().contains("names no tracker"), "{err}");
                    }
                }
                assert_eq!(project.key_rules_spec().projects, keys);
                assert_eq!(project.actions(), [Action::RemoteLink]);
                assert_eq!(project.validate().require(), Requirement::EveryCommit);
                assert!(project.validate().is_exempt("Merge branch 'x'"));
                let production = project.environment_for_ref("refs/heads/trunk").unwrap();
                assert_eq!(production.name, "production");
                assert!(project.environment_for_ref("refs/tags/v2.0.1").is_some());
                assert!(project.environment("staging").is_none());
                assert_eq!(config.max_commits(), 2000);
            }
        }
    }
}

#[test]
fn the_commented_examples_load_when_uncommented() {
    // A user who removes the `# ` of an example line gets a valid file.
    let text = starter_project_file(&InitOptions {
        tracker: Some("acme".into()),
        project_keys: vec!["WEB".into()],
        ..InitOptions::default()
    });
    let uncommented: String = text
        .lines()
        .map(|line| {
            let examples = [
                "  # ignore:",
                "  # case_insensitive:",
                "  # staging:",
                "  #   refs:",
                "  #   type:",
                "# repo_url:",
            ];
            if examples.iter().any(|e| line.starts_with(e)) {
                line.replacen("# ", "", 1)
            } else {
                line.to_owned()
            }
        })
        .map(|line| line + "\n")
        .collect();
    let file = parse_project(
        &source(".deploylink.yml", &uncommented),
        &deploylink::config::RepoFacts::directory("shop"),
    )
    .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    let project = &file.projects()[0];
    assert_eq!(
        project
            .environment_for_ref("refs/heads/release/1.2")
            .map(|e| e.name.as_str()),
        Some("staging")
    );
    assert!(project.key_rules_spec().case_insensitive);
}
