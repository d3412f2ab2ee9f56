//! `deploylink link` against the sandbox Jira, which checks every request body against
//! Atlassian's OpenAPI schemas: upserts, unknown issues, rate limits, server errors, dropped
//! connections, refused credentials, deployment records and comments, and re-runs.

use crate::support;

use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use jira_sandbox::{Credentials, Fault, FaultAction, IssuePolicy, Options, Sandbox};
use serde_json::Value;
use support::TestRepo;

const USER: &str = "ci@example.com";
const TOKEN: &str = "sandbox-token-1";

struct Fixture {
    repo: TestRepo,
    sandbox: Sandbox,
    trackers: PathBuf,
    base: String,
}

/// A repository whose `main` ships WEB-1, WEB-2 (twice) and OPS-3 since `base`, configured
/// for `actions`, and a trackers file of `kind` pointing at a fresh sandbox.
fn fixture(actions: &str, kind: &str, options: Options, extra_tracker: &str) -> Fixture {
    let sandbox = Sandbox::start(options).expect("start the sandbox");
    let repo = TestRepo::new();
    let project = format!(
        "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys: {{ projects: [WEB, OPS] }}
    environments:
      production: {{ refs: [refs/heads/main], type: production }}
    actions: [{actions}]
"
    );
    repo.commit_file(".deploylink.yml", &project, "Add deploylink configuration");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.commit("WEB-1: first feature");
    repo.commit("WEB-2: second feature");
    repo.commit("OPS-3 pin the image, for WEB-2");
    let user = if kind == "jira-cloud" {
        "user_env: JIRA_USER, "
    } else {
        ""
    };
    let deployments = if actions.contains("deployment") {
        format!(
            "    deployments: {{ client_id_env: JIRA_CLIENT_ID, client_secret_env: JIRA_CLIENT_SECRET, api_url: {url}, token_url: {url}/oauth/token }}\n",
            url = sandbox.url()
        )
    } else {
        String::new()
    };
    let trackers = repo.path().join(".git/trackers.yml");
    std::fs::write(
        &trackers,
        format!(
            "version: 1\ntrackers:\n  acme:\n    kind: {kind}\n    url: {}\n    auth: {{ {user}token_env: JIRA_API_TOKEN }}\n{deployments}{extra_tracker}",
            sandbox.url()
        ),
    )
    .unwrap();
    Fixture {
        repo,
        sandbox,
        trackers,
        base,
    }
}

fn cloud(actions: &str) -> Fixture {
    fixture(actions, "jira-cloud", Options::default(), "")
}

impl Fixture {
    fn link(&self, extra: &[&str]) -> Output {
        self.link_with_env(extra, &[])
    }

    fn link_with_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = support::cli::command();
        command
            .arg("link")
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(["--from", &self.base, "--to", "main", "--format", "json"])
            .args(extra)
            .env("JIRA_USER", USER)
            .env("JIRA_API_TOKEN", TOKEN)
            .env("JIRA_CLIENT_ID", "client-1")
            .env("JIRA_CLIENT_SECRET", "secret-1");
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().expect("run deploylink")
    }

    /// Requests the sandbox received whose path starts with `prefix`.
    fn requests_to(&self, prefix: &str) -> usize {
        self.sandbox
            .requests()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .count()
    }

    fn fault(&self, path_prefix: &str, times: Option<u32>, action: FaultAction) {
        self.sandbox.push_fault(Fault {
            method: None,
            path_prefix: Some(path_prefix.into()),
            times,
            probability: 1.0,
            action,
        });
    }

    /// Nothing the sandbox received was a body the real Jira would refuse.
    fn assert_nothing_rejected(&self) {
        let rejected = self.sandbox.state().rejected;
        assert!(
            rejected.is_empty(),
            "bodies Jira would refuse: {rejected:#?}"
        );
    }
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `key -> result` of the run's first deploy.
fn results(report: &Value) -> Vec<(String, String)> {
    report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn result_of(report: &Value, key: &str) -> String {
    results(report)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("no {key} in {report:#}"))
}

