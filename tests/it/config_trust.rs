//! Which trackers are used (SPEC 3.3), where the organization file is found (SPEC 3.1), and what
//! a project without a usable tracker says (SPEC 3.4).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use deploylink::config::{
    load_trackers_file, parse_project, parse_trackers, resolve, trackers_file_candidates,
    CandidateOrigin, Config, Source, TrackersFile, TrustMode,
};

/// Collects warnings, so that tests can check that an ignored tracker is reported.
struct Warnings(Mutex<Vec<String>>);

impl log::Log for Warnings {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// Installs the collecting logger (once per test binary); call before the code that logs.
fn capture_warnings() -> &'static Warnings {
    static LOGGER: OnceLock<&'static Warnings> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger = Box::leak(Box::new(Warnings(Mutex::new(Vec::new()))));
        log::set_logger(logger).unwrap();
        log::set_max_level(log::LevelFilter::Warn);
        logger
    })
}

impl Warnings {
    /// The warnings logged so far that mention `needle` (tests run in parallel, so each looks
    /// for its own file name).
    fn about(&self, needle: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|w| w.contains(needle))
            .cloned()
            .collect()
    }
}

/// The organization file, with `allow` as its `allow_repository_trackers:`.
fn org(allow: &str) -> TrackersFile {
    let text = format!(
        "version: 1\nallow_repository_trackers: {allow}\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://acme.atlassian.net\n    auth: {{user_env: JIRA_USER, token_env: JIRA_API_TOKEN}}\n"
    );
    parse_trackers(&Source {
        name: "/etc/deploylink/trackers.yml".into(),
        text: text.into_bytes(),
    })
    .unwrap()
}

/// A project file named `name` with projects `web` (tracker acme) and `api` (tracker `own`,
/// defined by the repository, which also tries to redefine `acme`).
fn repo_file(name: &str) -> deploylink::config::ProjectFile {
    let text = "version: 1\nprojects:\n  web:\n    tracker: acme\n  api:\n    tracker: own\ntrackers:\n  own:\n    kind: jira-data-center\n    url: https://jira.evil.example\n    auth: {token_env: JIRA_API_TOKEN}\n  acme:\n    kind: jira-data-center\n    url: https://acme.evil.example\n    auth: {token_env: JIRA_API_TOKEN}\n";
    parse_project(
        &Source {
            name: name.into(),
            text: text.into(),
        },
        &deploylink::config::RepoFacts::directory("repo"),
    )
    .unwrap()
}

fn url_of(config: &Config, project: &str) -> Option<String> {
    config
        .project(project)
        .unwrap()
        .tracker()
        .ok()
        .map(|t| t.url.clone())
}

#[test]
fn server_hook_ignores_repository_trackers_by_default() {
    let log = capture_warnings();
    let config = resolve(
        repo_file("server-default.yml"),
        Some(org("false")),
        TrustMode::ServerHook,
    )
    .unwrap();
    assert_eq!(
        url_of(&config, "web").as_deref(),
        Some("https://acme.atlassian.net")
    );
    let err = config.project("api").unwrap().tracker().unwrap_err();
    assert!(
        err.hint()
            .unwrap()
            .contains("repository file's `trackers:`"),
        "{err}"
    );
    let warnings = log.about("server-default.yml");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("allow_repository_trackers"),
        "{warnings:?}"
    );
}

#[test]
fn server_hook_uses_repository_trackers_where_allowed_but_never_overrides() {
    let log = capture_warnings();
    let config = resolve(
        repo_file("server-allowed.yml"),
        Some(org("[https://jira.evil.example/]")),
        TrustMode::ServerHook,
    )
    .unwrap();
    assert_eq!(
        url_of(&config, "api").as_deref(),
        Some("https://jira.evil.example")
    );
    // The repository's `acme` does not replace the organization's.
    assert_eq!(
        url_of(&config, "web").as_deref(),
        Some("https://acme.atlassian.net")
    );
    assert!(log.about("server-allowed.yml")[0].contains("acme"));
}

