//! `tracker connect|list|disconnect` and `init` against the sandbox Jira: the live check
//! tells refused credentials from missing permissions from an unreachable or TLS-broken site,
//! and nothing is written unless the check passed.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use jira_sandbox::{Credentials, Fault, FaultAction, Options, Sandbox};
use support::TestRepo;

const TOKEN: &str = "right-token";

fn sandbox() -> Sandbox {
    Sandbox::start(Options {
        credentials: Some(Credentials {
            user: Some("dana@example.com".into()),
            token: TOKEN.into(),
        }),
        ..Options::default()
    })
    .unwrap()
}

fn run(dir: &Path, args: &[&str], token: Option<&str>) -> Output {
    let mut command = support::cli::command();
    command
        .current_dir(dir)
        .args(args)
        .env("HOME", dir)
        .env_remove("XDG_CONFIG_HOME")
        .env("JIRA_USER", "dana@example.com");
    match token {
        Some(token) => command.env("JIRA_API_TOKEN", token),
        None => command.env_remove("JIRA_API_TOKEN"),
    };
    command.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn connect(dir: &Path, file: &Path, url: &str, token: Option<&str>) -> Output {
    run(
        dir,
        &[
            "tracker",
            "connect",
            "acme",
            "--kind",
            "jira-cloud",
            "--url",
            url,
            "--user-env",
            "JIRA_USER",
            "--token-env",
            "JIRA_API_TOKEN",
            "--trackers",
            file.to_str().unwrap(),
        ],
        token,
    )
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org/trackers.yml");
    (dir, file)
}

#[test]
fn connect_checks_live_then_writes_the_tracker_keeping_the_others() {
    let jira = sandbox();
    let (dir, file) = temp();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let other = "version: 1\ntrackers:\n  # The old site, kept for the archive project.\n  legacy:\n    kind: jira-data-center\n    url: https://jira.example.com   # behind the VPN\n    auth: { token_env: LEGACY_PAT }\n";
    std::fs::write(&file, other).unwrap();
    let output = connect(dir.path(), &file, &jira.url(), Some(TOKEN));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("Jira is connected as Sandbox User\n"),
        "{}",
        stdout(&output)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(other),
        "the other tracker and its comments are kept:\n{text}"
    );
    assert!(
        text.contains("acme:") && text.contains(&jira.url()),
        "{text}"
    );
    let requests = jira.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/rest/api/3/myself");
    // The file is one deploylink reads, and lists both.
    let output = run(
        dir.path(),
        &["tracker", "list", "--trackers", file.to_str().unwrap()],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let list = stdout(&output);
    assert!(
        list.contains("legacy") && list.contains("<from $LEGACY_PAT>"),
        "{list}"
    );
    assert!(
        list.contains("acme") && list.contains("<from $JIRA_USER>, <from $JIRA_API_TOKEN>"),
        "{list}"
    );
}

#[test]
fn refused_credentials_write_nothing_and_say_where_to_make_a_token() {
    let jira = sandbox();
    let (dir, file) = temp();
    let output = connect(dir.path(), &file, &jira.url(), Some("wrong-token"));
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("401 Unauthorized"), "{message}");
    assert!(
        message.contains("https://id.atlassian.com/manage-profile/security/api-tokens"),
        "{message}"
    );
    assert!(
        !message.contains("wrong-token"),
        "the token is never printed"
    );
    assert!(!file.exists(), "nothing is written");
}

#[test]
fn a_missing_permission_is_told_apart_from_bad_credentials() {
    let jira = sandbox();
    jira.push_fault(Fault {
        method: None,
        path_prefix: Some("/rest/api/3/myself".into()),
        times: None,
        probability: 1.0,
        action: FaultAction::Respond {
            status: 403,
            headers: vec![],
            body: r#"{"errorMessages":["CAPTCHA required"],"errors":{}}"#.into(),
        },
    });
    let (dir, file) = temp();
    let output = connect(dir.path(), &file, &jira.url(), Some(TOKEN));
    assert_eq!(output.status.code(), Some(3));
    let message = stderr(&output);
    assert!(
        message.contains("403 Forbidden: CAPTCHA required"),
        "{message}"
    );
    assert!(message.contains("accepted the credentials"), "{message}");
    assert!(!file.exists());
}

#[test]
fn an_unreachable_site_and_a_tls_failure_are_named() {
    let (dir, file) = temp();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let output = connect(
        dir.path(),
        &file,
        &format!("http://127.0.0.1:{port}"),
        Some(TOKEN),
    );
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot reach http://127.0.0.1:"),
        "{}",
        stderr(&output)
    );
    // https to a server that speaks plain HTTP: the TLS handshake fails.
    let jira = sandbox();
    let https = jira.url().replace("http://", "https://");
    let output = connect(dir.path(), &file, &https, Some(TOKEN));
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("TLS failure"),
        "{}",
        stderr(&output)
    );
    assert!(!file.exists());
}

#[test]
fn plain_http_is_refused_except_for_loopback_and_a_missing_variable_is_named() {
    let (dir, file) = temp();
    let output = connect(dir.path(), &file, "http://jira.example.com", Some(TOKEN));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("https"), "{}", stderr(&output));
    let jira = sandbox();
    let output = connect(dir.path(), &file, &jira.url(), None);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("JIRA_API_TOKEN is not set"),
        "{}",
        stderr(&output)
    );
    assert!(jira.requests().is_empty());
    assert!(!file.exists());
}

