//! SPEC 11, item by item: every kind of bad input gets a clear one-paragraph error (what, where,
//! how to fix) and a documented exit code, never a panic, and never a lost delivery.
//!
//! Each test drives the real binary, in the order of SPEC 11's list. Every run goes through
//! [`run`], which bounds it in time (a hang fails the test instead of blocking it) and checks
//! that nothing panicked. `docs/reliability.md` maps each item to its test.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use jira_sandbox::{Credentials, Fault, FaultAction, Options, Sandbox};
use serde_json::Value;
use snapbox::str;
use support::{git_command, TestRepo};

/// Longer than any run here should take; a run past it is killed and fails its test.
const HANG: Duration = Duration::from_secs(30);

const PROJECT: &str = "version: 1
default_tracker: acme
repo_url: https://git.example.com/shop
projects:
  shop:
    keys: { projects: [WEB, OPS] }
    environments:
      production: { refs: [refs/heads/main] }
";

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    #[track_caller]
    fn exits(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{self}");
        self
    }

    /// Asserts that stderr contains every phrase.
    #[track_caller]
    fn says(&self, phrases: &[&str]) -> &Self {
        for phrase in phrases {
            assert!(self.stderr.contains(phrase), "{phrase:?} not in\n{self}");
        }
        self
    }

    /// Asserts the whole of stderr, with temporary paths and ports made stable
    /// (`SNAPSHOTS=overwrite cargo test` rewrites the expected text in place).
    #[track_caller]
    fn stderr_is(&self, expected: impl snapbox::data::IntoData) -> &Self {
        snapbox::assert_data_eq!(stable(&self.stderr), expected);
        self
    }

    /// The `--format json` report on stdout.
    #[track_caller]
    fn report(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self}"))
    }

    #[track_caller]
    fn within(&self, limit: Duration) -> &Self {
        assert!(self.elapsed < limit, "took {:?}: {self}", self.elapsed);
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clip = |s: &str| s.chars().take(4000).collect::<String>();
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.elapsed,
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }
}

/// `text` with what differs between runs replaced: temporary directories, local ports.
fn stable(text: &str) -> String {
    static VOLATILE: std::sync::OnceLock<[(regex::Regex, &str); 2]> = std::sync::OnceLock::new();
    let volatile = VOLATILE.get_or_init(|| {
        [
            (
                regex::Regex::new(r"/tmp/\.tmp[A-Za-z0-9]+").unwrap(),
                "[TMP]",
            ),
            (
                regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap(),
                "127.0.0.1:[PORT]",
            ),
        ]
    });
    volatile
        .iter()
        .fold(text.to_owned(), |text, (pattern, with)| {
            pattern.replace_all(&text, *with).into_owned()
        })
}

/// `deploylink` with a clean environment: no organization file, spool or log filter from the
/// test's own environment, Jira's credentials set (tests remove them where they need to).
fn deploylink(home: &Path) -> Command {
    let mut command = support::cli::command();
    command
        .env_remove("XDG_CONFIG_HOME")
        // Unset, a panic prints its "run with `RUST_BACKTRACE=1`" note, which `run` looks for.
        .env_remove("RUST_BACKTRACE")
        .env("HOME", home)
        .env("JIRA_USER", "u@example.com")
        .env("JIRA_API_TOKEN", "t");
    command
}

/// Runs `command` with `stdin`, killing it after [`HANG`]; asserts that nothing panicked.
#[track_caller]
fn run(command: Command, stdin: &[u8]) -> Run {
    let ran = support::cli::run(command, stdin, HANG);
    let run = Run {
        code: ran.output.status.code(),
        stdout: support::cli::text(&ran.output.stdout),
        stderr: support::cli::text(&ran.output.stderr),
        elapsed: ran.elapsed,
    };
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "a panic: {run}"
        );
    }
    run
}

/// A repository whose `main` deploys WEB-1 and WEB-2 to production since `base`, with an
/// organization file connecting tracker `acme` at `url`.
struct Fixture {
    repo: TestRepo,
    trackers: PathBuf,
    base: String,
}

fn fixture(url: &str) -> Fixture {
    let repo = TestRepo::new();
    let base = repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink");
    repo.commit("WEB-1: first change");
    repo.commit("WEB-2: second change");
    let trackers = support::jira::write_trackers(repo.path(), url, "");
    Fixture {
        repo,
        trackers,
        base,
    }
}