fn reason_of(report: &Value, key: &str) -> String {
    let issue = report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap();
    issue["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn link_path(key: &str) -> String {
    format!("/rest/api/3/issue/{key}/remotelink")
}

#[test]
fn a_link_is_created_then_updated_never_duplicated() {
    let f = cloud("remote-link");
    let first = f.link(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let report = json(&first);
    assert_eq!(
        results(&report),
        [
            ("WEB-1", "linked"),
            ("WEB-2", "linked"),
            ("OPS-3", "linked")
        ]
        .map(|(k, r)| (k.to_owned(), r.to_owned()))
    );
    assert_eq!(report["summary"]["linked"], 3);
    let second = f.link(&[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let report = json(&second);
    assert!(
        results(&report).iter().all(|(_, r)| r == "updated"),
        "{report:#}"
    );
    let state = f.sandbox.state();
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        let links = state.remote_links(key);
        assert_eq!(links.len(), 1, "{key}: {links:#?}");
        assert_eq!(links[0]["relationship"], "deployed in");
        assert!(links[0]["globalId"]
            .as_str()
            .unwrap()
            .starts_with("deploylink:"));
    }
    // WEB-2 is mentioned by two commits: both subjects are in the summary.
    let summary = state.remote_links("WEB-2")[0]["object"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        summary.contains("second feature") && summary.contains("pin the image"),
        "{summary}"
    );
    f.assert_nothing_rejected();
    // Basic auth on Cloud, on every request.
    assert!(f
        .sandbox
        .requests()
        .iter()
        .all(|r| r.auth_scheme.as_deref() == Some("Basic")));
}

#[test]
fn an_unknown_issue_is_reported_and_not_retried() {
    let f = fixture(
        "remote-link",
        "jira-cloud",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-1".into(), "OPS-3".into()]),
            ..Options::default()
        },
        "",
    );
    let output = f.link(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "unknown issues are not a failure: {}",
        stderr(&output)
    );
    let report = json(&output);
    assert_eq!(result_of(&report, "WEB-2"), "unknown");
    assert_eq!(result_of(&report, "WEB-1"), "linked");
    assert_eq!(report["summary"]["unknown"], 1);
    assert_eq!(
        f.requests_to(&link_path("WEB-2")),
        1,
        "a 404 is not retried"
    );
}

#[test]
fn a_rate_limit_is_waited_out_as_retry_after_says_and_not_much_longer() {
    let f = cloud("remote-link");
    f.fault(
        &link_path("WEB-1"),
        Some(1),
        FaultAction::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: r#"{"errorMessages":["Rate limit exceeded."],"errors":{}}"#.into(),
        },
    );
    let started = Instant::now();
    let output = f.link(&[]);
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(result_of(&json(&output), "WEB-1"), "linked");
    assert_eq!(f.requests_to(&link_path("WEB-1")), 2);
    assert!(elapsed >= Duration::from_secs(1), "waited {elapsed:?}");
    // Retry-After plus at most 30% jitter, plus generous room for a loaded machine.
    assert!(elapsed < Duration::from_secs(5), "waited {elapsed:?}");
    f.assert_nothing_rejected();
}

#[test]
fn a_server_error_then_success_is_delivered() {
    let f = cloud("remote-link");
    f.fault(
        &link_path("WEB-2"),
        Some(1),
        FaultAction::Respond {
            status: 503,
            headers: vec![],
            body: String::new(),
        },
    );
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(result_of(&json(&output), "WEB-2"), "linked");
    assert_eq!(f.requests_to(&link_path("WEB-2")), 2);
    assert_eq!(f.sandbox.state().remote_links("WEB-2").len(), 1);
}

#[test]
fn a_dropped_connection_is_retried_for_an_idempotent_upsert() {
    let f = cloud("remote-link");
    f.fault(&link_path("OPS-3"), Some(1), FaultAction::Reset);
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(result_of(&json(&output), "OPS-3"), "linked");
    assert_eq!(f.requests_to(&link_path("OPS-3")), 2);
    assert_eq!(f.sandbox.state().remote_links("OPS-3").len(), 1);
}

#[test]
fn an_html_error_page_and_an_empty_error_body_read_clearly() {
    let f = cloud("remote-link");
    f.fault(
        &link_path("WEB-1"),
        None,
        FaultAction::Respond {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
                .into(),
        },
    );
    f.fault(
        &link_path("WEB-2"),
        None,
        FaultAction::Respond {
            status: 400,
            headers: vec![],
            body: String::new(),
        },
    );
    let output = f.link(&["--budget", "30s"]);
    assert_eq!(
        output.status.code(),
        Some(4),
        "a failed delivery under --on-error fail: {}",
        stderr(&output)
    );
    let report = json(&output);
    assert_eq!(result_of(&report, "WEB-1"), "failed");
    let reason = reason_of(&report, "WEB-1");
    assert!(
        reason.contains("502 Bad Gateway: an HTML page (502 Bad Gateway) after 5 tries"),
        "{reason}"
    );
    assert_eq!(f.requests_to(&link_path("WEB-1")), 5, "4 retries");
    assert_eq!(result_of(&report, "WEB-2"), "failed");
    assert_eq!(reason_of(&report, "WEB-2"), "400 Bad Request");
    assert_eq!(
        f.requests_to(&link_path("WEB-2")),
        1,
        "a 400 is not retried"
    );
    assert_eq!(result_of(&report, "OPS-3"), "linked");
    assert!(
        stderr(&output).contains("2 deliveries failed"),
        "{}",
        stderr(&output)
    );
    // --on-error warn: the same report, exit 0.
    let output = f.link(&["--budget", "30s", "--on-error", "warn"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn refused_credentials_stop_every_further_request() {
    let f = fixture(
        "remote-link",
        "jira-cloud",
        Options {
            credentials: Some(Credentials {
                user: Some(USER.into()),
                token: "the-right-token".into(),
            }),
            ..Options::default()
        },
        "    max_concurrency: 1\n",
    );
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let report = json(&output);
    assert!(
        results(&report).iter().all(|(_, r)| r == "failed"),
        "{report:#}"
    );
    assert_eq!(f.sandbox.requests().len(), 1, "one 401, then nothing");
    let reasons = reason_of(&report, "WEB-1") + &reason_of(&report, "WEB-2");
    assert!(reasons.contains("401 Unauthorized"), "{reasons}");
    assert!(
        reasons.contains("id.atlassian.com/manage-profile/security/api-tokens"),
        "{reasons}"
    );
    assert!(reasons.contains("not sent"), "{reasons}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(TOKEN));
    assert!(!stderr(&output).contains(TOKEN));
}

#[test]
fn refused_credentials_stop_a_concurrent_run_within_its_concurrency() {
    let f = fixture(
        "remote-link",
        "jira-cloud",
        Options {
            credentials: Some(Credentials {
                user: None,
                token: "the-right-token".into(),
            }),
            ..Options::default()
        },
        "    max_concurrency: 2\n",
    );
    for i in 10..30 {
        f.repo.commit(&format!("WEB-{i}: more"));
    }
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let sent = f.sandbox.requests().len();
    assert!(sent <= 2, "at most the requests already in flight: {sent}");
}

#[test]
fn data_center_uses_rest_2_a_bearer_token_and_wiki_comments() {
    let f = fixture(
        "remote-link, comment",
        "jira-data-center",
        Options::default(),
        "",
    );
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert!(
        results(&report).iter().all(|(_, r)| r == "linked"),
        "{report:#}"
    );
    let requests = f.sandbox.requests();
    assert!(
        requests.iter().all(|r| r.path.starts_with("/rest/api/2/")),
        "{requests:#?}"
    );
    assert!(requests
        .iter()
        .all(|r| r.auth_scheme.as_deref() == Some("Bearer")));
    let state = f.sandbox.state();
    let comment = &state.comments("WEB-1")[0];
    assert!(
        comment["body"].as_str().unwrap().starts_with("[Deployed"),
        "{comment:#}"
    );
    f.assert_nothing_rejected();
}

#[test]
fn one_deploy_run_twice_leaves_one_link_one_record_and_one_comment_per_issue() {
    let f = cloud("remote-link, deployment, comment");
    for run in 0..2 {
        let output = f.link(&[
            "--run-number",
            "42",
            "--run-url",
            "https://ci.example.com/run/42",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "run {run}: {}",
            stderr(&output)
        );
        let report = json(&output);
        assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    }
    let state = f.sandbox.state();
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        assert_eq!(state.remote_links(key).len(), 1, "{key}");
        assert_eq!(state.comments(key).len(), 1, "{key}");
        assert_eq!(state.deployments_for(key).len(), 1, "{key}");
    }
    assert_eq!(state.deployments.len(), 1);
    let record = &state.deployments[0];
    assert_eq!(record.deployment_sequence_number, 42);
    // The repository's identity (the path of `repo_url`), then the project.
    assert_eq!(record.pipeline_id, "acme/shop/shop");
    assert_eq!(record.environment_id, "production");
    assert_eq!(record.data["url"], "https://ci.example.com/run/42");
    // Two bulk calls, the second with a larger updateSequenceNumber; one token for each run.
    let bulk: Vec<i64> = f
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/bulk"))
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["deployments"][0]["updateSequenceNumber"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(bulk.len(), 2);
    assert!(bulk[1] > bulk[0], "{bulk:?}");
    assert_eq!(state.tokens_issued, 2);
    // The comment is an ADF document with the link.
    let comment = &state.comments("WEB-2")[0]["body"];
    assert_eq!(comment["type"], "doc");
    f.assert_nothing_rejected();
}

#[test]
fn deployment_answers_map_back_to_each_key() {
    let f = fixture(
        "deployment",
        "jira-cloud",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-1".into(), "WEB-2".into()]),
            ..Options::default()
        },
        "",
    );
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(result_of(&report, "WEB-1"), "linked");
    assert_eq!(result_of(&report, "OPS-3"), "unknown");
    assert_eq!(
        f.requests_to("/jira/deployments/"),
        1,
        "one bulk call per deploy"
    );

    // Every key unknown: Jira rejects the deployment.
    let f = fixture(
        "deployment",
        "jira-cloud",
        Options {
            issues: IssuePolicy::Listed(vec![]),
            ..Options::default()
        },
        "",
    );
    let report = json(&f.link(&[]));
    assert!(
        results(&report).iter().all(|(_, r)| r == "unknown"),
        "{report:#}"
    );
    assert!(f.sandbox.state().deployments.is_empty());
}

#[test]
fn a_deployment_answer_that_is_not_json_fails_clearly() {
    let f = cloud("deployment");
    f.fault(
        "/jira/deployments/",
        None,
        FaultAction::Respond {
            status: 202,
            headers: vec![],
            body: "this is not JSON".into(),
        },
    );
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let report = json(&output);
    let reason = reason_of(&report, "WEB-1");
    assert!(reason.contains("not the deployments answer"), "{reason}");
}

#[test]
fn six_hundred_keys_send_five_hundred_and_report_the_rest() {
    let f = cloud("deployment");
    // Past the 500 a deployment record takes: the deploy's own cap is raised above it.
    let file = f.repo.path().join(".deploylink.yml");
    let project = std::fs::read_to_string(&file).unwrap();
    let raised = project.replace(
        "default_tracker: acme\n",
        "default_tracker: acme\nmax_issues: 1000\n",
    );
    f.repo
        .commit_file(".deploylink.yml", &raised, "Raise max_issues");
    let message: String = (1..=600).map(|i| format!("WEB-{} ", 1000 + i)).collect();
    f.repo.commit(&format!("Bulk change\n\n{message}"));
    let output = f.link(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    let issues = report["deploys"][0]["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 603);
    let rejected: Vec<&str> = issues
        .iter()
        .filter(|i| i["result"] == "rejected")
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(rejected.len(), 103);
    assert_eq!(f.requests_to("/jira/deployments/"), 1);
    let record = &f.sandbox.state().deployments[0];
    assert_eq!(record.issue_keys.len(), 500);
    f.assert_nothing_rejected();
}

#[test]
fn the_time_budget_ends_the_run_instead_of_a_long_wait() {
    let f = cloud("remote-link");
    f.fault(
        &link_path("WEB-1"),
        None,
        FaultAction::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "60".into())],
            body: String::new(),
        },
    );
    let started = Instant::now();
    let output = f.link(&["--budget", "2s", "--on-error", "warn"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(result_of(&report, "WEB-1"), "failed");
    assert!(reason_of(&report, "WEB-1").contains("time budget"));
    assert_eq!(result_of(&report, "WEB-2"), "linked");
}

#[test]
fn a_missing_credential_variable_is_named_and_nothing_is_sent() {
    let f = cloud("remote-link");
    let mut command = support::cli::command();
    let output = command
        .args(["link", "--repo"])
        .arg(f.repo.path())
        .arg("--trackers")
        .arg(&f.trackers)
        .args(["--from", &f.base, "--to", "main"])
        .env_remove("JIRA_API_TOKEN")
        .env("JIRA_USER", USER)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("JIRA_API_TOKEN is not set"),
        "{}",
        stderr(&output)
    );
    assert!(f.sandbox.requests().is_empty());
}

#[test]
fn record_moves_the_deploy_ref_so_the_next_deploy_starts_there() {
    let f = cloud("remote-link");
    let output = f.link(&["--record"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let main = f.repo.git(&["rev-parse", "main"]);
    assert_eq!(
        f.repo
            .git(&["rev-parse", "refs/deploylink/shop/production"]),
        main
    );
    f.repo.commit("WEB-9: after the deploy");
    // No --from: the recorded deploy is the base.
    let output = support::cli::command()
        .args(["link", "--format", "json", "--repo"])
        .arg(f.repo.path())
        .arg("--trackers")
        .arg(&f.trackers)
        .args(["--to", "main"])
        .env("JIRA_USER", USER)
        .env("JIRA_API_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(
        results(&report),
        vec![("WEB-9".to_owned(), "linked".to_owned())]
    );
}

#[test]
fn dry_run_sends_nothing_and_prints_the_requests() {
    let f = cloud("remote-link, comment");
    let output = f.link(&["--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert!(results(&report).iter().all(|(_, r)| r == "planned"));
    assert_eq!(
        report["deploys"][0]["requests"].as_array().unwrap().len(),
        6
    );
    assert!(f.sandbox.requests().is_empty());
}

#[test]
fn a_redirect_to_another_host_is_not_followed_with_credentials() {
    let f = cloud("remote-link");
    let elsewhere = Sandbox::start(Options::default()).unwrap();
    f.fault(
        &link_path("WEB-1"),
        None,
        FaultAction::Respond {
            status: 307,
            headers: vec![(
                "Location".into(),
                format!("{}{}", elsewhere.url(), link_path("WEB-1")),
            )],
            body: String::new(),
        },
    );
    let output = f.link(&["--on-error", "warn"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(result_of(&report, "WEB-1"), "failed");
    assert!(
        reason_of(&report, "WEB-1").contains("redirected to"),
        "{report:#}"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:#?}",
        elsewhere.requests()
    );
}

#[test]
fn the_token_never_appears_in_output_or_logs_at_any_verbosity() {
    const SENTINEL: &str = "SENTINEL-7f3a9c-token";
    let f = cloud("remote-link, deployment, comment");
    // One failure, so error paths are printed too.
    f.fault(
        &link_path("WEB-2"),
        None,
        FaultAction::Respond {
            status: 400,
            headers: vec![],
            body: r#"{"errorMessages":["bad"],"errors":{}}"#.into(),
        },
    );
    use base64_free::encode;
    let basic = encode(format!("{USER}:{SENTINEL}").as_bytes());
    for verbosity in [&[][..], &["-v"], &["-vv"]] {
        let output = f.link_with_env(
            &[verbosity, &["--on-error", "warn"]].concat(),
            &[
                ("JIRA_API_TOKEN", SENTINEL),
                ("JIRA_CLIENT_SECRET", SENTINEL),
            ],
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
        assert!(!all.contains(SENTINEL), "{verbosity:?}: {all}");
        assert!(
            !all.contains(&basic),
            "{verbosity:?}: the Basic header leaked"
        );
    }
    let output = f.link_with_env(
        &["-vv"],
        &[("RUST_LOG", "trace"), ("JIRA_API_TOKEN", SENTINEL)],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(!all.contains(SENTINEL), "RUST_LOG=trace: {all}");
    assert!(
        !all.contains(&basic),
        "RUST_LOG=trace: the Basic header leaked"
    );
}

/// Standard base64, enough to recognise a Basic header in a log.
mod base64_free {
    pub fn encode(bytes: &[u8]) -> String {
        const TABLE: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn encodes_like_rfc_4648() {
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fooba"), "Zm9vYmE=");
        assert_eq!(encode(b"foob"), "Zm9vYg==");
    }
}

#[test]
fn a_rejected_deployment_is_reported_with_jiras_reason() {
    let f = cloud("deployment");
    f.fault(
        "/jira/deployments/",
        None,
        FaultAction::Respond {
            status: 202,
            headers: vec![],
            body: r#"{"acceptedDeployments":[],"unknownIssueKeys":[],
                "rejectedDeployments":[{"key":{"pipelineId":"p","environmentId":"production","deploymentSequenceNumber":1},
                "errors":[{"message":"The deployment state is not valid for this environment"}]}]}"#
                .into(),
        },
    );
    let output = f.link(&[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a rejection is an answer: {}",
        stderr(&output)
    );
    let report = json(&output);
    assert!(
        results(&report).iter().all(|(_, r)| r == "rejected"),
        "{report:#}"
    );
    assert!(
        reason_of(&report, "WEB-1").contains("The deployment state is not valid"),
        "{report:#}"
    );
    assert_eq!(report["summary"]["rejected"], 3);
}

#[test]
#[cfg(feature = "sandbox")]
fn the_sandbox_command_serves_and_keeps_its_state_in_a_file() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("jira.json");
    let mut child = support::cli::command()
        .args([
            "sandbox",
            "--port",
            "0",
            "--issues",
            "WEB-1,WEB-2",
            "--state-file",
        ])
        .arg(&state)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    deploylink::jira::install_tls_provider();
    let client = reqwest::blocking::Client::new();
    let link = serde_json::json!({"globalId": "g1", "object": {"url": "https://x.example/1", "title": "t"}});
    let created = client
        .post(format!("{url}/rest/api/3/issue/WEB-1/remotelink"))
        .basic_auth("u", Some("t"))
        .json(&link)
        .send()
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let missing = client
        .post(format!("{url}/rest/api/3/issue/WEB-3/remotelink"))
        .basic_auth("u", Some("t"))
        .json(&link)
        .send()
        .unwrap();
    assert_eq!(
        missing.status().as_u16(),
        404,
        "only the listed issues exist"
    );
    let page = client
        .get(format!("{url}/"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("WEB-1"), "{page}");
    child.kill().unwrap();
    child.wait().unwrap();
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(
        saved["issues"]["WEB-1"]["remote_links"][0]["globalId"],
        "g1"
    );
}
