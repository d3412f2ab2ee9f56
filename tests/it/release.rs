//! The `fix-version` and `transition` actions against the sandbox Jira, which checks every
//! body against Atlassian's OpenAPI schemas and imitates projects, versions, a workflow (with a
//! backwards "Reopen"), permissions and edit screens.

use crate::support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use jira_sandbox::{Fault, FaultAction, Options, Sandbox, Setup};
use serde_json::Value;
use support::TestRepo;

const PATH_TO_DONE: &str = "[In Progress, In Review, Done]";

struct Fixture {
    /// Requests before this index are left out of the counts (see `forget_requests`).
    since: std::cell::Cell<usize>,
    repo: TestRepo,
    sandbox: Sandbox,
    trackers: PathBuf,
    base: String,
}

/// A repository whose tag `v1.2` ships WEB-1, WEB-2 and OPS-3 since `base`, with `actions`
/// and the `extra` project fields (indented four spaces), and a tracker of `kind`.
fn fixture(actions: &str, extra: &str, kind: &str, setup: Setup) -> Fixture {
    let sandbox = Sandbox::start(Options {
        setup,
        ..Options::default()
    })
    .expect("start the sandbox");
    let repo = TestRepo::new();
    let project = format!(
        "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys: {{ projects: [WEB, OPS] }}
    environments:
      production: {{ refs: [\"refs/tags/v*\"], type: production }}
      staging: {{ refs: [\"refs/heads/release/*\"], type: staging }}
    actions: [{actions}]
{extra}"
    );
    repo.commit_file(".deploylink.yml", &project, "Add deploylink configuration");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.commit("WEB-1: first feature");
    repo.commit("WEB-2: second feature");
    repo.commit("OPS-3 pin the image");
    repo.git(&["tag", "v1.2"]);
    repo.git(&["branch", "release/1.2"]);
    let user = if kind == "jira-cloud" {
        "user_env: JIRA_USER, "
    } else {
        ""
    };
    let trackers = repo.path().join(".git/trackers.yml");
    std::fs::write(
        &trackers,
        format!(
            "version: 1\ntrackers:\n  acme:\n    kind: {kind}\n    url: {}\n    auth: {{ {user}token_env: JIRA_API_TOKEN }}\n",
            sandbox.url()
        ),
    )
    .unwrap();
    Fixture {
        since: std::cell::Cell::new(0),
        repo,
        sandbox,
        trackers,
        base,
    }
}

fn cloud(actions: &str, extra: &str) -> Fixture {
    fixture(actions, extra, "jira-cloud", Setup::default())
}

impl Fixture {
    /// `deploylink link` of `to` (`v1.2` deploys to production, `release/1.2` to staging).
    fn link(&self, to: &str, extra: &[&str]) -> Output {
        self.command("link", to, extra)
    }

    fn command(&self, command: &str, to: &str, extra: &[&str]) -> Output {
        support::cli::command()
            .arg(command)
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(["--from", &self.base, "--to", to])
            .args(extra)
            .env("JIRA_USER", "ci@example.com")
            .env("JIRA_API_TOKEN", "sandbox-token-1")
            .output()
            .expect("run deploylink")
    }

    fn link_json(&self, to: &str) -> Value {
        let output = self.link(to, &["--format", "json"]);
        json(&output)
    }

    /// Counts only the requests received from now on.
    fn forget_requests(&self) {
        self.since.set(self.sandbox.requests().len());
    }

    fn recent(&self) -> Vec<jira_sandbox::RecordedRequest> {
        self.sandbox.requests().split_off(self.since.get())
    }

    /// Requests received, by method.
    fn count(&self, method: &str) -> usize {
        self.recent().iter().filter(|r| r.method == method).count()
    }

    fn requests_like(&self, method: &str, part: &str) -> usize {
        self.recent()
            .iter()
            .filter(|r| r.method == method && r.path.contains(part))
            .count()
    }

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

/// The outcome of `action` for `key` in the first deploy: (result, reason).
fn action_of(report: &Value, key: &str, action: &str) -> (String, String) {
    let issue = report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {report:#}"));
    let found = issue["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == action)
        .unwrap_or_else(|| panic!("no {action} for {key} in {issue:#}"));
    (
        found["result"].as_str().unwrap().to_owned(),
        found["reason"].as_str().unwrap_or("").to_owned(),
    )
}

fn setup(denied: &[(&str, &str)], off_screen: &[(&str, &str)]) -> Setup {
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    Setup {
        denied: pairs(denied),
        off_screen: pairs(off_screen),
    }
}

#[test]
fn a_tag_deploy_makes_one_version_per_project_and_keeps_other_versions() {
    let f = cloud("remote-link, fix-version", "");
    // WEB-1 already has another version, made by hand in Jira.
    let first = f.link("v1.2", &["--format", "json"]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let state = f.sandbox.state();
    let mut versions: Vec<(String, String)> = state
        .versions
        .iter()
        .map(|v| (v.project.clone(), v.name.clone()))
        .collect();
    versions.sort();
    assert_eq!(
        versions,
        [("OPS".into(), "v1.2".into()), ("WEB".into(), "v1.2".into())]
    );
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        assert_eq!(state.fix_version_names(key), ["v1.2"], "{key}");
        assert_eq!(action_of(&json(&first), key, "fix-version").0, "linked");
    }
    // Lookups once per project, one project read and one create per project, and per
    // issue one read and one edit.
    assert_eq!(f.requests_like("GET", "/version?query="), 2);
    assert_eq!(f.requests_like("POST", "/rest/api/3/version"), 2);
    assert_eq!(f.requests_like("GET", "fields=fixVersions"), 3);
    assert_eq!(f.requests_like("PUT", "/rest/api/3/issue/"), 3);
    f.assert_nothing_rejected();
}

#[test]
fn an_issue_keeps_its_other_versions() {
    let f = cloud("fix-version", "    fix_version: { name: \"{tag}\" }\n");
    // A first deploy with another name puts WEB-1 in `hotfix-{tag}`.
    let hotfix = f.repo.path().join("hotfix.yml");
    let config = f
        .repo
        .git(&["show", "HEAD:.deploylink.yml"])
        .replace("name: \"{tag}\"", "name: \"hotfix-{tag}\"");
    std::fs::write(&hotfix, config).unwrap();
    let out = f.link("v1.2", &["--config", hotfix.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = f.link("v1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = f.sandbox.state();
    assert_eq!(state.fix_version_names("WEB-1"), ["hotfix-v1.2", "v1.2"]);
    f.assert_nothing_rejected();
}

#[test]
fn a_second_run_of_the_same_deploy_only_reads() {
    let f = cloud(
        "fix-version, transition",
        &format!("    transition:\n      production: {{ to: {PATH_TO_DONE} }}\n"),
    );
    let first = f.link("v1.2", &[]);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let writes = f.count("POST") + f.count("PUT");
    // 2 versions created and released, 3 issue edits, 3 issues x 3 transitions.
    assert_eq!(writes, 2 + 2 + 3 + 9);
    f.forget_requests();
    let again = f.link_json("v1.2");
    assert_eq!(f.count("POST") + f.count("PUT"), 0, "{:#?}", f.recent());
    // Lookups once per project; one read per issue for each action.
    assert_eq!(f.count("GET"), 2 + 3 + 3);
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        let (result, reason) = action_of(&again, key, "transition");
        assert_eq!(
            (result.as_str(), reason.as_str()),
            ("updated", "already Done")
        );
        let (result, reason) = action_of(&again, key, "fix-version");
        assert_eq!(result, "updated");
        assert_eq!(reason, "already in version \"v1.2\"");
    }
}

#[test]
fn a_production_deploy_releases_the_version_with_its_date() {
    let f = cloud("fix-version", "");
    let out = f.link("v1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let today = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    for v in f.sandbox.state().versions {
        assert!(v.released, "{v:?}");
        assert_eq!(v.release_date.as_deref(), Some(&today[..10]));
    }
    // A staging deploy of every commit (`on: every-deploy`) does not release.
    let g = cloud(
        "fix-version",
        "    fix_version: { name: \"next\", on: every-deploy }\n",
    );
    let out = g.link("release/1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions = g.sandbox.state().versions;
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().all(|v| !v.released && v.name == "next"));
    g.assert_nothing_rejected();
}

#[test]
fn a_version_that_exists_is_found_not_created() {
    let f = cloud("fix-version", "    fix_version: { release_on: [] }\n");
    let first = f.link("v1.2", &[]);
    assert_eq!(first.status.code(), Some(0));
    f.forget_requests();
    // Another deploy of the same tag from a new run: found by name (the query also finds
    // `v1.2.1`, which is not it).
    f.repo.commit("WEB-4: later");
    f.repo.git(&["tag", "v1.2.1"]);
    let out = f.link("v1.2", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(f.requests_like("POST", "/version"), 0);
    assert_eq!(f.sandbox.state().versions.len(), 2);
}

#[test]
fn data_center_uses_rest_2_and_the_unpaged_version_list() {
    let f = fixture(
        "fix-version, transition",
        "    transition:\n      production: { to: Done }\n",
        "jira-data-center",
        Setup::default(),
    );
    f.sandbox.set_status("WEB-1", "In Review");
    let report = f.link_json("v1.2");
    assert_eq!(
        f.requests_like("GET", "/rest/api/2/project/WEB/versions"),
        1
    );
    assert_eq!(f.requests_like("POST", "/rest/api/2/version"), 2);
    assert_eq!(f.requests_like("PUT", "/rest/api/2/issue/WEB-1"), 1);
    assert_eq!(
        f.requests_like("POST", "/rest/api/2/issue/WEB-1/transitions"),
        1
    );
    assert!(f
        .sandbox
        .requests()
        .iter()
        .all(|r| !r.path.starts_with("/rest/api/3")));
    assert_eq!(action_of(&report, "WEB-1", "transition").0, "linked");
    // WEB-2 is at To Do, and To Do has no transition to Done.
    let (result, reason) = action_of(&report, "WEB-2", "transition");
    assert_eq!(result, "rejected");
    assert_eq!(
        reason,
        "no transition from To Do to Done; the transitions open to WEB-2 were: Start work (-> In Progress)"
    );
    f.assert_nothing_rejected();
}

#[test]
fn an_issue_moves_along_the_path_from_where_it_is() {
    let f = cloud(
        "transition",
        &format!("    transition:\n      production: {{ to: {PATH_TO_DONE} }}\n"),
    );
    f.sandbox.set_status("WEB-2", "In Review");
    let report = f.link_json("v1.2");
    let (result, reason) = action_of(&report, "WEB-1", "transition");
    assert_eq!(result, "linked");
    assert_eq!(reason, "To Do -> In Progress -> In Review -> Done");
    assert_eq!(
        action_of(&report, "WEB-2", "transition").1,
        "In Review -> Done"
    );
    let state = f.sandbox.state();
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        assert_eq!(state.issues[key].status.as_deref(), Some("Done"), "{key}");
    }
    // WEB-1: 1 status read + 3 hops x 2; WEB-2: 1 + 2.
    assert_eq!(f.requests_like("GET", "WEB-1"), 4);
    assert_eq!(f.requests_like("POST", "WEB-1"), 3);
    assert_eq!(f.requests_like("GET", "WEB-2"), 2);
    f.assert_nothing_rejected();
}

#[test]
fn a_staging_deploy_never_reopens_a_done_issue() {
    let f = cloud(
        "transition",
        "    transition:\n      staging: { to: In QA }\n      production: { to: Done }\n",
    );
    f.sandbox.set_status("WEB-1", "Done");
    f.sandbox.set_status("WEB-2", "In Progress");
    let report = f.link_json("release/1.2");
    let (result, reason) = action_of(&report, "WEB-1", "transition");
    assert_eq!(result, "updated");
    assert_eq!(
        reason,
        "already Done (a done status): not moved back to In QA"
    );
    assert_eq!(action_of(&report, "WEB-2", "transition").0, "linked");
    let state = f.sandbox.state();
    assert_eq!(state.issues["WEB-1"].status.as_deref(), Some("Done"));
    assert_eq!(state.issues["WEB-2"].status.as_deref(), Some("In QA"));
    // Nothing asked for WEB-1's transitions: Reopen was never even listed.
    assert_eq!(f.requests_like("GET", "WEB-1/transitions"), 0);
    assert_eq!(f.requests_like("POST", "WEB-1/transitions"), 0);
}

#[test]
fn missing_screen_fields_are_named_and_other_issues_go_on() {
    let f = cloud(
        "remote-link, transition",
        "    transition:\n      production: { to: [In Review, Done] }\n",
    );
    f.sandbox.require_fields("Done", &["resolution"]);
    for key in ["WEB-1", "WEB-2", "OPS-3"] {
        f.sandbox.set_status(key, "In Progress");
    }
    let output = f.link("v1.2", &["--format", "json"]);
    // A rejected transition is reported, not spooled: the run itself succeeds.
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let (result, reason) = action_of(&report, "WEB-1", "transition");
    assert_eq!(result, "rejected");
    assert!(
        reason.starts_with("moved In Progress -> In Review; then: 400 Bad Request: resolution: resolution is required."),
        "{reason}"
    );
    assert!(reason.contains("transition.production.fields"), "{reason}");
    assert_eq!(action_of(&report, "OPS-3", "remote-link").0, "linked");
    assert_eq!(
        f.sandbox.state().issues["OPS-3"].status.as_deref(),
        Some("In Review")
    );
    // With the field, the same deploy finishes the path.
    let g = cloud(
        "transition",
        "    transition:\n      production: { to: [In Review, Done], fields: { resolution: { name: Done } } }\n",
    );
    g.sandbox.require_fields("Done", &["resolution"]);
    g.sandbox.set_status("WEB-1", "In Progress");
    let report = g.link_json("v1.2");
    assert_eq!(action_of(&report, "WEB-1", "transition").0, "linked");
    g.assert_nothing_rejected();
}

#[test]
fn a_permission_the_account_lacks_is_reported_per_project_and_issue() {
    let f = fixture(
        "remote-link, fix-version, transition",
        "    transition:\n      production: { to: In Progress }\n",
        "jira-cloud",
        setup(
            &[("WEB", "ADMINISTER_PROJECTS"), ("OPS", "TRANSITION_ISSUES")],
            &[],
        ),
    );
    let output = f.link("v1.2", &["--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = json(&output);
    let (result, reason) = action_of(&report, "WEB-1", "fix-version");
    assert_eq!(result, "rejected");
    assert!(
        reason.starts_with("cannot create version \"v1.2\" in project WEB: 403 Forbidden:"),
        "{reason}"
    );
    assert!(reason.contains("give the account Administer Projects in project WEB, or create version \"v1.2\" in project WEB by hand"), "{reason}");
    // The 403 did not stop the tracker: OPS got its version, WEB its transitions.
    assert_eq!(action_of(&report, "OPS-3", "fix-version").0, "linked");
    assert_eq!(action_of(&report, "WEB-2", "transition").0, "linked");
    assert_eq!(action_of(&report, "WEB-2", "remote-link").0, "linked");
    let (result, reason) = action_of(&report, "OPS-3", "transition");
    assert_eq!(result, "rejected");
    assert!(
        reason.contains("Transition Issues in project OPS"),
        "{reason}"
    );
    // One try to create WEB's version, not one per issue.
    assert_eq!(f.requests_like("POST", "/rest/api/3/version"), 2);
}

#[test]
fn fix_versions_off_the_edit_screen_is_a_clear_rejection() {
    let f = fixture(
        "fix-version",
        "",
        "jira-cloud",
        setup(&[], &[("OPS", "fixVersions")]),
    );
    let report = f.link_json("v1.2");
    let (result, reason) = action_of(&report, "OPS-3", "fix-version");
    assert_eq!(result, "rejected");
    assert!(
        reason.contains(
            "Field 'fixVersions' cannot be set. It is not on the appropriate screen, or unknown."
        ),
        "{reason}"
    );
    assert!(
        reason.contains("add the Fix versions field to the edit screen of project OPS"),
        "{reason}"
    );
    assert_eq!(action_of(&report, "WEB-1", "fix-version").0, "linked");
}

#[test]
fn rate_limits_and_server_errors_are_retried_and_a_spooled_delivery_resumes() {
    let f = cloud(
        "fix-version, transition",
        &format!("    transition:\n      production: {{ to: {PATH_TO_DONE} }}\n"),
    );
    f.sandbox.push_fault(Fault {
        method: Some("POST".into()),
        path_prefix: Some("/rest/api/3/issue/WEB-1/transitions".into()),
        times: Some(1),
        probability: 1.0,
        action: FaultAction::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "0".into())],
            body: String::new(),
        },
    });
    f.sandbox.push_fault(Fault {
        method: Some("PUT".into()),
        path_prefix: Some("/rest/api/3/issue/WEB-2".into()),
        times: Some(1),
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: Vec::new(),
            body: String::new(),
        },
    });
    let out = f.link("v1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state = f.sandbox.state();
    assert_eq!(state.issues["WEB-1"].status.as_deref(), Some("Done"));
    assert_eq!(state.fix_version_names("WEB-2"), ["v1.2"]);

    // Jira down for good: the deliveries wait in the spool; `retry` resumes them, reading
    // first, so nothing is written twice.
    let g = cloud(
        "fix-version, transition",
        &format!("    transition:\n      production: {{ to: {PATH_TO_DONE} }}\n"),
    );
    g.sandbox.set_status("WEB-1", "In Progress");
    g.sandbox.push_fault(Fault {
        method: Some("POST".into()),
        path_prefix: Some("/rest/api/3/issue/WEB-1/transitions".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: vec![("Retry-After".into(), "0".into())],
            body: String::new(),
        },
    });
    let spool = g.repo.path().join(".git/spool-test");
    let spool_arg = spool.to_str().unwrap();
    let out = g.link(
        "v1.2",
        &["--spool", spool_arg, "--budget", "3s", "--on-error", "warn"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spooled: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    g.sandbox.clear_faults();
    let retry = support::cli::command()
        .args(["retry", "--spool", spool_arg, "--trackers"])
        .arg(&g.trackers)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "sandbox-token-1")
        .output()
        .unwrap();
    assert_eq!(
        retry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    assert_eq!(
        g.sandbox.state().issues["WEB-1"].status.as_deref(),
        Some("Done")
    );
    assert_eq!(g.sandbox.state().versions.len(), 2);
}

#[test]
fn a_version_name_that_renders_empty_or_too_long_is_a_config_error() {
    let f = cloud(
        "fix-version",
        "    fix_version: { name: \"{branch}\", on: every-deploy }\n",
    );
    let out = f.link("v1.2", &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".deploylink.yml at ") && stderr.contains(":11:26:") &&
        stderr.contains("projects.shop.fix_version.name: the version name \"{branch}\" renders empty for this deploy"),
        "{stderr}"
    );
    assert_eq!(f.count("GET") + f.count("POST"), 0);
    let long = "x".repeat(251);
    let g = cloud(
        "fix-version",
        &format!("    fix_version: {{ name: \"{long}-{{tag}}\" }}\n"),
    );
    let out = g.link("v1.2", &[]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("renders longer than 255 characters"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: Jira takes version names of 1 to 255 characters"),
        "{stderr}"
    );
}

#[test]
fn plan_shows_the_reads_and_the_conditional_writes() {
    let f = cloud(
        "fix-version, transition",
        "    fix_version: { release_on: [] }\n    transition:\n      production: { to: [In Review, Done] }\n",
    );
    let out = f.command("plan", "v1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).replace(&f.sandbox.url(), "http://JIRA");
    let to = f.repo.git(&["rev-parse", "v1.2"]);
    let text = text.replace(&to, "TOSHA").replace(&to[..7], "TOSHA");
    let text = text
        .replace(&f.base, "BASESHA")
        .replace(&f.base[..7], "BASESHA");
    let expected = include_str!("release_plan.txt");
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/release_plan.txt"),
            &text,
        )
        .unwrap();
    } else {
        assert_eq!(text, expected);
    }
    assert_eq!(f.sandbox.requests().len(), 0);
}

/// stderr of `link` with the sandbox URL and the commit id made stable.
fn config_error(actions: &str, extra: &str) -> String {
    let f = cloud(actions, extra);
    let out = f.link("v1.2", &[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(f.sandbox.requests().len(), 0);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let short = &f.repo.git(&["rev-parse", "v1.2"])[..7];
    stderr.replace(short, "SHA")
}

#[test]
fn release_configuration_errors_name_the_line_and_the_fix() {
    snapbox::assert_data_eq!(
        config_error("transition", "    transition:\n      prod: { to: Done }\n"),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:12:7: projects.shop.transition.prod: `prod` is not one of the project's environments
  hint: name one of: production, staging

"#]]
    );
    snapbox::assert_data_eq!(
        config_error(
            "transition",
            "    transition:\n      production: { to: [] }\n"
        ),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:12:25: projects.shop.transition.production.to: `to` lists 0 statuses
  hint: name the target status, or a path of 1 to 5 statuses ending with it

"#]]
    );
    snapbox::assert_data_eq!(
        config_error(
            "remote-link",
            "    transition:\n      production: { to: Done }\n"
        ),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:11:5: projects.shop.transition: `transition` is set but `actions` does not list `transition`
  hint: add `transition` to `actions`, or remove `transition`

"#]]
    );
    snapbox::assert_data_eq!(
        config_error("remote-link, transition", ""),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:10:28: projects.shop.actions[1]: `transition` needs a `transition:` section: the status to move issues to, per environment
  hint: add, for example, `transition: { production: { to: Done } }`

"#]]
    );
    snapbox::assert_data_eq!(
        config_error("fix-version", "    fix_version: { name: \"\" }\n"),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:11:26: projects.shop.fix_version.name: the version name "" renders empty
  hint: Jira takes version names of 1 to 255 characters: use placeholders this deploy has (`{tag}` only on tag deploys)

"#]]
    );
    snapbox::assert_data_eq!(
        config_error("fix-version", "    fix_version: { release_on: [prod] }\n"),
        snapbox::str![[r#"
error: .deploylink.yml at SHA:11:33: projects.shop.fix_version.release_on[0]: `prod` is not one of the project's environments
  hint: name one of: production, staging

"#]]
    );
}

#[test]
fn a_version_past_the_first_page_is_found_not_created() {
    // 60 versions of WEB match the query `v1.2` before `v1.2` itself: the lookup pages on.
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let mut versions: Vec<Value> = (0..60)
        .map(|i| {
            serde_json::json!({"id": (20_000 + i).to_string(), "project": "WEB",
                "name": format!("v1.2.{i}"), "released": true})
        })
        .collect();
    versions.push(serde_json::json!({"id": "30000", "project": "WEB", "name": "v1.2"}));
    std::fs::write(
        &state_file,
        serde_json::json!({"versions": versions}).to_string(),
    )
    .unwrap();
    let mut f = cloud("fix-version", "    fix_version: { release_on: [] }\n");
    f.sandbox = Sandbox::start(Options {
        state_file: Some(state_file),
        ..Options::default()
    })
    .unwrap();
    std::fs::write(
        &f.trackers,
        format!(
            "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n",
            f.sandbox.url()
        ),
    )
    .unwrap();
    let report = f.link_json("v1.2");
    assert_eq!(action_of(&report, "WEB-1", "fix-version").0, "linked");
    assert_eq!(
        f.requests_like("GET", "/project/WEB/version?query=v1.2&startAt="),
        2
    );
    // One version created: OPS's.
    assert_eq!(f.requests_like("POST", "/rest/api/3/version"), 1);
    assert!(f
        .recent()
        .iter()
        .all(|r| r.path != "/rest/api/3/project/WEB"));
    let state = f.sandbox.state();
    assert_eq!(state.fix_version_names("WEB-1"), ["v1.2"]);
    // Only OPS's version was created.
    assert_eq!(state.versions.len(), 62);
    f.assert_nothing_rejected();
}