impl Fixture {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = deploylink(self.repo.dir.path());
        command
            .arg("--repo")
            .arg(self.repo.path())
            .arg("--trackers")
            .arg(&self.trackers)
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.command(args), b"")
    }

    /// `link --format json` of `base..main`, within a 3 s budget.
    fn link(&self, extra: &[&str]) -> Run {
        let mut args = vec!["link", "--format", "json", "--budget", "3s"];
        args.extend_from_slice(&["--from", &self.base, "--to", "main"]);
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn spool(&self) -> PathBuf {
        self.repo.path().join(".git/test-spool")
    }

    fn spooled(&self) -> usize {
        std::fs::read_dir(self.spool())
            .map(|dir| {
                dir.filter(|e| {
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

    /// A commit changing `.deploylink.yml` to `text`, planned (`plan --to main`): the file a
    /// deploy reads. Returns the run and where the file is (`.deploylink.yml at <short sha>`).
    fn plan_project_file(&self, text: &str) -> (Run, String) {
        let id = self
            .repo
            .commit_file(".deploylink.yml", text, "WEB-3: change the configuration");
        let run = self.run(&["plan", "--to", "main"]);
        (run, format!(".deploylink.yml at {}", &id[..7]))
    }
}

/// `deploylink ARGS` in the fixture's repository, without its `--repo` and `--trackers`.
fn run_in(f: &Fixture, args: &[&str]) -> Run {
    let mut command = deploylink(f.repo.dir.path());
    command.current_dir(f.repo.path()).args(args);
    run(command, b"")
}

/// A fixture delivering to an in-process sandbox Jira.
fn with_jira() -> (Fixture, Sandbox) {
    let jira = Sandbox::start(Options::default()).unwrap();
    (fixture(&jira.url()), jira)
}

/// Every request to `key`'s remote links is answered with `status`, `headers` and `body`
/// (`times` of them; `None`: all).
fn answer(
    jira: &Sandbox,
    key: &str,
    times: Option<u32>,
    status: u16,
    headers: &[(&str, &str)],
    body: &str,
) {
    jira.push_fault(Fault {
        method: None,
        path_prefix: Some(link_path(key)),
        times,
        probability: 1.0,
        action: FaultAction::Respond {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        },
    });
}

fn link_path(key: &str) -> String {
    format!("/rest/api/3/issue/{key}/remotelink")
}

fn requests_to(jira: &Sandbox, key: &str) -> usize {
    jira.requests()
        .iter()
        .filter(|r| r.path.starts_with(&link_path(key)))
        .count()
}

/// An issue's result and its actions' reasons in a `link` report.
fn outcome(report: &Value, key: &str) -> (String, String) {
    let issue = report["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {report:#}"));
    let reasons = issue["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect::<Vec<_>>()
        .join("; ");
    (issue["result"].as_str().unwrap().to_owned(), reasons)
}

/// Asserts `key`'s result and that its reason contains every phrase.
#[track_caller]
fn assert_outcome(run: &Run, key: &str, result: &str, phrases: &[&str]) {
    let (found, reason) = outcome(&run.report(), key);
    assert_eq!(found, result, "{key}: {reason}\n{run}");
    for phrase in phrases {
        assert!(
            reason.contains(phrase),
            "{phrase:?} not in {key}'s {reason:?}"
        );
    }
}

/// The summary one failed delivery ends with under `--on-error fail`, with its fix.
const ONE_FAILED: [&str; 2] = [
    "error: 1 delivery failed (see above)",
    "hint: run the same command again once Jira answers: every write is idempotent",
];

/// The summary two failed deliveries end with under `--on-error fail`, with its fix.
const TWO_FAILED: [&str; 2] = [
    "error: 2 deliveries failed (see above)",
    "hint: run the same command again once Jira answers: every write is idempotent",
];

/// A loopback port nothing listens on (bound for a free one, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn fixture_file(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/config")
            .join(name),
    )
    .unwrap()
}

// 1. Malformed YAML.
#[test]
fn malformed_yaml_names_line_and_column_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let (run, _) = f.plan_project_file("version: 1\nprojects:\n  shop: [oops\n");
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at 0b4aa08:3:9: invalid YAML: unclosed bracket '['
  hint: fix the YAML at this line and column: close each `[`, `{` and quote, indent with spaces, and quote a value that holds `: ` or starts with `*`, `&`, `!` or `@`

"#]]);
}

// 2. A wrong `version`.
#[test]
fn wrong_version_says_which_version_and_how_to_fix_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let (run, _) = f.plan_project_file("version: 2\nprojects:\n  shop: {}\n");
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at 4ea4937:1:10: version: this file is written for version 2 of the format, and this deploylink reads version 1
  hint: upgrade deploylink, or write the file in the version 1 format

"#]]);
    let (run, _) = f.plan_project_file("version: \"1\"\nprojects:\n  shop: {}\n");
    run.exits(3).stderr_is(str![[r#"
error: .deploylink.yml at 3790776:1:10: version: `version` is the string `1`, not the number 1
  hint: write `version: 1` without quotes

"#]]);
}

// 3. Unknown fields.
#[test]
fn unknown_field_suggests_the_nearest_name_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let text = PROJECT.replace("    environments:", "    environmnts:");
    let (run, _) = f.plan_project_file(&text);
    run.exits(3).stderr_is(str![[r#"
error: .deploylink.yml at 9fc1007:7:5: projects.shop.environmnts: unknown field `environmnts`
  hint: did you mean `environments`?

"#]]);
}

// 4. An invalid regex.
#[test]
fn invalid_regex_names_its_element_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let text = PROJECT.replace(
        "keys: { projects: [WEB, OPS] }",
        "keys: { projects: [WEB, OPS], ignore: ['^WEB-0$', '(abc'] }",
    );
    let (run, _) = f.plan_project_file(&text);
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at 7444268:6:55: projects.shop.keys.ignore[1]: invalid regex: unclosed group
  hint: write it in the syntax of Rust's regex crate (https://docs.rs/regex/#syntax): close every `(`, `[` and `{`, and put a backslash before one meant literally

"#]]);
}

// 5. An invalid glob.
#[test]
fn invalid_glob_names_its_element_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let text = PROJECT.replace(
        "    environments:",
        "    paths: [\"apps/[\"]\n    environments:",
    );
    let (run, _) = f.plan_project_file(&text);
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at 6dfa5ca:7:13: projects.shop.paths[0]: invalid glob: unclosed character class; missing ']'
  hint: `*` matches within one path segment, `**` across segments, `?` one character, `[abc]` and `{a,b}` must be closed; put a backslash before a character meant literally

"#]]);
    // A ref glob that is not a full ref name says how to write it.
    let text = PROJECT.replace("refs: [refs/heads/main]", "refs: [main]");
    let (run, _) = f.plan_project_file(&text);
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at c0493c1:8:28: projects.shop.environments.production.refs[0]: `main` is not a full ref name
  hint: write the full ref name: `refs/heads/main` for a branch, `refs/tags/main` for a tag

"#]]);
}

// 6. A YAML alias bomb, bounded in time.
#[test]
fn alias_bomb_is_refused_quickly_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let (run, _) = f.plan_project_file(&fixture_file("billion-laughs.yml"));
    run.exits(3).within(Duration::from_secs(5))
        .stderr_is(str![[r#"
error: .deploylink.yml at 7ddd790:7:8: the YAML aliases (`*name`) of the file expand to more than 20000 values
  hint: this is how an alias bomb looks; write the values out, or use fewer aliases (at most 1000)

"#]]);
    // The organization file is read with the same limits.
    f.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::write(&f.trackers, fixture_file("billion-laughs.yml")).unwrap();
    let run = f.run(&["plan", "--to", "main"]);
    run.exits(3)
        .within(Duration::from_secs(5))
        .stderr_is(str![[r#"
error: [TMP]/.git/trackers.yml:7:8: the YAML aliases (`*name`) of the file expand to more than 20000 values
  hint: this is how an alias bomb looks; write the values out, or use fewer aliases (at most 1000)

"#]]);
}

// 7. Absurd nesting, bounded in time.
#[test]
fn absurd_nesting_is_refused_quickly_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let flow = format!(
        "version: 1\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let block = format!("version: 1\nx:\n{}x\n", "- ".repeat(10_000));
    for text in [flow, block] {
        let (run, _) = f.plan_project_file(&text);
        run.exits(3)
            .within(Duration::from_secs(5))
            .stderr_is(str![[r#"
error: .deploylink.yml at [..]: the file nests lists and mappings deeper than 24 levels
  hint: this limit protects deploylink from hostile files; a real configuration is far below it

"#]]);
    }
}

// 8. An over-large configuration file.
#[test]
fn over_large_config_file_is_refused_before_parsing_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    let mut text = String::from("version: 1\n");
    text.push_str(&"# padding\n".repeat(200_000));
    let (run, _) = f.plan_project_file(&text);
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at aa99475: the file is 1.9 MiB (2000011 bytes), larger than the 1 MiB limit for a configuration file
  hint: a deploylink configuration is a few kilobytes; check that this is the right file

"#]]);
    // The organization file too.
    f.repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::write(&f.trackers, &text).unwrap();
    let run = f.run(&["plan", "--to", "main"]);
    run.exits(3)
        .stderr_is(str![[r#"
error: [TMP]/.git/trackers.yml: the file is 1.9 MiB (2000011 bytes), larger than the 1 MiB limit for a configuration file
  hint: a deploylink configuration is a few kilobytes; check that this is the right file

"#]]);
}

// 9. A tracker name that is not connected.
#[test]
fn tracker_not_connected_says_how_to_connect_it_exit_3() {
    let f = fixture("https://acme.atlassian.net");
    std::fs::write(&f.trackers, "version: 1\ntrackers: {}\n").unwrap();
    let run = f.run(&["plan", "--to", "main"]);
    run.exits(3)
        .stderr_is(str![[r#"
error: .deploylink.yml at f9e5159:2:18: default_tracker: project 'shop' uses tracker 'acme', which is not connected; connect it or choose another tracker (default_tracker in .deploylink.yml at f9e5159)
  hint: `deploylink tracker connect acme --kind jira-cloud --url https://...` connects it; no tracker is connected

"#]]);
}

// 10. A missing environment variable, named.
#[test]
fn missing_credential_variable_is_named_exit_3() {
    let (f, jira) = with_jira();
    let mut command = f.command(&["link", "--budget", "3s", "--from", &f.base, "--to", "main"]);
    command.env_remove("JIRA_API_TOKEN");
    run(command, b"").exits(3).stderr_is(str![[r#"
error: tracker 'acme': the environment variable JIRA_API_TOKEN is not set
  hint: export JIRA_API_TOKEN before running deploylink (in CI: add it as a masked secret variable)

"#]]);
    assert!(jira.requests().is_empty(), "nothing is sent");
    // With a spool, the deliveries wait there (still exit 3), and `retry` sends them once the
    // variable is set.
    let spool = f.spool();
    let mut command = f.command(&["link", "--format", "json", "--spool"]);
    command
        .arg(&spool)
        .args(["--from", &f.base, "--to", "main"])
        .env_remove("JIRA_API_TOKEN");
    let run = run(command, b"");
    run.exits(3).stderr_is(str![[r#"
warning: 2 deliveries spooled in [TMP]/.git/test-spool: `deploylink retry` sends them
error: tracker 'acme': the environment variable JIRA_API_TOKEN is not set
  hint: export JIRA_API_TOKEN before running deploylink (in CI: add it as a masked secret variable)

"#]]);
    assert_eq!(
        run.stderr.matches("JIRA_API_TOKEN is not set").count(),
        1,
        "said once: {run}"
    );
    assert_outcome(&run, "WEB-1", "spooled", &["JIRA_API_TOKEN is not set"]);
    assert_eq!(f.spooled(), 2);
    assert!(jira.requests().is_empty(), "nothing is sent");
    f.run(&["retry", "--spool", spool.to_str().unwrap()])
        .exits(0);
    assert_eq!(f.spooled(), 0);
    assert_eq!(jira.state().remote_links("WEB-2").len(), 1);
}

// 11. A non-https URL.
#[test]
fn plain_http_url_is_refused_except_for_loopback_exit_3() {
    let f = fixture("http://jira.example.com");
    let run = f.run(&["plan", "--to", "main"]);
    run.exits(3)
        .stderr_is(str![[r#"
error: [TMP]/.git/trackers.yml:5:10: trackers.acme.url: the URL is `http`, which would send credentials unencrypted
  hint: use `https`; `http` is accepted only for loopback hosts (localhost, 127.0.0.1, [::1])

"#]]);
    // A loopback host may use http (the sandbox, a local proxy).
    fixture("http://127.0.0.1:9")
        .run(&["plan", "--to", "main"])
        .exits(0);
    // `tracker connect` refuses it too, as a wrong argument (exit 2), and writes nothing.
    let file = f.repo.path().join(".git/new-trackers.yml");
    let run = run_in(
        &f,
        &[
            "tracker",
            "connect",
            "other",
            "--kind",
            "jira-cloud",
            "--url",
            "http://jira.example.com",
            "--user-env",
            "JIRA_USER",
            "--token-env",
            "JIRA_API_TOKEN",
            "--trackers",
            file.to_str().unwrap(),
        ],
    );
    run.exits(2)
        .stderr_is(str![[r#"
error: the tracker 'other' cannot be written to [TMP]/.git/new-trackers.yml: trackers.other.url: the URL is `http`, which would send credentials unencrypted
  hint: use `https`; `http` is accepted only for loopback hosts (localhost, 127.0.0.1, [::1])

"#]]);
    assert!(!file.exists());
}

// 12. A missing commit or ref.
#[test]
fn missing_ref_or_commit_is_named_with_how_to_fetch_it_exit_5() {
    let (f, jira) = with_jira();
    f.run(&["plan", "--to", "nosuchref"])
        .exits(5)
        .stderr_is(str![[r#"
error: unknown revision 'nosuchref': revspec 'nosuchref' not found
  hint: check the name, or fetch it first (`git fetch origin nosuchref`)

"#]]);
    let absent = "1111111111111111111111111111111111111111";
    f.run(&["plan", "--from", absent, "--to", "main"])
        .exits(5)
        .stderr_is(str![[r#"
error: unknown revision '1111111111111111111111111111111111111111': revspec '1111111111111111111111111111111111111111' not found
  hint: check the name, or fetch it first (`git fetch origin 1111111111111111111111111111111111111111`)

"#]]);
    f.run(&["link", "--from", absent, "--to", "main"])
        .exits(5)
        .stderr_is(str![[r#"
error: unknown revision '1111111111111111111111111111111111111111': revspec '1111111111111111111111111111111111111111' not found
  hint: check the name, or fetch it first (`git fetch origin 1111111111111111111111111111111111111111`)

"#]]);
    assert!(jira.requests().is_empty(), "nothing is sent");
}

// 13. A shallow history.
#[test]
fn shallow_history_names_the_ci_settings_that_fetch_it_exit_5() {
    let (f, jira) = with_jira();
    let clone_root = tempfile::tempdir().unwrap();
    let clone = clone_root.path().join("shop");
    let url = format!("file://{}", f.repo.path().display());
    let cloned = git_command(clone_root.path())
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .output()
        .unwrap();
    assert!(cloned.status.success(), "{cloned:?}");
    assert!(clone.join(".git/shallow").exists());
    for args in [
        vec!["plan", "--from", &f.base, "--to", "main"],
        vec!["link", "--budget", "3s", "--from", &f.base, "--to", "main"],
    ] {
        let mut deploylink = deploylink(clone_root.path());
        deploylink
            .arg("--repo")
            .arg(&clone)
            .arg("--trackers")
            .arg(&f.trackers)
            .args(&args);
        run(deploylink, b"").exits(5)
        .stderr_is(str![[r#"
error: revision 'ca6d39c339691d4d2ff7ffd340181acb49467d84' is not in this shallow clone, so the range cannot be computed exactly
  hint: fetch the whole history (GitHub Actions: `fetch-depth: 0`; GitLab CI: `GIT_DEPTH: 0`; elsewhere `git fetch --unshallow`)

"#]]);
    }
    assert!(jira.requests().is_empty(), "nothing is sent");
}

// 14. A non-UTF-8 and a multi-megabyte commit message: delivered.
#[test]
fn non_utf8_and_multi_megabyte_messages_are_delivered_exit_0() {
    let (f, jira) = with_jira();
    let huge = format!(
        "OPS-1: {}\n\n{}",
        "x".repeat(3_000_000),
        "line\n".repeat(200_000)
    );
    let parent = f.repo.commit(&huge);
    // Written byte for byte (`git commit` would re-encode it as if it were Latin-1), with the
    // files of its parent, then made main's tip.
    let tree = f.repo.git(&["rev-parse", "HEAD^{tree}"]);
    let mut object = format!("tree {tree}\nparent {parent}\n").into_bytes();
    object.extend_from_slice(b"author A <a@example.com> 1800000000 +0000\n");
    object.extend_from_slice(b"committer C <c@example.com> 1800000000 +0000\n\n");
    object.extend_from_slice(b"OPS-2: caf\xe9 au lait \xff\xfe in Latin-1\n");
    let written = f.repo.git_output(
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        Some(&object),
    );
    assert!(written.status.success(), "{written:?}");
    let latin = String::from_utf8(written.stdout).unwrap();
    f.repo.git(&["update-ref", "refs/heads/main", latin.trim()]);
    let run = f.link(&[]);
    run.exits(0).within(Duration::from_secs(20));
    assert_outcome(&run, "OPS-1", "linked", &[]);
    assert_outcome(&run, "OPS-2", "linked", &[]);
    let state = jira.state();
    assert!(state.rejected.is_empty(), "{:#?}", state.rejected);
    let summary = |key: &str| {
        let links = state.remote_links(key);
        assert_eq!(links.len(), 1, "{key}: {links:#?}");
        links[0]["object"]["summary"].as_str().unwrap().to_owned()
    };
    let huge_summary = summary("OPS-1");
    assert!(huge_summary.starts_with("OPS-1: xxx"), "{huge_summary}");
    assert!(huge_summary.chars().count() <= 255, "{huge_summary}");
    let latin_summary = summary("OPS-2");
    assert!(
        latin_summary.starts_with("OPS-2: caf\u{fffd} au lait"),
        "{latin_summary}"
    );
}

// 15. Garbage on a hook's stdin.
#[test]
fn garbage_on_a_hooks_stdin_is_reported_by_line_number_exit_0() {
    let (f, jira) = with_jira();
    let tip = f.repo.git(&["rev-parse", "main"]);
    // post-receive on a server: the bad lines are named, the good one still deploys.
    let server = TestRepo::bare();
    f.repo
        .git(&["push", "-q", server.path().to_str().unwrap(), "main"]);
    let mut stdin = format!("garbage\n\n{} {tip} refs/heads/main\n", f.base).into_bytes();
    stdin.extend_from_slice(b"\xff\xfe\n1 2 3 4\n");
    let mut hook = deploylink(f.repo.dir.path());
    hook.arg("--repo")
        .arg(server.path())
        .arg("--trackers")
        .arg(&f.trackers)
        .args(["hook", "post-receive", "--budget", "3s"]);
    run(hook, &stdin).exits(0)
        .stderr_is(str![[r#"
error: stdin line 1: expected <old-sha> <new-sha> <ref>, got 1 fields: "garbage"; this line is skipped, the others are used
error: stdin line 4: not UTF-8 text; this line is skipped, the others are used
error: stdin line 5: expected <old-sha> <new-sha> <ref>, got 4 fields: "1 2 3 4"; this line is skipped, the others are used

"#]]);
    for key in ["WEB-1", "WEB-2"] {
        assert_eq!(jira.state().remote_links(key).len(), 1, "{key}");
    }

    // pre-push on a developer's machine: the bad line is named, the good one still checked.
    let pre_push = |stdin: &[u8]| {
        let mut hook = deploylink(f.repo.dir.path());
        hook.arg("--repo")
            .arg(f.repo.path())
            .args(["hook", "pre-push", "origin", "/nowhere"]);
        run(hook, stdin)
    };
    let good = format!("refs/heads/main {tip} refs/heads/main {}\n", f.base);
    pre_push(format!("garbage\n{good}").as_bytes())
        .exits(0)
        .stderr_is(str![[r#"
error: stdin line 1: expected <local-ref> <local-sha> <remote-ref> <remote-sha>, got 1 fields: "garbage"; this line is skipped, the others are checked

"#]]);
    pre_push(b"garbage\n\xff\n")
        .exits(0)
        .stderr_is(str![[r#"
error: stdin line 1: expected <local-ref> <local-sha> <remote-ref> <remote-sha>, got 1 fields: "garbage"; this line is skipped, the others are checked
error: stdin line 2: not UTF-8 text; this line is skipped, the others are checked

"#]]);
    // Garbage next to a commit that breaks the policy does not hide it.
    let keyless = f.repo.commit("Tidy up");
    let bad = format!("refs/heads/main {keyless} refs/heads/main {}\n", f.base);
    pre_push(format!("garbage\n{bad}").as_bytes())
        .exits(1)
        .stderr_is(str![[r#"
error: stdin line 1: expected <local-ref> <local-sha> <remote-ref> <remote-sha>, got 1 fields: "garbage"; this line is skipped, the others are checked
error: 1 commit pushed to refs/heads/main names no Jira issue (.deploylink.yml requires one in every commit):
  4ed92bc  Tidy up
  each needs an issue key of WEB, OPS (e.g. WEB-123 or OPS-123)
  hint: reword them with `git rebase -i ca6d39c` (mark each `reword`), or the last one with `git commit --amend`, then push again

"#]]);
}

// 16. An unreachable Jira.
#[test]
fn unreachable_jira_is_named_and_spooled_exit_4() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    let f = fixture(&url);
    let run = f.link(&[]);
    run.exits(4)
        .within(Duration::from_secs(5))
        .says(&TWO_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            &format!("cannot connect to {url}: "),
            "check the tracker's url, the network and any proxy",
        ],
    );
    // With a spool nothing is lost: both deliveries wait for `deploylink retry`.
    let spool = f.spool();
    let run = f.link(&["--spool", spool.to_str().unwrap()]);
    run.exits(0).stderr_is(str![[r#"
warning: 2 deliveries spooled in [TMP]/.git/test-spool: `deploylink retry` sends them

"#]]);
    assert_outcome(&run, "WEB-2", "spooled", &["cannot connect to"]);
    assert_eq!(f.spooled(), 2);
    // `tracker connect` names the site too, and writes nothing.
    let file = f.repo.path().join(".git/new-trackers.yml");
    run_in(
        &f,
        &[
            "tracker",
            "connect",
            "other",
            "--kind",
            "jira-cloud",
            "--url",
            &url,
            "--user-env",
            "JIRA_USER",
            "--token-env",
            "JIRA_API_TOKEN",
            "--trackers",
            file.to_str().unwrap(),
        ],
    )
    .exits(4)
        .stderr_is(str![[r#"
error: cannot reach http://127.0.0.1:[PORT]: client error (Connect): tcp connect error: Connection refused (os error 111)
  hint: check the URL, the network and any proxy (HTTPS_PROXY)

"#]]);
    assert!(!file.exists());
}

// 17. A TLS failure.
#[test]
fn tls_failure_is_named_with_the_ca_file_fix_exit_4() {
    // https:// to a server that speaks plain HTTP: the handshake fails.
    let jira = Sandbox::start(Options::default()).unwrap();
    let https = jira.url().replace("http://", "https://");
    let f = fixture(&https);
    let run = f.link(&[]);
    run.exits(4)
        .within(Duration::from_secs(5))
        .says(&TWO_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            &format!("TLS failure talking to {https}: "),
            "set ca_file on the tracker",
        ],
    );
    assert!(jira.state().remote_links("WEB-1").is_empty());
}

// 18. A Jira that answers HTML.
#[test]
fn html_instead_of_jiras_answer_fails_and_is_not_lost_exit_4() {
    let (f, jira) = with_jira();
    let login = "<html><head><title>Log in</title></head><body>Single sign-on</body></html>";
    answer(
        &jira,
        "WEB-1",
        Some(2),
        200,
        &[("Content-Type", "text/html")],
        login,
    );
    let run = f.link(&[]);
    run.exits(4).says(&ONE_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            "200 OK: an HTML page (Log in) instead of the link's id",
            "the link was not made",
            "check that the url of tracker 'acme' is the Jira site itself",
        ],
    );
    assert_outcome(&run, "WEB-2", "linked", &[]);
    // With a spool it waits, and `retry` delivers it once Jira answers.
    let spool = f.spool();
    let run = f.link(&["--spool", spool.to_str().unwrap()]);
    run.exits(0);
    assert_outcome(&run, "WEB-1", "spooled", &["an HTML page (Log in)"]);
    assert_eq!(f.spooled(), 1);
    f.run(&["retry", "--spool", spool.to_str().unwrap()])
        .exits(0);
    assert_eq!(f.spooled(), 0);
    assert_eq!(jira.state().remote_links("WEB-1").len(), 1);
    // A site answering HTML where Jira's user is: `tracker connect` writes nothing.
    jira.clear_faults();
    jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/myself".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: login.into(),
        },
    });
    let file = f.repo.path().join(".git/new-trackers.yml");
    run_in(
        &f,
        &[
            "tracker",
            "connect",
            "other",
            "--kind",
            "jira-cloud",
            "--url",
            &jira.url(),
            "--user-env",
            "JIRA_USER",
            "--token-env",
            "JIRA_API_TOKEN",
            "--trackers",
            file.to_str().unwrap(),
        ],
    )
    .exits(3)
        .stderr_is(str![[r#"
error: http://127.0.0.1:[PORT]/rest/api/3/myself answered 200 but not with a Jira user: is http://127.0.0.1:[PORT] a Jira site?

"#]]);
    assert!(!file.exists());
}

// 19. An empty body.
#[test]
fn empty_body_fails_clearly_without_retries_exit_4() {
    let (f, jira) = with_jira();
    answer(&jira, "WEB-1", None, 200, &[], "");
    answer(&jira, "WEB-2", None, 500, &[], "");
    let run = f.link(&[]);
    run.exits(4).says(&TWO_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            "200 OK with an empty body instead of the link's id",
            "the link was not made",
        ],
    );
    assert_outcome(&run, "WEB-2", "failed", &["500 Internal Server Error"]);
    assert_eq!(requests_to(&jira, "WEB-1"), 1);
    assert_eq!(requests_to(&jira, "WEB-2"), 1, "a 500 is not retried");
}

// 20. Invalid JSON.
#[test]
fn invalid_json_fails_clearly_exit_4() {
    let (f, jira) = with_jira();
    answer(
        &jira,
        "WEB-1",
        None,
        201,
        &[("Content-Type", "application/json")],
        r#"{"id": 10000, "self": "#,
    );
    answer(
        &jira,
        "WEB-2",
        None,
        400,
        &[("Content-Type", "application/json")],
        "{errorMessages: oops",
    );
    let run = f.link(&[]);
    run.exits(4).says(&TWO_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            r#"201 Created: a body that is not JSON: {"id": 10000, "self":"#,
            "the link was not made",
        ],
    );
    assert_outcome(
        &run,
        "WEB-2",
        "failed",
        &["400 Bad Request: {errorMessages: oops"],
    );
    assert!(jira.state().remote_links("WEB-1").is_empty());
}

// 21. HTTP 401.
#[test]
fn http_401_names_the_credentials_and_where_to_make_a_token_exit_4() {
    let jira = Sandbox::start(Options {
        credentials: Some(Credentials {
            user: Some("u@example.com".into()),
            token: "the-right-token".into(),
        }),
        ..Options::default()
    })
    .unwrap();
    let f = fixture(&jira.url());
    let mut command = f.command(&["link", "--format", "json", "--budget", "3s"]);
    command
        .args(["--from", &f.base, "--to", "main"])
        .env("JIRA_API_TOKEN", "a-wrong-token-sentinel");
    let run = run(command, b"");
    run.exits(4)
        .stderr_is(str![[r#"
error: 401 Unauthorized: Client must be authenticated to access this resource.: Jira did not accept the credentials of tracker 'acme' (<from $JIRA_USER> and <from $JIRA_API_TOKEN>); check them, or create a new token at https://id.atlassian.com/manage-profile/security/api-tokens
error: 2 deliveries failed (see above)
  hint: run the same command again once Jira answers: every write is idempotent, so nothing is written twice

"#]]);
    for key in ["WEB-1", "WEB-2"] {
        let (result, _) = outcome(&run.report(), key);
        assert_eq!(result, "failed", "{run}");
    }
    assert!(!run.stdout.contains("sentinel") && !run.stderr.contains("sentinel"));
    assert!(
        jira.requests().len() <= 2,
        "no retries with refused credentials"
    );
}

// 22. HTTP 403.
#[test]
fn http_403_names_the_missing_permission_exit_4() {
    let (f, jira) = with_jira();
    answer(
        &jira,
        "WEB-1",
        None,
        403,
        &[("Content-Type", "application/json")],
        r#"{"errorMessages":["You do not have permission to link issues in project WEB."],"errors":{}}"#,
    );
    let run = f.link(&["--on-error", "fail"]);
    // WEB-2's link is made, or stopped by the 403 (which stops the credentials' later
    // requests) if it was not yet sent: 1 or 2 deliveries fail.
    run.exits(4)
        .stderr_is(str![[r#"
error: 403 Forbidden: You do not have permission to link issues in project WEB.: tracker 'acme' accepted the credentials (<from $JIRA_USER> and <from $JIRA_API_TOKEN>) but refused the request; the account needs the Browse projects and Link issues permissions (Add comments for comments) in the issue's project; after many failed logins Jira may also want a CAPTCHA solved: log in once in a browser
error: [..] failed (see above)
  hint: run the same command again once Jira answers: every write is idempotent, so nothing is written twice

"#]]);
    assert_outcome(&run, "WEB-1", "failed", &["403 Forbidden"]);
    assert_eq!(requests_to(&jira, "WEB-1"), 1, "a 403 is not retried");
}

// 23. HTTP 404.
#[test]
fn http_404_reports_the_issue_as_unknown_without_retries_exit_0() {
    let (f, jira) = with_jira();
    answer(
        &jira,
        "WEB-1",
        None,
        404,
        &[("Content-Type", "application/json")],
        r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#,
    );
    let run = f.link(&[]);
    run.exits(0);
    assert_outcome(
        &run,
        "WEB-1",
        "unknown",
        &["the issue does not exist, or the tracker's account cannot see it"],
    );
    assert_outcome(&run, "WEB-2", "linked", &[]);
    assert_eq!(requests_to(&jira, "WEB-1"), 1, "a 404 is not retried");
    // In human output: one line for the issue, with the reason.
    let human = f.run(&["link", "--from", &f.base, "--to", "main"]);
    human.exits(0);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.contains("WEB-1") && l.contains("unknown") && l.contains("does not exist")),
        "{human}"
    );
}

// 24. HTTP 413.
#[test]
fn http_413_says_what_is_too_large_without_retries_exit_4() {
    let (f, jira) = with_jira();
    answer(&jira, "WEB-1", None, 413, &[], "");
    let run = f.link(&[]);
    run.exits(4).says(&ONE_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            "413 Payload Too Large: Jira (or a proxy in front of it) refused the request as too large",
            "remove old links from the issue",
        ],
    );
    assert_eq!(requests_to(&jira, "WEB-1"), 1, "a 413 is not retried");
}

// 25. HTTP 429 with Retry-After.
#[test]
fn http_429_is_waited_out_or_spooled_when_the_budget_is_short_exit_0() {
    let (f, jira) = with_jira();
    // Retry-After: 1 is waited out, then delivered.
    answer(&jira, "WEB-1", Some(1), 429, &[("Retry-After", "1")], "");
    let run = f.link(&[]);
    run.exits(0).within(Duration::from_secs(5));
    assert!(
        run.elapsed >= Duration::from_secs(1),
        "waited {:?}",
        run.elapsed
    );
    assert_outcome(&run, "WEB-1", "linked", &[]);
    assert_eq!(requests_to(&jira, "WEB-1"), 2);
    // Retry-After: 30 does not fit in a 3 s budget: spooled at once, not waited for.
    answer(&jira, "WEB-1", Some(1), 429, &[("Retry-After", "30")], "");
    let spool = f.spool();
    let run = f.link(&["--spool", spool.to_str().unwrap()]);
    run.exits(0)
        .within(Duration::from_secs(5))
        .stderr_is(str![[r#"
warning: 1 delivery spooled in [TMP]/.git/test-spool: `deploylink retry` sends it

"#]]);
    assert_outcome(
        &run,
        "WEB-1",
        "spooled",
        &["429 Too Many Requests after 1 try; the time budget (--budget) ends before the next try in"],
    );
    assert_eq!(f.spooled(), 1);
    f.run(&["retry", "--spool", spool.to_str().unwrap()])
        .exits(0);
    assert_eq!(f.spooled(), 0);
    assert_eq!(jira.state().remote_links("WEB-1").len(), 1);
}

// 26. 5xx.
#[test]
fn server_errors_are_retried_within_the_budget_then_fail_exit_4() {
    let (f, jira) = with_jira();
    f.repo.commit("OPS-3: third change");
    answer(&jira, "WEB-1", None, 503, &[], "");
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    answer(
        &jira,
        "WEB-2",
        Some(1),
        502,
        &[("Content-Type", "text/html")],
        page,
    );
    answer(&jira, "OPS-3", None, 500, &[], "");
    let run = f.link(&[]);
    run.exits(4)
        .within(Duration::from_secs(6))
        .says(&TWO_FAILED);
    assert_outcome(
        &run,
        "WEB-1",
        "failed",
        &[
            "503 Service Unavailable after ",
            "the time budget (--budget) ends before the next try",
        ],
    );
    assert!(requests_to(&jira, "WEB-1") >= 2, "a 503 is retried");
    // An HTML 502 page from a proxy: retried, then delivered.
    assert_outcome(&run, "WEB-2", "linked", &[]);
    assert_eq!(requests_to(&jira, "WEB-2"), 2);
    // A 500 is not retried: SPEC 7 retries 502, 503 and 504 only.
    assert_outcome(&run, "OPS-3", "failed", &["500 Internal Server Error"]);
    assert_eq!(requests_to(&jira, "OPS-3"), 1);
}

/// A token pasted where a variable's name or a file's path belongs is never repeated: not by
/// `tracker connect` (`--token-env`, `--token-file`), not by a file's `token_env`/`token_file`.
/// The error names the field and says what was expected.
#[test]
fn a_token_pasted_for_a_variable_name_or_path_is_never_echoed_exit_2_or_3() {
    let home = tempfile::tempdir().unwrap();
    let trackers = home.path().join("trackers.yml");
    let tokens = [
        "ATATT3xFfGF0a1b2c3d4e5f6g7h8Zz",
        "ATATT3xFfGF0-T0k3nV4lu3_x=1A2B3C4D",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "NjQ3ODQ5MjY1NTk2OkxVbnRhc2s3",
    ];
    for token in tokens {
        for flag in ["--token-env", "--token-file"] {
            let mut command = deploylink(home.path());
            command
                .args(["tracker", "connect", "acme", "--kind", "jira-cloud"])
                .args([
                    "--url",
                    "https://acme.atlassian.net",
                    "--user-env",
                    "JIRA_USER",
                ])
                .args([flag, token, "--trackers"])
                .arg(&trackers);
            let run = run(command, b"");
            let field = &flag[2..].replace('-', "_");
            run.exits(2).says(&[field.as_str()]);
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(!all.contains(token), "{flag} {token}: {all}");
            assert!(!trackers.exists(), "nothing is written");
        }
        for field in ["token_env", "token_file"] {
            let file = home.path().join("pasted.yml");
            std::fs::write(
                &file,
                format!("version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: https://jira.example.com\n    auth: {{ {field}: \"{token}\" }}\n"),
            )
            .unwrap();
            let mut command = deploylink(home.path());
            command.args(["tracker", "list", "--trackers"]).arg(&file);
            let run = run(command, b"");
            run.exits(3).says(&[&format!("trackers.acme.auth.{field}")]);
            let all = format!("{}{}", run.stdout, run.stderr);
            assert!(!all.contains(token), "{field}: {token}: {all}");
        }
    }
}

/// An out-of-range duration is a usage error for every duration flag and variable, not a clock
/// overflow (`--budget 500000000000y` used to panic, exit 134).
#[test]
fn an_out_of_range_duration_is_a_usage_error() {
    let (f, _jira) = with_jira();
    let huge = "500000000000y";
    for flag in ["--budget", "--request-timeout"] {
        f.run(&["link", flag, huge, "--from", &f.base, "--to", "main"])
            .exits(2)
            .says(&[flag, "longer than the longest duration taken, 365 days"]);
    }
    run(
        {
            let mut c = f.command(&["retry", "--budget", "400d"]);
            c.arg("--list");
            c
        },
        b"",
    )
    .exits(2)
    .says(&["--budget", "400d"]);
    let mut command = f.command(&["link", "--from", &f.base, "--to", "main"]);
    command.env("DEPLOYLINK_REQUEST_TIMEOUT", huge);
    run(command, b"")
        .exits(2)
        .says(&["--request-timeout", "longer than"]);
    let mut hook = f.command(&["hook", "post-receive", "--budget", huge]);
    hook.current_dir(f.repo.path());
    run(hook, b"").exits(2).says(&["--budget"]);
}

/// One commit naming more issues than `max_issues` (default 500) writes to the first 500 and
/// reports the rest, in human and JSON output; the project file can lower or raise the cap.
#[test]
fn a_deploy_writes_to_at_most_max_issues_and_reports_the_rest() {
    let f = fixture("http://127.0.0.1:9");
    let keys: Vec<String> = (1..=600).map(|i| format!("WEB-{i}")).collect();
    f.repo.commit(&format!("Many issues\n\n{}", keys.join(" ")));
    let ran = f.run(&[
        "plan", "--format", "json", "--from", &f.base, "--to", "main",
    ]);
    ran.exits(0);
    let report = ran.report();
    let deploy = &report["deploys"][0];
    assert_eq!(deploy["issues"].as_array().unwrap().len(), 500, "{ran}");
    let left_out: Vec<&str> = deploy["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(left_out.len(), 100);
    assert!(left_out.contains(&"WEB-600"), "{left_out:?}");
    let human = f.run(&["plan", "--from", &f.base, "--to", "main"]);
    human.exits(0);
    assert!(
        human
            .stdout
            .contains("more than 500 issues (max_issues), so 100 keys are left out")
            && human
                .stdout
                .contains("and 90 more (`--format json` lists them all)"),
        "{human}"
    );
    let capped = PROJECT.replace(
        "default_tracker: acme\n",
        "default_tracker: acme\nmax_issues: 3\n",
    );
    let (ran, _) = f.plan_project_file(&capped);
    ran.exits(0);
    let plan = f.run(&[
        "plan", "--format", "json", "--from", &f.base, "--to", "main",
    ]);
    let report = plan.report();
    assert_eq!(
        report["deploys"][0]["issues"].as_array().unwrap().len(),
        3,
        "{plan}"
    );
    assert_eq!(
        report["deploys"][0]["left_out"].as_array().unwrap().len(),
        597
    );
}

// `ci --state from-job` where no variable holds the CI job's result.
#[test]
fn from_job_without_a_job_result_names_what_it_read_exit_2() {
    let (f, jira) = with_jira();
    let ci = |vars: &[(&str, &str)]| {
        let mut command = f.command(&["ci", "--state", "from-job"]);
        command.current_dir(f.repo.path());
        for name in [
            "GITHUB_ACTIONS",
            "GITLAB_CI",
            "CI_JOB_STATUS",
            "BITBUCKET_BUILD_NUMBER",
            "BITBUCKET_EXIT_CODE",
            "JENKINS_URL",
            "CIRCLECI",
            "TF_BUILD",
            "BUILDKITE",
            "DEPLOYLINK_JOB_STATUS",
        ] {
            command.env_remove(name);
        }
        command.envs(vars.iter().copied());
        run(command, b"")
    };
    ci(&[]).exits(2).stderr_is(str![[r#"
error: --state from-job: no job result: DEPLOYLINK_JOB_STATUS is not set (no CI provider detected)
  hint: set DEPLOYLINK_JOB_STATUS to success, failure or cancelled where the CI knows the result (Jenkins: a post block; CircleCI: a `when: on_fail` step), or give the state itself: --state failed

"#]]);
    ci(&[("GITLAB_CI", "true"), ("CI_JOB_STATUS", "running")])
        .exits(2)
        .stderr_is(str![[r#"
error: --state from-job: CI_JOB_STATUS is 'running', which is not a job result
  hint: expected success, failed or canceled, as GitLab sets it in after_script (run `deploylink ci --state from-job` there, not in script)

"#]]);
    assert!(jira.requests().is_empty(), "nothing is sent");
}

// The deploy history (`refs/deploylink-history/...`): a wrong time, a wrong period, and a
// history ref someone pushed other commits to.
#[test]
fn a_deployed_at_that_is_no_time_is_a_usage_error_exit_2() {
    let f = fixture("https://acme.atlassian.net");
    f.link(&["--record", "--deployed-at", "2026-01-02 noon"])
        .exits(2)
        .stderr_is(str![[r#"
error: invalid value '2026-01-02 noon' for '--deployed-at <TIME>': "2026-01-02 noon" is not an RFC 3339 time: give it as 2026-01-02T15:04:05Z (or with an offset, +02:00)

For more information, try '--help'.

"#]]);
}

#[test]
fn a_since_that_is_neither_duration_nor_date_is_a_usage_error_exit_2() {
    let f = fixture("https://acme.atlassian.net");
    f.run(&["metrics", "--since", "last tuesday"])
        .exits(2)
        .stderr_is(str![[r#"
error: --since "last tuesday" is neither a duration nor a date
  hint: give a duration back from now (90d, 12w, 36h) or a date (2026-01-01)

"#]]);
}

#[test]
fn a_history_of_foreign_commits_is_reported_commit_by_commit_exit_0() {
    let f = fixture("https://acme.atlassian.net");
    f.repo.git(&[
        "update-ref",
        "refs/deploylink-history/shop/production",
        "HEAD",
    ]);
    f.run(&["history"]).exits(0).stderr_is(str![[r#"
warning: refs/deploylink-history/shop/production: commit ca6d39c339691d4d2ff7ffd340181acb49467d84 is not a deploy entry (its tree is not one deploy.json): someone pushed another commit to the history; it is skipped
warning: refs/deploylink-history/shop/production: commit 3477086fd60053daf0fa9fc47d3330143f8cd47c is not a deploy entry (its tree is not one deploy.json): someone pushed another commit to the history; it is skipped
warning: refs/deploylink-history/shop/production: commit f9e5159dcda7356a8ae28cb6f4c4a742a992cab1 is not a deploy entry (its tree is not one deploy.json): someone pushed another commit to the history; it is skipped

"#]]);
}
