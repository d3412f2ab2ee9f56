//! Every class of configuration error names the file, the line and column, the field path, and
//! says how to fix it.

use deploylink::config::{parse_project, parse_trackers, ConfigError, Source};

const FILE: &str = ".deploylink.yml at 1a2b3c4";

fn project_error(text: &str) -> ConfigError {
    let src = Source {
        name: FILE.into(),
        text: text.as_bytes().to_vec(),
    };
    parse_project(&src, &deploylink::config::RepoFacts::directory("web"))
        .expect_err("the file should be refused")
}

fn trackers_error(text: &str) -> ConfigError {
    let src = Source {
        name: "trackers.yml".into(),
        text: text.as_bytes().to_vec(),
    };
    parse_trackers(&src).expect_err("the file should be refused")
}

/// Asserts where `err` is, and that its hint contains `hint`.
#[track_caller]
fn assert_error(err: &ConfigError, at: (u32, u32), path: &str, hint: &str) {
    assert_eq!(
        (err.line(), err.column()),
        (Some(at.0), Some(at.1)),
        "{err}"
    );
    assert_eq!(err.field_path(), Some(path), "{err}");
    assert!(err.hint().unwrap_or_default().contains(hint), "{err}");
}

/// A tracker of `kind` with `auth` (indented for `auth:`), and `extra` tracker fields.
fn tracker(kind: &str, auth: &str, extra: &str) -> String {
    format!("version: 1\ntrackers:\n  acme:\n    kind: {kind}\n    url: https://acme.atlassian.net\n    auth:\n{auth}{extra}")
}

const CLOUD_AUTH: &str = "      user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\n";

#[test]
fn unknown_fields_suggest_the_nearest_name() {
    let err = project_error("version: 1\nprojects:\n  web:\n    environmnts: {}\n");
    assert_error(
        &err,
        (4, 5),
        "projects.web.environmnts",
        "did you mean `environments`?",
    );
    assert_eq!(err.file(), FILE);
    assert_eq!(err.message(), "unknown field `environmnts`");
    assert_eq!(
        err.to_string(),
        ".deploylink.yml at 1a2b3c4:4:5: projects.web.environmnts: unknown field `environmnts`\n  hint: did you mean `environments`?"
    );

    let deep = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n        ref: [refs/heads/main]\n";
    assert_error(
        &project_error(deep),
        (6, 9),
        "projects.web.environments.production.ref",
        "did you mean `refs`?",
    );

    let far = project_error("version: 1\nzzz: 1\n");
    assert_error(
        &far,
        (2, 1),
        "zzz",
        "expected one of: version, repository, default_tracker, projects",
    );
}

#[test]
fn wrong_types_name_the_element() {
    let text = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n        refs: [refs/heads/main, {a: 1}]\n";
    let err = project_error(text);
    assert_error(
        &err,
        (6, 33),
        "projects.web.environments.production.refs[1]",
        "",
    );
    assert_eq!(err.message(), "expected a string");

    let err = project_error("version: 1\nmax_commits: lots\n");
    assert_error(&err, (2, 14), "max_commits", "");
    assert_eq!(err.message(), "expected a whole number (0 or more)");

    let err = project_error("version: 1\nkeys:\n  case_insensitive: yes\n");
    assert_error(&err, (3, 21), "keys.case_insensitive", "`yes`");

    let err = project_error("version: 1\nenvironments:\n  production: {refs: refs/heads/main}\n");
    assert_error(&err, (3, 22), "environments.production.refs", "");
    assert_eq!(err.message(), "expected a list");
}

#[test]
fn unknown_values_suggest_the_nearest() {
    let err = project_error("version: 1\nenvironments:\n  prod:\n    type: prod\n");
    assert_error(
        &err,
        (4, 11),
        "environments.prod.type",
        "did you mean `production`?",
    );
    let err = project_error("version: 1\nactions: [remote_link]\n");
    assert_error(&err, (2, 11), "actions[0]", "did you mean `remote-link`?");
    let err = project_error("version: 1\nvalidate: {require: every_commit}\n");
    assert_error(
        &err,
        (2, 21),
        "validate.require",
        "did you mean `every-commit`?",
    );
    let err = trackers_error(&tracker("jira-clod", CLOUD_AUTH, ""));
    assert_error(
        &err,
        (4, 11),
        "trackers.acme.kind",
        "did you mean `jira-cloud`?",
    );
}

