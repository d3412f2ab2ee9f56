//! `ci::detect` on recorded CI environments (`tests/fixtures/ci/<provider>.env`) and GitHub event
//! payloads (`tests/fixtures/ci/github-*-event.json`).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use deploylink::ci::{detect, CiError, Detected, Provider};

/// Where the GitHub runner writes the event payload (`GITHUB_EVENT_PATH` in github.env).
const EVENT_PATH: &str = "/home/runner/work/_temp/_github_workflow/event.json";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ci")
        .join(name)
}

/// A recorded environment: `KEY=VALUE` lines (split at the first `=`); `#` lines are comments.
fn recorded(provider: &str) -> HashMap<String, String> {
    let path = fixture(&format!("{provider}.env"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (key, value) = line.split_once('=').expect("a KEY=VALUE line");
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

fn with(
    mut vars: HashMap<String, String>,
    changes: &[(&str, Option<&str>)],
) -> HashMap<String, String> {
    for (key, value) in changes {
        match value {
            Some(value) => vars.insert(key.to_string(), value.to_string()),
            None => vars.remove(*key),
        };
    }
    vars
}

/// Runs `detect` on `vars`, with `payload` as the file at [`EVENT_PATH`] (no other file exists).
fn detect_with(
    vars: &HashMap<String, String>,
    payload: Option<Vec<u8>>,
) -> Result<Detected, CiError> {
    let lookup = |name: &str| vars.get(name).cloned();
    let read_file = |path: &Path| match &payload {
        Some(bytes) if path == Path::new(EVENT_PATH) => Ok(bytes.clone()),
        _ => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "No such file or directory (os error 2)",
        )),
    };
    detect(&lookup, &read_file)
}

fn payload(name: &str) -> Option<Vec<u8>> {
    Some(std::fs::read(fixture(name)).unwrap())
}

fn some(value: &str) -> Option<String> {
    Some(value.to_owned())
}

#[test]
fn github_actions_push() {
    let detected = detect_with(&recorded("github"), payload("github-push-event.json")).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::GitHubActions),
            to: some("3569780414cc1253a6b8b4ce6a6e8b63d9650e8a"),
            base: some("21fa8a8c928ba552e6ba22b3541d4e346c36c1a6"),
            refname: some("refs/heads/main"),
            run_url: some("https://github.com/acme/shop/actions/runs/13801944518"),
            run_id: some("13801944518"),
            run_number: Some(1187),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec![],
        }
    );
    assert_eq!(Provider::GitHubActions.name(), "GitHub Actions");
}

#[test]
fn github_actions_forced_push_still_takes_before() {
    let mut event: serde_json::Value =
        serde_json::from_slice(&payload("github-push-event.json").unwrap()).unwrap();
    event["forced"] = serde_json::Value::Bool(true);
    let detected = detect_with(&recorded("github"), Some(event.to_string().into_bytes())).unwrap();
    assert_eq!(
        detected.base,
        some("21fa8a8c928ba552e6ba22b3541d4e346c36c1a6")
    );
    assert!(detected.notes.is_empty(), "{:?}", detected.notes);
}

#[test]
fn github_actions_new_branch_has_no_base() {
    let vars = with(
        recorded("github"),
        &[
            (
                "GITHUB_SHA",
                Some("d744a55a42fb2ccc75bb9fc5dde568d7b6480284"),
            ),
            ("GITHUB_REF", Some("refs/heads/feature/SHOP-250-gift-cards")),
            ("GITHUB_REF_NAME", Some("feature/SHOP-250-gift-cards")),
            ("GITHUB_REF_PROTECTED", Some("false")),
            ("GITHUB_RUN_ID", Some("13802266107")),
            ("GITHUB_RUN_NUMBER", Some("1188")),
        ],
    );
    let detected = detect_with(&vars, payload("github-new-branch-event.json")).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::GitHubActions),
            to: some("d744a55a42fb2ccc75bb9fc5dde568d7b6480284"),
            base: None,
            refname: some("refs/heads/feature/SHOP-250-gift-cards"),
            run_url: some("https://github.com/acme/shop/actions/runs/13802266107"),
            run_id: some("13802266107"),
            run_number: Some(1188),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec![
                "the GitHub push created refs/heads/feature/SHOP-250-gift-cards (no previous commit): no CI base"
                    .to_owned()
            ],
        }
    );
}