#[test]
fn server_hook_without_an_organization_file_has_no_trackers() {
    let log = capture_warnings();
    let config = resolve(repo_file("server-none.yml"), None, TrustMode::ServerHook).unwrap();
    assert_eq!(url_of(&config, "web"), None);
    assert_eq!(url_of(&config, "api"), None);
    assert_eq!(config.trackers().count(), 0);
    assert_eq!(log.about("server-none.yml").len(), 1);
}

#[test]
fn client_uses_repository_trackers_only_without_an_organization_file() {
    let log = capture_warnings();
    let config = resolve(repo_file("client-none.yml"), None, TrustMode::Client).unwrap();
    assert_eq!(
        url_of(&config, "api").as_deref(),
        Some("https://jira.evil.example")
    );
    assert_eq!(
        url_of(&config, "web").as_deref(),
        Some("https://acme.evil.example")
    );
    assert!(log.about("client-none.yml").is_empty());

    let config = resolve(
        repo_file("client-org.yml"),
        Some(org("false")),
        TrustMode::Client,
    )
    .unwrap();
    assert_eq!(
        url_of(&config, "web").as_deref(),
        Some("https://acme.atlassian.net")
    );
    assert_eq!(url_of(&config, "api"), None);
    assert_eq!(log.about("client-org.yml").len(), 1);
}

#[test]
fn a_tracker_that_is_not_connected_is_reported_by_the_project() {
    let text =
        "version: 1\ndefault_tracker: acme\nprojects:\n  web:\n    tracker: ops\n  api: {}\n";
    let file = parse_project(
        &Source {
            name: ".deploylink.yml".into(),
            text: text.into(),
        },
        &deploylink::config::RepoFacts::directory("r"),
    )
    .unwrap();
    // Not an error when resolving: listing keys needs no tracker.
    let config = resolve(file, Some(org("false")), TrustMode::ServerHook).unwrap();
    assert_eq!(
        config.project("api").unwrap().tracker().unwrap().name,
        "acme"
    );
    let err = config.project("web").unwrap().tracker().unwrap_err();
    assert_eq!(
        err.message(),
        "project 'web' uses tracker 'ops', which is not connected; connect it or choose another tracker (projects.web.tracker in .deploylink.yml)"
    );
    assert_eq!(
        (err.line(), err.column(), err.field_path()),
        (Some(5), Some(14), Some("projects.web.tracker"))
    );
    assert!(err.hint().unwrap().contains("connected: acme"), "{err}");
    assert!(config.effective_yaml().contains("ops (not usable"));
}

#[test]
fn the_default_tracker_is_named_when_it_is_the_one_missing() {
    let text = "version: 1\ndefault_tracker: ops\n";
    let file = parse_project(
        &Source {
            name: ".deploylink.yml".into(),
            text: text.into(),
        },
        &deploylink::config::RepoFacts::directory("web"),
    )
    .unwrap();
    let config = resolve(file, None, TrustMode::Client).unwrap();
    let err = config.project("web").unwrap().tracker().unwrap_err();
    assert!(
        err.message()
            .ends_with("(default_tracker in .deploylink.yml)"),
        "{err}"
    );
    assert_eq!(
        (err.line(), err.field_path()),
        (Some(2), Some("default_tracker"))
    );
    assert!(
        err.hint().unwrap().contains("no tracker is connected"),
        "{err}"
    );
}

#[test]
fn a_project_without_any_tracker_says_how_to_name_one() {
    let file = parse_project(
        &Source {
            name: ".deploylink.yml".into(),
            text: b"version: 1\n".to_vec(),
        },
        &deploylink::config::RepoFacts::directory("web"),
    )
    .unwrap();
    let config = resolve(file, Some(org("false")), TrustMode::ServerHook).unwrap();
    let err = config.project("web").unwrap().tracker().unwrap_err();
    assert_eq!(
        err.message(),
        "project 'web' names no tracker, and the file has no `default_tracker`"
    );
    assert!(
        err.hint()
            .unwrap()
            .starts_with("add `default_tracker: <name>` to .deploylink.yml (connected: acme)"),
        "{err}"
    );
}

