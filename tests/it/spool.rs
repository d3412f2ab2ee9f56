//! The spool: what cannot be delivered now waits on disk and `retry` sends it later; two
//! retries never send one delivery at once; a `link` killed with SIGKILL at random moments
//! loses nothing (every issue ends with exactly one link, the spool empty).

use crate::support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use jira_sandbox::{Fault, FaultAction, Options, Sandbox};
use serde_json::Value;
use support::cli::text;
use support::TestRepo;

struct Fixture {
    repo: TestRepo,
    jira: Sandbox,
    trackers: PathBuf,
    spool: PathBuf,
    base: String,
    keys: Vec<String>,
}

fn fixture(issues: usize, options: Options) -> Fixture {
    let jira = Sandbox::start(options).unwrap();
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        "version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/shop\nprojects:\n  shop:\n    environments:\n      production: { refs: [refs/heads/main] }\n",
        "Add deploylink",
    );
    let base = repo.git(&["rev-parse", "HEAD"]);
    let keys: Vec<String> = (1..=issues).map(|i| format!("WEB-{i}")).collect();
    repo.commit(&format!("Release\n\n{}", keys.join(" ")));
    let trackers =
        support::jira::write_trackers(repo.path(), &jira.url(), "    max_concurrency: 2\n");
    let spool = repo.path().join(".git/spool");
    Fixture {
        repo,
        jira,
        trackers,
        spool,
        base,
        keys,
    }
}

impl Fixture {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = support::cli::command();
        command
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(args)
            .env("JIRA_USER", "ci@example.com")
            .env("JIRA_API_TOKEN", "token");
        command
    }

    fn link(&self, extra: &[&str]) -> Output {
        self.command(&[
            "link", "--format", "json", "--from", &self.base, "--to", "main", "--spool",
        ])
        .arg(&self.spool)
        .args(extra)
        .output()
        .unwrap()
    }

    fn retry(&self, extra: &[&str]) -> Output {
        self.command(&["retry", "--spool"])
            .arg(&self.spool)
            .args(extra)
            .output()
            .unwrap()
    }

    fn waiting(&self) -> usize {
        std::fs::read_dir(&self.spool)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "json")
                })
                .count()
            })
            .unwrap_or(0)
    }

    /// Every issue has exactly one link.
    fn assert_each_linked_once(&self) {
        let state = self.jira.state();
        for key in &self.keys {
            assert_eq!(state.remote_links(key).len(), 1, "{key}");
        }
        assert!(state.rejected.is_empty());
    }
}