#[test]
fn github_actions_pull_request_has_no_base() {
    // A `synchronize` payload has a `before` (the pull request's previous head): not a deploy base.
    let vars = with(
        recorded("github"),
        &[
            ("GITHUB_EVENT_NAME", Some("pull_request")),
            (
                "GITHUB_SHA",
                Some("a8efb730040123573098422035019b262c6b8d1e"),
            ),
            ("GITHUB_REF", Some("refs/pull/42/merge")),
            ("GITHUB_REF_NAME", Some("42/merge")),
            ("GITHUB_HEAD_REF", Some("feature/SHOP-250-gift-cards")),
            ("GITHUB_BASE_REF", Some("main")),
            ("GITHUB_RUN_ID", Some("13802311942")),
            ("GITHUB_RUN_NUMBER", Some("1189")),
        ],
    );
    let detected = detect_with(&vars, payload("github-pull-request-event.json")).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::GitHubActions),
            to: some("a8efb730040123573098422035019b262c6b8d1e"),
            base: None,
            refname: some("refs/pull/42/merge"),
            run_url: some("https://github.com/acme/shop/actions/runs/13802311942"),
            run_id: some("13802311942"),
            run_number: Some(1189),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec!["GitHub event 'pull_request' has no `before`: no CI base".to_owned()],
        }
    );
}

#[test]
fn github_actions_unreadable_event_file_is_an_error_naming_it() {
    let error = detect_with(&recorded("github"), None).unwrap_err();
    assert!(matches!(&error, CiError::EventRead { path, .. } if path == Path::new(EVENT_PATH)));
    let message = error.to_string();
    assert!(message.contains(EVENT_PATH), "{message}");
    assert!(message.contains("GITHUB_EVENT_PATH"), "{message}");
}

#[test]
fn github_actions_event_file_that_is_not_json_is_an_error_naming_it() {
    for bytes in [
        &b"<html>502 Bad Gateway</html>"[..],
        b"[1, 2]",
        b"",
        b"\xff\xfe",
    ] {
        let error = detect_with(&recorded("github"), Some(bytes.to_vec())).unwrap_err();
        assert!(matches!(&error, CiError::EventPayload { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(EVENT_PATH), "{message}");
        assert!(message.contains("GITHUB_EVENT_PATH"), "{message}");
    }
}

#[test]
fn gitlab_ci() {
    let detected = detect_with(&recorded("gitlab"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::GitLab),
            to: some("ce703023d0714ec0f8ea89c799edcd47fbc6b3c1"),
            base: some("a0e6356f11443048f651b6288e07500aceb34aa0"),
            refname: some("refs/heads/main"),
            run_url: some("https://gitlab.com/acme/shop/-/pipelines/1712990341"),
            run_id: some("1712990341"),
            run_number: Some(412),
            repo_url: some("https://gitlab.com/acme/shop"),
            environment: some("production"),
            notes: vec![],
        }
    );
    assert_eq!(Provider::GitLab.name(), "GitLab CI");
}

#[test]
fn gitlab_ci_tag_wins_over_branch() {
    let vars = with(recorded("gitlab"), &[("CI_COMMIT_TAG", Some("v2.3.0"))]);
    let detected = detect_with(&vars, None).unwrap();
    assert_eq!(detected.refname, some("refs/tags/v2.3.0"));
}

#[test]
fn gitlab_ci_zero_before_sha_is_no_base() {
    // A merge-request pipeline: no CI_COMMIT_BRANCH, CI_COMMIT_BEFORE_SHA all zeros.
    let vars = with(
        recorded("gitlab"),
        &[
            (
                "CI_COMMIT_BEFORE_SHA",
                Some("0000000000000000000000000000000000000000"),
            ),
            ("CI_COMMIT_BRANCH", None),
            ("CI_PIPELINE_SOURCE", Some("merge_request_event")),
            ("CI_MERGE_REQUEST_IID", Some("87")),
        ],
    );
    let detected = detect_with(&vars, None).unwrap();
    assert_eq!(detected.base, None);
    assert_eq!(detected.refname, None);
    assert_eq!(
        detected.notes,
        ["CI_COMMIT_BEFORE_SHA is all zeros (no previous commit: a new branch, or a run not started by a push): no CI base"]
    );
}

#[test]
fn bitbucket_pipelines() {
    let detected = detect_with(&recorded("bitbucket"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::Bitbucket),
            to: some("28c0e2ee2d641ca250e01e82ef14784b411f07c1"),
            base: None,
            refname: some("refs/heads/main"),
            run_url: some("https://bitbucket.org/acme/shop/addon/pipelines/home#!/results/318"),
            run_id: some("{042f3113-f131-477b-a9fd-7ba1df7f5ca2}"),
            run_number: Some(318),
            repo_url: some("https://bitbucket.org/acme/shop"),
            environment: some("production"),
            notes: vec![],
        }
    );
    assert_eq!(Provider::Bitbucket.name(), "Bitbucket Pipelines");
}

#[test]
fn bitbucket_pipelines_tag_build() {
    // Tag builds have no BITBUCKET_BRANCH; with both, the tag wins.
    let vars = with(
        recorded("bitbucket"),
        &[("BITBUCKET_TAG", Some("release/2025.03"))],
    );
    assert_eq!(
        detect_with(&vars, None).unwrap().refname,
        some("refs/tags/release/2025.03")
    );
}

