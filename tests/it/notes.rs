//! `deploylink notes` over real repositories against the sandbox Jira: summaries, types and
//! statuses from bulkfetch (Cloud) and search (Data Center) in batches of 100, grouping by
//! type, commits that name no issue, and notes that still list keys and subjects when Jira
//! cannot be asked.

use crate::support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;

use jira_sandbox::{Fault, FaultAction, IssueDetails, IssuePolicy, Options, Sandbox};
use serde_json::Value;
use support::TestRepo;

const PROJECT_FILE: &str = "version: 1
default_tracker: acme
repository: acme/shop
projects:
  shop:
    keys: { projects: [WEB, OPS] }
    environments:
      production: { refs: [refs/heads/main], type: production }
";

struct Fixture {
    repo: TestRepo,
    sandbox: Sandbox,
    trackers: PathBuf,
    base: String,
}

/// A repository whose `main` ships WEB-1 (twice), WEB-2, OPS-3, a commit with no key and a
/// merge-free tidy-up since `base`, and a trackers file of `kind` for a fresh sandbox.
fn fixture(kind: &str, options: Options) -> Fixture {
    let sandbox = Sandbox::start(options).expect("start the sandbox");
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        PROJECT_FILE,
        "Add deploylink configuration",
    );
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.commit("WEB-1: sign in with SSO");
    repo.commit("WEB-2 do not crash on an empty cart");
    repo.commit("Tidy up the *README* [skip ci]");
    repo.commit("OPS-3 pin the image, for WEB-1");
    let trackers = support::jira::write_trackers_of_kind(repo.path(), kind, &sandbox.url());
    Fixture {
        repo,
        sandbox,
        trackers,
        base,
    }
}

fn details() -> BTreeMap<String, IssueDetails> {
    BTreeMap::from([
        (
            "WEB-1".to_owned(),
            IssueDetails {
                summary: "Sign in with <SSO>".into(),
                issue_type: "Story".into(),
            },
        ),
        (
            "WEB-2".to_owned(),
            IssueDetails {
                summary: "Crash on an empty cart".into(),
                issue_type: "Bug".into(),
            },
        ),
        (
            "OPS-3".to_owned(),
            IssueDetails {
                summary: "Pin the base image".into(),
                issue_type: "Story".into(),
            },
        ),
    ])
}

fn with_details() -> Options {
    Options {
        details: details(),
        ..Options::default()
    }
}

impl Fixture {
    fn notes(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = support::cli::command();
        command
            .arg("notes")
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(["--from", &self.base])
            .args(args)
            .env("JIRA_USER", "ci@example.com")
            .env("JIRA_API_TOKEN", "token-1");
        for (k, v) in env {
            command.env(k, v);
        }
        support::cli::run(command, b"", std::time::Duration::from_secs(60)).output
    }

    fn requests_to(&self, prefix: &str) -> Vec<jira_sandbox::RecordedRequest> {
        self.sandbox
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }

    fn assert_nothing_rejected(&self) {
        let rejected = self.sandbox.state().rejected;
        assert!(
            rejected.is_empty(),
            "requests Jira would refuse: {rejected:#?}"
        );
    }

    fn short(&self, rev: &str) -> String {
        self.repo.git(&["rev-parse", "--short=7", rev])
    }
}

fn stdout(output: &Output) -> String {
    support::cli::text(&output.stdout)
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(output),
            support::cli::text(&output.stderr)
        )
    })
}

#[test]
fn markdown_groups_issues_by_type_with_their_commits_then_the_other_commits() {
    let f = fixture("jira-cloud", with_details());
    let output = f.notes(&["--format", "markdown"], &[]);
    assert!(output.status.success(), "{output:?}");
    let (web1, web2, tidy, ops3) = (
        f.short("HEAD~3"),
        f.short("HEAD~2"),
        f.short("HEAD~1"),
        f.short("HEAD"),
    );
    let expected = format!(
        "## Stories

- WEB-1 Sign in with \\<SSO\\> (To Do)
  - `{web1}` WEB-1: sign in with SSO
  - `{ops3}` OPS-3 pin the image, for WEB-1
- OPS-3 Pin the base image (To Do)
  - `{ops3}` OPS-3 pin the image, for WEB-1

## Bugs

- WEB-2 Crash on an empty cart (To Do)
  - `{web2}` WEB-2 do not crash on an empty cart

## Other commits

- `{tidy}` Tidy up the \\*README\\* \\[skip ci\\]
"
    );
    assert_eq!(stdout(&output), expected);
    let asked = f.requests_to("/rest/api/3/issue/bulkfetch");
    assert_eq!(asked.len(), 1, "one bulkfetch for three keys");
    f.assert_nothing_rejected();
}

