//! The repository's identity: every clone plans the same ids (remote links' `globalId`,
//! deployment pipeline, `refs/deploylink/...` records) whatever its directory is called, by the
//! order `repository:`, `repo_url`, the `origin` remote, the CI's variable, the directory.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use jira_sandbox::{Options, Sandbox};
use serde_json::Value;
use support::cli::text;
use support::{git_command, TestRepo};

/// The single-project form: the project's name is the repository's identity.
const SINGLE: &str = "version: 1
default_tracker: acme
keys: { projects: [KAFKA] }
environments:
  production: { refs: [refs/heads/trunk], type: production }
actions: [remote-link, deployment]
link: { url: \"https://ci.example.com/deploys/{short_sha}\" }
";

/// The warning of the directory fallback names the fix.
const FIX: &str = "write `repository:";

fn trackers_file(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("trackers.yml");
    let deployments = format!(
        "    deployments: {{ client_id_env: JIRA_CLIENT_ID, client_secret_env: JIRA_CLIENT_SECRET, api_url: {url}, token_url: {url}/oauth/token }}\n"
    );
    std::fs::write(&path, support::jira::trackers_file(url, &deployments)).unwrap();
    path
}

/// An upstream bare repository `<tmp>/kafka.git` whose `trunk` holds the project file and a
/// commit naming KAFKA-1.
fn upstream(project: &str) -> (tempfile::TempDir, PathBuf) {
    let src = TestRepo::new();
    src.git(&["checkout", "-q", "-b", "trunk"]);
    src.commit_file(".deploylink.yml", project, "Add deploylink configuration");
    src.commit("KAFKA-1: faster fetch");
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("kafka.git");
    let out = git_command(dir.path())
        .args(["clone", "-q", "--bare"])
        .arg(src.path())
        .arg(&bare)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    (dir, bare)
}

/// `git clone upstream <parent>/<name>`.
fn clone(upstream: &Path, parent: &Path, name: &str) -> PathBuf {
    let out = git_command(parent)
        .args(["clone", "-q", "-b", "trunk"])
        .arg(upstream)
        .arg(name)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    parent.join(name)
}

fn git(dir: &Path, args: &[&str]) {
    let out = git_command(dir).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

fn deploylink(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = support::cli::command();
    command.arg("--repo").arg(dir).args(args);
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// What `plan --to trunk` of `dir` says: the remote link's `globalId`, the deployment's
/// pipeline id, the project's name, and stderr.
struct Planned {
    global_id: String,
    /// `None` without the `deployment` action.
    pipeline_id: Option<String>,
    project: String,
    stderr: String,
}

fn plan(dir: &Path, trackers: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Planned {
    let mut args = vec!["plan", "--trackers", trackers.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--to", "trunk", "--format", "json"]);
    let output = deploylink(dir, &args, envs);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploy = &plan["deploys"][0];
    let requests = deploy["requests"].as_array().unwrap();
    let body = |pointer: &str| {
        requests
            .iter()
            .find_map(|r| r["body"].pointer(pointer).and_then(Value::as_str))
            .map(str::to_owned)
    };
    Planned {
        global_id: body("/globalId").expect("a remote link"),
        pipeline_id: body("/deployments/0/pipeline/id"),
        project: deploy["project"].as_str().unwrap().to_owned(),
        stderr,
    }
}

#[test]
fn clones_in_differently_named_directories_plan_the_same_ids() {
    let (dir, upstream) = upstream(SINGLE);
    let trackers = trackers_file(dir.path(), "https://acme.atlassian.net");
    let wt = clone(&upstream, dir.path(), "kafka-wt");
    let plan_dir = clone(&upstream, dir.path(), "kafka-plan");
    let sha = support::cli::text(
        &git_command(&wt)
            .args(["rev-parse", "trunk"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_owned();

    // Clones of a local upstream: its last path component (`kafka.git`), like the server's.
    let a = plan(&wt, &trackers, &[], &[]);
    let b = plan(&plan_dir, &trackers, &[], &[]);
    assert_eq!(
        a.global_id,
        format!("deploylink:kafka:kafka:production:{sha}")
    );
    assert_eq!(a.global_id, b.global_id);
    assert!(a.pipeline_id.is_some());
    assert_eq!(a.pipeline_id, b.pipeline_id);
    assert_eq!(a.project, "kafka");

    // The same repository cloned over https and over ssh: its path on the host.
    git(
        &wt,
        &[
            "remote",
            "set-url",
            "origin",
            "https://github.com/apache/kafka.git",
        ],
    );
    git(
        &plan_dir,
        &["remote", "set-url", "origin", "git@github.com:apache/kafka"],
    );
    let a = plan(&wt, &trackers, &[], &[]);
    let b = plan(&plan_dir, &trackers, &[], &[]);
    assert_eq!(
        a.global_id,
        format!("deploylink:apache/kafka:apache/kafka:production:{sha}")
    );
    assert_eq!(a.global_id, b.global_id);
    assert_eq!(a.pipeline_id.as_deref(), Some("apache/kafka/apache/kafka"));
    assert_eq!(a.pipeline_id, b.pipeline_id);
    assert_eq!(a.project, "apache/kafka");
    assert!(!a.stderr.contains(FIX), "{}", a.stderr);
}

#[test]
fn a_jenkins_workspace_directory_works() {
    let repo = TestRepo::named("shop@2");
    repo.git(&["checkout", "-q", "-b", "trunk"]);
    repo.commit_file(".deploylink.yml", SINGLE, "Add deploylink configuration");
    repo.commit("KAFKA-2: fix");
    let trackers = trackers_file(repo.dir.path(), "https://acme.atlassian.net");
    // No origin, no CI: the directory, without Jenkins' `@2`, and a warning naming the fix.
    let planned = plan(repo.path(), &trackers, &[], &[]);
    assert_eq!(planned.project, "shop");
    assert!(
        planned
            .global_id
            .starts_with("deploylink:shop:shop:production:"),
        "{}",
        planned.global_id
    );
    assert!(planned.stderr.contains(FIX), "{}", planned.stderr);
    assert!(
        planned.stderr.contains("repository: shop"),
        "{}",
        planned.stderr
    );
    // In Jenkins, its GIT_URL names the repository.
    let jenkins = [
        ("JENKINS_URL", "https://ci.example.com/"),
        ("GIT_URL", "https://git.example.com/acme/shop.git"),
    ];
    let planned = plan(repo.path(), &trackers, &[], &jenkins);
    assert_eq!(planned.project, "acme/shop");
    assert!(!planned.stderr.contains(FIX), "{}", planned.stderr);
}

#[test]
fn each_step_of_the_order_wins_over_the_later_ones() {
    let repo = TestRepo::named("dir-name");
    repo.git(&["checkout", "-q", "-b", "trunk"]);
    repo.commit("KAFKA-3: change");
    repo.git(&[
        "remote",
        "add",
        "origin",
        "ssh://git@git.example.com:7999/From/Origin.git",
    ]);
    let trackers = trackers_file(repo.dir.path(), "https://acme.atlassian.net");
    let ci = [("GITHUB_ACTIONS", "true"), ("GITHUB_REPOSITORY", "from/ci")];
    let file = repo.dir.path().join("project.yml");
    let config = file.to_str().unwrap();
    let field = "repository: from/field\n";
    let url = "repo_url: https://git.example.com/from/url\n";
    let steps: [(&str, &str, bool, bool, &str, &str); 5] = [
        (field, url, true, true, "from/field", "`repository:`"),
        ("", url, true, true, "from/url", "`repo_url:`"),
        ("", "", true, true, "from/origin", "`origin` remote"),
        ("", "", false, true, "from/ci", "$GITHUB_REPOSITORY"),
        ("", "", false, false, "dir-name", "directory name"),
    ];
    for (field, url, origin, in_ci, expected, source) in steps {
        std::fs::write(&file, format!("{SINGLE}{field}{url}")).unwrap();
        if !origin {
            let _ = git_command(repo.path())
                .args(["remote", "remove", "origin"])
                .output();
        }
        let envs: &[(&str, &str)] = if in_ci { &ci } else { &[] };
        let planned = plan(repo.path(), &trackers, &["--config", config], envs);
        assert_eq!(planned.project, expected);
        assert!(
            planned
                .global_id
                .starts_with(&format!("deploylink:{expected}:{expected}:production:")),
            "{}",
            planned.global_id
        );
        assert_eq!(planned.pipeline_id, Some(format!("{expected}/{expected}")));
        // The warning appears only on the directory fallback.
        assert_eq!(
            planned.stderr.contains(FIX),
            expected == "dir-name",
            "{expected}: {}",
            planned.stderr
        );
        // `config check` shows where the identity came from.
        let check = deploylink(repo.path(), &["config", "check", "--config", config], envs);
        let shown = text(&check.stdout);
        assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
        assert!(
            shown.contains(&format!("repository: {expected}\n")),
            "{shown}"
        );
        let from = shown
            .lines()
            .find(|l| l.starts_with("repository_from:"))
            .unwrap_or_default();
        assert!(from.contains(source), "{expected}: {from}");
    }
}

#[test]
fn a_written_repository_is_checked() {
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        &format!("version: 1\nrepository: acme//shop\n{}", &SINGLE[11..]),
        "Add deploylink configuration",
    );
    let output = deploylink(repo.path(), &["config", "check", "--rev", "HEAD"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("repository"), "{stderr}");
    assert!(
        stderr.contains("acme/shop"),
        "the hint shows the form: {stderr}"
    );
}

#[test]
fn records_of_a_path_identity_are_valid_refs() {
    let jira = Sandbox::start(Options::default()).unwrap();
    let repo = TestRepo::named("shop@tmp");
    repo.git(&["checkout", "-q", "-b", "trunk"]);
    let project = format!(
        "{}repository: acme/shop\n",
        SINGLE.replace(
            "actions: [remote-link, deployment]\n",
            "actions: [remote-link]\n"
        )
    );
    repo.commit_file(".deploylink.yml", &project, "Add deploylink configuration");
    repo.commit("KAFKA-4: ship");
    let trackers = support::jira::write_trackers(repo.path(), &jira.url(), "");
    let creds = [("JIRA_USER", "ci@example.com"), ("JIRA_API_TOKEN", "token")];
    let output = deploylink(
        repo.path(),
        &[
            "link",
            "--trackers",
            trackers.to_str().unwrap(),
            "--to",
            "trunk",
            "--record",
        ],
        &creds,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let trunk = repo.git(&["rev-parse", "trunk"]);
    assert_eq!(
        repo.git(&["rev-parse", "refs/deploylink/acme/shop/production"]),
        trunk
    );
    let state = jira.state();
    let links = &state.issues["KAFKA-4"].remote_links;
    assert_eq!(
        links[0]["globalId"],
        format!("deploylink:acme/shop:acme/shop:production:{trunk}")
    );
    // The record is the next deploy's base: nothing new to link.
    repo.commit("KAFKA-5: next");
    let output = deploylink(
        repo.path(),
        &[
            "plan",
            "--trackers",
            trackers.to_str().unwrap(),
            "--to",
            "trunk",
            "--format",
            "json",
        ],
        &creds,
    );
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["deploys"][0]["from"], trunk.as_str(), "{plan}");
}

#[test]
fn init_writes_the_repository_from_origin() {
    let repo = TestRepo::named("checkout-17");
    repo.git(&["remote", "add", "origin", "git@github.com:acme/shop.git"]);
    let output = deploylink(repo.path(), &["init"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(repo.path().join(".deploylink.yml")).unwrap();
    assert!(written.contains("\nrepository: acme/shop\n"), "{written}");
    // Without origin, the directory's name, written so that it stays.
    let bare = TestRepo::named("shop@3");
    let output = deploylink(bare.path(), &["init"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let written = std::fs::read_to_string(bare.path().join(".deploylink.yml")).unwrap();
    assert!(written.contains("\nrepository: shop\n"), "{written}");
    assert!(written.contains("directory's name"), "{written}");
}

#[test]
fn the_server_hook_and_its_clones_agree() {
    let jira = Sandbox::start(Options::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("shop.git");
    git(
        dir.path(),
        &["init", "-q", "--bare", "-b", "trunk", "shop.git"],
    );
    let trackers = server.join("deploylink/trackers.yml");
    std::fs::create_dir_all(trackers.parent().unwrap()).unwrap();
    std::fs::write(&trackers, support::jira::trackers_file(&jira.url(), "")).unwrap();
    let installed = deploylink(&server, &["install-hook", "post-receive"], &[]);
    assert_eq!(
        installed.status.code(),
        Some(0),
        "{}",
        text(&installed.stderr)
    );

    let work = TestRepo::named("shop-work");
    work.git(&["checkout", "-q", "-b", "trunk"]);
    let project = SINGLE.replace("actions: [remote-link, deployment]\n", "");
    work.commit_file(".deploylink.yml", &project, "Add deploylink configuration");
    work.commit("KAFKA-6: from the server");
    work.git(&["remote", "add", "origin", server.to_str().unwrap()]);
    let push = git_command(work.path())
        .args(["push", "-q", "origin", "trunk"])
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .env_remove("DEPLOYLINK_TRACKERS")
        .env("HOME", work.path())
        .output()
        .unwrap();
    let pushed = text(&push.stderr);
    assert!(push.status.success(), "{pushed}");
    // The server has no origin: its directory (`shop.git`), with the warning.
    assert!(pushed.contains(FIX), "{pushed}");
    let trunk = work.git(&["rev-parse", "trunk"]);
    let expected = format!("deploylink:shop:shop:production:{trunk}");
    let state = jira.state();
    assert_eq!(
        state.issues["KAFKA-6"].remote_links[0]["globalId"],
        expected
    );
    // The clone in `shop-work` names it from its origin, the server's path: the same id.
    let trackers = support::jira::write_trackers(work.path(), &jira.url(), "");
    let planned = plan(work.path(), &trackers, &[], &[]);
    assert_eq!(planned.global_id, expected);
    assert!(!planned.stderr.contains(FIX), "{}", planned.stderr);
}