#[test]
fn the_deployment_action_needs_deployment_credentials() {
    let text = "version: 1\ntracker: acme\nactions: [remote-link, deployment]\n";
    let file = parse_project(
        &Source {
            name: "p.yml".into(),
            text: text.into(),
        },
        &deploylink::config::RepoFacts::directory("web"),
    )
    .unwrap();
    let config = resolve(file, Some(org("false")), TrustMode::ServerHook).unwrap();
    let err = config.project("web").unwrap().tracker().unwrap_err();
    assert!(
        err.message().contains("has no `deployments:` credentials"),
        "{err}"
    );
    assert_eq!(
        (err.line(), err.column(), err.field_path()),
        (Some(3), Some(24), Some("actions[1]"))
    );
}

// Discovery.

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn paths(
    explicit: Option<&Path>,
    vars: &[(&str, &str)],
    git_dir: Option<&Path>,
    mode: TrustMode,
) -> Vec<(CandidateOrigin, PathBuf, bool)> {
    trackers_file_candidates(explicit, &env_of(vars), git_dir, mode)
        .into_iter()
        .map(|c| (c.origin(), c.path().to_owned(), c.is_explicit()))
        .collect()
}

#[test]
fn candidates_follow_the_spec_order() {
    let vars = [
        ("DEPLOYLINK_TRACKERS", "/env/t.yml"),
        ("XDG_CONFIG_HOME", "/xdg"),
        ("HOME", "/home/me"),
    ];
    let all = paths(
        Some(Path::new("/flag.yml")),
        &vars,
        Some(Path::new("/srv/web.git")),
        TrustMode::ServerHook,
    );
    assert_eq!(
        all,
        [
            (CandidateOrigin::Flag, PathBuf::from("/flag.yml"), true),
            (CandidateOrigin::EnvVar, PathBuf::from("/env/t.yml"), true),
            (
                CandidateOrigin::UserConfig,
                PathBuf::from("/xdg/deploylink/trackers.yml"),
                false
            ),
            (
                CandidateOrigin::GitDir,
                PathBuf::from("/srv/web.git/deploylink/trackers.yml"),
                false
            ),
            (
                CandidateOrigin::System,
                PathBuf::from("/etc/deploylink/trackers.yml"),
                false
            ),
        ]
    );
    // A client never reads the git server's locations; HOME stands in for XDG_CONFIG_HOME,
    // which is ignored when relative or empty.
    let client = paths(
        None,
        &[
            ("XDG_CONFIG_HOME", "rel"),
            ("HOME", "/home/me"),
            ("DEPLOYLINK_TRACKERS", ""),
        ],
        Some(Path::new("/g")),
        TrustMode::Client,
    );
    assert_eq!(
        client,
        [(
            CandidateOrigin::UserConfig,
            PathBuf::from("/home/me/.config/deploylink/trackers.yml"),
            false
        )]
    );
    assert!(paths(None, &[], None, TrustMode::Client).is_empty());
}

const VALID: &str = "version: 1\ntrackers: {}\n";

#[test]
fn the_first_existing_file_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("deploylink")).unwrap();
    std::fs::write(xdg.join("deploylink/trackers.yml"), VALID).unwrap();
    let git_dir = dir.path().join("repo.git");
    std::fs::create_dir_all(git_dir.join("deploylink")).unwrap();
    std::fs::write(git_dir.join("deploylink/trackers.yml"), VALID).unwrap();

    let vars = [("XDG_CONFIG_HOME", xdg.to_str().unwrap())];
    let candidates =
        trackers_file_candidates(None, &env_of(&vars), Some(&git_dir), TrustMode::ServerHook);
    let file = load_trackers_file(&candidates).unwrap().unwrap();
    assert_eq!(
        Path::new(file.source_name()),
        xdg.join("deploylink/trackers.yml")
    );

    // Without the user's file, the git directory's is next.
    let candidates =
        trackers_file_candidates(None, &env_of(&[]), Some(&git_dir), TrustMode::ServerHook);
    let file = load_trackers_file(&candidates).unwrap().unwrap();
    assert_eq!(
        Path::new(file.source_name()),
        git_dir.join("deploylink/trackers.yml")
    );

    let none = trackers_file_candidates(
        None,
        &env_of(&[("HOME", dir.path().to_str().unwrap())]),
        None,
        TrustMode::Client,
    );
    assert!(load_trackers_file(&none).unwrap().is_none());
}

