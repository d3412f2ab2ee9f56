//! The `development-info` action end to end: a bare server repository with the post-receive
//! hook and real `git push`es of feature branches and deploys, `link` for large and repeated
//! ranges, failures spooled and retried, configuration errors, and the sandbox refusing the
//! bodies Jira's development information API would refuse.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use jira_sandbox::{Fault, FaultAction, Options, Sandbox, State};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use support::cli::text;
use support::{git_command, TestRepo};

/// `repo_url` gives the repository identity `acme/shop`, whose devinfo id is `acme~2fshop`.
const REPOSITORY_ID: &str = "acme~2fshop";

fn project(actions: &str) -> String {
    format!(
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
    )
}

/// An organization file: a Cloud tracker with the deployments API's OAuth credentials.
fn trackers(url: &str) -> String {
    support::jira::trackers_file(
        url,
        &format!(
            "    deployments: {{ client_id_env: JIRA_CLIENT_ID, client_secret_env: JIRA_CLIENT_SECRET, api_url: {url}, token_url: {url}/oauth/token }}\n"
        ),
    )
}

fn with_credentials(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .env("JIRA_CLIENT_ID", "client-1")
        .env("JIRA_CLIENT_SECRET", "secret-1")
        .env_remove("DEPLOYLINK_TRACKERS")
        .env_remove("DEPLOYLINK_SPOOL")
        .env_remove("XDG_CONFIG_HOME")
}

struct Server {
    server: TestRepo,
    work: TestRepo,
    jira: Sandbox,
}

