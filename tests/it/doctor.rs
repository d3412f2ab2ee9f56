//! `deploylink doctor` against the sandbox Jira: one line per check with its fix, and the exit
//! code: 0 when nothing fails, 3 when Jira's answers show a problem, 4 when Jira cannot be
//! reached.

use crate::support;

use std::path::PathBuf;
use std::process::Output;

use jira_sandbox::{Credentials, IssuePolicy, Options, Sandbox, Setup};
use serde_json::Value;
use support::TestRepo;

struct Fixture {
    repo: TestRepo,
    // Kept alive for the test's runs.
    _sandbox: Option<Sandbox>,
    trackers: PathBuf,
}

/// A repository whose project `shop` links issues of WEB and `keys`, with commits naming
/// WEB-4 and OPS-2, and a trackers file of `kind` for a sandbox started with `options`.
fn fixture(kind: &str, jira_keys: &str, options: Options) -> Fixture {
    let sandbox = Sandbox::start(options).expect("start the sandbox");
    let url = sandbox.url();
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        &format!(
            "version: 1
default_tracker: acme
repository: acme/shop
projects:
  shop:
    keys: {{ projects: [{jira_keys}] }}
    environments:
      production: {{ refs: [refs/heads/main], type: production }}
"
        ),
        "Add deploylink configuration",
    );
    repo.commit("WEB-4 checkout");
    repo.commit("OPS-2 alerts");
    let trackers = support::jira::write_trackers_of_kind(repo.path(), kind, &url);
    Fixture {
        repo,
        _sandbox: Some(sandbox),
        trackers,
    }
}

impl Fixture {
    fn doctor(&self, args: &[&str]) -> Output {
        let mut command = support::cli::command();
        command
            .arg("doctor")
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(args)
            .env("JIRA_USER", "ci@example.com")
            .env("JIRA_API_TOKEN", "token-1");
        support::cli::run(command, b"", std::time::Duration::from_secs(60)).output
    }
}

fn stdout(output: &Output) -> String {
    support::cli::text(&output.stdout)
}

