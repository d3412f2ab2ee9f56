//! The binary on real repositories: plan and keys output, exit codes, colour and logs.

use crate::support;
use crate::support::openapi;

use std::process::Output;

use serde_json::Value;
use support::TestRepo;

const PROJECT_FILE: &str = "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys:
      projects: [WEB, OPS]
    environments:
      production: { refs: [refs/heads/main, \"refs/tags/v*\"], type: production }
      staging: { refs: [\"refs/heads/release/*\"], type: staging }
";

const TRACKERS_FILE: &str = "version: 1
trackers:
  acme:
    kind: jira-cloud
    url: https://acme.atlassian.net
    auth: { user_env: JIRA_USER, token_env: JIRA_API_TOKEN }
";

struct Fixture {
    repo: TestRepo,
    trackers: std::path::PathBuf,
    v1: String,
    v2: String,
}

/// main: config, WEB-1, tag v1, OPS-2, a UTF-8 mention, WEB-3, tag v2.
fn fixture() -> Fixture {
    let repo = TestRepo::new();
    repo.commit_file(
        ".deploylink.yml",
        PROJECT_FILE,
        "Add deploylink configuration",
    );
    let v1 = repo.commit("WEB-1: first feature");
    repo.git(&["tag", "v1"]);
    repo.commit("OPS-2 pin the image");
    repo.commit("Write files as UTF-8 (see CVE-2024-8184)");
    let v2 = repo.commit("WEB-3: second feature\n\nAlso touches OPS-2.");
    repo.git(&["tag", "v2"]);
    let trackers = repo.path().join(".git/trackers.yml");
    std::fs::write(&trackers, TRACKERS_FILE).unwrap();
    Fixture {
        repo,
        trackers,
        v1,
        v2,
    }
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = support::cli::command();
    command.args(args);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("run deploylink")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

impl Fixture {
    fn plan(&self, extra: &[&str]) -> Output {
        let repo = self.repo.path().to_str().unwrap().to_owned();
        let trackers = self.trackers.to_str().unwrap().to_owned();
        let mut args = vec!["plan", "--repo", &repo, "--trackers", &trackers];
        args.extend_from_slice(extra);
        run(&args, &[])
    }
}

#[test]
fn plan_of_a_tag_uses_the_previous_tag_and_prints_exact_requests() {
    let f = fixture();
    let output = f.plan(&["--to", "v2", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploy = &plan["deploys"][0];
    assert_eq!(deploy["project"], "shop");
    assert_eq!(deploy["environment"], "production");
    assert_eq!(deploy["ref"], "refs/tags/v2");
    assert_eq!(deploy["from"], f.v1.as_str());
    assert_eq!(deploy["to"], f.v2.as_str());
    assert_eq!(deploy["commits"], 3);
    let keys: Vec<&str> = deploy["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["OPS-2", "WEB-3"],
        "first appearance order; no UTF-8 or CVE"
    );
    assert_eq!(
        deploy["issues"][0]["commits"].as_array().unwrap().len(),
        2,
        "OPS-2 is in two commits"
    );
    assert_eq!(deploy["issues"][0]["result"], "planned");
    let request = &deploy["requests"][1];
    assert_eq!(request["method"], "POST");
    assert_eq!(
        request["url"],
        "https://acme.atlassian.net/rest/api/3/issue/WEB-3/remotelink"
    );
    // The repository's identity is the path of `repo_url`, not the directory's name.
    assert_eq!(
        request["body"]["globalId"],
        format!("deploylink:acme/shop:shop:production:{}", f.v2)
    );
    assert_eq!(
        request["body"]["object"]["url"],
        format!("https://git.example.com/acme/shop/commit/{}", f.v2)
    );
    assert_eq!(
        request["body"]["object"]["title"],
        format!("Deployed shop {} to production", &f.v2[..7])
    );
    assert_eq!(request["body"]["object"]["status"]["resolved"], true);
    assert_eq!(plan["summary"]["issues"], 2);
}

#[test]
fn plan_reads_the_configuration_of_the_deployed_commit_in_a_bare_repository() {
    let f = fixture();
    let bare = tempfile::tempdir().unwrap();
    let out = support::git_command(bare.path())
        .args([
            "clone",
            "-q",
            "--bare",
            f.repo.path().to_str().unwrap(),
            "shop.git",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let bare_repo = bare.path().join("shop.git");
    let output = run(
        &[
            "plan",
            "--repo",
            bare_repo.to_str().unwrap(),
            "--trackers",
            f.trackers.to_str().unwrap(),
            "--to",
            "v2",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let global_id = plan["deploys"][0]["requests"][0]["body"]["globalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        global_id.starts_with("deploylink:acme/shop:shop:production:"),
        "{global_id}"
    );
}

#[test]
fn human_plan_has_one_line_per_issue_and_no_colour_when_piped() {
    let f = fixture();
    let output = f.plan(&["--to", "v2"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        !text.contains('\u{1b}'),
        "no ANSI escapes when stdout is a pipe"
    );
    let short = &f.v2[..7];
    assert!(
        text.contains(&format!(
            "WEB-3        planned     production @ {short}  (1 commit)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "OPS-2        planned     production @ {short}  (2 commits)"
        )),
        "{text}"
    );
    assert!(
        text.contains("POST https://acme.atlassian.net/rest/api/3/issue/WEB-3/remotelink"),
        "{text}"
    );
    // CLICOLOR_FORCE asks for colour on a pipe; NO_COLOR always wins.
    let forced = run(
        &[
            "plan",
            "--repo",
            f.repo.path().to_str().unwrap(),
            "--trackers",
            f.trackers.to_str().unwrap(),
            "--to",
            "v2",
        ],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(stdout(&forced).contains('\u{1b}'));
    let never = run(
        &[
            "plan",
            "--repo",
            f.repo.path().to_str().unwrap(),
            "--trackers",
            f.trackers.to_str().unwrap(),
            "--to",
            "v2",
        ],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!stdout(&never).contains('\u{1b}'));
}

#[test]
fn plan_of_a_branch_without_a_base_warns_and_plans_only_the_commit() {
    let f = fixture();
    let output = f.plan(&["--to", "main", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning:") && stderr(&output).contains("--from"),
        "{}",
        stderr(&output)
    );
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["deploys"][0]["commits"], 1);
    assert_eq!(plan["deploys"][0]["from"], Value::Null);
    // -q silences the warning, not the result.
    let quiet = f.plan(&["--to", "main", "-q"]);
    assert_eq!(stderr(&quiet), "");
    assert!(stdout(&quiet).contains("WEB-3"));
}

#[test]
fn max_commits_refuses_the_range_with_exit_0_and_writes_nothing() {
    let f = fixture();
    let output = f.plan(&[
        "--to",
        "v2",
        "--from",
        &f.v1[..],
        "--max-commits",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploy = &plan["deploys"][0];
    assert_eq!(deploy["status"], "too_large");
    assert_eq!(deploy["requests"].as_array().unwrap().len(), 0);
    // Refused, and at least how large: never "0 commits".
    assert_eq!(deploy["commits"], Value::Null);
    assert_eq!(
        deploy["refused"],
        serde_json::json!({ "reason": "max_commits", "limit": 2 })
    );
    assert!(
        stderr(&output).contains("more than 2 commits"),
        "{}",
        stderr(&output)
    );
    let human = f.plan(&["--to", "v2", "--from", &f.v1[..], "--max-commits", "2"]);
    let text = stdout(&human);
    assert!(
        text.contains(&format!(
            "  range {}..{}  refused: more than 2 commits, base: --from {}\n",
            &f.v1[..7],
            &f.v2[..7],
            f.v1
        )),
        "{text}"
    );
    assert!(!text.contains("0 commits"), "{text}");
    // A range within the limit has no `refused`.
    let output = f.plan(&["--to", "v2", "--from", &f.v1[..], "--format", "json"]);
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["deploys"][0]["commits"], 3);
    assert!(plan["deploys"][0].get("refused").is_none());
}

#[test]
fn unknown_revision_exits_5() {
    let f = fixture();
    let output = f.plan(&["--to", "1111111111111111111111111111111111111111"]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .starts_with("error: unknown revision '1111111111111111111111111111111111111111'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn missing_project_file_in_the_commit_exits_3() {
    let f = fixture();
    let root_parent_less = f.repo.commit_tree(&[], "no config here", 1_700_000_000);
    let output = f.plan(&["--to", &root_parent_less, "--environment", "production"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(".deploylink.yml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_project_whose_tracker_is_not_connected_exits_3_with_the_spec_wording() {
    let f = fixture();
    let empty = f.repo.path().join(".git/empty-trackers.yml");
    std::fs::write(&empty, "version: 1\ntrackers: {}\n").unwrap();
    let output = run(
        &[
            "plan",
            "--repo",
            f.repo.path().to_str().unwrap(),
            "--trackers",
            empty.to_str().unwrap(),
            "--to",
            "v2",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        // SPEC 3.4's wording; the field is the one that named the tracker (here default_tracker).
        stderr(&output).contains("project 'shop' uses tracker 'acme', which is not connected; connect it or choose another tracker (default_tracker in .deploylink.yml at "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_environment_is_a_usage_error_with_a_hint() {
    let f = fixture();
    let output = f.plan(&["--to", "v2", "--environment", "prodution"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("did you mean 'production'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn keys_of_a_range_follow_the_project_file_and_flags() {
    let f = fixture();
    let repo = f.repo.path().to_str().unwrap();
    let output = run(&["keys", "--repo", repo, "--from", "v1", "--to", "v2"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "OPS-2\nWEB-3\n");
    let output = run(
        &[
            "keys",
            "--repo",
            repo,
            "--from",
            "v1",
            "--to",
            "v2",
            "--project",
            "WEB",
        ],
        &[],
    );
    assert_eq!(stdout(&output), "WEB-3\n");
    let output = run(
        &[
            "keys", "--repo", repo, "--from", "last-tag", "--to", "v2", "--format", "json",
        ],
        &[],
    );
    let keys: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(keys["commits"], 3);
    assert_eq!(keys["keys"][1]["commits"][0], f.v2.as_str());
}

/// Releases tagged on release branches: the base of `v2.1.0` is `v2.0.1`, not an ancestor, not
/// the `v2.1.0-rc1` on the same commit, not the nearest ancestor tag `v1`; the output names it
/// and says why.
#[test]
fn plan_of_a_release_branch_tag_starts_at_the_previous_release() {
    let f = fixture();
    let repo = &f.repo;
    repo.git(&["checkout", "-q", "-b", "release/2.0"]);
    repo.commit("WEB-20: release 2.0");
    repo.git(&["tag", "v2.0.0"]);
    repo.commit("WEB-21: fix on 2.0");
    repo.git(&["tag", "v2.0.1-rc1"]);
    repo.git(&["tag", "v2.0.1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("WEB-30: trunk work");
    repo.git(&["checkout", "-q", "-b", "release/2.1"]);
    let to = repo.commit("WEB-31: release 2.1");
    repo.git(&["tag", "v2.1.0-rc1"]);
    repo.git(&["tag", "v2.1.0"]);
    let output = f.plan(&[
        "--to",
        "v2.1.0",
        "--environment",
        "production",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploy = &plan["deploys"][0];
    let v201 = repo.git(&["rev-parse", "v2.0.1"]);
    assert_eq!(deploy["from"], v201.as_str());
    assert_eq!(deploy["to"], to.as_str());
    assert_eq!(
        deploy["base"],
        "previous release v2.0.1 (the greatest version below v2.1.0 with the same prefix; \
         pre-releases skipped)"
    );
    assert_eq!(deploy["commits"], repo.rev_list(&["v2.0.1..v2.1.0"]).len());
    let keys: Vec<&str> = deploy["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["WEB-30", "WEB-31"]);
    let output = f.plan(&["--to", "v2.1.0", "--environment", "production"]);
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "range {}..{}  2 commits, base: previous release v2.0.1 (the greatest version \
             below v2.1.0 with the same prefix; pre-releases skipped)",
            &v201[..7],
            &to[..7]
        )),
        "{text}"
    );
}

#[test]
fn keys_reads_a_branch_name_first() {
    let f = fixture();
    f.repo.git(&["checkout", "-q", "-b", "feature/OPS-9-probe"]);
    f.repo.commit("WEB-4 probe");
    let output = run(
        &[
            "keys",
            "--repo",
            f.repo.path().to_str().unwrap(),
            "--to",
            "feature/OPS-9-probe",
            "--from",
            "other-refs",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "OPS-9\nWEB-4\n");
}

#[test]
fn a_reverted_pair_is_not_reported_as_deployed() {
    let f = fixture();
    let bad = f
        .repo
        .commit_file("risky.txt", "risk", "WEB-8: risky change");
    f.repo.git(&["revert", "--no-edit", &bad]);
    f.repo.git(&["tag", "v3"]);
    let output = f.plan(&["--to", "v3", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["deploys"][0]["commits"], 2);
    assert_eq!(plan["deploys"][0]["issues"].as_array().unwrap().len(), 0);
    assert!(plan["deploys"][0]["notes"][0]
        .as_str()
        .unwrap()
        .contains("WEB-8"));
}

#[test]
#[cfg(feature = "sandbox")]
fn demo_delivers_to_the_sandbox_without_false_positives() {
    let output = run(&["demo"], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for key in ["WEB-102", "OPS-7", "OPS-9"] {
        assert!(text.contains(key), "{key} in {text}");
    }
    assert!(
        !text.contains("WEB-101"),
        "v1.0.0's commit is not in the range: {text}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("CVE-") || l.trim_start().starts_with("UTF-")),
        "{text}"
    );
    assert!(
        text.contains("WEB-103"),
        "the reverted key is named in a note: {text}"
    );
    let json = run(&["demo", "--format", "json"], &[]);
    let plan: Value = serde_json::from_slice(&json.stdout).unwrap();
    let keys: Vec<&str> = plan["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["WEB-102", "OPS-7", "OPS-9"]);
    let results: Vec<&str> = plan["deploys"][0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["linked", "linked", "unknown"], "{plan:#}");
    assert_eq!(plan["summary"]["failed"], 0);
    // What the sandbox holds, and where its page is.
    assert!(text.contains("what Jira now shows:"), "{text}");
    // The tag's version in each issue's project, released by the production deploy, and the
    // issues moved along the workflow to Done.
    assert!(text.contains("    version     v1.1.0 (released "), "{text}");
    assert!(text.contains("    status      Done"), "{text}");
    assert!(
        text.contains("    deployment  successful to production"),
        "{text}"
    );
    assert!(
        text.contains("the sandbox's page: http://127.0.0.1:"),
        "{text}"
    );
}

#[test]
fn completions_are_generated() {
    let output = run(&["completions", "bash"], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("deploylink"));
}

#[test]
fn the_man_page_is_generated_from_the_command_line_and_hidden_from_help() {
    let output = run(&["man"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(
        page.contains(&format!(
            ".TH deploylink 1  \"deploylink {}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{page}"
    );
    for subcommand in ["link", "plan", "retry", "tracker"] {
        assert!(page.contains(subcommand), "{subcommand} missing: {page}");
    }
    let help = stdout(&run(&["--help"], &[]));
    assert!(!help.contains("  man "), "{help}");
}

#[test]
fn monorepo_projects_take_only_the_commits_that_touch_their_paths() {
    let repo = TestRepo::new();
    let config = "version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/mono
projects:
  web:
    keys: { projects: [WEB, OPS] }
    paths: [\"apps/web/**\"]
    environments:
      production: { refs: [refs/heads/main], type: production }
  api:
    keys: { projects: [API, OPS] }
    paths: [\"services/api/**\"]
    environments:
      production: { refs: [refs/heads/main], type: production }
";
    let base = repo.commit_file(".deploylink.yml", config, "configure");
    repo.commit_file("apps/web/index.html", "1", "WEB-1 web page");
    repo.commit_file("services/api/main.go", "1", "API-1 endpoint");
    repo.commit_file("docs/readme.md", "1", "OPS-3 docs only");
    std::fs::create_dir_all(repo.path().join("apps/web")).unwrap();
    std::fs::write(repo.path().join("apps/web/index.html"), "2").unwrap();
    std::fs::write(repo.path().join("services/api/main.go"), "2").unwrap();
    repo.git(&["add", "-A"]);
    repo.commit("OPS-4 both sides");
    let trackers = repo.path().join(".git/trackers.yml");
    std::fs::write(&trackers, TRACKERS_FILE).unwrap();
    let output = run(
        &[
            "plan",
            "--repo",
            repo.path().to_str().unwrap(),
            "--trackers",
            trackers.to_str().unwrap(),
            "--to",
            "main",
            "--from",
            &base,
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let deploys = plan["deploys"].as_array().unwrap();
    let keys_of = |name: &str| -> Vec<String> {
        let d = deploys.iter().find(|d| d["project"] == name).unwrap();
        d["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(keys_of("web"), ["WEB-1", "OPS-4"]);
    assert_eq!(keys_of("api"), ["API-1", "OPS-4"]);
}

#[test]
fn non_utf8_and_multi_megabyte_messages_do_not_break_keys_or_plan() {
    let f = fixture();
    let latin1 = b"WEB-5 caf\xe9 cr\xe8me\n\nOPS-6 in the body\n";
    let a = f.repo.commit_raw(Some(&f.v2), latin1, 1_700_001_000);
    let mut huge = b"WEB-7 huge subject\n\n".to_vec();
    huge.extend(std::iter::repeat_n(b"lorem ipsum ".as_slice(), 400_000).flatten());
    huge.extend_from_slice(b"\nand finally WEB-8\n");
    let b = f.repo.commit_raw(Some(&a), &huge, 1_700_002_000);
    let repo = f.repo.path().to_str().unwrap();
    let output = run(&["keys", "--repo", repo, "--from", &f.v2, "--to", &b], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "WEB-5\nOPS-6\nWEB-7\nWEB-8\n");
    // These raw commits have an empty tree, so the project file comes from --config.
    let config = f.repo.path().join(".git/project.yml");
    std::fs::write(&config, PROJECT_FILE).unwrap();
    let config = config.to_str().unwrap();
    let output = f.plan(&[
        "--config",
        config,
        "--to",
        &b,
        "--from",
        &f.v2,
        "--environment",
        "production",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let summary = plan["deploys"][0]["requests"][0]["body"]["object"]["summary"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        summary, "WEB-5 caf\u{fffd} cr\u{fffd}me",
        "lossy subject, never a panic"
    );
}

#[test]
fn progress_bar_only_on_a_terminal_for_long_ranges() {
    // 1,500 commits, so the walk passes the ~1,000-commit threshold.
    let repo = TestRepo::bare();
    let mut input = String::new();
    for i in 0..1500 {
        let message = format!("WEB-{}\n", i + 1);
        input.push_str(&format!(
            "commit refs/heads/main\ncommitter C <c@x> {} +0000\ndata {}\n{message}\n",
            1_600_000_000 + i * 60,
            message.len()
        ));
    }
    let output = repo.git_output(&["fast-import", "--quiet"], Some(input.as_bytes()));
    assert!(output.status.success());
    let root = repo.rev_list(&["--max-parents=0", "main"]).pop().unwrap();
    let path = repo.path().to_str().unwrap();
    let piped = run(
        &["keys", "--repo", path, "--from", &root, "--to", "main"],
        &[],
    );
    assert_eq!(stdout(&piped).lines().count(), 1499);
    assert_eq!(
        stderr(&piped),
        "",
        "no progress bar when stderr is not a terminal"
    );
    // `script` gives the command a terminal (util-linux; .ci/run installs it).
    let command = format!(
        "{} keys --repo {path} --from {root} --to main >/dev/null",
        support::deploylink().display()
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) is installed");
    assert!(
        tty.status.success(),
        "{}",
        String::from_utf8_lossy(&tty.stderr)
    );
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(screen.contains("commits read"), "{screen:?}");
    assert!(
        screen.ends_with("\r\u{1b}[2K"),
        "the bar is cleared at the end: {screen:?}"
    );
}

#[test]
fn config_check_reads_the_work_tree_or_a_commit() {
    let f = fixture();
    let repo = f.repo.path().to_str().unwrap();
    let trackers = f.trackers.to_str().unwrap();
    let output = run(
        &["config", "check", "--repo", repo, "--trackers", trackers],
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("token: <from $JIRA_API_TOKEN>"),
        "{}",
        stdout(&output)
    );
    // A broken work-tree file is reported; the committed one (--rev) is still valid.
    std::fs::write(
        f.repo.path().join(".deploylink.yml"),
        "version: 1\nprojects: [oops\n",
    )
    .unwrap();
    let broken = run(
        &["config", "check", "--repo", repo, "--trackers", trackers],
        &[],
    );
    assert_eq!(broken.status.code(), Some(3), "{}", stderr(&broken));
    assert!(
        stderr(&broken).contains(".deploylink.yml:2:"),
        "{}",
        stderr(&broken)
    );
    let committed = run(
        &[
            "config",
            "check",
            "--repo",
            repo,
            "--trackers",
            trackers,
            "--rev",
            "HEAD",
        ],
        &[],
    );
    assert_eq!(committed.status.code(), Some(0), "{}", stderr(&committed));
}

#[test]
fn schema_command_prints_the_checked_in_schema() {
    let output = run(&["schema"], &[]);
    assert_eq!(output.status.code(), Some(0));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let checked_in: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/config.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(printed, checked_in);
}

#[test]
fn planned_remote_links_are_bodies_jira_accepts_on_cloud_and_data_center() {
    let f = fixture();
    let dc = f.repo.path().join(".git/dc-trackers.yml");
    std::fs::write(&dc, "version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: https://jira.example.com/jira\n    auth: { token_env: JIRA_PAT }\n").unwrap();
    let repo = f.repo.path().to_str().unwrap();
    for (trackers, operation) in [
        (f.trackers.to_str().unwrap(), "remotelink.v3"),
        (dc.to_str().unwrap(), "remotelink.v2"),
    ] {
        let output = run(
            &[
                "plan",
                "--repo",
                repo,
                "--trackers",
                trackers,
                "--to",
                "v2",
                "--format",
                "json",
            ],
            &[],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
        let requests = plan["deploys"][0]["requests"].as_array().unwrap();
        assert_eq!(requests.len(), 2);
        for request in requests {
            let url = request["url"].as_str().unwrap();
            let method = request["method"].as_str().unwrap();
            assert_eq!(
                openapi::operation_for(method, url),
                Some(operation),
                "{method} {url}"
            );
            openapi::validate(operation, &request["body"]).unwrap_or_else(|e| panic!("{url}: {e}"));
            // The spec says it only in prose: globalId is at most 255 characters.
            assert!(request["body"]["globalId"].as_str().unwrap().len() <= 255);
        }
    }
}