#[test]
fn missing_fields_name_the_field() {
    let err = trackers_error(
        "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    auth: {token_env: T}\n",
    );
    assert_error(&err, (4, 5), "trackers.acme.url", "");
    assert_eq!(err.message(), "missing field `url`");
}

#[test]
fn version_is_required_and_must_be_1() {
    let err = project_error("projects: {}\n");
    assert_eq!(
        (err.line(), err.column(), err.field_path()),
        (Some(1), Some(1), None)
    );
    assert_eq!(err.message(), "the file has no `version`");
    assert_eq!(err.hint(), Some("add `version: 1` as the first line"));

    // A newer file says so, rather than listing the fields this version does not know.
    let err = project_error("newer_field: x\nversion: 2\n");
    assert_error(&err, (2, 10), "version", "upgrade deploylink");
    assert!(err.message().contains("version 2"), "{err}");

    let err = project_error("version: \"1\"\n");
    assert_error(&err, (1, 10), "version", "without quotes");
    let err = project_error("version: 0\n");
    assert_error(&err, (1, 10), "version", "write `version: 1`");
    let err = trackers_error("version: [1]\n");
    assert_error(&err, (1, 10), "version", "write `version: 1`");
}

#[test]
fn bad_globs_are_errors_at_their_element() {
    let text = "version: 1\nprojects:\n  web:\n    environments:\n      production:\n        refs: [refs/heads/main, main]\n";
    let err = project_error(text);
    assert_error(
        &err,
        (6, 33),
        "projects.web.environments.production.refs[1]",
        "`refs/heads/main` for a branch",
    );
    assert_eq!(err.message(), "`main` is not a full ref name");

    let err = project_error("version: 1\npaths:\n  - apps/web/**\n  - \"apps/[\"\n");
    assert_error(&err, (4, 5), "paths[1]", "");
    assert!(err.message().starts_with("invalid glob"), "{err}");

    let err = project_error("version: 1\npaths: []\n");
    assert_error(&err, (2, 8), "paths", "leave `paths:` out");
}

#[test]
fn bad_regexes_are_errors_at_their_element() {
    let err =
        project_error("version: 1\nprojects:\n  web:\n    keys:\n      ignore: ['^A$', '(abc']\n");
    assert_error(&err, (5, 23), "projects.web.keys.ignore[1]", "");
    assert_eq!(err.message(), "invalid regex: unclosed group");

    let err = project_error("version: 1\nkeys:\n  pattern: 'WEB-[0-9]+'\n");
    assert_error(&err, (3, 12), "keys.pattern", "parentheses");

    let err = project_error("version: 1\nvalidate:\n  exempt: ['(a{1000}){1000}']\n");
    assert_error(&err, (3, 12), "validate.exempt[0]", "");
    assert!(err.message().contains("limit"), "{err}");
}

#[test]
fn the_key_rules_are_checked_by_the_keys_module_at_load() {
    let err =
        project_error("version: 1\nprojects:\n  web:\n    keys:\n      case_insensitive: true\n");
    assert_error(&err, (5, 25), "projects.web.keys.case_insensitive", "");
    assert!(err.message().contains("needs keys.projects"), "{err}");
    let err = project_error("version: 1\nkeys:\n  ignore: ['^A-1$', '.*']\n");
    assert_error(&err, (3, 21), "keys.ignore[1]", "");
    assert!(err.message().contains("empty string"), "{err}");
}

#[test]
fn unknown_template_placeholders_are_errors() {
    let err = project_error("version: 1\nlink:\n  title: 'Deployed {projet}'\n");
    assert_error(&err, (3, 10), "link.title", "did you mean `{project}`?");
    assert_eq!(
        err.message(),
        "invalid template: unknown placeholder `{projet}` at character 9"
    );

    let err = project_error("version: 1\nlink:\n  url: '{repo_url}/compare/{from...{to}'\n");
    assert_error(&err, (3, 8), "link.url", "`{{`");
}

#[test]
fn actions_are_a_non_empty_set() {
    let err = project_error("version: 1\nactions: [remote-link, comment, remote-link]\n");
    assert_error(&err, (2, 33), "actions[2]", "list each action once");
    assert_eq!(err.message(), "`remote-link` is listed twice");
    let err = project_error("version: 1\nactions: []\n");
    assert_error(&err, (2, 10), "actions", "[remote-link]");
}

