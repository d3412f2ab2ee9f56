//! The GitHub Action downloads deploylink instead of compiling it: run under act, with no
//! cargo and no deploylink on PATH, against a local HTTP server that serves the release
//! archive `scripts/dist.sh` built (`.ci/run` builds it and names its directory in
//! `DEPLOYLINK_DIST_DIR`). Ignored by a plain `cargo test`; selected, it fails without its
//! archive or tools.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NEEDS: &str =
    "needs act and a scripts/dist.sh archive in DEPLOYLINK_DIST_DIR; bash .ci/run runs it";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The version in Cargo.toml: the archive's name carries it.
fn version() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .expect("version in Cargo.toml")
        .to_owned()
}

#[test]
fn every_template_downloads_the_release_of_this_version() {
    let v = version();
    let expected = [
        (
            "ci-templates/github/action.yml",
            format!("DEPLOYLINK_RELEASE: \"{v}\""),
        ),
        (
            "ci-templates/gitlab/deploylink.yml",
            format!("default: \"{v}\""),
        ),
        (
            "ci-templates/bitbucket/bitbucket-pipelines.yml",
            format!("DEPLOYLINK_VERSION:-{v}"),
        ),
        (
            "ci-templates/circleci/config.yml",
            format!("DEPLOYLINK_VERSION:-{v}"),
        ),
        (
            "ci-templates/jenkins/Jenkinsfile",
            format!("DEPLOYLINK_VERSION:-{v}"),
        ),
    ];
    for (file, pinned) in expected {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            text.contains(&pinned),
            "{file} must download release {v}: {pinned}"
        );
        assert!(
            !text.contains("cargo install"),
            "{file} must not compile deploylink"
        );
    }
}

/// The directory holding `deploylink-<version>-x86_64-unknown-linux-gnu.tar.gz` and its
/// `.sha256`, or a failure that says how to make it.
fn dist_dir() -> PathBuf {
    let dir = std::env::var_os("DEPLOYLINK_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("dist"));
    let archive = dir.join(format!(
        "deploylink-{}-x86_64-unknown-linux-gnu.tar.gz",
        version()
    ));
    assert!(
        archive.is_file(),
        "{} is missing: run `bash scripts/dist.sh` first (or set DEPLOYLINK_DIST_DIR)",
        archive.display()
    );
    dir
}

/// A file server on 127.0.0.1 for `dir`, counting the requests it answers. A path under
/// `/bad/` serves the same files with a `.sha256` that does not match.
struct FileServer {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl FileServer {
    fn start(dir: PathBuf) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                if BufReader::new(&stream).read_line(&mut line).is_err() {
                    continue;
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (bad, name) = match path.strip_prefix("/bad/") {
                    Some(name) => (true, name.to_owned()),
                    None => (false, path.trim_start_matches('/').to_owned()),
                };
                let body = if bad && name.ends_with(".sha256") {
                    Some(
                        format!("{}  {}\n", "0".repeat(64), name.trim_end_matches(".sha256"))
                            .into_bytes(),
                    )
                } else if name.contains('/') || name.contains("..") {
                    None
                } else {
                    std::fs::read(dir.join(&name)).ok()
                };
                let head = match &body {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    ),
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = stream.write_all(head.as_bytes());
                if let Some(body) = body {
                    let _ = stream.write_all(&body);
                }
            }
        });
        FileServer { url, requests }
    }
}

/// PATH without cargo and without any deploylink: what a runner without Rust has.
fn path_without_rust() -> std::ffi::OsString {
    let dirs = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|dir| !dir.join("cargo").exists() && !dir.join("deploylink").exists())
        .collect::<Vec<_>>();
    std::env::join_paths(dirs).expect("PATH")
}

fn act() -> PathBuf {
    std::env::split_paths(&path_without_rust())
        .map(|dir| dir.join("act"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`act` is not on PATH: install it with `bash ci-templates/install-test-tools.sh`"
            )
        })
}

const WORKFLOW: &str = r#"name: download
on: push
jobs:
  deploylink:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Record the deploy
        uses: ./ci-templates/github
        with:
          environment: production
          on-error: warn
          download-url: DOWNLOAD_URL
          args: --dry-run
"#;

const PROJECT_FILE: &str = "version: 1
repository: acme/shop
default_tracker: acme
trackers:
  acme:
    kind: jira-cloud
    url: https://acme.atlassian.net
    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }
keys: { projects: [WEB] }
environments:
  production: { refs: [refs/heads/main] }
