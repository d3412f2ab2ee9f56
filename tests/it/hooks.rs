//! The hooks end to end: a bare repository with `install-hook post-receive`, real `git push`es
//! (to a path and through `git daemon`), and the sandbox Jira receiving exactly the links
//! expected; `pre-push` and `commit-msg` blocking bad commits and letting good ones through.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use jira_sandbox::{Fault, FaultAction, Options, Sandbox};
use support::cli::text;
use support::{git_command, TestRepo};

const PROJECT: &str = "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys: { projects: [WEB, OPS] }
    environments:
      production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }
      staging: { refs: [\"refs/heads/release/*\"], type: staging }
";

struct Setup {
    server: TestRepo,
    work: TestRepo,
    jira: Sandbox,
}

/// A bare server repository with the post-receive hook and an organization file pointing at a
/// sandbox, and a work repository whose origin is the server, with `project` committed.
fn setup(project: &str) -> Setup {
    let jira = Sandbox::start(Options::default()).unwrap();
    let server = TestRepo::bare();
    let trackers = server.path().join("deploylink/trackers.yml");
    std::fs::create_dir_all(trackers.parent().unwrap()).unwrap();
    std::fs::write(&trackers, support::jira::trackers_file(&jira.url(), "")).unwrap();
    let installed = deploylink(server.path(), &["install-hook", "post-receive"]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        text(&installed.stderr)
    );
    let work = TestRepo::new();
    work.commit_file(".deploylink.yml", project, "Add deploylink configuration");
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    Setup { server, work, jira }
}

fn deploylink(repo: &Path, args: &[&str]) -> Output {
    support::cli::command()
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

/// `git push` from `work` with Jira's credentials in the environment (a local push runs the
/// server's hook with it).
fn push(work: &TestRepo, args: &[&str]) -> Output {
    let output = git_command(work.path())
        .arg("push")
        .args(args)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .env_remove("DEPLOYLINK_TRACKERS")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", work.path())
        .output()
        .unwrap();
    output
}

fn pushed(work: &TestRepo, args: &[&str]) -> String {
    let output = push(work, args);
    assert!(
        output.status.success(),
        "git push {args:?}: {}",
        text(&output.stderr)
    );
    text(&output.stderr)
}

/// The keys with a link to `environment`, and how many links each has.
fn linked(jira: &Sandbox, environment: &str) -> Vec<(String, usize)> {
    let state = jira.state();
    state
        .issues
        .iter()
        .filter_map(|(key, issue)| {
            let n = issue
                .remote_links
                .iter()
                .filter(|l| {
                    l["object"]["title"]
                        .as_str()
                        .unwrap_or("")
                        .ends_with(&format!("to {environment}"))
                })
                .count();
            (n > 0).then(|| (key.clone(), n))
        })
        .collect()
}

fn keys(list: &[(String, usize)]) -> Vec<&str> {
    list.iter().map(|(k, _)| k.as_str()).collect()
}

#[test]
fn a_new_branch_then_a_fast_forward_link_each_commit_once() {
    let s = setup(PROJECT);
    s.work.commit("WEB-1: first");
    s.work.commit("OPS-2 infra");
    let log = pushed(&s.work, &["origin", "main"]);
    assert!(log.contains("remote: ") && log.contains("WEB-1"), "{log}");
    assert_eq!(keys(&linked(&s.jira, "production")), ["OPS-2", "WEB-1"]);
    let main = s.work.git(&["rev-parse", "main"]);
    assert_eq!(
        s.server
            .git(&["rev-parse", "refs/deploylink/shop/production"]),
        main,
        "recorded"
    );
    s.work.commit("WEB-3: second");
    pushed(&s.work, &["origin", "main"]);
    let links = linked(&s.jira, "production");
    assert_eq!(keys(&links), ["OPS-2", "WEB-1", "WEB-3"]);
    assert!(
        links.iter().all(|(_, n)| *n == 1),
        "one link per deploy: {links:?}"
    );
    assert!(s.jira.state().rejected.is_empty());
}

#[test]
fn a_force_push_deploys_only_the_new_history() {
    let s = setup(PROJECT);
    s.work.commit("WEB-1: base");
    pushed(&s.work, &["origin", "main"]);
    s.work.commit("WEB-2: will be dropped");
    pushed(&s.work, &["origin", "main"]);
    s.work.git(&["reset", "-q", "--hard", "HEAD~1"]);
    s.work.commit("WEB-3: replaces it");
    pushed(&s.work, &["--force", "origin", "main"]);
    let links = linked(&s.jira, "production");
    assert_eq!(keys(&links), ["WEB-1", "WEB-2", "WEB-3"]);
    let state = s.jira.state();
    // WEB-1 was shipped by the first push only: the force push did not deploy it again.
    assert_eq!(state.remote_links("WEB-1").len(), 1);
}

#[test]
fn tags_deploy_from_the_previous_tag_and_deletions_deploy_nothing() {
    let project = PROJECT.replace(
        "production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }",
        "production: { refs: [\"refs/tags/v*\"], type: production }",
    );
    let s = setup(&project);
    s.work.commit("WEB-1: first release");
    s.work.git(&["tag", "v1"]);
    pushed(&s.work, &["origin", "main", "v1"]);
    assert_eq!(
        keys(&linked(&s.jira, "production")),
        ["WEB-1"],
        "a first tag: the tagged commit alone"
    );
    s.work.commit("WEB-2: in v2");
    s.work.commit("OPS-3: in v2 too");
    s.work.git(&["tag", "v2"]);
    pushed(&s.work, &["origin", "main", "v2"]);
    assert_eq!(
        keys(&linked(&s.jira, "production")),
        ["OPS-3", "WEB-1", "WEB-2"]
    );
    assert_eq!(
        s.jira.state().remote_links("WEB-1").len(),
        1,
        "v1's issue is not deployed again by v2"
    );
    let before = s.jira.requests().len();
    let log = pushed(&s.work, &["origin", "--delete", "v2"]);
    assert_eq!(
        s.jira.requests().len(),
        before,
        "a deletion sends nothing: {log}"
    );
}

/// Releases tagged on release branches: the base of a pushed `v1.1.0` is the previous release
/// `v1.0.0` (not an ancestor), not the nearest ancestor tag `v0.9.0`, so what `v1.0.0` shipped
/// is not deployed again.
#[test]
fn a_release_branch_tag_deploys_from_the_previous_release() {
    let project = PROJECT.replace(
        "production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }",
        "production: { refs: [\"refs/tags/v*\"], type: production }",
    );
    let s = setup(&project);
    s.work.git(&["tag", "v0.9.0"]);
    pushed(&s.work, &["origin", "v0.9.0"]);
    s.work.commit("WEB-1: on trunk before 1.0 branched");
    s.work.git(&["checkout", "-q", "-b", "release/1.0"]);
    s.work.commit("WEB-2: 1.0 release fix");
    s.work.git(&["tag", "v1.0.0"]);
    pushed(&s.work, &["origin", "v1.0.0"]);
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1", "WEB-2"]);
    s.work.git(&["checkout", "-q", "main"]);
    s.work.commit("WEB-3: trunk work for 1.1");
    s.work.git(&["checkout", "-q", "-b", "release/1.1"]);
    s.work.commit("WEB-4: 1.1 release fix");
    s.work.git(&["tag", "v1.1.0"]);
    let log = pushed(&s.work, &["origin", "v1.1.0"]);
    assert!(log.contains("base: previous release v1.0.0"), "{log}");
    let links = linked(&s.jira, "production");
    assert_eq!(keys(&links), ["WEB-1", "WEB-2", "WEB-3", "WEB-4"]);
    assert!(
        links.iter().all(|(_, n)| *n == 1),
        "v1.0.0's issues are not deployed again by v1.1.0: {links:?}"
    );
}

#[test]
fn several_refs_in_one_push_deploy_to_their_environments() {
    let s = setup(PROJECT);
    s.work.commit("WEB-1: on main");
    s.work.git(&["checkout", "-q", "-b", "release/1"]);
    s.work.commit("OPS-5: release fix");
    pushed(&s.work, &["origin", "main", "release/1"]);
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1"]);
    // Both refs are new: nothing existed before the push, so staging gets all of release/1.
    assert_eq!(keys(&linked(&s.jira, "staging")), ["OPS-5", "WEB-1"]);
    // A new branch off a main the server has: only its own commits.
    s.work.git(&["checkout", "-q", "-b", "release/2", "main"]);
    s.work.commit("OPS-8: second release fix");
    s.work.git(&["checkout", "-q", "main"]);
    s.work.commit("WEB-9: main moves on");
    pushed(&s.work, &["origin", "main", "release/2"]);
    assert_eq!(
        keys(&linked(&s.jira, "staging")),
        ["OPS-5", "OPS-8", "WEB-1"]
    );
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1", "WEB-9"]);
    assert_eq!(
        s.jira.state().remote_links("WEB-1").len(),
        2,
        "production and staging, once each"
    );
}

#[test]
fn a_monorepo_push_deploys_each_project_its_own_commits() {
    let project = "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/mono
projects:
  web:
    paths: [\"web/**\"]
    environments:
      production: { refs: [refs/heads/main] }
  api:
    paths: [\"api/**\"]
    environments:
      production: { refs: [refs/heads/main] }
";
    let s = setup(project);
    s.work.commit_file("web/index.html", "<p>", "WEB-1: page");
    s.work
        .commit_file("api/main.rs", "fn main() {}", "API-2: endpoint");
    pushed(&s.work, &["origin", "main"]);
    let state = s.jira.state();
    let title = |key: &str| {
        state.remote_links(key)[0]["object"]["title"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        title("WEB-1").starts_with("Deployed web "),
        "{}",
        title("WEB-1")
    );
    assert!(
        title("API-2").starts_with("Deployed api "),
        "{}",
        title("API-2")
    );
    assert_eq!(state.remote_links("WEB-1").len(), 1);
    assert_eq!(state.remote_links("API-2").len(), 1);
}

#[test]
fn trackers_in_the_pushed_file_are_ignored_on_the_server() {
    let elsewhere = Sandbox::start(Options::default()).unwrap();
    let project = format!(
        "{PROJECT}trackers:\n  acme:\n    kind: jira-cloud\n    url: {}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n",
        elsewhere.url()
    );
    let s = setup(&project);
    s.work.commit("WEB-1: work");
    let log = pushed(&s.work, &["origin", "main"]);
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1"], "{log}");
    assert!(
        elsewhere.requests().is_empty(),
        "the pushed file's tracker got requests"
    );
    assert!(
        log.contains("trackers"),
        "a warning says the file's trackers were ignored: {log}"
    );
}

#[test]
fn a_push_through_git_daemon_runs_the_hook() {
    let s = setup(PROJECT);
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let base = s.server.path().parent().unwrap();
    let name = s
        .server
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let mut daemon = git_command(base)
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(format!(
            "--pid-file={}",
            s.server.path().join("daemon.pid").display()
        ))
        .arg(base)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .env("HOME", base)
        .spawn()
        .unwrap();
    let url = format!("git://127.0.0.1:{port}/{name}");
    s.work.commit("WEB-7: over the git protocol");
    let started = Instant::now();
    let result = loop {
        let output = push(&s.work, &[&url, "main"]);
        if output.status.success() || started.elapsed() > Duration::from_secs(10) {
            break output;
        }
        std::thread::sleep(Duration::from_millis(100)); // the daemon may not listen yet
    };
    // `git daemon` runs git-daemon as a child: stop that one by its pid file.
    if let Ok(pid) = std::fs::read_to_string(s.server.path().join("daemon.pid")) {
        let _ = Command::new("kill").arg(pid.trim()).status();
    }
    let _ = daemon.kill();
    daemon.wait().unwrap();
    assert!(result.status.success(), "{}", text(&result.stderr));
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-7"]);
}

#[test]
fn the_hook_stays_within_its_budget_and_never_fails_the_push() {
    let s = setup(PROJECT);
    s.jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/issue/".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: vec![("Retry-After".into(), "30".into())],
            body: String::new(),
        },
    });
    s.work.commit("WEB-1: Jira is down");
    let started = Instant::now();
    let output = push(&s.work, &["origin", "main"]);
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", text(&output.stderr));
    // The 20 s default budget ends the wait for Retry-After: 30 at once.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    let log = text(&output.stderr);
    assert!(
        log.contains("spooled") && log.contains("time budget"),
        "{log}"
    );
    // The delivery waits in the server's spool, so the deploy is recorded.
    let spool = s.server.path().join("deploylink/spool");
    let listed = deploylink(s.server.path(), &["retry", "--list"]);
    assert!(
        text(&listed.stdout).contains("WEB-1") && text(&listed.stdout).contains("1 waiting"),
        "{}",
        text(&listed.stdout)
    );
    assert_eq!(spool_entries(&spool), 1);
    // Jira is back: retry delivers it and empties the spool.
    s.jira.reset();
    let retried = support::cli::command()
        .args(["--repo"])
        .arg(s.server.path())
        .arg("retry")
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .output()
        .unwrap();
    assert_eq!(
        retried.status.code(),
        Some(0),
        "{}{}",
        text(&retried.stdout),
        text(&retried.stderr)
    );
    assert_eq!(s.jira.state().remote_links("WEB-1").len(), 1);
    assert_eq!(spool_entries(&spool), 0, "the spool ends empty");
}

const POLICY: &str = "version: 1
default_tracker: acme
projects:
  shop:
    keys: { projects: [WEB] }
    environments:
      production: { refs: [refs/heads/main] }
    validate:
      require: every-commit
";

#[test]
fn pre_push_blocks_a_commit_without_a_key_and_lets_the_fixed_push_through() {
    let server = TestRepo::bare();
    let work = TestRepo::new();
    work.commit_file(".deploylink.yml", POLICY, "WEB-1: add deploylink");
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    let installed = deploylink(work.path(), &["install-hook", "pre-push"]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        text(&installed.stderr)
    );
    work.commit("WEB-2: good");
    work.commit("Fix the build");
    work.commit("Merge branch 'x'");
    let output = push(&work, &["origin", "main"]);
    assert!(!output.status.success(), "the push must be refused");
    let log = text(&output.stderr);
    assert!(
        log.contains("1 commit pushed to refs/heads/main names no Jira issue"),
        "{log}"
    );
    assert!(
        log.contains("Fix the build") && !log.contains("Merge branch"),
        "merges are exempt: {log}"
    );
    assert!(
        log.contains("WEB-123") && log.contains("git rebase -i"),
        "{log}"
    );
    assert!(
        server
            .git_output(&["rev-parse", "--verify", "-q", "main"], None)
            .stdout
            .is_empty(),
        "nothing arrived"
    );
    // Reword the offending commit: the push goes through.
    work.git(&["reset", "-q", "--hard", "HEAD~2"]);
    work.commit("WEB-3: fix the build");
    let output = push(&work, &["origin", "main"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    // A new branch is checked for its own commits only (the others are on origin/main).
    work.git(&["checkout", "-q", "-b", "feature"]);
    work.commit("WEB-4: feature");
    assert!(push(&work, &["origin", "feature"]).status.success());
    // Deleting a branch is never refused.
    assert!(push(&work, &["origin", "--delete", "feature"])
        .status
        .success());
}

#[test]
fn commit_msg_refuses_a_message_without_a_key_ignoring_comments() {
    let work = TestRepo::new();
    work.commit_file(".deploylink.yml", POLICY, "WEB-1: add deploylink");
    let installed = deploylink(work.path(), &["install-hook", "commit-msg"]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        text(&installed.stderr)
    );
    let commit = |message: &str| {
        git_command(work.path())
            .args(["commit", "--allow-empty", "--cleanup=strip", "-m", message])
            .output()
            .unwrap()
    };
    let refused = commit("Tidy up\n\n# WEB-9 in a comment does not count");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("names no Jira issue"),
        "{}",
        text(&refused.stderr)
    );
    assert!(commit("WEB-9: tidy up").status.success());
    assert!(
        commit("Revert \"WEB-9: tidy up\"").status.success(),
        "exempt by default"
    );
}

#[test]
fn install_hook_respects_foreign_hooks_and_hooks_path() {
    let work = TestRepo::new();
    work.commit("first");
    let hooks = work.path().join(".githooks");
    std::fs::create_dir_all(&hooks).unwrap();
    work.git(&["config", "core.hooksPath", ".githooks"]);
    let foreign = hooks.join("commit-msg");
    std::fs::write(&foreign, "#!/bin/sh\necho foreign-hook-ran >&2\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).unwrap();
    let refused = deploylink(work.path(), &["install-hook", "commit-msg"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("was not written by deploylink"),
        "{}",
        text(&refused.stderr)
    );
    let chained = deploylink(work.path(), &["install-hook", "commit-msg", "--chain"]);
    assert_eq!(chained.status.code(), Some(0), "{}", text(&chained.stderr));
    assert!(hooks.join("commit-msg.chained").exists());
    // Reinstalling our own shim is fine and keeps the chain.
    let again = deploylink(work.path(), &["install-hook", "commit-msg"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    work.commit_file(".deploylink.yml", POLICY, "WEB-1: add deploylink");
    let output = git_command(work.path())
        .args(["commit", "--allow-empty", "-m", "no key"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("foreign-hook-ran"),
        "the chained hook ran first"
    );
    let forced = deploylink(work.path(), &["install-hook", "commit-msg", "--force"]);
    assert_eq!(forced.status.code(), Some(0));
}

#[test]
fn check_exists_asks_jira_and_an_unreachable_jira_does_not_block() {
    let jira = Sandbox::start(Options {
        issues: jira_sandbox::IssuePolicy::Listed(vec!["WEB-1".into(), "WEB-2".into()]),
        ..Options::default()
    })
    .unwrap();
    let work = TestRepo::new();
    let project = POLICY.replace(
        "require: every-commit",
        "require: every-commit\n      check_exists: true",
    );
    work.commit_file(".deploylink.yml", &project, "WEB-1: add deploylink");
    let trackers = work.path().join(".git/trackers.yml");
    let write_trackers = |url: &str| {
        std::fs::write(
            &trackers,
            format!("version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n"),
        )
        .unwrap()
    };
    write_trackers(&jira.url());
    let message = work.path().join(".git/MSG");
    let check = |text: &str| {
        std::fs::write(&message, text).unwrap();
        support::cli::command()
            .args(["hook", "commit-msg"])
            .arg(&message)
            .current_dir(work.path())
            .env("DEPLOYLINK_TRACKERS", &trackers)
            .env("JIRA_USER", "u@example.com")
            .env("JIRA_API_TOKEN", "t")
            .output()
            .unwrap()
    };
    assert_eq!(check("WEB-2: exists").status.code(), Some(0));
    let refused = check("WEB-99: a typo");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("WEB-99 in the commit message does not exist in Jira"),
        "{}",
        text(&refused.stderr)
    );
    assert!(jira
        .requests()
        .iter()
        .any(|r| r.path == "/rest/api/3/issue/bulkfetch"));
    assert!(jira.state().rejected.is_empty());
    // Jira unreachable: a warning, not a refusal.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    write_trackers(&url);
    let allowed = check("WEB-99: Jira is down");
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stderr));
    assert!(
        text(&allowed.stderr).contains("check_exists skipped"),
        "{}",
        text(&allowed.stderr)
    );
    // pre-push asks too.
    write_trackers(&jira.url());
    let server = TestRepo::bare();
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    assert_eq!(
        deploylink(work.path(), &["install-hook", "pre-push"])
            .status
            .code(),
        Some(0)
    );
    work.commit("WEB-98: another typo");
    let output = git_command(work.path())
        .args(["push", "origin", "main"])
        .env("DEPLOYLINK_TRACKERS", &trackers)
        .env("JIRA_USER", "u@example.com")
        .env("JIRA_API_TOKEN", "t")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("WEB-98"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_push_back_to_an_older_commit_reports_a_rollback() {
    let s = setup(PROJECT);
    let first = s.work.commit("WEB-1: kept");
    s.work.commit("WEB-2: rolled back");
    pushed(&s.work, &["origin", "main"]);
    s.work.git(&["reset", "-q", "--hard", &first]);
    let log = pushed(&s.work, &["--force", "origin", "main"]);
    assert!(
        log.contains("WEB-2") && log.contains("rolled_back"),
        "{log}"
    );
    assert!(
        !log.contains("WEB-1   "),
        "WEB-1 did not leave production: {log}"
    );
    let state = s.jira.state();
    let links = state.remote_links("WEB-2");
    assert_eq!(links.len(), 2, "the deploy, then the rollback");
    assert_eq!(links[1]["object"]["status"]["resolved"], false);
    assert_eq!(
        s.server
            .git(&["rev-parse", "refs/deploylink/shop/production"]),
        first,
        "after a rollback the record names the commit production runs"
    );
    // Deploying the rolled-back commit again ships it again: the link of that deploy (same
    // commit, same globalId) is updated and resolved once more.
    s.work.git(&["reset", "-q", "--hard", "HEAD@{1}"]);
    let log = pushed(&s.work, &["origin", "main"]);
    assert!(log.contains("WEB-2") && log.contains("updated"), "{log}");
    let state = s.jira.state();
    let links = state.remote_links("WEB-2");
    assert_eq!(
        links.len(),
        2,
        "the deploy (updated again), then the rollback: {links:#?}"
    );
    assert_eq!(links[0]["object"]["status"]["resolved"], true);
}

/// A huge range (the first push of an existing history) is refused as SPEC 4 says: a warning,
/// nothing sent to Jira, the push succeeds; the next push deploys only its own commits.
#[test]
fn the_first_push_of_a_long_history_is_refused_and_the_next_push_deploys() {
    const COMMITS: usize = 2_500; // over the default max_commits of 2,000
    let s = setup(PROJECT);
    let head = s.work.git(&["rev-parse", "HEAD"]);
    let mut stream = String::new();
    for i in 1..=COMMITS {
        let message = format!("WEB-{i}: change {i}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Dev <dev@example.com> {} +0000\ndata {}\n{message}{}\n",
            1_700_000_000 + i,
            message.len(),
            if i == 1 { format!("from {head}\n") } else { String::new() }
        ));
    }
    let imported = s
        .work
        .git_output(&["fast-import", "--quiet"], Some(stream.as_bytes()));
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    s.work.git(&["reset", "--hard", "main"]);
    let started = std::time::Instant::now();
    let log = pushed(&s.work, &["origin", "main"]);
    let elapsed = started.elapsed();
    assert!(
        log.contains("the range has more than 2,000 commits (max_commits)"),
        "the warning says why: {log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    assert!(s.jira.requests().is_empty(), "nothing sent to Jira");
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "bounded: {elapsed:?}"
    );
    s.work.commit("WEB-9999: the next change");
    pushed(&s.work, &["origin", "main"]);
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-9999"]);
}

#[test]
fn the_spool_named_by_the_variable_is_used_by_the_hook_and_by_retry() {
    let s = setup(PROJECT);
    s.jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/issue/".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 400,
            headers: vec![],
            body: r#"{"errorMessages":["refused for now"]}"#.into(),
        },
    });
    let elsewhere = tempfile::tempdir().unwrap();
    let spool = elsewhere.path().join("spool");
    s.work.commit("WEB-7: Jira refuses it for now");
    let output = git_command(s.work.path())
        .args(["push", "origin", "main"])
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .env("DEPLOYLINK_SPOOL", &spool)
        .env_remove("DEPLOYLINK_TRACKERS")
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", s.work.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(spool_entries(&spool), 1, "{}", text(&output.stderr));
    assert!(
        !s.server.path().join("deploylink/spool").exists(),
        "the hook spools where the variable says, not in the repository"
    );
    s.jira.reset();
    let retried = support::cli::command()
        .arg("--repo")
        .arg(s.server.path())
        .arg("retry")
        .env("DEPLOYLINK_SPOOL", &spool)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .output()
        .unwrap();
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert_eq!(s.jira.state().remote_links("WEB-7").len(), 1);
    assert_eq!(spool_entries(&spool), 0);
}

/// The deliveries waiting in `spool` (their `.json` files; a `.state` file beside one keeps
/// its tries).
fn spool_entries(spool: &Path) -> usize {
    std::fs::read_dir(spool)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count()
}

/// A FIFO standing in for a secret file: it tells whether anything opened it for reading (a
/// reader that is waiting lets a non-blocking writer in; the writer then feeds it a value and
/// closes, so the reader never hangs).
struct Tripwire {
    path: std::path::PathBuf,
    opened: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

impl Tripwire {
    fn new(path: std::path::PathBuf) -> Tripwire {
        let made = Command::new("mkfifo").arg(&path).status().unwrap();
        assert!(made.success(), "mkfifo {}", path.display());
        let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (fifo, seen, done) = (path.clone(), opened.clone(), stop.clone());
        let watcher = std::thread::spawn(move || {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            use std::sync::atomic::Ordering;
            const O_NONBLOCK: i32 = 0o4000; // Linux
            while !done.load(Ordering::SeqCst) {
                let writer = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(O_NONBLOCK)
                    .open(&fifo);
                if let Ok(mut writer) = writer {
                    seen.store(true, Ordering::SeqCst);
                    let _ = writer.write_all(b"victim@example.com\n");
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Tripwire {
            path,
            opened,
            stop,
            watcher: Some(watcher),
        }
    }

    /// Whether anything opened the file for reading so far.
    fn was_read(&self) -> bool {
        self.opened.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Tripwire {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(watcher) = self.watcher.take() {
            let _ = watcher.join();
        }
    }
}

/// A repository cloned from anyone defines its own tracker, pointed at its server, with a
/// private key file and a cloud secret as credentials: the client hooks (commit-msg, pre-push)
/// send it nothing and do not read the file; trackers come only from the organization file.
#[test]
fn client_hooks_never_use_a_tracker_defined_by_the_repository() {
    let attacker = Sandbox::start(Options::default()).unwrap();
    let work = TestRepo::new();
    let key = Tripwire::new(work.path().join(".git/id_ed25519"));
    let project = format!(
        "{}trackers:\n  evil:\n    kind: jira-cloud\n    url: {}\n    auth: {{ user_file: {}, token_env: AWS_SECRET_ACCESS_KEY }}\n",
        POLICY
            .replace("default_tracker: acme", "default_tracker: evil")
            .replace("require: every-commit", "require: every-commit\n      check_exists: true"),
        attacker.url(),
        key.path.display()
    );
    work.commit_file(".deploylink.yml", &project, "WEB-1: add deploylink");
    let server = TestRepo::bare();
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    for hook in ["commit-msg", "pre-push"] {
        let installed = deploylink(work.path(), &["install-hook", hook]);
        assert_eq!(
            installed.status.code(),
            Some(0),
            "{}",
            text(&installed.stderr)
        );
    }
    let git = |args: &[&str]| {
        git_command(work.path())
            .args(args)
            .env("AWS_SECRET_ACCESS_KEY", "aws-secret-value")
            .env_remove("DEPLOYLINK_TRACKERS")
            .env_remove("XDG_CONFIG_HOME")
            .env("HOME", work.path())
            .output()
            .unwrap()
    };
    let committed = git(&["commit", "--allow-empty", "-m", "WEB-2: a change"]);
    assert!(committed.status.success(), "{}", text(&committed.stderr));
    let refused = git(&["commit", "--allow-empty", "-m", "no key"]);
    assert!(!refused.status.success(), "the policy itself still applies");
    let pushed = git(&["push", "origin", "main"]);
    assert!(pushed.status.success(), "{}", text(&pushed.stderr));
    let log = format!("{}{}", text(&committed.stderr), text(&pushed.stderr));
    assert!(
        attacker.requests().is_empty(),
        "the repository's tracker got requests: {:?}\n{log}",
        attacker.requests()
    );
    assert!(
        !key.was_read(),
        "the file the repository named was opened: {log}"
    );
    assert!(!log.contains("aws-secret-value"), "{log}");
}

/// `allow_repository_trackers` lists URLs: on the server, a repository tracker at a listed URL
/// is used, one at any other URL is ignored with a warning and sent nothing.
#[test]
fn the_server_uses_a_repository_tracker_only_at_a_listed_url() {
    let listed = Sandbox::start(Options::default()).unwrap();
    let unlisted = Sandbox::start(Options::default()).unwrap();
    let own = |url: &str| {
        format!(
            "{}trackers:\n  own:\n    kind: jira-cloud\n    url: {url}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n",
            PROJECT.replace("default_tracker: acme", "default_tracker: own")
        )
    };
    let s = setup(&own(&listed.url()));
    let trackers = s.server.path().join("deploylink/trackers.yml");
    let allow = format!("allow_repository_trackers: [{}]\n", listed.url());
    std::fs::write(
        &trackers,
        support::jira::trackers_file(&s.jira.url(), &allow),
    )
    .unwrap();
    s.work.commit("WEB-1: work");
    let log = pushed(&s.work, &["origin", "main"]);
    assert_eq!(keys(&linked(&listed, "production")), ["WEB-1"], "{log}");
    assert!(s.jira.requests().is_empty(), "{log}");

    s.work
        .commit_file(".deploylink.yml", &own(&unlisted.url()), "WEB-2: move");
    let log = pushed(&s.work, &["origin", "main"]);
    assert!(
        unlisted.requests().is_empty(),
        "an unlisted URL got requests: {log}"
    );
    assert!(
        log.contains("allow_repository_trackers") && log.contains(&unlisted.url()),
        "{log}"
    );
}

/// Replaces the server's post-receive shim by one that passes `flags` to the hook.
fn hook_with_flags(server: &TestRepo, flags: &str) {
    let hook = server.path().join("hooks/post-receive");
    let script = format!(
        "#!/bin/sh\nexec '{}' hook post-receive {flags}\n",
        support::deploylink().display()
    );
    std::fs::write(&hook, script).unwrap();
}

/// A pusher who moves `refs/deploylink/<project>/<env>` in the same push cannot hide the
/// commits it ships: the record is put back and never taken as a deploy.
#[test]
fn a_pushed_deploy_record_is_put_back_and_hides_nothing() {
    let s = setup(PROJECT);
    s.work.commit("WEB-1: first");
    pushed(&s.work, &["origin", "main"]);
    let recorded = s
        .server
        .git(&["rev-parse", "refs/deploylink/shop/production"]);
    let new = s.work.commit("WEB-2: hidden by moving the record");
    let log = pushed(
        &s.work,
        &[
            "origin",
            "main",
            "HEAD:refs/deploylink/shop/production",
            "HEAD:refs/deploylink/shop/staging",
        ],
    );
    assert!(log.contains("moved a deploy record"), "{log}");
    assert!(log.contains("receive.hideRefs"), "{log}");
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1", "WEB-2"]);
    // The hook's own record moves to what production now runs; the pushed one is gone.
    let record = s
        .server
        .git(&["rev-parse", "refs/deploylink/shop/production"]);
    assert_eq!(record.trim(), new.trim());
    assert_ne!(record.trim(), recorded.trim());
    let staging = s.server.git_output(
        &[
            "rev-parse",
            "--verify",
            "-q",
            "refs/deploylink/shop/staging",
        ],
        None,
    );
    assert!(!staging.status.success(), "a created record is removed");
}

/// The documented server setting: `receive.hideRefs refs/deploylink` refuses such pushes.
#[test]
fn receive_hide_refs_refuses_pushes_to_deploy_records() {
    let s = setup(PROJECT);
    s.server
        .git(&["config", "receive.hideRefs", "refs/deploylink"]);
    s.work.commit("WEB-1: first");
    pushed(&s.work, &["origin", "main"]);
    s.work.commit("WEB-2: second");
    let output = push(&s.work, &["origin", "HEAD:refs/deploylink/shop/production"]);
    assert!(!output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("deny updating a hidden ref"),
        "{}",
        text(&output.stderr)
    );
    // The hook itself still records deploys.
    pushed(&s.work, &["origin", "main"]);
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1", "WEB-2"]);
}

/// Refs that map to no environment cost a tree lookup each: 1,000 new feature branches push
/// in about the time git takes without the hook (they took 46 s before: a range walk and a
/// parse of the project file per ref).
#[test]
fn refs_that_map_to_no_environment_cost_nothing() {
    let s = setup(PROJECT);
    s.work.commit("WEB-1: first");
    pushed(&s.work, &["origin", "main"]);
    let mut specs = Vec::new();
    for i in 0..1000 {
        s.work.commit(&format!("WEB-{}: feature", i + 10));
        specs.push(format!("HEAD:refs/heads/feature/{i}"));
    }
    let mut args = vec!["origin"];
    args.extend(specs.iter().map(String::as_str));
    let started = Instant::now();
    let log = pushed(&s.work, &args);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}\n{log}");
    assert!(!log.contains("maps to no environment"), "{log}");
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1"]);
}

/// `--max-deliveries` bounds the writes of one push: deploys past it are neither delivered nor
/// recorded, and reported with the command that delivers them, which works.
#[test]
fn a_push_writes_at_most_max_deliveries() {
    let s = setup(PROJECT);
    hook_with_flags(&s.server, "--max-deliveries 3");
    s.work.commit("WEB-1: first");
    pushed(&s.work, &["origin", "main"]);
    let recorded = s
        .server
        .git(&["rev-parse", "refs/deploylink/shop/production"]);
    s.work
        .commit("WEB-2 WEB-3 WEB-4 WEB-5: too many for one push");
    let output = push(&s.work, &["origin", "main"]);
    let log = text(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert!(
        log.contains("not delivered")
            && log.contains("--max-deliveries")
            && log.contains("deploylink link --record --project shop --environment production --ref refs/heads/main --from"),
        "{log}"
    );
    assert_eq!(keys(&linked(&s.jira, "production")), ["WEB-1"], "{log}");
    let record = s
        .server
        .git(&["rev-parse", "refs/deploylink/shop/production"]);
    assert_eq!(record, recorded, "not recorded");
    // The command the hook printed delivers the deploy and records it.
    let command = log
        .split("`deploylink link ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap();
    let mut args = vec!["link"];
    args.extend(command.split_whitespace());
    let trackers = s.server.path().join("deploylink/trackers.yml");
    args.extend(["--trackers", trackers.to_str().unwrap()]);
    let linked_by_hand = support::cli::command()
        .arg("--repo")
        .arg(s.server.path())
        .args(&args)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .output()
        .unwrap();
    assert!(
        linked_by_hand.status.success(),
        "{args:?}: {}",
        text(&linked_by_hand.stderr)
    );
    assert_eq!(
        keys(&linked(&s.jira, "production")),
        ["WEB-1", "WEB-2", "WEB-3", "WEB-4", "WEB-5"]
    );
    hook_with_flags(&s.server, "");
    s.work.commit("WEB-6: the next push");
    pushed(&s.work, &["origin", "main"]);
    assert_eq!(
        linked(&s.jira, "production"),
        [
            ("WEB-1".to_owned(), 1),
            ("WEB-2".to_owned(), 1),
            ("WEB-3".to_owned(), 1),
            ("WEB-4".to_owned(), 1),
            ("WEB-5".to_owned(), 1),
            ("WEB-6".to_owned(), 1)
        ]
    );
}

/// One commit naming 20,000 keys (it held a 20 s hook 41-70 s, with 300 MB): planning counts
/// against the budget, the deploy writes to `max_issues` (500) issues and reports the rest,
/// and the push ends within the budget.
#[test]
fn a_flood_of_keys_ends_within_the_budget() {
    let s = setup(PROJECT);
    hook_with_flags(&s.server, "--budget 5s");
    s.work.commit("WEB-1: first");
    pushed(&s.work, &["origin", "main"]);
    let keys: Vec<String> = (2..20_002).map(|i| format!("WEB-{i}")).collect();
    s.work.commit(&format!("Flood\n\n{}", keys.join(" ")));
    let started = Instant::now();
    let log = pushed(&s.work, &["origin", "main"]);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert!(
        log.contains("more than 500 issues (max_issues), so 19500 keys are left out"),
        "{}",
        &log[..log.len().min(3000)]
    );
    assert!(linked(&s.jira, "production").len() <= 501);
}