#[test]
fn json_says_what_jira_said_of_each_issue() {
    let f = fixture(
        "jira-cloud",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-1".into(), "OPS-3".into()]),
            details: details(),
            ..Options::default()
        },
    );
    let output = f.notes(&["--format", "json"], &[]);
    assert!(output.status.success(), "{output:?}");
    let notes = json(&output);
    assert_eq!(notes["commits"], 4);
    assert_eq!(notes["missing"], serde_json::json!([]));
    let groups: Vec<(&str, Vec<&str>)> = notes["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let keys = g["issues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["key"].as_str().unwrap())
                .collect();
            (g["heading"].as_str().unwrap(), keys)
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("Stories", vec!["WEB-1", "OPS-3"]),
            ("Issues", vec!["WEB-2"])
        ]
    );
    let web2 = &notes["groups"][1]["issues"][0];
    assert_eq!(web2["jira"], "not_found");
    assert_eq!(web2["summary"], Value::Null);
    let web1 = &notes["groups"][0]["issues"][0];
    assert_eq!(web1["status"], "To Do");
    assert_eq!(web1["type"], "Story");
    assert_eq!(web1["commits"].as_array().unwrap().len(), 2);
    assert_eq!(
        notes["other_commits"][0]["subject"],
        "Tidy up the *README* [skip ci]"
    );
}

#[test]
fn data_center_searches_and_asks_again_without_the_keys_it_does_not_have() {
    let f = fixture(
        "jira-data-center",
        Options {
            issues: IssuePolicy::Listed(vec!["WEB-1".into(), "WEB-2".into()]),
            details: details(),
            ..Options::default()
        },
    );
    let output = f.notes(&["--format", "json"], &[]);
    assert!(output.status.success(), "{output:?}");
    let notes = json(&output);
    let searches = f.requests_to("/rest/api/2/search");
    assert_eq!(
        searches.len(),
        2,
        "the query, then again without OPS-3: {searches:#?}"
    );
    assert_eq!(searches[0].status, 400);
    assert_eq!(searches[1].status, 200);
    assert!(
        searches[1].path.contains("maxResults=100"),
        "{}",
        searches[1].path
    );
    assert!(!searches[1].path.contains("OPS-3"), "{}", searches[1].path);
    assert!(
        f.requests_to("/rest/api/3").is_empty(),
        "Data Center has no bulkfetch"
    );
    let found: Vec<&str> = notes["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["issues"].as_array().unwrap())
        .filter(|i| i["jira"] == "found")
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["WEB-1", "WEB-2"]);
}