#[test]
fn list_check_reports_each_tracker() {
    let jira = sandbox();
    // The directory lives as long as the test: `_dir` keeps it.
    let (_dir, file) = temp();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        format!(
            "version: 1\ntrackers:\n  good:\n    kind: jira-cloud\n    url: {url}\n    auth: {{ user_env: JIRA_USER, token_env: JIRA_API_TOKEN }}\n  bad:\n    kind: jira-cloud\n    url: {url}\n    auth: {{ user_env: JIRA_USER, token_env: OTHER_TOKEN }}\n",
            url = jira.url()
        ),
    )
    .unwrap();
    let mut command = support::cli::command();
    let output = command
        .args([
            "tracker",
            "list",
            "--check",
            "--format",
            "json",
            "--trackers",
        ])
        .arg(&file)
        .env("JIRA_USER", "dana@example.com")
        .env("JIRA_API_TOKEN", TOKEN)
        .env("OTHER_TOKEN", "stale")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["trackers"][0]["name"], "good", "in the file's order");
    assert_eq!(report["trackers"][0]["check"]["ok"], true);
    assert_eq!(
        report["trackers"][0]["check"]["connected_as"],
        "Sandbox User"
    );
    assert_eq!(report["trackers"][1]["check"]["ok"], false);
    assert!(report["trackers"][1]["check"]["error"]
        .as_str()
        .unwrap()
        .contains("401"));
}

#[test]
fn disconnect_names_the_projects_that_used_it_and_they_then_fail_clearly() {
    let jira = sandbox();
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        "version: 1\ndefault_tracker: acme\nrepo_url: https://git.example.com/shop\nprojects:\n  web:\n    environments:\n      production: { refs: [refs/heads/main] }\n",
        "Add deploylink",
    );
    repo.commit("WEB-1 work");
    let file = repo.path().join(".git/trackers.yml");
    let output = connect(repo.path(), &file, &jira.url(), Some(TOKEN));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let trackers = file.to_str().unwrap();
    let output = run(
        repo.path(),
        &["tracker", "disconnect", "acme", "--trackers", trackers],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("projects of this repository that used it: web"),
        "{}",
        stdout(&output)
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains("acme"));
    let output = run(repo.path(), &["plan", "--trackers", trackers], None);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("project 'web' uses tracker 'acme', which is not connected"),
        "{}",
        stderr(&output)
    );
    let output = run(
        repo.path(),
        &["tracker", "disconnect", "acme", "--trackers", trackers],
        None,
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
fn init_writes_a_file_that_config_check_accepts_and_does_not_overwrite_it() {
    let jira = sandbox();
    let repo = TestRepo::named("shop");
    repo.commit("first");
    let file = repo.path().join(".git/trackers.yml");
    assert_eq!(
        connect(repo.path(), &file, &jira.url(), Some(TOKEN))
            .status
            .code(),
        Some(0)
    );
    let trackers = file.to_str().unwrap();
    let output = run(
        repo.path(),
        &["init", "--tracker", "acme", "--key", "WEB"],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(repo.path().join(".deploylink.yml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema=.deploylink.schema.json"),
        "{text}"
    );
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo.path().join(".deploylink.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(schema.is_object());
    let output = run(
        repo.path(),
        &["config", "check", "--trackers", trackers],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("WEB"), "{}", stdout(&output));
    let output = run(repo.path(), &["init"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("exists already"),
        "{}",
        stderr(&output)
    );
}

/// A plain-http tracker (loopback only) is never reached through `HTTP_PROXY`: the proxy would
/// see the Basic credentials in clear. The request goes to the tracker directly.
#[test]
fn a_plain_http_tracker_never_goes_through_a_proxy() {
    use std::io::Read;
    let jira = sandbox();
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    proxy.set_nonblocking(true).unwrap();
    let (dir, file) = temp();
    let mut command = support::cli::command();
    command
        .current_dir(dir.path())
        .args([
            "tracker",
            "connect",
            "acme",
            "--kind",
            "jira-cloud",
            "--url",
        ])
        .arg(jira.url())
        .args(["--user-env", "JIRA_USER", "--token-env", "JIRA_API_TOKEN"])
        .arg("--trackers")
        .arg(&file)
        .env("HOME", dir.path())
        .env("JIRA_USER", "dana@example.com")
        .env("JIRA_API_TOKEN", TOKEN)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        command.env(name, &proxy_url);
    }
    let ran = support::cli::run(command, b"", std::time::Duration::from_secs(60));
    // Whatever reached the listener: a proxy that closes each connection once it has read it.
    let mut received = Vec::new();
    while let Ok((mut stream, _)) = proxy.accept() {
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_millis(500)))
            .unwrap();
        let mut buffer = [0u8; 4096];
        if let Ok(n) = stream.read(&mut buffer) {
            received.extend_from_slice(&buffer[..n]);
        }
    }
    let received = String::from_utf8_lossy(&received).to_ascii_lowercase();
    assert!(
        !received.contains("authorization"),
        "credentials went through the proxy: {received}"
    );
    assert!(received.is_empty(), "the proxy got a request: {received}");
    assert_eq!(ran.output.status.code(), Some(0), "{}", stderr(&ran.output));
    assert_eq!(jira.requests().len(), 1, "the tracker was asked directly");
}