#[test]
fn jenkins() {
    let detected = detect_with(&recorded("jenkins"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::Jenkins),
            to: some("440962be1d9d0ebd98053331be278216f106133d"),
            base: some("3712de691f5cf28b5f61e76fad20c4d873a1aafd"),
            refname: some("refs/heads/main"),
            run_url: some("https://jenkins.acme.example/job/shop-deploy/57/"),
            run_id: some("57"),
            run_number: Some(57),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec![],
        }
    );
    assert_eq!(Provider::Jenkins.name(), "Jenkins");
}

#[test]
fn jenkins_variants() {
    // A multibranch tag build sets TAG_NAME; an ssh GIT_URL gives no web URL; BUILD_TAG stands in
    // for a missing BUILD_ID; a first build has no previous successful commit.
    let vars = with(
        recorded("jenkins"),
        &[
            ("GIT_BRANCH", Some("v2.3.0")),
            ("TAG_NAME", Some("v2.3.0")),
            ("GIT_URL", Some("git@github.com:acme/shop.git")),
            ("BUILD_ID", None),
            ("GIT_PREVIOUS_SUCCESSFUL_COMMIT", None),
        ],
    );
    let detected = detect_with(&vars, None).unwrap();
    assert_eq!(detected.refname, some("refs/tags/v2.3.0"));
    assert_eq!(detected.repo_url, None);
    assert_eq!(detected.run_id, some("jenkins-shop-deploy-57"));
    assert_eq!(detected.base, None);
    assert!(detected.notes.is_empty(), "{:?}", detected.notes);
}

#[test]
fn circleci() {
    let detected = detect_with(&recorded("circleci"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::CircleCi),
            to: some("e5122bba482561160846999f2b14d346df5ba978"),
            base: None,
            refname: some("refs/heads/main"),
            run_url: some("https://circleci.com/gh/acme/shop/2291"),
            run_id: some("829bb127-037f-4d48-81a3-61cb18878904"),
            run_number: Some(2291),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec![],
        }
    );
    assert_eq!(Provider::CircleCi.name(), "CircleCI");
}

#[test]
fn azure_pipelines() {
    let detected = detect_with(&recorded("azure"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::Azure),
            to: some("27225aaf80e1137e65c46c78742e51b524060035"),
            base: None,
            refname: some("refs/heads/main"),
            run_url: some("https://dev.azure.com/acme/Web%20Shop/_build/results?buildId=4821"),
            run_id: some("4821"),
            run_number: Some(4821),
            repo_url: some("https://dev.azure.com/acme/Web%20Shop/_git/shop"),
            environment: None,
            notes: vec![],
        }
    );
    assert_eq!(Provider::Azure.name(), "Azure Pipelines");
}

#[test]
fn azure_pipelines_tf_build_is_case_insensitive() {
    let lower = with(recorded("azure"), &[("TF_BUILD", Some("true"))]);
    assert_eq!(
        detect_with(&lower, None).unwrap().provider,
        Some(Provider::Azure)
    );
    let off = with(recorded("azure"), &[("TF_BUILD", Some("False"))]);
    assert_eq!(detect_with(&off, None).unwrap(), Detected::default());
}

#[test]
fn buildkite() {
    let detected = detect_with(&recorded("buildkite"), None).unwrap();
    assert_eq!(
        detected,
        Detected {
            provider: Some(Provider::Buildkite),
            to: some("1dc657813dd1805fc1eab316beaac2fca7985ff1"),
            base: None,
            refname: some("refs/heads/main"),
            run_url: some("https://buildkite.com/acme/shop-deploy/builds/733"),
            run_id: some("01958a2d-4b1e-4c8f-a3d7-6e0b2c9f5a14"),
            run_number: Some(733),
            repo_url: some("https://github.com/acme/shop"),
            environment: None,
            notes: vec![],
        }
    );
    assert_eq!(Provider::Buildkite.name(), "Buildkite");
}

#[test]
fn buildkite_head_commit_is_no_commit() {
    // A build started from the UI or API without a commit.
    let vars = with(
        recorded("buildkite"),
        &[
            ("BUILDKITE_COMMIT", Some("HEAD")),
            ("BUILDKITE_SOURCE", Some("ui")),
        ],
    );
    let detected = detect_with(&vars, None).unwrap();
    assert_eq!(detected.to, None);
    assert_eq!(
        detected.notes,
        ["BUILDKITE_COMMIT is 'HEAD', not a commit id: no deployed commit from the CI"]
    );
}

