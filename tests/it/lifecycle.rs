//! One deploy reported several times: `in_progress` when its job starts, then its final state
//! (`--state from-job` reads the CI's result). Each report updates the same deployment record
//! and the same remote links; a comment is posted once, when the deploy has shipped.

use crate::ci_command::ci;
use crate::support;

use std::process::Output;

use jira_sandbox::{Fault, FaultAction, Options, Sandbox, State};
use serde_json::Value;
use support::TestRepo;

const PROJECT: &str = "version: 1
repository: acme/shop
repo_url: https://gitlab.example.com/acme/shop
default_tracker: acme
projects:
  shop:
    keys: { projects: [WEB] }
    environments:
      production: { refs: [refs/heads/main], type: production }
    actions: [remote-link, deployment, comment]
";

struct Fixture {
    repo: TestRepo,
    jira: Sandbox,
    trackers: std::path::PathBuf,
    /// The variables of a GitLab pipeline that deploys WEB-2 and WEB-3 (pipeline 41).
    gitlab: Vec<(&'static str, String)>,
}

fn fixture() -> Fixture {
    let jira = Sandbox::start(Options::default()).unwrap();
    let repo = TestRepo::new();
    repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink");
    let before = repo.commit("WEB-1: change 1");
    repo.commit("WEB-2: change 2");
    let head = repo.commit("WEB-3: change 3");
    let url = jira.url();
    let trackers = support::jira::write_trackers(
        repo.path(),
        &url,
        &format!("    deployments: {{ client_id_env: JIRA_USER, client_secret_env: JIRA_API_TOKEN, api_url: {url}, token_url: {url}/oauth/token }}\n"),
    );
    let gitlab = vec![
        ("GITLAB_CI", "true".to_owned()),
        ("CI_COMMIT_SHA", head),
        ("CI_COMMIT_BEFORE_SHA", before),
        ("CI_COMMIT_BRANCH", "main".to_owned()),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.example.com/acme/shop/-/pipelines/9041".to_owned(),
        ),
        ("CI_PIPELINE_IID", "41".to_owned()),
        (
            "CI_PROJECT_URL",
            "https://gitlab.example.com/acme/shop".to_owned(),
        ),
    ];
    Fixture {
        repo,
        jira,
        trackers,
        gitlab,
    }
}

