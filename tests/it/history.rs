//! The deploy history in git (`refs/deploylink-history/<project>/<environment>`): real
//! pushes through the installed post-receive hook, `link --record` in every state, 20
//! concurrent appends, `--deployed-at`, `--push-history` to a bare remote, histories that
//! someone else wrote into (a foreign commit, a newer format, a skewed clock), and the
//! `history` and `metrics` documents.

use crate::support;

use std::path::Path;
use std::process::Output;

use jira_sandbox::{Options, Sandbox};
use serde_json::Value;
use support::cli::text;
use support::{git_command, TestRepo};

const PROJECT: &str = "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys: { projects: [WEB, OPS] }
    environments:
      production: { refs: [refs/heads/main], type: production }
";

const HISTORY: &str = "refs/deploylink-history/shop/production";
const RECORD: &str = "refs/deploylink/shop/production";

/// A bare server with the post-receive hook and an organization file pointing at a
/// sandbox, and a work repository whose origin is the server.
struct Server {
    server: TestRepo,
    work: TestRepo,
    _jira: Sandbox,
}

fn server() -> Server {
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
    work.commit_file(".deploylink.yml", PROJECT, "Add deploylink configuration");
    work.git(&["remote", "add", "origin", server.path().to_str().unwrap()]);
    Server {
        server,
        work,
        _jira: jira,
    }
}

fn deploylink(repo: &Path, args: &[&str]) -> Output {
    support::cli::command()
        .arg("--repo")
        .arg(repo)
        .args(args)
        .env("JIRA_USER", "ci@example.com")
        .env("JIRA_API_TOKEN", "token")
        .output()
        .unwrap()
}

/// Runs deploylink and returns stdout; fails the test on a non-zero exit.
fn ok(repo: &Path, args: &[&str]) -> String {
    let output = deploylink(repo, args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "deploylink {args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn push(work: &TestRepo, args: &[&str]) {
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
    assert!(output.status.success(), "{}", text(&output.stderr));
}

fn json(repo: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok(repo, &all)).unwrap()
}

fn deploys(repo: &Path) -> Vec<Value> {
    json(repo, &["history"])["deploys"]
        .as_array()
        .unwrap()
        .clone()
}

fn states(deploys: &[Value]) -> Vec<&str> {
    deploys
        .iter()
        .map(|d| d["state"].as_str().unwrap())
        .collect()
}

/// A work repository with the project file and a trackers file for a sandbox, for `link`.
struct Local {
    repo: TestRepo,
    _jira: Sandbox,
}

fn local() -> Local {
    let jira = Sandbox::start(Options::default()).unwrap();
    let repo = TestRepo::new();
    repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink configuration");
    support::jira::write_trackers(repo.path(), &jira.url(), "");
    Local { repo, _jira: jira }
}

impl Local {
    fn link(&self, args: &[&str]) -> Output {
        let trackers = self.repo.path().join(".git/trackers.yml");
        let mut all = vec![
            "--trackers",
            trackers.to_str().unwrap(),
            "link",
            "--environment",
            "production",
        ];
        all.extend_from_slice(args);
        deploylink(self.repo.path(), &all)
    }