";

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .stdout(Stdio::null())
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// A repository with the action and a workflow that downloads from `download_url`.
fn workspace(scratch: &Path, download_url: &str) -> PathBuf {
    let dir = scratch.join("shop");
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    std::fs::create_dir_all(dir.join("ci-templates/github")).unwrap();
    std::fs::copy(
        root().join("ci-templates/github/action.yml"),
        dir.join("ci-templates/github/action.yml"),
    )
    .unwrap();
    std::fs::write(
        dir.join(".github/workflows/download.yml"),
        WORKFLOW.replace("DOWNLOAD_URL", download_url),
    )
    .unwrap();
    std::fs::write(dir.join(".deploylink.yml"), PROJECT_FILE).unwrap();
    git(&dir, &["init", "-q", "-b", "main", "."]);
    git(
        &dir,
        &[
            "-c",
            "user.name=Dana",
            "-c",
            "user.email=d@example.com",
            "add",
            "-A",
        ],
    );
    git(
        &dir,
        &[
            "-c",
            "user.name=Dana",
            "-c",
            "user.email=d@example.com",
            "commit",
            "-q",
            "-m",
            "WEB-1: the workflow",
        ],
    );
    dir
}

/// Runs the workflow under act on this machine (act keeps its tool cache under `HOME`, so
/// each test has its own); its output, whether it succeeded, and how long it took.
fn run_act(scratch: &Path, dir: &Path) -> (String, bool, Duration) {
    let started = Instant::now();
    let output = Command::new(act())
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_without_rust())
        .env("HOME", scratch.join("home"))
        .args([
            "push",
            "-P",
            "ubuntu-latest=-self-hosted",
            "-W",
            ".github/workflows/download.yml",
        ])
        .args([
            "--env",
            "JIRA_USER=u@example.com",
            "--env",
            "JIRA_API_TOKEN=t",
        ])
        .args(["--no-cache-server", "--action-offline-mode"])
        .stdin(Stdio::null())
        .output()
        .expect("act");
    let elapsed = started.elapsed();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (log, output.status.success(), elapsed)
}

#[test]
#[ignore = "needs act and a scripts/dist.sh archive in DEPLOYLINK_DIST_DIR; bash .ci/run runs it"]
fn the_action_downloads_verifies_caches_and_runs_the_release() {
    let _ = NEEDS;
    let server = FileServer::start(dist_dir());
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(scratch.path().join("home")).unwrap();
    let dir = workspace(scratch.path(), &server.url);

    let (log, ok, first) = run_act(scratch.path(), &dir);
    assert!(ok, "the workflow failed:\n{log}");
    assert!(log.contains("checksum verified"), "{log}");
    assert!(
        log.contains("WEB-1"),
        "deploylink ran and planned WEB-1:\n{log}"
    );
    let downloads = server.requests.load(Ordering::SeqCst);
    assert_eq!(downloads, 2, "the archive and its checksum:\n{log}");
    let kept = log
        .lines()
        .find_map(|l| {
            l.split_once("kept in the tool cache: ")
                .map(|(_, p)| p.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no tool cache line:\n{log}"));
    assert!(
        kept.ends_with(&format!(
            "deploylink/{}/x86_64-unknown-linux-gnu",
            version()
        )),
        "{kept}"
    );
    assert!(Path::new(&kept).join("deploylink").is_file(), "{kept}");

    // A second job on the same runner takes it from the tool cache.
    let (log, ok, second) = run_act(scratch.path(), &dir);
    assert!(ok, "the second run failed:\n{log}");
    assert!(log.contains("from the tool cache"), "{log}");
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        downloads,
        "nothing downloaded again"
    );
    eprintln!(
        "act runs of the workflow: {first:?} with the download, {second:?} from the tool cache ({kept})"
    );
}

#[test]
#[ignore = "needs act and a scripts/dist.sh archive in DEPLOYLINK_DIST_DIR; bash .ci/run runs it"]
fn a_checksum_mismatch_fails_the_step_and_says_so() {
    let server = FileServer::start(dist_dir());
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(scratch.path().join("home")).unwrap();
    let dir = workspace(scratch.path(), &format!("{}/bad", server.url));
    let (log, ok, _) = run_act(scratch.path(), &dir);
    assert!(!ok, "a corrupt download must fail the step:\n{log}");
    assert!(log.contains("checksum mismatch"), "{log}");
    assert!(
        !log.contains("kept in the tool cache"),
        "nothing corrupt is cached:\n{log}"
    );
}