#[test]
fn no_ci_detects_nothing() {
    assert_eq!(
        detect_with(&HashMap::new(), None).unwrap(),
        Detected::default()
    );
    // A developer's shell, `CI=true` included: no known provider.
    let shell = with(
        HashMap::new(),
        &[
            ("HOME", Some("/home/maria")),
            ("PATH", Some("/usr/local/bin:/usr/bin:/bin")),
            ("SHELL", Some("/bin/zsh")),
            ("CI", Some("true")),
            (
                "GIT_COMMIT",
                Some("440962be1d9d0ebd98053331be278216f106133d"),
            ),
            ("GITHUB_ACTIONS", Some("")),
            ("BUILDKITE", Some("false")),
        ],
    );
    assert_eq!(detect_with(&shell, None).unwrap(), Detected::default());
}

#[test]
fn detection_follows_the_spec_order() {
    // A Jenkins agent's variables leaking into a GitHub Actions job: GitHub comes first.
    let mut vars = recorded("jenkins");
    vars.extend(recorded("github"));
    let detected = detect_with(&vars, payload("github-push-event.json")).unwrap();
    assert_eq!(detected.provider, Some(Provider::GitHubActions));
}

#[test]
fn non_numeric_run_number_is_an_error_naming_the_variable() {
    let cases = [
        ("github", "GITHUB_RUN_NUMBER", "1187a"),
        ("gitlab", "CI_PIPELINE_IID", "4.12"),
        ("bitbucket", "BITBUCKET_BUILD_NUMBER", "#318"),
        ("jenkins", "BUILD_NUMBER", "57-rerun"),
        ("circleci", "CIRCLE_BUILD_NUM", "99999999999999999999"),
        ("azure", "BUILD_BUILDID", "20250312.4"),
        ("buildkite", "BUILDKITE_BUILD_NUMBER", "seven"),
    ];
    for (provider, variable, value) in cases {
        let vars = with(recorded(provider), &[(variable, Some(value))]);
        let error = detect_with(&vars, payload("github-push-event.json")).unwrap_err();
        assert!(
            matches!(&error, CiError::RunNumber { variable: v, value: got } if *v == variable && got == value),
            "{provider}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(variable) && message.contains(value),
            "{message}"
        );
    }
}

#[test]
fn hostile_values_never_panic() {
    let hostile = [
        "",
        " ",
        "é",
        "\u{0}",
        "\u{202e}main",
        "https://",
        "https://@/",
        "git@:",
        ":",
        "@",
        "/",
        "origin/",
        "refs/",
        "refs/heads/",
        "ssh://",
        "http://",
        "0",
        "-1",
        "HEAD",
        "%",
    ];
    for provider in [
        "github",
        "gitlab",
        "bitbucket",
        "jenkins",
        "circleci",
        "azure",
        "buildkite",
    ] {
        let base = recorded(provider);
        for key in base.keys() {
            for value in hostile {
                let vars = with(base.clone(), &[(key.as_str(), Some(value))]);
                let _ = detect_with(&vars, payload("github-push-event.json"));
            }
        }
    }
    let long = "f".repeat(1 << 20);
    let vars = with(
        recorded("gitlab"),
        &[("CI_PIPELINE_IID", Some(long.as_str()))],
    );
    let message = detect_with(&vars, None).unwrap_err().to_string();
    assert!(message.len() < 300, "a huge value is not quoted whole");
}

#[test]
fn each_provider_names_the_repository_by_its_own_variable() {
    let cases = [
        ("github", "GITHUB_REPOSITORY", "acme/shop"),
        ("gitlab", "CI_PROJECT_PATH", "acme/shop"),
        ("bitbucket", "BITBUCKET_REPO_FULL_NAME", "acme/shop"),
        ("jenkins", "GIT_URL", "acme/shop"),
        (
            "circleci",
            "CIRCLE_PROJECT_USERNAME/CIRCLE_PROJECT_REPONAME",
            "acme/shop",
        ),
        ("azure", "BUILD_REPOSITORY_NAME", "shop"),
        ("buildkite", "BUILDKITE_PIPELINE_SLUG", "shop-deploy"),
    ];
    for (provider, variable, value) in cases {
        let vars = recorded(provider);
        let lookup = |name: &str| vars.get(name).cloned();
        assert_eq!(
            deploylink::ci::repository(&lookup),
            Some(deploylink::ci::CiRepository {
                variable,
                value: value.to_owned()
            }),
            "{provider}"
        );
    }
    // Outside a CI, a stray variable names nothing.
    let lookup = |name: &str| (name == "GITHUB_REPOSITORY").then(|| "acme/shop".to_owned());
    assert_eq!(deploylink::ci::repository(&lookup), None);
    // In the CI, an unset variable names nothing either.
    let vars = with(recorded("github"), &[("GITHUB_REPOSITORY", None)]);
    let lookup = |name: &str| vars.get(name).cloned();
    assert_eq!(deploylink::ci::repository(&lookup), None);
}
