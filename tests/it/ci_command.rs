//! `deploylink ci` driven by recorded environments of CI providers (a GitHub push event
//! payload file, GitLab's and Jenkins's variables), flags overriding them, and a shallow
//! checkout deepened until the base is there.

use crate::support;

use std::path::Path;
use std::process::Output;

use jira_sandbox::{Options, Sandbox};
use serde_json::Value;
use support::{git_command, TestRepo};

const PROJECT: &str = "version: 1
default_tracker: acme
projects:
  shop:
    keys: { projects: [WEB, OPS] }
    environments:
      production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }
      staging: { refs: [\"refs/heads/release/*\"], type: staging }
    actions: [remote-link, deployment]
";

struct Fixture {
    repo: TestRepo,
    jira: Sandbox,
    trackers: std::path::PathBuf,
    commits: Vec<String>,
}

/// main: the configuration, then WEB-1 .. WEB-5.
fn fixture() -> Fixture {
    let jira = Sandbox::start(Options::default()).unwrap();
    let repo = TestRepo::new();
    let mut commits = vec![repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink")];
    for i in 1..=5 {
        commits.push(repo.commit(&format!("WEB-{i}: change {i}")));
    }
    let url = jira.url();
    let trackers = support::jira::write_trackers(
        repo.path(),
        &url,
        &format!("    deployments: {{ client_id_env: JIRA_USER, client_secret_env: JIRA_API_TOKEN, api_url: {url}, token_url: {url}/oauth/token }}\n"),
    );
    Fixture {
        repo,
        jira,
        trackers,
        commits,
    }
}

/// Runs `deploylink ci` in `dir` with only `vars` of the CI's environment (the test
/// process's own CI variables are removed).
pub(crate) fn ci(dir: &Path, trackers: &Path, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = support::cli::command();
    command
        .current_dir(dir)
        .args(["ci", "--format", "json", "--trackers"])
        .arg(trackers)
        .args(args)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token");
    for (name, _) in std::env::vars() {
        let ci_var = [
            "GITHUB_",
            "GITLAB",
            "CI_",
            "BITBUCKET_",
            "JENKINS",
            "GIT_",
            "CIRCLE",
            "TF_BUILD",
            "BUILD_",
            "BUILDKITE",
            "SYSTEM_",
        ]
        .iter()
        .any(|p| name.starts_with(p))
            || name == "CI";
        if ci_var {
            command.env_remove(name);
        }
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn report(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn keys(report: &Value) -> Vec<String> {
    report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn github_actions_push_event_gives_the_base_run_url_and_number() {
    let f = fixture();
    let event = f.repo.path().join(".git/event.json");
    std::fs::write(
        &event,
        format!(
            r#"{{"ref":"refs/heads/main","before":"{}","after":"{}","created":false,"forced":false,
               "repository":{{"full_name":"acme/shop"}},"commits":[]}}"#,
            f.commits[2], f.commits[5]
        ),
    )
    .unwrap();
    let output = ci(
        f.repo.path(),
        &f.trackers,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_SHA", &f.commits[5]),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_RUN_ID", "987654"),
            ("GITHUB_RUN_NUMBER", "77"),
        ],
        &[],
    );
    let report = report(&output);
    assert_eq!(keys(&report), ["WEB-3", "WEB-4", "WEB-5"], "{report:#}");
    assert_eq!(report["deploys"][0]["from"], f.commits[2].as_str());
    assert_eq!(report["deploys"][0]["environment"], "production");
    let state = f.jira.state();
    let link = &state.remote_links("WEB-3")[0];
    assert_eq!(
        link["object"]["url"], "https://github.com/acme/shop/actions/runs/987654",
        "the default link URL is the run"
    );
    assert_eq!(state.deployments[0].deployment_sequence_number, 77);
    assert!(state.rejected.is_empty(), "{:#?}", state.rejected);
}

#[test]
fn gitlab_variables_and_flags_that_override_them() {
    let f = fixture();
    f.repo.git(&["checkout", "-q", "-b", "release/1"]);
    let head = f.repo.commit("OPS-9: release fix");
    let vars = [
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", head.as_str()),
        ("CI_COMMIT_BEFORE_SHA", f.commits[4].as_str()),
        ("CI_COMMIT_BRANCH", "release/1"),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example.com/acme/shop/-/pipelines/55",
        ),
        ("CI_PIPELINE_IID", "12"),
        ("CI_PROJECT_URL", "https://gitlab.example.com/acme/shop"),
    ];
    let report = report(&ci(f.repo.path(), &f.trackers, &vars, &[]));
    assert_eq!(keys(&report), ["WEB-5", "OPS-9"]);
    assert_eq!(report["deploys"][0]["environment"], "staging");
    // A flag wins: another environment, another run URL.
    let report_2 = self::report(&ci(
        f.repo.path(),
        &f.trackers,
        &vars,
        &[
            "--environment",
            "production",
            "--run-url",
            "https://example.com/run/1",
        ],
    ));
    assert_eq!(report_2["deploys"][0]["environment"], "production");
    let state = f.jira.state();
    let urls: Vec<&str> = state
        .remote_links("OPS-9")
        .iter()
        .map(|l| l["object"]["url"].as_str().unwrap())
        .collect();
    assert!(urls.contains(&"https://example.com/run/1"), "{urls:?}");
    assert!(
        urls.contains(&"https://gitlab.example.com/acme/shop/-/pipelines/55"),
        "{urls:?}"
    );
}

#[test]
fn jenkins_previous_successful_commit_and_branch() {
    let f = fixture();
    let report = report(&ci(
        f.repo.path(),
        &f.trackers,
        &[
            ("JENKINS_URL", "https://jenkins.example.com/"),
            ("GIT_COMMIT", f.commits[5].as_str()),
            ("GIT_PREVIOUS_SUCCESSFUL_COMMIT", f.commits[3].as_str()),
            ("GIT_BRANCH", "origin/main"),
            ("BUILD_URL", "https://jenkins.example.com/job/shop/31/"),
            ("BUILD_NUMBER", "31"),
        ],
        &[],
    ));
    assert_eq!(keys(&report), ["WEB-4", "WEB-5"]);
    assert_eq!(report["deploys"][0]["ref"], "refs/heads/main");
}

#[test]
fn a_shallow_checkout_is_deepened_until_the_base_is_there() {
    let f = fixture();
    let clone_root = tempfile::tempdir().unwrap();
    let clone = clone_root.path().join("shop");
    let url = format!("file://{}", f.repo.path().display());
    let cloned = git_command(clone_root.path())
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        cloned.status.success(),
        "{}",
        String::from_utf8_lossy(&cloned.stderr)
    );
    assert!(clone.join(".git/shallow").exists());
    let vars = [
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", f.commits[5].as_str()),
        ("CI_COMMIT_BEFORE_SHA", f.commits[1].as_str()),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_PIPELINE_URL", "https://gitlab.example.com/p/1"),
    ];
    let output = ci(&clone, &f.trackers, &vars, &[]);
    let report = report(&output);
    assert_eq!(keys(&report), ["WEB-2", "WEB-3", "WEB-4", "WEB-5"]);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("git fetch --deepen=50"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_shallow_checkout_that_cannot_be_deepened_fails_naming_the_fix() {
    let f = fixture();
    let clone_root = tempfile::tempdir().unwrap();
    let clone = clone_root.path().join("shop");
    let url = format!("file://{}", f.repo.path().display());
    let cloned = git_command(clone_root.path())
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .output()
        .unwrap();
    assert!(cloned.status.success());
    // The origin is gone: nothing can be fetched.
    git_command(&clone)
        .args(["remote", "remove", "origin"])
        .output()
        .unwrap();
    let output = ci(
        &clone,
        &f.trackers,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", f.commits[5].as_str()),
            ("GITHUB_REF", "refs/heads/main"),
        ],
        &["--from", f.commits[1].as_str()],
    );
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("fetch-depth: 0") && stderr.contains("GIT_DEPTH: 0"),
        "{stderr}"
    );
    assert!(f.jira.requests().is_empty());
}

#[test]
fn without_a_ci_the_flags_and_head_are_used() {
    let f = fixture();
    let report = report(&ci(
        f.repo.path(),
        &f.trackers,
        &[],
        &[
            "--from",
            f.commits[4].as_str(),
            "--run-url",
            "https://example.com/r/1",
        ],
    ));
    assert_eq!(keys(&report), ["WEB-5"]);
    assert_eq!(report["deploys"][0]["environment"], "production");
}

/// The recorded environment of a provider (`tests/fixtures/ci/<name>.env`), with its commit
/// variables pointed at this repository's commits and the event file at `event`.
fn recorded_env(name: &str, head: &str, before: &str, event: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/ci/{name}.env")),
    )
    .unwrap();
    let commit_vars = [
        "GITHUB_SHA",
        "CI_COMMIT_SHA",
        "BITBUCKET_COMMIT",
        "GIT_COMMIT",
        "CIRCLE_SHA1",
        "BUILD_SOURCEVERSION",
        "BUILDKITE_COMMIT",
    ];
    let base_vars = ["CI_COMMIT_BEFORE_SHA", "GIT_PREVIOUS_SUCCESSFUL_COMMIT"];
    // The machine's own variables stay the test's.
    let machine = [
        "HOME", "PATH", "PWD", "SHELL", "USER", "HOSTNAME", "TMPDIR", "LANG",
    ];
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| !machine.contains(k))
        .map(|(k, v)| {
            let value = if commit_vars.contains(&k) {
                head.to_owned()
            } else if base_vars.contains(&k) {
                before.to_owned()
            } else if k == "GITHUB_EVENT_PATH" {
                event.display().to_string()
            } else {
                v.to_owned()
            };
            (k.to_owned(), value)
        })
        .collect()
}