#[test]
fn a_named_file_must_exist_and_be_readable() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yml");
    let vars = [("DEPLOYLINK_TRACKERS", missing.to_str().unwrap())];
    let candidates = trackers_file_candidates(None, &env_of(&vars), None, TrustMode::Client);
    let err = load_trackers_file(&candidates).unwrap_err();
    assert_eq!(
        err.message(),
        "the organization file named by $DEPLOYLINK_TRACKERS does not exist"
    );
    assert_eq!(Path::new(err.file()), missing);

    let candidates =
        trackers_file_candidates(Some(dir.path()), &env_of(&[]), None, TrustMode::Client);
    let err = load_trackers_file(&candidates).unwrap_err();
    assert!(
        err.message()
            .starts_with("the organization file cannot be read"),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("directory"), "{err}");

    let big = dir.path().join("big.yml");
    std::fs::write(&big, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let err = load_trackers_file(&trackers_file_candidates(
        Some(&big),
        &env_of(&[]),
        None,
        TrustMode::Client,
    ))
    .unwrap_err();
    assert!(err.message().starts_with("the file is 2 MiB"), "{err}");

    let bad = dir.path().join("bad.yml");
    std::fs::write(&bad, "version: 1\ntrackers:\n  acme: {kind: jira-cloud}\n").unwrap();
    let err = load_trackers_file(&trackers_file_candidates(
        Some(&bad),
        &env_of(&[]),
        None,
        TrustMode::Client,
    ))
    .unwrap_err();
    assert_eq!(
        (Path::new(err.file()), err.line()),
        (bad.as_path(), Some(3))
    );
}

/// A project file whose only tracker, `own`, is defined in it with `auth` as given.
fn own_tracker(name: &str, auth: &str) -> deploylink::config::ProjectFile {
    let text = format!("version: 1\ntracker: own\ntrackers:\n  own:\n    kind: jira-cloud\n    url: https://jira.evil.example\n    {auth}\n");
    parse_project(
        &Source {
            name: name.into(),
            text: text.into_bytes(),
        },
        &deploylink::config::RepoFacts::directory("repo"),
    )
    .unwrap()
}

#[test]
fn a_repository_tracker_reads_only_jira_or_deploylink_variables_and_no_files() {
    let refused = [
        (
            "auth: { user_env: JIRA_USER, token_env: AWS_SECRET_ACCESS_KEY }",
            "trackers.own.auth.token_env",
            "AWS_SECRET_ACCESS_KEY",
        ),
        (
            "auth: { user_file: /root/.ssh/id_ed25519, token_env: JIRA_API_TOKEN }",
            "trackers.own.auth.user_file",
            "may not read files",
        ),
        (
            "auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n    ca_file: /dev/zero",
            "trackers.own.ca_file",
            "may not name files",
        ),
        (
            "auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n    deployments: { client_id_env: JIRA_ID, client_secret_env: GITHUB_TOKEN }",
            "trackers.own.deployments.client_secret_env",
            "GITHUB_TOKEN",
        ),
    ];
    for (auth, field, says) in refused {
        for (mode, org) in [
            (TrustMode::Client, None),
            (
                TrustMode::ServerHook,
                Some(org("[https://jira.evil.example]")),
            ),
        ] {
            let err = resolve(own_tracker("refused.yml", auth), org, mode).unwrap_err();
            assert_eq!(err.field_path(), Some(field), "{err}");
            assert!(err.message().contains(says), "{err}");
            assert!(err.hint().unwrap().contains("organization file"), "{err}");
        }
    }
    let allowed = "auth: { user_env: DEPLOYLINK_USER, token_env: JIRA_API_TOKEN }";
    let config = resolve(own_tracker("allowed.yml", allowed), None, TrustMode::Client).unwrap();
    assert_eq!(
        url_of(&config, "repo").as_deref(),
        Some("https://jira.evil.example")
    );
}

#[test]
fn client_hooks_use_only_the_organization_files_trackers() {
    let auth = "auth: { user_file: /root/.ssh/id_ed25519, token_env: AWS_SECRET_ACCESS_KEY }";
    // Without an organization file, and even with one that lists the URL.
    for org in [None, Some(org("[https://jira.evil.example]"))] {
        let config = resolve(own_tracker("hook.yml", auth), org, TrustMode::ClientHook).unwrap();
        assert_eq!(url_of(&config, "repo"), None);
        assert!(config.trackers().all(|(t, _)| t.name != "own"));
    }
}