#[test]
fn jira_project_keys_are_checked() {
    let err = project_error("version: 1\nkeys:\n  projects: [WEB, ops]\n");
    assert_error(&err, (3, 19), "keys.projects[1]", "write `OPS`");
    let err = project_error("version: 1\nkeys:\n  projects: [WEB-1]\n");
    assert_error(&err, (3, 14), "keys.projects[0]", "like `WEB`");
}

#[test]
fn names_must_fit_in_git_refs() {
    let err = project_error("version: 1\nprojects:\n  'my web':\n    paths: [a]\n");
    assert_error(&err, (3, 3), "projects.my web", "git ref names");
    let err = project_error("version: 1\nenvironments:\n  prod/eu: {}\n");
    assert_error(&err, (3, 3), "environments.prod/eu", "git ref names");
    // The single-project form names the project after the repository's identity, which is
    // checked by its own rule; a directory name is brought to that form, never refused.
    let err = project_error("version: 1\nrepository: acme/my shop\n");
    assert_error(&err, (2, 13), "repository", "git ref names");
    let src = Source {
        name: FILE.into(),
        text: b"version: 1\n".to_vec(),
    };
    let file = parse_project(&src, &deploylink::config::RepoFacts::directory("my repo@2")).unwrap();
    assert_eq!(file.projects()[0].name(), "my-repo");
}

#[test]
fn mixing_both_forms_is_an_error() {
    let err = project_error("version: 1\nkeys: {projects: [A]}\nprojects:\n  web: {}\n");
    assert_error(&err, (2, 1), "keys", "move `keys` under `projects.<name>:`");
    let err = project_error("version: 1\nprojects: {}\n");
    assert_error(&err, (2, 11), "projects", "add a project");
}

#[test]
fn other_file_values_are_checked() {
    let err = project_error("version: 1\nmax_commits: 0\n");
    assert_error(&err, (2, 14), "max_commits", "default of 2000");
    let err = project_error("version: 1\nrepo_url: https://me:pw@github.com/acme/web\n");
    assert_error(&err, (2, 11), "repo_url", "remove the part before `@`");
    let err = project_error("version: 1\ndefault_tracker: 'a b'\n");
    assert_error(&err, (2, 18), "default_tracker", "tracker name");
}

