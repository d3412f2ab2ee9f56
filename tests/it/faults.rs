//! A fault storm: 429 with Retry-After several times in a row, 503 on 30% of requests,
//! dropped connections on 10%, answers slower than the request timeout, an HTML 502 page, a
//! 400 that must not be retried. Nothing is
//! lost (each delivery is made or spooled, and `retry` makes the rest), nothing is duplicated.

use crate::support;

use std::time::{Duration, Instant};

use jira_sandbox::{Fault, FaultAction, Options, Sandbox};
use serde_json::Value;
use support::TestRepo;

fn fault(
    path_prefix: Option<&str>,
    times: Option<u32>,
    probability: f64,
    action: FaultAction,
) -> Fault {
    Fault {
        method: None,
        path_prefix: path_prefix.map(str::to_owned),
        times,
        probability,
        action,
    }
}

#[test]
fn a_fault_storm_loses_and_duplicates_nothing() {
    const ISSUES: usize = 40;
    let jira = Sandbox::start(Options::default()).unwrap();
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        "version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/shop\nprojects:\n  shop:\n    environments:\n      production: { refs: [refs/heads/main] }\n",
        "Add deploylink",
    );
    let base = repo.git(&["rev-parse", "HEAD"]);
    let keys: Vec<String> = (1..=ISSUES).map(|i| format!("WEB-{i}")).collect();
    repo.commit(&format!("Release\n\n{}", keys.join(" ")));
    let trackers = support::jira::write_trackers(repo.path(), &jira.url(), "");
    let spool = repo.path().join(".git/spool");
    // Checked in order: the first matching fault with hits left applies.
    jira.push_fault(fault(
        Some("/rest/api/3/issue/WEB-1/"),
        Some(3),
        1.0,
        FaultAction::Respond {
            status: 429,
            headers: vec![("Retry-After".into(), "1".into())],
            body: String::new(),
        },
    ));
    jira.push_fault(fault(
        Some("/rest/api/3/issue/WEB-40/"),
        Some(1),
        1.0,
        FaultAction::Respond {
            status: 400,
            headers: vec![],
            body: r#"{"errorMessages":["bad"],"errors":{}}"#.into(),
        },
    ));
    // Slower than `--request-timeout 1s`: twice in a row for WEB-2, and 5% of all requests.
    jira.push_fault(fault(
        Some("/rest/api/3/issue/WEB-2/"),
        Some(2),
        1.0,
        FaultAction::Delay { ms: 2500 },
    ));
    jira.push_fault(fault(None, None, 0.05, FaultAction::Delay { ms: 2500 }));
    jira.push_fault(fault(
        None,
        None,
        0.05,
        FaultAction::Respond {
            status: 502,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<html><title>502 Bad Gateway</title></html>".into(),
        },
    ));
    jira.push_fault(fault(
        None,
        None,
        0.3,
        FaultAction::Respond {
            status: 503,
            headers: vec![],
            body: String::new(),
        },
    ));
    jira.push_fault(fault(None, None, 0.1, FaultAction::Reset));
    let run = |args: &[&str]| {
        support::cli::command()
            .arg("--repo")
            .arg(repo.path())
            .arg("--trackers")
            .arg(&trackers)
            .args(args)
            .arg("--spool")
            .arg(&spool)
            .env("JIRA_USER", "ci@example.com")
            .env("JIRA_API_TOKEN", "token")
            .output()
            .unwrap()
    };
    let started = Instant::now();
    let output = run(&[
        "link",
        "--format",
        "json",
        "--from",
        &base,
        "--to",
        "main",
        "--budget",
        "40s",
        "--request-timeout",
        "1s",
    ]);
    let elapsed = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = &report["summary"];
    let sent = summary["requests"].as_u64().unwrap();
    let linked = summary["linked"].as_u64().unwrap();
    let spooled = summary["spooled"].as_u64().unwrap();
    assert_eq!(
        linked + spooled,
        ISSUES as u64,
        "every delivery is made or spooled: {summary}"
    );
    assert!(spooled >= 1, "the 400 is spooled, not retried: {summary}");
    // Retry-After: WEB-1 waited at least 3 x 1 s.
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    let requests = jira.requests();
    let to = |key: &str| {
        requests
            .iter()
            .filter(|r| r.path == format!("/rest/api/3/issue/{key}/remotelink"))
            .count()
    };
    assert!(to("WEB-1") >= 4, "three 429s, then more");
    assert_eq!(to("WEB-40"), 1, "a 400 is never retried");
    let slow = requests
        .iter()
        .filter(|r| r.fault.as_deref().is_some_and(|f| f.starts_with("delay")))
        .count();
    assert!(to("WEB-2") >= 3, "two answers too slow, then more");
    eprintln!(
        "fault storm: {ISSUES} deliveries, {sent} requests ({:.2} per delivery), {slow} too slow, {linked} linked, {spooled} spooled, {elapsed:?}",
        sent as f64 / ISSUES as f64
    );
    // The storm passes; retry delivers what waits.
    jira.clear_faults();
    let retried = run(&["retry"]);
    assert_eq!(
        retried.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let state = jira.state();
    for key in &keys {
        // One link per issue: the upsert by globalId holds whatever was sent twice.
        assert_eq!(state.remote_links(key).len(), 1, "{key}");
    }
    assert!(state.rejected.is_empty());
    assert_eq!(
        std::fs::read_dir(&spool).unwrap().count(),
        0,
        "the spool ends empty"
    );
}