/// 250 keys: three requests of at most 100 on either kind of Jira, and every issue found.
#[test]
fn more_than_100_keys_are_asked_in_batches_of_100() {
    for (kind, path) in [
        ("jira-cloud", "/rest/api/3/issue/bulkfetch"),
        ("jira-data-center", "/rest/api/2/search"),
    ] {
        let sandbox = Sandbox::start(Options::default()).unwrap();
        let repo = TestRepo::new();
        repo.commit_file(
            ".deploylink.yml",
            PROJECT_FILE,
            "Add deploylink configuration",
        );
        let base = repo.git(&["rev-parse", "HEAD"]);
        for chunk in (1..=250).collect::<Vec<_>>().chunks(25) {
            let keys: Vec<String> = chunk.iter().map(|n| format!("WEB-{n}")).collect();
            repo.commit(&format!("Fix {}", keys.join(" ")));
        }
        let f = Fixture {
            trackers: support::jira::write_trackers_of_kind(repo.path(), kind, &sandbox.url()),
            repo,
            sandbox,
            base,
        };
        let output = f.notes(&["--format", "json"], &[]);
        assert!(output.status.success(), "{kind}: {output:?}");
        let notes = json(&output);
        let issues: Vec<&Value> = notes["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["issues"].as_array().unwrap())
            .collect();
        assert_eq!(issues.len(), 250, "{kind}");
        assert!(issues.iter().all(|i| i["jira"] == "found"), "{kind}");
        // Types by issue number: 1 Story, 2 Bug, 3 Task, 4 Story...
        let headings: Vec<&str> = notes["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["heading"].as_str().unwrap())
            .collect();
        assert_eq!(headings, ["Stories", "Bugs", "Tasks"], "{kind}");
        let requests = f.requests_to(path);
        assert_eq!(requests.len(), 3, "{kind}: {requests:#?}");
        for request in &requests {
            let keys = request.body.matches("WEB-").count() + request.path.matches("WEB-").count();
            assert!(
                (50..=100).contains(&keys),
                "{kind}: {keys} keys in one request"
            );
        }
        f.assert_nothing_rejected();
    }
}

#[test]
fn without_credentials_the_notes_list_keys_and_subjects_and_say_what_is_missing() {
    let f = fixture("jira-cloud", with_details());
    let mut command = support::cli::command();
    command
        .arg("notes")
        .arg("--repo")
        .arg(f.repo.path())
        .arg("--trackers")
        .arg(&f.trackers)
        .args(["--from", &f.base, "--format", "markdown"])
        .env_remove("JIRA_USER")
        .env_remove("JIRA_API_TOKEN");
    let output = support::cli::run(command, b"", std::time::Duration::from_secs(60)).output;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(text.starts_with("## Issues\n\n- WEB-1\n  - `"), "{text}");
    assert!(text.contains("- OPS-3\n"), "{text}");
    assert!(text.contains("## Other commits\n\n- `"), "{text}");
    assert!(
        text.contains("> summaries are missing for WEB-1, WEB-2, OPS-3 (project 'shop'): tracker 'acme': the environment variable JIRA_API_TOKEN is not set hint: export JIRA_API_TOKEN"),
        "{text}"
    );
    assert!(
        f.sandbox.requests().is_empty(),
        "nothing is sent without credentials"
    );
}

#[test]
fn with_jira_down_the_notes_list_keys_and_subjects_and_say_why() {
    let f = fixture("jira-cloud", with_details());
    f.sandbox.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/issue/bulkfetch".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: Vec::new(),
            body: String::new(),
        },
    });
    let output = f.notes(&["--format", "json"], &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let notes = json(&output);
    let missing = notes["missing"][0].as_str().unwrap();
    assert!(
        missing.contains("summaries are missing for WEB-1, WEB-2, OPS-3")
            && missing.contains("503"),
        "{missing}"
    );
    let issues = notes["groups"][0]["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 3);
    assert!(issues.iter().all(|i| i["jira"] == "unavailable"));

    // Nothing listening at all.
    let url = f.sandbox.url();
    drop(f.sandbox);
    let f = Fixture {
        sandbox: Sandbox::start(Options::default()).unwrap(),
        trackers: support::jira::write_trackers_of_kind(f.repo.path(), "jira-cloud", &url),
        ..f
    };
    let output = f.notes(&[], &[]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = stdout(&output);
    assert!(text.starts_with("4 commits, 3 issues"), "{text}");
    assert!(text.contains("cannot connect"), "{text}");
}

#[test]
fn without_a_project_file_the_default_key_rules_apply_and_no_jira_is_asked() {
    let repo = TestRepo::new();
    repo.commit("Initial");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.commit("PAY-7 refunds");
    repo.commit("Typo");
    let mut command = support::cli::command();
    command
        .arg("notes")
        .arg("--repo")
        .arg(repo.path())
        .args(["--from", &base, "--format", "json"]);
    let output = support::cli::run(command, b"", std::time::Duration::from_secs(60)).output;
    assert!(output.status.success(), "{output:?}");
    let notes = json(&output);
    assert_eq!(notes["groups"][0]["issues"][0]["key"], "PAY-7");
    assert_eq!(notes["other_commits"][0]["subject"], "Typo");
    assert!(notes["missing"][0]
        .as_str()
        .unwrap()
        .contains("no project file"));
}

#[test]
fn with_an_environment_the_base_is_its_last_recorded_deploy() {
    let f = fixture("jira-cloud", with_details());
    // The last deploy to production shipped everything up to the tidy-up.
    let recorded = f.repo.git(&["rev-parse", "HEAD~1"]);
    f.repo
        .git(&["update-ref", "refs/deploylink/shop/production", &recorded]);
    let mut command = support::cli::command();
    command
        .arg("notes")
        .arg("--repo")
        .arg(f.repo.path())
        .arg("--trackers")
        .arg(&f.trackers)
        .args([
            "--to",
            "main",
            "--environment",
            "production",
            "--format",
            "json",
        ])
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token-1");
    let output = support::cli::run(command, b"", std::time::Duration::from_secs(60)).output;
    assert!(output.status.success(), "{output:?}");
    let notes = json(&output);
    assert_eq!(notes["commits"], 1);
    assert_eq!(notes["from"], recorded.as_str());
    assert!(
        notes["base"]
            .as_str()
            .unwrap()
            .contains("last recorded deploy"),
        "{}",
        notes["base"]
    );
    let keys: Vec<&str> = notes["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["issues"].as_array().unwrap())
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["OPS-3", "WEB-1"]);
}

#[test]
fn markdown_is_refused_by_other_commands() {
    let repo = TestRepo::new();
    repo.commit("WEB-1 x");
    let mut command = support::cli::command();
    command
        .arg("keys")
        .arg("--repo")
        .arg(repo.path())
        .args(["--format", "markdown"]);
    let output = support::cli::run(command, b"", std::time::Duration::from_secs(60)).output;
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(support::cli::text(&output.stderr)
        .contains("--format markdown is for `deploylink notes` only"));
}