impl Fixture {
    /// `deploylink ci` in the GitLab job, with `extra` variables (`CI_JOB_STATUS`).
    fn run(&self, extra: &[(&'static str, &str)], args: &[&str]) -> Output {
        let mut vars: Vec<(&str, &str)> =
            self.gitlab.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend_from_slice(extra);
        ci(self.repo.path(), &self.trackers, &vars, args)
    }

    fn report(&self, extra: &[(&'static str, &str)], args: &[&str]) -> Value {
        let output = self.run(extra, args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// The one deployment record, its state and `updateSequenceNumber`, after checking that the
/// sandbox refused nothing and holds exactly one record for pipeline 41.
fn the_record(state: &State) -> (String, i64) {
    assert!(state.rejected.is_empty(), "{:#?}", state.rejected);
    assert_eq!(state.deployments.len(), 1, "{:#?}", state.deployments);
    let record = &state.deployments[0];
    assert_eq!(record.pipeline_id, "acme/shop/shop");
    assert_eq!(record.environment_id, "production");
    assert_eq!(record.deployment_sequence_number, 41);
    assert_eq!(record.issue_keys, ["WEB-2", "WEB-3"]);
    (
        record.data["state"].as_str().unwrap().to_owned(),
        record.update_sequence_number,
    )
}

/// Each of WEB-2 and WEB-3 has one remote link, resolved as given.
fn assert_links(state: &State, resolved: bool) {
    for key in ["WEB-2", "WEB-3"] {
        let links = state.remote_links(key);
        assert_eq!(links.len(), 1, "{key}: {links:#?}");
        assert_eq!(
            links[0]["object"]["status"]["resolved"], resolved,
            "{key}: {:#}",
            links[0]
        );
    }
    assert!(state.remote_links("WEB-1").is_empty(), "outside the range");
}

fn comments(state: &State) -> [usize; 2] {
    ["WEB-2", "WEB-3"].map(|key| state.comments(key).len())
}

#[test]
fn in_progress_then_failed_then_a_successful_rerun_update_one_record() {
    let f = fixture();

    // The job starts.
    let report = f.report(&[], &["--state", "in_progress"]);
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    let state = f.jira.state();
    let (record_state, first) = the_record(&state);
    assert_eq!(record_state, "in_progress");
    assert_links(&state, false);
    assert_eq!(comments(&state), [0, 0], "in_progress posts no comment");

    // The deploy fails; after_script reports the job's result.
    f.report(&[("CI_JOB_STATUS", "failed")], &["--state", "from-job"]);
    let state = f.jira.state();
    let (record_state, second) = the_record(&state);
    assert_eq!(record_state, "failed");
    assert!(second > first, "{second} > {first}");
    assert_links(&state, false);
    assert_eq!(comments(&state), [0, 0], "a failed deploy posts no comment");

    // The job is retried (same pipeline) and the deploy succeeds.
    f.report(&[], &["--state", "in_progress"]);
    f.report(&[("CI_JOB_STATUS", "success")], &["--state", "from-job"]);
    let state = f.jira.state();
    let (record_state, third) = the_record(&state);
    assert_eq!(record_state, "successful");
    assert!(third > second, "{third} > {second}");
    assert_links(&state, true);
    assert_eq!(comments(&state), [1, 1], "one comment once it shipped");

    // Reported again: nothing new.
    f.report(&[("CI_JOB_STATUS", "success")], &["--state", "from-job"]);
    let state = f.jira.state();
    assert_eq!(the_record(&state).0, "successful");
    assert_links(&state, true);
    assert_eq!(
        comments(&state),
        [1, 1],
        "a comment is posted once per deploy"
    );
}

#[test]
fn a_cancelled_job_ends_the_deploy_cancelled() {
    let f = fixture();
    f.report(&[], &["--state", "in_progress"]);
    f.report(&[("CI_JOB_STATUS", "canceled")], &["--state", "from-job"]);
    let state = f.jira.state();
    assert_eq!(the_record(&state).0, "cancelled");
    assert_links(&state, false);
    assert_eq!(comments(&state), [0, 0]);
}

/// A deploy left `in_progress` (the runner died before after_script) is ended by hand,
/// outside CI, with the run's number: the same record.
#[test]
fn a_deploy_left_in_progress_is_ended_by_hand_with_the_run_number() {
    let f = fixture();
    f.report(&[], &["--state", "in_progress"]);
    let before = &f.gitlab[2].1;
    let output = ci(
        f.repo.path(),
        &f.trackers,
        &[],
        &[
            "--state",
            "cancelled",
            "--run-number",
            "41",
            "--from",
            before,
            "--environment",
            "production",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state = f.jira.state();
    assert_eq!(the_record(&state).0, "cancelled");
    assert_links(&state, false);
}

#[test]
fn from_job_without_a_result_is_a_usage_error_naming_what_it_read() {
    let f = fixture();
    let output = f.run(&[], &["--state", "from-job"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "--state from-job: no job result: DEPLOYLINK_JOB_STATUS or CI_JOB_STATUS is not set (GitLab CI)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: GitLab sets CI_JOB_STATUS in after_script"),
        "{stderr}"
    );
    // `running` is what GitLab says in `script`: too early.
    let output = f.run(&[("CI_JOB_STATUS", "running")], &["--state", "from-job"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("CI_JOB_STATUS is 'running'"), "{stderr}");
    let state = f.jira.state();
    assert!(
        state.deployments.is_empty(),
        "nothing is sent on a usage error"
    );
    assert!(state.issues.is_empty(), "{:#?}", state.issues);
}

/// GitHub passes `job.status` through DEPLOYLINK_JOB_STATUS (the action's `job-status`
/// input); Bitbucket's after-script has BITBUCKET_EXIT_CODE.
#[test]
fn github_and_bitbucket_results_reach_the_record() {
    let f = fixture();
    let head = f.gitlab[1].1.clone();
    let github = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SHA", head.as_str()),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_RUN_NUMBER", "41"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_RUN_ID", "555"),
    ];
    let before = f.gitlab[2].1.clone();
    let run = |vars: &[(&str, &str)]| {
        let output = ci(
            f.repo.path(),
            &f.trackers,
            vars,
            &["--state", "from-job", "--from", &before],
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let mut vars = github.to_vec();
    vars.push(("DEPLOYLINK_JOB_STATUS", "failure"));
    run(&vars);
    assert_eq!(the_record(&f.jira.state()).0, "failed");
    let bitbucket = [
        ("BITBUCKET_BUILD_NUMBER", "41"),
        ("BITBUCKET_COMMIT", head.as_str()),
        ("BITBUCKET_BRANCH", "main"),
        ("BITBUCKET_EXIT_CODE", "0"),
    ];
    run(&bitbucket);
    let state = f.jira.state();
    assert_eq!(the_record(&state).0, "successful");
    assert_links(&state, true);
    assert_eq!(comments(&state), [1, 1]);
}

/// Jira is down for both reports of a deploy, so both wait in the spool: the final one
/// replaces the start that waited for the same write, and `retry` delivers the final state.
#[test]
fn a_final_state_waiting_in_the_spool_replaces_the_start_waiting_there() {
    let f = fixture();
    let spool = f.repo.path().join(".git/lifecycle-spool");
    let spool_arg = spool.to_str().unwrap();
    f.jira.push_fault(Fault {
        method: None,
        path_prefix: None,
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: vec![],
            body: String::new(),
        },
    });
    let down = ["--spool", spool_arg, "--budget", "1s", "--on-error", "warn"];
    let report = f.report(&[], &[&["--state", "in_progress"][..], &down].concat());
    assert!(
        report["summary"]["spooled"].as_u64() > Some(0),
        "{report:#}"
    );
    let report = f.report(
        &[("CI_JOB_STATUS", "failed")],
        &[&["--state", "from-job"][..], &down].concat(),
    );
    assert!(
        report["summary"]["spooled"].as_u64() > Some(0),
        "{report:#}"
    );
    f.jira.clear_faults();
    let output = support::cli::command()
        .current_dir(f.repo.path())
        .args(["retry", "--spool", spool_arg, "--trackers"])
        .arg(&f.trackers)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state = f.jira.state();
    assert_eq!(
        the_record(&state).0,
        "failed",
        "the final state, not the start"
    );
    assert_links(&state, false);
    assert_eq!(comments(&state), [0, 0]);
}