/// A bare server with the post-receive hook and an organization file pointing at a sandbox;
/// a work repository with the project file on `main`, already pushed (no key: nothing sent).
fn server(actions: &str) -> Server {
    let jira = Sandbox::start(Options::default()).unwrap();
    let server = TestRepo::bare();
    let file = server.path().join("deploylink/trackers.yml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, trackers(&jira.url())).unwrap();
    let installed = support::cli::command()
        .arg("--repo")
        .arg(server.path())
        .args(["install-hook", "post-receive"])
        .output()
        .unwrap();
    assert!(installed.status.success(), "{}", text(&installed.stderr));
    let work = TestRepo::new();
    work.commit_file(
        ".deploylink.yml",
        &project(actions),
        "Add deploylink configuration",
    );
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    let s = Server { server, work, jira };
    s.push(&["origin", "main"]);
    s
}

impl Server {
    fn push(&self, args: &[&str]) -> String {
        let mut command = git_command(self.work.path());
        command.arg("push").args(args).env("HOME", self.work.path());
        let output = with_credentials(&mut command).output().unwrap();
        assert!(
            output.status.success(),
            "git push {args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stderr)
    }
}

fn devinfo_requests(jira: &Sandbox) -> Vec<Value> {
    jira.requests()
        .iter()
        .filter(|r| r.path.starts_with("/jira/devinfo/"))
        .map(|r| {
            assert_eq!(r.status, 202, "{}", r.body);
            serde_json::from_str(&r.body).unwrap()
        })
        .collect()
}

/// The commit ids the sandbox stores for the repository, in the order received.
fn stored_commits(state: &State) -> Vec<String> {
    assert!(state.repositories.len() <= 1, "{:?}", state.repositories);
    state
        .repositories
        .iter()
        .flat_map(|r| r.commits.iter().map(|c| c.id.clone()))
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[test]
fn a_feature_branch_push_sends_exactly_its_commits_that_name_issues() {
    let s = server("remote-link, development-info");
    s.work.git(&["checkout", "-q", "-b", "feature/login"]);
    let web = s.work.commit("WEB-1: log in with a passkey");
    s.work.commit("tidy the imports");
    let ops = s.work.commit_file(
        "session.rs",
        "key",
        "OPS-2 rotate the session key, for WEB-1",
    );
    let said = s.push(&["origin", "feature/login"]);
    assert!(
        said.contains("shop pushed (development information) refs/heads/feature/login"),
        "{said}"
    );
    assert!(
        said.contains("0 deploys, 1 push, 2 issues: 2 linked"),
        "{said}"
    );

    let requests = devinfo_requests(&s.jira);
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let repository = &requests[0]["repositories"][0];
    assert_eq!(repository["id"], REPOSITORY_ID);
    assert_eq!(repository["url"], "https://git.example.com/acme/shop");
    let sent: Vec<&str> = repository["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        sorted(sent.iter().map(|s| s.to_string()).collect()),
        sorted(vec![ops.clone(), web.clone()])
    );
    let commit = repository["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ops.as_str())
        .unwrap();
    assert_eq!(commit["issueKeys"], json!(["OPS-2", "WEB-1"]));
    assert_eq!(commit["displayId"], &ops[..7]);
    assert_eq!(
        commit["url"],
        format!("https://git.example.com/acme/shop/commit/{ops}")
    );
    assert_eq!(commit["fileCount"], 1);
    assert!(commit["author"]["name"]
        .as_str()
        .is_some_and(|n| !n.is_empty()));
    assert!(commit["updateSequenceId"].as_i64().unwrap() > 0);

    let state = s.jira.state();
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
    assert_eq!(
        sorted(stored_commits(&state)),
        sorted(vec![web.clone(), ops.clone()])
    );
    // Not a deploy: no remote link, and production's record stays at main.
    assert!(state.issues.values().all(|i| i.remote_links.is_empty()));
    assert_eq!(
        s.server
            .git(&["rev-parse", "refs/deploylink/shop/production"]),
        s.work.git(&["rev-parse", "main"])
    );
    // The sandbox's page shows the commits on their issues.
    let page = client()
        .get(format!("{}/", s.jira.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Commits (development information)"), "{page}");
    assert!(
        page.contains(&web[..7]) && page.contains("log in with a passkey"),
        "{page}"
    );
    // Pushing the branch again with one more commit sends only that commit.
    let next = s.work.commit("WEB-3: remember the device");
    s.push(&["origin", "feature/login"]);
    let requests = devinfo_requests(&s.jira);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1]["repositories"][0]["commits"][0]["id"], next);
    assert_eq!(
        requests[1]["repositories"][0]["commits"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_deploy_push_sends_devinfo_and_the_record_carries_commit_associations() {
    let s = server("deployment, development-info");
    let first = s.work.commit("WEB-1: first feature");
    s.work.commit("no key here");
    let second = s.work.commit("WEB-2: second feature");
    s.push(&["origin", "main"]);

    let state = s.jira.state();
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
    assert_eq!(
        sorted(stored_commits(&state)),
        sorted(vec![first.clone(), second.clone()])
    );
    assert_eq!(state.deployments.len(), 1);
    let associations = state.deployments[0].data["associations"]
        .as_array()
        .unwrap();
    assert_eq!(associations[0]["associationType"], "issueIdOrKeys");
    let commit = associations
        .iter()
        .find(|a| a["associationType"] == "commit")
        .expect("a commit association");
    let mut hashes: Vec<String> = commit["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["repositoryId"], REPOSITORY_ID);
            v["commitHash"].as_str().unwrap().to_owned()
        })
        .collect();
    hashes.sort();
    assert_eq!(hashes, sorted(vec![first, second]));
}

#[test]
fn a_project_without_the_action_sends_no_development_information() {
    let s = server("remote-link");
    s.work.git(&["checkout", "-q", "-b", "feature/x"]);
    s.work.commit("WEB-1: on a branch");
    s.push(&["origin", "feature/x"]);
    s.work.git(&["checkout", "-q", "main"]);
    s.work.commit("WEB-2: on main");
    s.push(&["origin", "main"]);
    assert!(devinfo_requests(&s.jira).is_empty());
    assert!(s.jira.state().repositories.is_empty());
    assert_eq!(s.jira.state().remote_links("WEB-2").len(), 1);
}

/// A work repository (not a server) for `link`: the project file, then `commits` commits on
/// `main` each naming `WEB-<n>`, made with one `git fast-import`.
struct Linked {
    repo: TestRepo,
    jira: Sandbox,
    trackers: PathBuf,
    base: String,
}

fn linked(actions: &str, commits: usize) -> Linked {
    linked_with(actions, commits, Options::default())
}

fn linked_with(actions: &str, commits: usize, options: Options) -> Linked {
    let jira = Sandbox::start(options).unwrap();
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        &project(actions),
        "Add deploylink configuration",
    );
    let base = repo.git(&["rev-parse", "HEAD"]);
    let mut stream = String::new();
    for n in 1..=commits {
        let message = format!("WEB-{n}: change {n}\n");
        let from = if n == 1 {
            format!("from {base}\n")
        } else {
            String::new()
        };
        let content = format!("{n}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Dev <dev@example.com> {} +0000\ndata {}\n{message}{from}M 644 inline f{n}.txt\ndata {}\n{content}\n",
            1_700_000_000 + n,
            message.len(),
            content.len(),
        ));
    }
    let imported = repo.git_output(&["fast-import", "--quiet"], Some(stream.as_bytes()));
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    repo.git(&["reset", "-q", "--hard", "main"]);
    let trackers = repo.path().join(".git/trackers.yml");
    std::fs::write(&trackers, trackers_file_for(&jira)).unwrap();
    Linked {
        repo,
        jira,
        trackers,
        base,
    }
}

fn trackers_file_for(jira: &Sandbox) -> String {
    trackers(&jira.url())
}

impl Linked {
    fn link(&self, extra: &[&str]) -> Output {
        let mut command = support::cli::command();
        command
            .arg("link")
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(["--from", &self.base, "--to", "main", "--format", "json"])
            .args(extra);
        with_credentials(&mut command).output().unwrap()
    }
}

#[test]
fn more_commits_than_one_call_takes_are_split_and_a_rerun_replaces_them() {
    let l = linked("development-info", 450);
    // With a spool, as a hook has: each call is its own entry.
    let spool = tempfile::tempdir().unwrap();
    let ran = l.link(&["--spool", spool.path().to_str().unwrap()]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    // The sandbox refuses a call of more than 400 commits, and keeps every one it accepted:
    // two calls made it, and they hold all 450 commits.
    let calls = l
        .jira
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/jira/devinfo/") && r.status == 202)
        .count();
    assert_eq!(calls, 2);
    let state = l.jira.state();
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
    let first: Vec<(String, i64)> = state.repositories[0]
        .commits
        .iter()
        .map(|c| (c.id.clone(), c.update_sequence_id))
        .collect();
    assert_eq!(first.len(), 450);
    let report: Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!(report["summary"]["linked"], 450, "{report}");
    assert_eq!(entries(spool.path()), 0);

    std::thread::sleep(Duration::from_millis(5));
    let again = l.link(&[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let state = l.jira.state();
    assert_eq!(state.repositories.len(), 1);
    let second = &state.repositories[0].commits;
    assert_eq!(second.len(), 450, "one entity per commit");
    for ((id, sequence), now) in first.iter().zip(second) {
        assert_eq!(*id, now.id);
        assert!(now.update_sequence_id > *sequence, "{id}");
    }
}

#[test]
fn keys_jira_does_not_know_are_reported_unknown_and_the_others_linked() {
    let l = linked_with(
        "development-info",
        2,
        Options {
            issues: jira_sandbox::IssuePolicy::Listed(vec!["WEB-1".into()]),
            ..Options::default()
        },
    );
    let ran = l.link(&[]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    let report: Value = serde_json::from_slice(&ran.stdout).unwrap();
    let results: Vec<(&str, &str)> = report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["key"].as_str().unwrap(), i["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [("WEB-1", "linked"), ("WEB-2", "unknown")],
        "{report}"
    );
    let state = l.jira.state();
    assert_eq!(state.commits_for("WEB-1").len(), 1);
    assert!(state.commits_for("WEB-2").is_empty());
}

#[test]
fn plan_lists_the_development_information_requests() {
    let l = linked("development-info", 3);
    let mut command = support::cli::command();
    command
        .arg("plan")
        .arg("--repo")
        .arg(l.repo.path())
        .arg("--trackers")
        .arg(&l.trackers)
        .args(["--from", &l.base, "--to", "main", "--format", "json"]);
    let planned = with_credentials(&mut command).output().unwrap();
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let report: Value = serde_json::from_slice(&planned.stdout).unwrap();
    let requests = report["deploys"][0]["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["action"], "development-info");
    assert!(requests[0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/jira/devinfo/0.1/cloud/{cloudId}/bulk"));
    assert!(l.jira.requests().is_empty(), "a plan sends nothing");
}

#[test]
fn server_errors_are_spooled_and_retried_and_rate_limits_waited_out() {
    let l = linked("development-info", 2);
    l.jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/jira/devinfo/".into()),
        times: Some(1),
        probability: 1.0,
        action: FaultAction::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "0".into())],
            body: String::new(),
        },
    });
    let ran = l.link(&[]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    assert_eq!(stored_commits(&l.jira.state()).len(), 2);

    l.jira.reset();
    l.jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/jira/devinfo/".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: Vec::new(),
            body: String::new(),
        },
    });
    let spool = tempfile::tempdir().unwrap();
    let spool_arg = spool.path().to_str().unwrap();
    let failed = l.link(&["--spool", spool_arg, "--on-error", "warn", "--budget", "3s"]);
    assert_eq!(failed.status.code(), Some(0), "{}", text(&failed.stderr));
    let report: Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(report["summary"]["spooled"], 2, "{report}");
    assert!(l.jira.state().repositories.is_empty());
    assert_eq!(entries(spool.path()), 1);

    l.jira.clear_faults();
    let mut command = support::cli::command();
    command
        .arg("retry")
        .arg("--repo")
        .arg(l.repo.path())
        .arg("--trackers")
        .arg(&l.trackers)
        .args(["--spool", spool_arg]);
    let retried = with_credentials(&mut command).output().unwrap();
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert_eq!(stored_commits(&l.jira.state()).len(), 2);
    assert_eq!(entries(spool.path()), 0);
}

fn entries(spool: &Path) -> usize {
    std::fs::read_dir(spool)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count()
}

#[test]
fn devinfo_without_oauth_credentials_or_on_data_center_is_a_configuration_error() {
    let l = linked("development-info", 1);
    let cases = [
        (
            support::jira::trackers_file(&l.jira.url(), ""),
            "add `deployments:`",
        ),
        (
            format!(
                "version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: {}\n    auth: {{ token_env: JIRA_API_TOKEN }}\n",
                l.jira.url()
            ),
            "jira-data-center",
        ),
    ];
    for (file, needle) in cases {
        std::fs::write(&l.trackers, file).unwrap();
        let ran = l.link(&[]);
        let stderr = text(&ran.stderr);
        assert_eq!(ran.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("development-info"), "{stderr}");
        assert!(stderr.contains("deployments:"), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
    assert!(l.jira.requests().is_empty());
}

// ---------------------------------------------------------------- the sandbox's side

fn client() -> Client {
    deploylink::jira::install_tls_provider();
    Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn token(jira: &Sandbox) -> String {
    let reply: Value = client()
        .post(format!("{}/oauth/token", jira.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    reply["access_token"].as_str().unwrap().to_owned()
}

fn post(jira: &Sandbox, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = client()
        .post(format!(
            "{}/jira/devinfo/0.1/cloud/{}/bulk",
            jira.url(),
            jira_sandbox::CLOUD_ID
        ))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn commit(id: &str, sequence: i64) -> Value {
    json!({
        "id": id, "issueKeys": ["WEB-1"], "updateSequenceId": sequence, "hash": id,
        "message": "WEB-1: a change", "author": {"name": "Ada", "email": "ada@example.com"},
        "authorTimestamp": "2026-11-28T10:00:00Z", "displayId": &id[..7], "fileCount": 1,
        "url": format!("https://git.example.com/acme/shop/commit/{id}"),
    })
}

fn body(commits: Vec<Value>) -> Value {
    json!({"repositories": [{
        "id": REPOSITORY_ID, "name": "acme/shop", "url": "https://git.example.com/acme/shop",
        "updateSequenceId": 1, "commits": commits,
    }]})
}

#[test]
fn the_sandbox_stores_by_update_sequence_id_and_refuses_what_jira_would() {
    let jira = Sandbox::start(Options::default()).unwrap();
    let id = "a7727ee6350c33cdf90826dc21abaa26a5704370";
    assert_eq!(post(&jira, None, &body(vec![commit(id, 5)])).0, 401);
    let token = token(&jira);
    let (status, reply) = post(&jira, Some(&token), &body(vec![commit(id, 5)]));
    assert_eq!(status, 202, "{reply}");
    assert_eq!(
        reply["acceptedDevinfoEntities"][REPOSITORY_ID]["commits"],
        json!([id])
    );
    assert_eq!(reply["unknownIssueKeys"], json!([]));
    // An older update is accepted and ignored; a newer one replaces.
    let mut older = commit(id, 3);
    older["message"] = json!("WEB-1: stale");
    assert_eq!(post(&jira, Some(&token), &body(vec![older])).0, 202);
    let stored = &jira.state().repositories[0].commits;
    assert_eq!((stored.len(), stored[0].update_sequence_id), (1, 5));
    assert_eq!(jira.state().commits_for("WEB-1").len(), 1);

    let bad = |mutate: &dyn Fn(&mut Value)| {
        let mut b = body(vec![commit(id, 9)]);
        mutate(&mut b);
        b
    };
    let refused = [
        bad(&|b| {
            b["repositories"][0]["commits"][0]
                .as_object_mut()
                .unwrap()
                .remove("fileCount");
        }),
        bad(&|b| b["repositories"][0]["commits"][0]["message"] = json!("x".repeat(1025))),
        bad(&|b| b["repositories"][0]["commits"][0]["issueKeys"] = json!([])),
        bad(&|b| b["repositories"][0]["id"] = json!("acme/shop")),
        bad(&|b| {
            b["repositories"][0]
                .as_object_mut()
                .unwrap()
                .remove("updateSequenceId");
        }),
        body((0..401).map(|n| commit(&format!("{n:040x}"), 9)).collect()),
        body(vec![commit(id, 9), commit(id, 9)]),
    ];
    for (n, b) in refused.iter().enumerate() {
        let (status, reply) = post(&jira, Some(&token), b);
        assert_eq!(status, 400, "case {n}: {reply}");
        assert!(
            reply["errorMessages"][0]["message"].is_string(),
            "case {n}: {reply}"
        );
    }
    let state = jira.state();
    assert_eq!(state.rejected.len(), refused.len());
    assert_eq!(state.repositories[0].commits[0].update_sequence_id, 5);
}