#[test]
fn tracker_urls_are_https_without_credentials() {
    let err = trackers_error("version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: http://jira.example.com\n    auth: {token_env: T}\n");
    assert_error(&err, (5, 10), "trackers.acme.url", "loopback");
    let err = trackers_error("version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: https://bob:hunter2@jira.example.com\n    auth: {token_env: T}\n");
    assert_error(
        &err,
        (5, 10),
        "trackers.acme.url",
        "credentials go in `auth:`",
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let local = "version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: http://127.0.0.1:8080\n    auth: {token_env: T}\n";
    assert!(parse_trackers(&Source {
        name: "t".into(),
        text: local.into()
    })
    .is_ok());
    let extra = "    deployments:\n      client_id_env: I\n      client_secret_env: S\n      token_url: http://auth.example.com/token\n";
    let err = trackers_error(&tracker("jira-cloud", CLOUD_AUTH, extra));
    assert_error(
        &err,
        (12, 18),
        "trackers.acme.deployments.token_url",
        "use `https`",
    );
}

#[test]
fn literal_secrets_say_what_to_write_instead() {
    let secret = "ATATT3xFfGF0qwertyuiop";
    let err = trackers_error(&tracker(
        "jira-cloud",
        &format!("      user_env: JIRA_USER\n      token: {secret}\n"),
        "",
    ));
    assert_error(
        &err,
        (8, 7),
        "trackers.acme.auth.token",
        "write `token_env: JIRA_API_TOKEN`",
    );
    assert_eq!(
        err.message(),
        "`token` holds a literal secret; secrets never go in configuration files"
    );
    assert!(
        err.hint()
            .unwrap()
            .contains("`token_file: /run/secrets/jira`"),
        "{err}"
    );

    for (field, hint) in [
        ("password", "token_env"),
        ("api_token", "token_env"),
        ("pat", "token_env"),
    ] {
        let err = trackers_error(&tracker(
            "jira-data-center",
            &format!("      {field}: {secret}\n"),
            "",
        ));
        assert_error(&err, (7, 7), &format!("trackers.acme.auth.{field}"), hint);
        assert!(!err.to_string().contains(secret), "{err}");
    }

    let extra = format!(
        "    deployments:\n      client_id_env: JIRA_CLIENT_ID\n      client_secret: {secret}\n"
    );
    let err = trackers_error(&tracker("jira-cloud", CLOUD_AUTH, &extra));
    assert_error(
        &err,
        (11, 7),
        "trackers.acme.deployments.client_secret",
        "client_secret_env: JIRA_CLIENT_SECRET",
    );

    // A whole `auth` written as a token, and a token where a variable name belongs.
    let err = trackers_error(&format!("version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://a.atlassian.net\n    auth: {secret}\n"));
    assert_error(
        &err,
        (6, 11),
        "trackers.acme.auth",
        "token_env: JIRA_API_TOKEN",
    );
    assert!(!err.to_string().contains(secret), "{err}");
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      token_env: NjQ3ODQ5MjY1NTk2OkxVbnRhc2s3\n",
        "",
    ));
    assert_error(
        &err,
        (7, 18),
        "trackers.acme.auth.token_env",
        "token_env: JIRA_API_TOKEN",
    );
    assert!(err.message().contains("looks like a token"), "{err}");
    assert!(!err.to_string().contains("NjQ3"), "{err}");
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      token_env: glpat-abc.def\n",
        "",
    ));
    assert_error(
        &err,
        (7, 18),
        "trackers.acme.auth.token_env",
        "export the value",
    );
    assert!(!err.to_string().contains("glpat"), "{err}");
    // A wrong type under `trackers:` does not echo the value either.
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      token_env: T\n",
        &format!("    max_concurrency: {secret}\n"),
    ));
    assert_error(&err, (8, 22), "trackers.acme.max_concurrency", "");
    assert!(!err.to_string().contains(secret), "{err}");
}

#[test]
fn user_is_a_reference_too() {
    let err = trackers_error(&tracker(
        "jira-cloud",
        "      user: me@acme.com\n      token_env: T\n",
        "",
    ));
    assert_error(
        &err,
        (7, 7),
        "trackers.acme.auth.user",
        "write `user_env: JIRA_USER`",
    );
}

#[test]
fn each_kind_needs_its_credentials() {
    let err = trackers_error(&tracker("jira-cloud", "      token_env: T\n", ""));
    assert_error(&err, (6, 5), "trackers.acme.auth", "user_env: JIRA_USER");
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      user_env: U\n      token_env: T\n",
        "",
    ));
    assert_error(&err, (7, 7), "trackers.acme.auth.user_env", "Bearer");
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      token_file: /a\n      token_env: T\n",
        "",
    ));
    assert_error(
        &err,
        (7, 7),
        "trackers.acme.auth.token_file",
        "keep one of them",
    );
    let err = trackers_error(&tracker("jira-cloud", "      user_env: U\n", ""));
    assert_error(
        &err,
        (6, 5),
        "trackers.acme.auth",
        "token_env: JIRA_API_TOKEN",
    );
    let err = trackers_error(&tracker(
        "jira-data-center",
        "      token_file: secrets/jira\n",
        "",
    ));
    assert_error(
        &err,
        (7, 19),
        "trackers.acme.auth.token_file",
        "absolute path",
    );
    let extra = "    deployments: {client_id_env: I, client_secret_env: S}\n";
    let err = trackers_error(&tracker("jira-data-center", "      token_env: T\n", extra));
    assert_error(
        &err,
        (8, 5),
        "trackers.acme.deployments",
        "remove `deployments:`",
    );
    let err = trackers_error(&tracker(
        "jira-cloud",
        CLOUD_AUTH,
        "    deployments: {client_id_env: I}\n",
    ));
    assert_error(
        &err,
        (9, 5),
        "trackers.acme.deployments",
        "client_secret_env",
    );
    let err = trackers_error(&tracker(
        "jira-cloud",
        CLOUD_AUTH,
        "    max_concurrency: 0\n",
    ));
    assert_error(
        &err,
        (9, 22),
        "trackers.acme.max_concurrency",
        "default of 8",
    );
}