#[test]
fn every_provider_recorded_environment_plans_its_deploy() {
    let f = fixture();
    let head = f.commits[5].as_str();
    let before = f.commits[3].as_str();
    let event = f.repo.path().join(".git/event.json");
    std::fs::write(
        &event,
        format!(r#"{{"ref":"refs/heads/main","before":"{before}","after":"{head}","created":false,"forced":false}}"#),
    )
    .unwrap();
    // (provider, whether its CI gives the previous commit)
    let providers = [
        ("github", true),
        ("gitlab", true),
        ("jenkins", true),
        ("bitbucket", false),
        ("circleci", false),
        ("azure", false),
        ("buildkite", false),
    ];
    for (name, gives_base) in providers {
        let vars = recorded_env(name, head, before, &event);
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let output = ci(f.repo.path(), &f.trackers, &vars, &["--dry-run"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        let deploy = &report["deploys"][0];
        assert_eq!(deploy["environment"], "production", "{name}");
        assert_eq!(deploy["to"], head, "{name}");
        assert_eq!(deploy["ref"], "refs/heads/main", "{name}");
        let expected: Vec<&str> = if gives_base {
            vec!["WEB-4", "WEB-5"]
        } else {
            vec!["WEB-5"]
        };
        assert_eq!(keys(&report), expected, "{name}: {report:#}");
        // The run's URL (the default link URL) and number (the deployment's sequence number).
        let requests = deploy["requests"].as_array().unwrap();
        let link = requests
            .iter()
            .find(|r| r["action"] == "remote-link")
            .unwrap();
        let url = link["body"]["object"]["url"].as_str().unwrap();
        assert!(
            url.starts_with("https://"),
            "{name}: the run URL is the link: {url}"
        );
        let record = requests
            .iter()
            .find(|r| r["action"] == "deployment")
            .unwrap();
        let sequence = record["body"]["deployments"][0]["deploymentSequenceNumber"]
            .as_i64()
            .unwrap();
        assert!(
            sequence < 1_000_000_000,
            "{name}: the run number, not a commit time: {sequence}"
        );
    }
    assert!(f.jira.requests().is_empty(), "--dry-run sends nothing");
}
