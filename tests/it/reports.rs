//! The reports end to end: the JSON documents of the commands that had none (a client hook's
//! violations, `retry` with nothing waiting, `tracker list` without a file), and a closed
//! stdout ending a run quietly.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::support::cli::{self, text};
use crate::support::TestRepo;

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

const ZERO: &str = "0000000000000000000000000000000000000000";

fn deploylink(repo: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut command = cli::command();
    command.arg("--repo").arg(repo).args(args);
    cli::run(command, stdin, Duration::from_secs(60)).output
}

fn fields(value: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_with_exit_0() {
    // 200,000 keys: about 2 MB of output, far more than a pipe holds.
    let input: String = (1..=200_000).map(|n| format!("WEB-{n} ")).collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), input).unwrap();
    let mut child = cli::command()
        .args(["keys", "--stdin"])
        .stdin(std::fs::File::open(file.path()).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, as `| head -1` does, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"WEB-1\nWE");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "", "nothing on stderr");
}

#[test]
fn completions_into_a_closed_pipe_end_quietly() {
    let mut child = cli::command()
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before anything is written: the first write fails.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "", "no panic, no message");
}

#[test]
fn commit_msg_violations_as_json() {
    let work = TestRepo::new();
    work.commit_file(".deploylink.yml", POLICY, "WEB-1: add deploylink");
    let message = work.path().join("MESSAGE");
    std::fs::write(&message, "Tidy up\n\nno key here\n").unwrap();
    let output = deploylink(
        work.path(),
        &[
            "--format",
            "json",
            "hook",
            "commit-msg",
            message.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(fields(&report), ["violations"]);
    let violation = &report["violations"][0];
    assert_eq!(fields(violation), ["file", "kind", "needs", "subject"]);
    assert_eq!(violation["kind"], "message_without_key");
    assert_eq!(violation["subject"], "Tidy up");
    assert_eq!(violation["file"], message.to_str().unwrap());
    assert!(violation["needs"].as_str().unwrap().contains("WEB-"));
    // People still read the violation on stderr, as git shows it.
    assert!(text(&output.stderr).contains("the commit message names no Jira issue"));
}

#[test]
fn pre_push_violations_as_json() {
    let work = TestRepo::new();
    work.commit_file(".deploylink.yml", POLICY, "WEB-1: add deploylink");
    let bad = work.commit("Fix the build");
    let stdin = format!("refs/heads/main {bad} refs/heads/main {ZERO}\n");
    let args = ["--format", "json", "hook", "pre-push", "origin", "/nowhere"];
    let output = deploylink(work.path(), &args, stdin.as_bytes());
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let violation = &report["violations"][0];
    assert_eq!(
        fields(violation),
        ["commits", "kind", "needs", "rebase_from", "target"]
    );
    assert_eq!(violation["kind"], "commits_without_key");
    assert_eq!(violation["target"], "refs/heads/main");
    assert_eq!(violation["commits"][0]["id"], bad.as_str());
    assert_eq!(violation["commits"][0]["subject"], "Fix the build");
    assert_eq!(violation["commits"].as_array().unwrap().len(), 1);
    // Without --format json, stdout stays empty and stderr has the paragraph.
    let human = deploylink(work.path(), &args[2..], stdin.as_bytes());
    assert_eq!(human.status.code(), Some(1));
    assert!(human.stdout.is_empty());
    assert!(text(&human.stderr).contains("1 commit pushed to refs/heads/main names no Jira issue"));
}

#[test]
fn retry_with_nothing_waiting_as_json() {
    let repo = TestRepo::new();
    let spool = repo.path().join("spool");
    let args = [
        "--format",
        "json",
        "retry",
        "--spool",
        spool.to_str().unwrap(),
    ];
    let output = deploylink(repo.path(), &args, b"");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        fields(&report),
        ["delivered", "results", "spool", "waiting"]
    );
    assert_eq!(report["delivered"], 0);
    assert_eq!(report["waiting"], 0);
    assert_eq!(report["spool"], spool.to_str().unwrap());
    assert_eq!(report["results"], Value::Array(Vec::new()));
    let human = deploylink(repo.path(), &args[2..], b"");
    assert_eq!(
        text(&human.stdout),
        format!("nothing waits in {}\n", spool.display())
    );
}

#[test]
fn tracker_list_without_a_file_as_json() {
    let repo = TestRepo::new();
    let missing = repo.path().join("no-trackers.yml");
    let args = ["--format", "json", "tracker", "list", "--trackers"];
    let output = deploylink(
        repo.path(),
        &[&args[..], &[missing.to_str().unwrap()]].concat(),
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report, serde_json::json!({ "trackers": [] }));
}