fn fail_lines(output: &Output) -> Vec<String> {
    stdout(output)
        .lines()
        .filter(|l| l.starts_with("fail"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_check_passes_on_a_site_that_allows_everything() {
    let f = fixture("jira-cloud", "WEB, OPS", Options::default());
    let output = f.doctor(&["--also", "fix-version", "--also", "transition"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout(&output),
        "ok    tracker acme  credentials: connected as Sandbox User
ok    shop WEB  project: Jira project WEB exists
ok    shop WEB  permission: Browse Projects in WEB (every action)
ok    shop WEB  permission: Link Issues in WEB (remote-link)
ok    shop WEB  permission: Edit Issues in WEB (fix-version)
ok    shop WEB  permission: Administer Projects in WEB (fix-version, to create versions)
ok    shop WEB  permission: Transition Issues in WEB (transition)
ok    shop WEB  edit screen: Fix versions is on the edit screen of WEB (seen on WEB-4)
ok    shop OPS  project: Jira project OPS exists
ok    shop OPS  permission: Browse Projects in OPS (every action)
ok    shop OPS  permission: Link Issues in OPS (remote-link)
ok    shop OPS  permission: Edit Issues in OPS (fix-version)
ok    shop OPS  permission: Administer Projects in OPS (fix-version, to create versions)
ok    shop OPS  permission: Transition Issues in OPS (transition)
ok    shop OPS  edit screen: Fix versions is on the edit screen of OPS (seen on OPS-2)
15 ok, 0 warn, 0 fail
"
    );
}

#[test]
fn data_center_finds_a_recent_issue_in_jira_when_no_commit_names_one() {
    let f = fixture(
        "jira-data-center",
        "WEB, PAY",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-4".into(), "PAY-9".into()]),
            ..Options::default()
        },
    );
    let output = f.doctor(&["--also", "fix-version", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let screens: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "edit screen")
        .map(|c| c["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        screens,
        [
            "Fix versions is on the edit screen of WEB (seen on WEB-4)",
            "Fix versions is on the edit screen of PAY (seen on PAY-9)"
        ]
    );
    assert_eq!(report["summary"]["fail"], 0);
}

#[test]
fn a_missing_permission_is_a_failing_line_that_names_the_project_and_the_fix() {
    let mut setup = Setup::default();
    setup.denied.insert(("WEB".into(), "LINK_ISSUES".into()));
    setup
        .denied
        .insert(("OPS".into(), "ADMINISTER_PROJECTS".into()));
    let f = fixture(
        "jira-cloud",
        "WEB, OPS",
        Options {
            setup,
            ..Options::default()
        },
    );
    let output = f.doctor(&[]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        fail_lines(&output),
        ["fail  shop WEB  permission: the account lacks Link Issues in WEB, needed by remote-link; fix: ask a Jira administrator to grant the account Link Issues (LINK_ISSUES) in project WEB's permission scheme (Project settings > Permissions)"]
    );
    assert!(
        support::cli::text(&output.stderr).contains("1 of 7 checks failed"),
        "{output:?}"
    );
    // Administer Projects matters only once versions are to be created.
    let output = f.doctor(&["--also", "fix-version"]);
    assert_eq!(output.status.code(), Some(3));
    let failed = fail_lines(&output);
    assert_eq!(failed.len(), 2, "{failed:#?}");
    assert!(failed[1].starts_with("fail  shop OPS  permission: the account lacks Administer Projects in OPS, needed by fix-version, to create versions; fix: "), "{failed:#?}");
}

#[test]
fn fix_versions_off_the_edit_screen_fails_with_the_screen_to_change() {
    let mut setup = Setup::default();
    setup
        .off_screen
        .insert(("WEB".into(), "fixVersions".into()));
    let f = fixture(
        "jira-cloud",
        "WEB",
        Options {
            setup,
            ..Options::default()
        },
    );
    assert_eq!(
        f.doctor(&[]).status.code(),
        Some(0),
        "not checked without fix-version"
    );
    let output = f.doctor(&["--also", "fix-version"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        fail_lines(&output),
        ["fail  shop WEB  edit screen: Fix versions is not on the edit screen of WEB (seen on WEB-4), so fix-version cannot set it; fix: add the Fix versions field to the edit screen of project WEB (Project settings > Screens)"]
    );
}

#[test]
fn an_unknown_project_key_fails_with_the_field_to_correct() {
    let f = fixture(
        "jira-cloud",
        "WEB, NOPE",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-4".into()]),
            ..Options::default()
        },
    );
    let output = f.doctor(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1, "{report:#}");
    assert_eq!(failed[0]["jira_project"], "NOPE");
    assert_eq!(
        failed[0]["message"],
        "no Jira project NOPE, or the account cannot see it"
    );
    assert_eq!(
        failed[0]["fix"],
        "correct NOPE in projects.shop.keys.projects of .deploylink.yml, or grant the account Browse Projects in NOPE"
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"ok": 4, "warn": 0, "fail": 1})
    );
}

#[test]
fn refused_credentials_fail_once_and_stop_the_checks() {
    let f = fixture(
        "jira-cloud",
        "WEB",
        Options {
            credentials: Some(Credentials {
                user: None,
                token: "another-token".into(),
            }),
            ..Options::default()
        },
    );
    let output = f.doctor(&[]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.starts_with("fail  tracker acme  credentials: 401 Unauthorized"),
        "{text}"
    );
    assert!(
        text.contains("https://id.atlassian.com/manage-profile/security/api-tokens"),
        "{text}"
    );
    assert!(
        !text.contains("token-1"),
        "the secret is never shown: {text}"
    );
}

#[test]
fn an_unreachable_jira_exits_4() {
    let mut f = fixture("jira-cloud", "WEB", Options::default());
    f._sandbox = None;
    let output = f.doctor(&[]);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    assert!(
        stdout(&output)
            .starts_with("fail  tracker acme  credentials: cannot reach http://127.0.0.1:"),
        "{output:?}"
    );
}

#[test]
fn without_browse_projects_the_project_cannot_be_seen() {
    let mut setup = Setup::default();
    setup
        .denied
        .insert(("OPS".into(), "BROWSE_PROJECTS".into()));
    let f = fixture(
        "jira-data-center",
        "WEB, OPS",
        Options {
            setup,
            ..Options::default()
        },
    );
    let output = f.doctor(&[]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(
        fail_lines(&output),
        ["fail  shop OPS  project: no Jira project OPS, or the account cannot see it; fix: correct OPS in projects.shop.keys.projects of .deploylink.yml, or grant the account Browse Projects in OPS"]
    );
}

/// The `transition:` section of the project file is what the doctor checks: a path that names
/// a status the project's workflow lacks fails, naming the status; the others pass.
#[test]
fn a_configured_transition_path_with_an_unknown_status_fails() {
    let f = fixture("jira-cloud", "WEB", Options::default());
    f.repo.commit_file(
        ".deploylink.yml",
        "version: 1
default_tracker: acme
repository: acme/shop
projects:
  shop:
    keys: { projects: [WEB] }
    actions: [remote-link, transition]
    transition:
      production: { to: [In Review, Shipped] }
    environments:
      production: { refs: [refs/heads/main], type: production }
",
        "Move issues on deploy",
    );
    f.repo.commit("WEB-5 pay");
    let output = f.doctor(&[]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let failed = fail_lines(&output);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(failed[0].contains("Shipped"), "{failed:#?}");
    assert!(stdout(&output).contains("In Review"), "{}", stdout(&output));
}