#[test]
fn allow_repository_trackers_true_is_refused_with_the_list_form() {
    let err = parse_trackers(&Source {
        name: "trackers.yml".into(),
        text: b"version: 1\nallow_repository_trackers: true\n".to_vec(),
    })
    .unwrap_err();
    assert_eq!(err.field_path(), Some("allow_repository_trackers"));
    assert_eq!((err.line(), err.column()), (Some(2), Some(28)));
    assert!(
        err.hint().unwrap().contains("- https://jira.acme.com"),
        "{err}"
    );
    let err = parse_trackers(&Source {
        name: "trackers.yml".into(),
        text: b"version: 1\nallow_repository_trackers: [http://jira.example.com]\n".to_vec(),
    })
    .unwrap_err();
    assert_eq!(
        err.field_path(),
        Some("allow_repository_trackers[0]"),
        "{err}"
    );
}

#[test]
fn allow_repository_trackers_allows_exactly_the_listed_urls() {
    let log = capture_warnings();
    let text = "version: 1\nprojects:\n  a: { tracker: own }\n  b: { tracker: near }\n  c: { tracker: token }\ntrackers:\n  own:\n    kind: jira-cloud\n    url: https://jira.evil.example/\n    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n  near:\n    kind: jira-cloud\n    url: https://jira.evil.example/other\n    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n  token:\n    kind: jira-cloud\n    url: https://jira.evil.example\n    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }\n    deployments: { client_id_env: JIRA_ID, client_secret_env: JIRA_SECRET, token_url: https://steal.example/token }\n";
    let file = parse_project(
        &Source {
            name: "listed.yml".into(),
            text: text.into(),
        },
        &deploylink::config::RepoFacts::directory("r"),
    )
    .unwrap();
    let config = resolve(
        file,
        Some(org("[https://jira.evil.example]")),
        TrustMode::ServerHook,
    )
    .unwrap();
    assert_eq!(
        url_of(&config, "a").as_deref(),
        Some("https://jira.evil.example")
    );
    assert_eq!(url_of(&config, "b"), None, "another path is another URL");
    assert_eq!(url_of(&config, "c"), None, "its token URL is not listed");
    let warnings = log.about("listed.yml");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("https://jira.evil.example/other")
            && warnings[0].contains("https://steal.example/token"),
        "{warnings:?}"
    );
}

/// In CI (no organization file), `link` refuses a repository tracker that names a variable
/// outside `JIRA_*`/`DEPLOYLINK_*`, before anything is sent.
#[test]
fn ci_refuses_a_repository_tracker_naming_another_secret() {
    let jira = jira_sandbox::Sandbox::start(jira_sandbox::Options::default()).unwrap();
    let work = crate::support::TestRepo::new();
    let project = format!(
        "version: 1\nrepo_url: https://git.example.com/shop\nprojects:\n  web:\n    tracker: own\n    keys: {{ projects: [WEB] }}\n    environments:\n      production: {{ refs: [refs/heads/main] }}\ntrackers:\n  own:\n    kind: jira-cloud\n    url: {}\n    auth: {{ user_env: JIRA_USER, token_env: AWS_SECRET_ACCESS_KEY }}\n",
        jira.url()
    );
    work.commit_file(".deploylink.yml", &project, "WEB-1: add deploylink");
    let output = crate::support::cli::command()
        .current_dir(work.path())
        .args(["link", "--environment", "production"])
        .env("HOME", work.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("JIRA_USER", "ci@example.com")
        .env("AWS_SECRET_ACCESS_KEY", "aws-secret-value")
        .output()
        .unwrap();
    let stderr = crate::support::cli::text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("trackers.own.auth.token_env")
            && stderr.contains("AWS_SECRET_ACCESS_KEY")
            && stderr.contains("`JIRA_` or `DEPLOYLINK_`"),
        "{stderr}"
    );
    assert!(!stderr.contains("aws-secret-value"));
    assert!(jira.requests().is_empty(), "{:?}", jira.requests());
}