    fn linked(&self, args: &[&str]) {
        let output = self.link(args);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
}

#[test]
fn every_push_is_appended_and_a_rollback_moves_the_record_back() {
    let s = server();
    let first = s.work.commit("WEB-1: first feature");
    push(&s.work, &["origin", "main"]);
    s.work.commit("WEB-2: second feature");
    let second = s.work.commit("OPS-3: pin the image");
    push(&s.work, &["origin", "main"]);
    let listed = deploys(s.server.path());
    assert_eq!(states(&listed), ["successful", "successful"]);
    assert_eq!(listed[1]["to"], second.as_str());
    assert_eq!(listed[1]["keys"], serde_json::json!(["WEB-2", "OPS-3"]));
    assert_eq!(listed[1]["commits"].as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["from"], first.as_str());
    assert_eq!(s.server.git(&["rev-parse", RECORD]), second);

    s.work.git(&["reset", "-q", "--hard", &first]);
    push(&s.work, &["--force", "origin", "main"]);
    let listed = deploys(s.server.path());
    assert_eq!(states(&listed), ["successful", "successful", "rolled_back"]);
    assert_eq!(listed[2]["to"], first.as_str());
    assert_eq!(
        s.server.git(&["rev-parse", RECORD]),
        first,
        "a rollback is kept in the history, and the record names what production runs"
    );
    // Each entry is one commit whose tree holds only deploy.json, on the previous one.
    let chain = s.server.rev_list(&[HISTORY]);
    assert_eq!(chain.len(), 3);
    assert_eq!(
        s.server.git(&["ls-tree", "--name-only", HISTORY]),
        "deploy.json"
    );
    let file: Value =
        serde_json::from_str(&s.server.git(&["show", &format!("{HISTORY}:deploy.json")])).unwrap();
    assert_eq!(file["version"], 1);
    assert_eq!(file["project"], "shop");
    assert_eq!(file["ref"], "refs/heads/main");
    assert!(file["commits"][0]["committed_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(file["commits"][0]["authored_at"].is_string());
}

#[test]
fn a_failed_deploy_is_in_the_history_but_does_not_move_the_record() {
    let l = local();
    let base = l.repo.git(&["rev-parse", "HEAD"]);
    l.repo.commit("WEB-1: first feature");
    l.linked(&[
        "--from",
        &base,
        "--record",
        "--state",
        "failed",
        "--run-url",
        "https://ci.example.com/run/7",
    ]);
    let listed = deploys(l.repo.path());
    assert_eq!(states(&listed), ["failed"]);
    assert_eq!(listed[0]["run_url"], "https://ci.example.com/run/7");
    let record = l
        .repo
        .git_output(&["rev-parse", "--verify", "-q", RECORD], None);
    assert!(
        !record.status.success(),
        "a failed deploy neither moves nor creates the record"
    );
    l.linked(&["--record", "--state", "successful"]);
    let listed = deploys(l.repo.path());
    assert_eq!(states(&listed), ["failed", "successful"]);
    assert_eq!(
        l.repo.git(&["rev-parse", RECORD]),
        l.repo.git(&["rev-parse", "HEAD"])
    );
}

#[test]
fn deployed_at_back_fills_and_is_checked() {
    let l = local();
    l.repo.commit("WEB-1: first feature");
    l.linked(&["--record", "--deployed-at", "2026-01-02T12:00:00+02:00"]);
    assert_eq!(
        deploys(l.repo.path())[0]["deployed_at"],
        "2026-01-02T10:00:00Z"
    );
    let refused = l.link(&["--record", "--deployed-at", "yesterday"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("RFC 3339"),
        "{}",
        text(&refused.stderr)
    );
}

/// Twenty deploys recorded at once into one bare repository: every one ends up in the chain.
#[test]
fn twenty_concurrent_appends_leave_twenty_entries() {
    let s = server();
    let mut tips = Vec::new();
    for i in 0..20 {
        // No issue keys: nothing to send to Jira, the run is all planning and recording.
        tips.push(s.work.commit(&format!("change {i}")));
    }
    push(&s.work, &["origin", "main"]);
    let trackers = s.server.path().join("deploylink/trackers.yml");
    let children: Vec<_> = tips
        .iter()
        .enumerate()
        .map(|(i, tip)| {
            support::cli::command()
                .arg("--repo")
                .arg(s.server.path())
                .arg("--trackers")
                .arg(&trackers)
                .args([
                    "link",
                    "--environment",
                    "production",
                    "--record",
                    "--to",
                    tip,
                ])
                .args(["--deployed-at", &format!("2026-01-01T00:{i:02}:00Z")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    // 1 from the push, 20 from the concurrent runs.
    assert_eq!(s.server.rev_list(&[HISTORY]).len(), 21);
    let listed = deploys(s.server.path());
    let mut recorded: Vec<&str> = listed[..20]
        .iter()
        .map(|d| d["to"].as_str().unwrap())
        .collect();
    recorded.sort_unstable();
    let mut expected: Vec<&str> = tips.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(recorded, expected);
}

/// A CI clone is thrown away: `--push-history` pushes its entries, on top of what other
/// jobs pushed meanwhile.
#[test]
fn push_history_sends_the_entries_to_a_bare_remote() {
    let remote = TestRepo::bare();
    let a = local();
    a.repo
        .git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    a.repo.commit("WEB-1: first feature");
    a.repo.git(&["push", "-q", "origin", "main"]);
    let b = local();
    b.repo
        .git(&["remote", "add", "origin", remote.path().to_str().unwrap()]);
    b.repo.git(&["fetch", "-q", "origin"]);
    b.repo.git(&["reset", "-q", "--hard", "origin/main"]);
    a.linked(&[
        "--record",
        "--push-history",
        "origin",
        "--deployed-at",
        "2026-01-01T10:00:00Z",
    ]);
    // b never fetched a's entry: its own is put on top of it.
    b.linked(&[
        "--record",
        "--push-history",
        "origin",
        "--deployed-at",
        "2026-01-01T11:00:00Z",
    ]);
    let listed = deploys(remote.path());
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["deployed_at"], "2026-01-01T10:00:00Z");
    assert_eq!(listed[1]["deployed_at"], "2026-01-01T11:00:00Z");
    assert_eq!(remote.rev_list(&[HISTORY]).len(), 2);
}

/// Writes a commit holding `deploy.json` = `json` on top of `parent` (the way someone else's
/// tool might) and returns it.
fn entry_by_hand(repo: &TestRepo, parent: &str, json: &str) -> String {
    let blob = repo.git_output(&["hash-object", "-w", "--stdin"], Some(json.as_bytes()));
    let blob = text(&blob.stdout).trim().to_owned();
    let tree = repo.git_output(
        &["mktree"],
        Some(format!("100644 blob {blob}\tdeploy.json\n").as_bytes()),
    );
    let tree = text(&tree.stdout).trim().to_owned();
    repo.git(&["commit-tree", &tree, "-p", parent, "-m", "deploy by hand"])
}

#[test]
fn a_history_others_wrote_into_is_reported_entry_by_entry_and_the_rest_counts() {
    let l = local();
    let repo = &l.repo;
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.set_time(1_767_225_600); // 2026-01-01T00:00:00Z
    repo.commit("WEB-1: first feature");
    l.linked(&[
        "--from",
        &base,
        "--record",
        "--deployed-at",
        "2026-01-01T01:00:00Z",
    ]);
    // Someone pushed a commit of their own to the history.
    let tip = repo.git(&["rev-parse", HISTORY]);
    let foreign = repo.commit_tree(&[&tip], "not a deploy", 1_767_230_000);
    // A newer deploylink wrote the next entry.
    let newer = entry_by_hand(
        repo,
        &foreign,
        r#"{"version": 2, "project": "shop", "environment": "production", "shape": "new"}"#,
    );
    repo.git(&["update-ref", HISTORY, &newer]);
    // A deploy dated before its own commit: a wrong clock.
    repo.set_time(1_767_225_600 + 5 * 3600);
    repo.commit("WEB-2: second feature");
    l.linked(&["--record", "--deployed-at", "2026-01-01T03:00:00Z"]);
    let skewed = repo.git(&["rev-parse", HISTORY]);
    repo.set_time(1_767_225_600 + 6 * 3600);
    repo.commit("OPS-3: third");
    l.linked(&["--record", "--deployed-at", "2026-01-01T08:00:00Z"]);

    let output = deploylink(repo.path(), &["metrics", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    for named in [&foreign, &newer, &skewed] {
        assert!(
            stderr.contains(named.as_str()),
            "{named} is not named: {stderr}"
        );
    }
    assert!(stderr.contains("newer deploylink"), "{stderr}");
    let metrics: Value = serde_json::from_slice(&output.stdout).unwrap();
    let m = &metrics["metrics"][0];
    assert_eq!(m["deploys"], 3, "the readable entries count: {m}");
    // Lead times (commits are made a minute after the time set): WEB-1 59 min, OPS-3
    // 1 h 59 min; WEB-2 (committed after its deploy) left out.
    assert_eq!(m["lead_time_seconds"]["commits"], 2);
    assert_eq!(m["lead_time_seconds"]["median"], 3540);
    assert_eq!(m["lead_time_seconds"]["p90"], 7140);
    let warned: Vec<&str> = metrics["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["entry"].as_str().unwrap())
        .collect();
    assert_eq!(warned, [foreign.as_str(), newer.as_str(), skewed.as_str()]);
    assert_eq!(deploys(repo.path()).len(), 3);
}

#[test]
fn a_history_ref_on_a_code_branch_stops_early_and_never_crashes() {
    let l = local();
    for i in 0..150 {
        l.repo.commit(&format!("change {i}"));
    }
    l.repo.git(&["update-ref", HISTORY, "HEAD"]);
    let output = deploylink(l.repo.path(), &["history", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed["deploys"], serde_json::json!([]));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("reading stops"), "{stderr}");
}

/// The documented shapes (docs/json-output.md), field by field.
#[test]
fn the_json_documents_have_their_documented_shape() {
    let l = local();
    let base = l.repo.git(&["rev-parse", "HEAD"]);
    l.repo.set_time(1_767_225_600);
    l.repo.commit("WEB-1: first feature");
    l.linked(&[
        "--from",
        &base,
        "--record",
        "--deployed-at",
        "2026-01-01T03:00:00Z",
    ]);
    l.repo.commit("WEB-2: second");
    l.linked(&[
        "--record",
        "--state",
        "failed",
        "--deployed-at",
        "2026-01-02T00:00:00Z",
    ]);
    l.linked(&["--record", "--deployed-at", "2026-01-02T03:00:00Z"]);

    let history = json(l.repo.path(), &["history"]);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&history), ["deploys", "warnings"]);
    assert_eq!(
        keys(&history["deploys"][0]),
        [
            "commits",
            "deployed_at",
            "entry",
            "environment",
            "from",
            "keys",
            "project",
            "ref",
            "run_url",
            "state",
            "to"
        ]
    );
    assert_eq!(
        keys(&history["deploys"][0]["commits"][0]),
        ["authored_at", "committed_at", "id"]
    );

    let metrics = json(l.repo.path(), &["metrics", "--since", "2026-01-01"]);
    assert_eq!(keys(&metrics), ["metrics", "warnings"]);
    let m = &metrics["metrics"][0];
    assert_eq!(
        keys(m),
        [
            "change_failure_rate",
            "deployment_frequency",
            "deploys",
            "environment",
            "failed",
            "lead_time_per_deploy",
            "lead_time_seconds",
            "not_counted",
            "project",
            "recovery_time_seconds",
            "reverted",
            "rolled_back",
            "since",
            "successful",
            "until"
        ]
    );
    assert_eq!(m["since"], "2026-01-01T00:00:00Z");
    assert_eq!(m["until"], "2026-01-02T03:00:00Z");
    assert_eq!(
        (
            m["deploys"].as_u64(),
            m["successful"].as_u64(),
            m["failed"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(keys(&m["deployment_frequency"]), ["per_day", "per_week"]);
    // 2 successful deploys over 27 hours.
    assert_eq!(m["deployment_frequency"]["per_day"], 1.778);
    assert_eq!(m["deployment_frequency"]["per_week"], 12.444);
    assert_eq!(keys(&m["lead_time_seconds"]), ["commits", "median", "p90"]);
    // WEB-1: 3 h less a minute; WEB-2 first shipped by the last deploy.
    assert_eq!(m["lead_time_seconds"]["commits"], 2);
    assert_eq!(m["change_failure_rate"], 0.333);
    assert_eq!(keys(&m["recovery_time_seconds"]), ["count", "median"]);
    assert_eq!(m["recovery_time_seconds"]["median"], 3 * 3600);
}

#[test]
fn metrics_as_a_page_and_html_only_for_metrics() {
    let l = local();
    l.repo.commit("WEB-1: first <feature>");
    l.linked(&["--record", "--deployed-at", "2026-01-02T10:00:00Z"]);
    let page = ok(l.repo.path(), &["metrics", "--format", "html"]);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("<svg")
            && page.contains("Deploys per week")
            && page.contains("Lead time per deploy")
    );
    assert!(!page.contains("<script") && !page.contains("https://") && !page.contains("<link"));
    let refused = deploylink(l.repo.path(), &["history", "--format", "html"]);
    assert_eq!(refused.status.code(), Some(2));
    let human = ok(l.repo.path(), &["metrics"]);
    assert!(
        human.contains("shop -> production") && human.contains("deployment frequency"),
        "{human}"
    );
    let bad = deploylink(l.repo.path(), &["metrics", "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// A fast-import stream of `count` deploys of shop to production, one every 36 hours or so
/// from 2026-01-05, with failures, rollbacks, and commits made 1 to 40 hours before their
/// deploy: a history to measure and to look at.
pub fn synthetic_history(count: usize) -> String {
    let mut stream = String::new();
    let mut seed: u64 = 7;
    let mut next = move |modulo: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % modulo
    };
    let mut at: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z
    let mut commit = 0u64;
    for i in 0..count {
        at += 3600 * (18 + next(36) as i64);
        let state = match (i % 11, i % 17) {
            (5, _) => "failed",
            (_, 9) => "rolled_back",
            _ => "successful",
        };
        let commits: Vec<String> = (0..1 + next(4))
            .map(|_| {
                commit += 1;
                let committed = at - 3600 * (1 + next(40) as i64);
                format!(
                    r#"{{"id": "{commit:040x}", "authored_at": "{t}", "committed_at": "{t}"}}"#,
                    t = rfc3339(committed)
                )
            })
            .collect();
        let json = format!(
            r#"{{"version": 1, "project": "shop", "environment": "production", "ref": "refs/heads/main", "from": null, "to": "{:040x}", "state": "{state}", "deployed_at": "{}", "commits": [{}], "keys": ["WEB-{i}"], "run_url": null}}"#,
            1_000_000 + i,
            rfc3339(at),
            commits.join(", ")
        );
        stream.push_str(&format!(
            "commit {HISTORY}\ncommitter deploylink <deploylink@localhost> {at} +0000\ndata 7\ndeploy\ndeleteall\nM 100644 inline deploy.json\ndata {}\n{json}\n\n",
            json.len()
        ));
    }
    stream
}

fn rfc3339(at: i64) -> String {
    let output = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{at}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    text(&output.stdout).trim().to_owned()
}

/// The metrics page as a person sees it: rendered by headless Chromium (Debian's
/// `chromium`), the screenshot decoded, and the charts' colours counted. Set
/// `DEPLOYLINK_SCREENSHOT=docs/img/metrics.png` to refresh the README's picture.
#[test]
#[ignore = "needs chromium (bash .ci/run installs it)"]
fn the_metrics_page_renders_its_charts_in_chromium() {
    let repo = TestRepo::bare();
    let imported = repo.git_output(
        &["fast-import", "--quiet"],
        Some(synthetic_history(60).as_bytes()),
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let page = ok(repo.path(), &["metrics", "--format", "html"]);
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("metrics.html");
    std::fs::write(&html, &page).unwrap();
    let png = dir.path().join("metrics.png");
    let shot = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=900,1000")
        .arg(format!("file://{}", html.display()))
        .env("HOME", dir.path())
        .output()
        .expect("run chromium (apt-get install chromium)");
    assert!(png.exists(), "no screenshot: {}", text(&shot.stderr));
    if let Ok(keep) = std::env::var("DEPLOYLINK_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (900, 1000));
    let channels = frame.color_type.samples();
    let count = |rgb: [u8; 3]| {
        pixels[..frame.buffer_size()]
            .chunks(channels)
            .filter(|p| p[..3].iter().zip(rgb).all(|(a, b)| a.abs_diff(b) <= 12))
            .count()
    };
    let white = count([255, 255, 255]);
    let total = (frame.width * frame.height) as usize;
    assert!(
        white < total * 97 / 100,
        "the page is blank: {white} of {total} pixels white"
    );
    let successful = count([0x2f, 0x85, 0x5a]);
    let failed = count([0xc5, 0x30, 0x30]);
    let lead = count([0x2b, 0x6c, 0xb0]);
    // Bars of 60 deploys over 13 weeks, and 40-odd lead time dots: thousands of pixels each.
    assert!(successful > 3000, "successful bars: {successful} pixels");
    assert!(failed > 300, "failed bars: {failed} pixels");
    assert!(lead > 500, "lead time dots: {lead} pixels");
}