#[test]
fn what_jira_refuses_now_waits_and_retry_delivers_it() {
    let f = fixture(3, Options::default());
    f.jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/issue/WEB-2/".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 503,
            headers: vec![("Retry-After".into(), "60".into())],
            body: String::new(),
        },
    });
    const SENTINEL: &str = "SENTINEL-spool-5e1f";
    let output = f
        .command(&[
            "link", "--format", "json", "--from", &f.base, "--to", "main", "--budget", "3s",
            "--spool",
        ])
        .arg(&f.spool)
        .env("JIRA_API_TOKEN", SENTINEL)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "a spooled delivery is not lost: {}",
        text(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["spooled"], 1, "{report:#}");
    assert_eq!(report["summary"]["linked"], 2);
    assert!(
        text(&output.stderr).contains("deploylink retry"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(f.waiting(), 1);
    let listed = f.retry(&["--list"]);
    let list = text(&listed.stdout);
    assert!(
        list.contains("WEB-2") && list.contains("1 attempt,") && list.contains("503"),
        "{list}"
    );
    // No secret in the spool (nor the user, nor a header).
    for entry in std::fs::read_dir(&f.spool).unwrap() {
        let content = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!content.contains(SENTINEL), "{content}");
        assert!(
            !content.contains("ci@example.com") && !content.contains("Authorization"),
            "{content}"
        );
    }
    // Still down: retry keeps it, with one more attempt, and says so through its exit code.
    let again = f.retry(&["--budget", "2s"]);
    assert_eq!(again.status.code(), Some(4), "{}", text(&again.stderr));
    assert_eq!(f.waiting(), 1);
    assert!(text(&f.retry(&["--list"]).stdout).contains("2 attempts"));
    f.jira.reset();
    let done = f.retry(&[]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    assert_eq!(f.waiting(), 0, "the spool ends empty");
    assert_eq!(f.jira.state().remote_links("WEB-2").len(), 1);
}

#[test]
fn missing_credentials_spool_everything_for_later() {
    let f = fixture(2, Options::default());
    let output = f
        .command(&[
            "link",
            "--from",
            &f.base,
            "--to",
            "main",
            "--on-error",
            "warn",
            "--spool",
        ])
        .arg(&f.spool)
        .env_remove("JIRA_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("JIRA_API_TOKEN is not set"));
    assert_eq!(f.waiting(), 2);
    assert!(f.jira.requests().is_empty());
    assert_eq!(f.retry(&[]).status.code(), Some(0));
    f.assert_each_linked_once();
    assert_eq!(f.waiting(), 0);
}

/// A temporary file left by a writer killed mid-write: `retry --list` leaves it (it only
/// lists), `retry` removes it once it is old enough to be surely abandoned.
#[test]
fn retry_removes_the_temporary_files_of_killed_writers() {
    let f = fixture(1, Options::default());
    std::fs::create_dir_all(&f.spool).unwrap();
    let abandoned = f.spool.join(".abc.json.4242.tmp");
    std::fs::write(&abandoned, "{\"version\":").unwrap();
    let long_ago = std::time::SystemTime::now() - deploylink::deliver::spool::ABANDONED_AFTER * 2;
    std::fs::File::options()
        .write(true)
        .open(&abandoned)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let listed = f.retry(&["--list"]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    assert!(abandoned.exists(), "--list only lists");
    let retried = f.retry(&[]);
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    assert!(!abandoned.exists(), "retry removed it");
}

#[test]
fn two_retries_at_once_never_send_one_delivery_twice() {
    let f = fixture(12, Options::default());
    // Fill the spool while Jira refuses everything, then make Jira slow.
    f.jira.push_fault(Fault {
        method: None,
        path_prefix: None,
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 400,
            headers: vec![],
            body: String::new(),
        },
    });
    f.link(&[]);
    assert_eq!(f.waiting(), 12);
    f.jira.reset();
    f.jira.push_fault(Fault {
        method: None,
        path_prefix: None,
        times: None,
        probability: 1.0,
        action: FaultAction::Delay { ms: 100 },
    });
    let spawn = || {
        f.command(&["retry", "--spool"])
            .arg(&f.spool)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut a, mut b) = (spawn(), spawn());
    a.wait().unwrap();
    b.wait().unwrap();
    // A run that found nothing left to claim may exit 0; what matters is Jira's side.
    let requests = f.jira.requests();
    for key in &f.keys {
        let sent = requests
            .iter()
            .filter(|r| r.path == format!("/rest/api/3/issue/{key}/remotelink"))
            .count();
        assert_eq!(sent, 1, "{key} sent {sent} times");
    }
    assert_eq!(f.waiting(), 0);
    f.assert_each_linked_once();
}

/// SIGKILLs `link` at random moments while it delivers 16 links to a slow Jira, then runs
/// `retry`. Half the trials kill after a random number of requests (0 to 15), half after a
/// random time from the start (0 to 400 ms: start-up, planning, writing the spool, sending).
/// Bounded: 6 trials here; `scripts/crash-loop.sh` runs as many as asked
/// (`DEPLOYLINK_CRASH_TRIALS`), from `DEPLOYLINK_CRASH_SEED` (printed, to replay a failure).
#[test]
fn a_link_killed_at_random_moments_loses_nothing() {
    let trials: usize = env_number("DEPLOYLINK_CRASH_TRIALS").unwrap_or(6);
    let seed = env_number("DEPLOYLINK_CRASH_SEED").unwrap_or(20261128);
    let mut rng = fastrand::Rng::with_seed(seed as u64);
    let mut outcomes = Vec::new();
    for trial in 0..trials {
        let f = fixture(
            16,
            Options {
                latency: Duration::from_millis(40),
                ..Options::default()
            },
        );
        let kill = if trial % 2 == 0 {
            Kill::AfterRequests(rng.usize(0..16))
        } else {
            Kill::AfterTime(Duration::from_millis(rng.u64(0..400)))
        };
        let mut child = f
            .command(&["link", "--from", &f.base, "--to", "main", "--spool"])
            .arg(&f.spool)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let deadline = Duration::from_secs(10);
        match kill {
            Kill::AfterRequests(n) => {
                while f.jira.requests().len() < n && started.elapsed() < deadline {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            Kill::AfterTime(wait) => std::thread::sleep(wait),
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let before = f.jira.requests().len();
        let context = format!("trial {trial} (seed {seed}, {kill:?})");
        // Whatever the kill interrupted, each entry left is whole.
        let listed = f.retry(&["--list", "--format", "json"]);
        assert_eq!(
            listed.status.code(),
            Some(0),
            "{context}: {}",
            text(&listed.stderr)
        );
        assert!(
            !text(&listed.stderr).contains("not a spool entry"),
            "{context}: a torn entry: {}",
            text(&listed.stderr)
        );
        let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
        let waiting: BTreeSet<String> = listed["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| w["keys"].as_array().unwrap().clone())
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        let state = f.jira.state();
        let linked_before: BTreeSet<String> = f
            .keys
            .iter()
            .filter(|k| !state.remote_links(k).is_empty())
            .cloned()
            .collect();
        let retried = f.retry(&[]);
        assert_eq!(
            retried.status.code(),
            Some(0),
            "{context}: {}",
            text(&retried.stderr)
        );
        // Every delivery that was sent or spooled is in Jira exactly once. A kill while the
        // spool was still being written leaves the rest unsent and unrecorded: the deploy is
        // planned again by the next run.
        let state = f.jira.state();
        for key in &f.keys {
            let expected = usize::from(waiting.contains(key) || linked_before.contains(key));
            assert_eq!(state.remote_links(key).len(), expected, "{context}: {key}");
        }
        assert_eq!(f.waiting(), 0, "{context}: the spool ends empty");
        let unsent = f.keys.len() - waiting.union(&linked_before).count();
        if unsent > 0 {
            // The job is run again, as CI would after a killed step: now all are there, once.
            let again = f.link(&[]);
            assert_eq!(
                again.status.code(),
                Some(0),
                "{context}: {}",
                text(&again.stderr)
            );
        }
        f.assert_each_linked_once();
        let left = waiting.len();
        let finished = status.success();
        outcomes.push(format!(
            "{kill:?}: {before} requests, {left} left in the spool, {unsent} not yet spooled{}",
            if finished { " (it had finished)" } else { "" }
        ));
    }
    eprintln!(
        "crash trials (seed {seed}): {} trials\n  {}",
        outcomes.len(),
        outcomes.join("\n  ")
    );
}

#[derive(Clone, Copy, Debug)]
enum Kill {
    AfterRequests(usize),
    AfterTime(Duration),
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}
