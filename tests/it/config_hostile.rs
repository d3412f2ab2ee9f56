//! Hostile and malformed files fail fast with a clear error, and nothing panics.
//!
//! Timing is not asserted (CI machines vary); measured once on the development machine, in a
//! release build: the billion-laughs fixture fails in about 5 ms with 1.5 MB more memory than a
//! valid file, and 10,000-deep nesting in under 1 ms.

use std::path::Path;

use deploylink::config::{parse_project, parse_trackers, ConfigError, Source, MAX_FILE_BYTES};

fn parse(text: impl Into<Vec<u8>>) -> Result<(), ConfigError> {
    let src = Source {
        name: "hostile.yml".into(),
        text: text.into(),
    };
    parse_project(&src, &deploylink::config::RepoFacts::directory("web")).map(drop)
}

fn error(text: impl Into<Vec<u8>>) -> ConfigError {
    parse(text).expect_err("the file should be refused")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/config")
            .join(name),
    )
    .unwrap()
}

#[test]
fn billion_laughs_is_refused() {
    let err = error(fixture("billion-laughs.yml"));
    assert_eq!(
        err.message(),
        "the YAML aliases (`*name`) of the file expand to more than 20000 values"
    );
    assert!(err.hint().unwrap().contains("alias bomb"), "{err}");
    assert!(err.line().is_some(), "{err}");
    // The organization file is read with the same limits.
    let src = Source {
        name: "trackers.yml".into(),
        text: fixture("billion-laughs.yml"),
    };
    assert!(parse_trackers(&src)
        .unwrap_err()
        .message()
        .contains("aliases"));
}

#[test]
fn deep_nesting_is_refused() {
    let flow = format!(
        "version: 1\nx: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let block = format!("version: 1\nx:\n{}x\n", "- ".repeat(10_000));
    let maps = format!(
        "version: 1\nx: {}1{}\n",
        "{a: ".repeat(10_000),
        "}".repeat(10_000)
    );
    for text in [flow, block, maps] {
        let err = error(text);
        assert_eq!(
            err.message(),
            "the file nests lists and mappings deeper than 24 levels",
            "{err}"
        );
        assert!(err.hint().unwrap().contains("hostile"), "{err}");
    }
}

#[test]
fn size_is_checked_before_parsing() {
    // Invalid UTF-8 and invalid YAML: the size is what is reported, so nothing was parsed.
    let mut text = b"version: 1\n\xff[".to_vec();
    text.resize(MAX_FILE_BYTES + 1, b'#');
    let err = error(text);
    assert_eq!(
        err.message(),
        "the file is 1 MiB (1048577 bytes), larger than the 1 MiB limit for a configuration file"
    );
    assert_eq!((err.line(), err.field_path()), (None, None));
    assert!(
        err.to_string().starts_with("hostile.yml: the file is"),
        "{err}"
    );
    // At the limit exactly, the file is read.
    let mut text = b"version: 1\n".to_vec();
    text.resize(MAX_FILE_BYTES, b'#');
    parse(text).unwrap();
}

#[test]
fn duplicate_keys_are_refused() {
    let err = error("version: 1\nprojects:\n  web:\n    paths: [a]\n    paths: [b]\n");
    assert_eq!(
        err.message(),
        "`paths` is written twice in the same mapping"
    );
    assert_eq!(
        (err.line(), err.column(), err.field_path()),
        (Some(5), Some(5), Some("projects.web.paths"))
    );
    let err = error("version: 1\nversion: 1\n");
    assert_eq!((err.line(), err.field_path()), (Some(2), Some("version")));
}

#[test]
fn tabs_in_indentation_say_so() {
    let err = error(fixture("tabs.yml"));
    assert_eq!((err.line(), err.column()), (Some(4), Some(2)));
    assert!(err.message().contains("tabs"), "{err}");
    assert_eq!(
        err.hint(),
        Some("indent with spaces: YAML does not allow tabs in indentation")
    );
}

#[test]
fn bom_and_crlf_are_read_with_correct_positions() {
    parse("\u{feff}version: 1\r\nkeys:\r\n  projects: [WEB]\r\n").unwrap();
    let err = error("\u{feff}version: 1\r\nkeys:\r\n  projects: [WEB, ops]\r\n");
    assert_eq!(
        (err.line(), err.column(), err.field_path()),
        (Some(3), Some(19), Some("keys.projects[1]"))
    );
}

#[test]
fn empty_and_non_mapping_files_say_what_a_file_is() {
    for text in ["", "\n\n", "# only a comment\n", "---\n"] {
        let err = error(text);
        assert_eq!(err.message(), "the file is empty", "{text:?}");
        assert!(err.hint().unwrap().contains("version: 1"));
    }
    for (text, found) in [
        ("- version: 1\n", "a list"),
        ("just text\n", "a single string"),
        ("42\n", "a single number"),
        ("~\n", "only `null`"),
    ] {
        let err = error(text);
        assert_eq!(
            err.message(),
            format!("the file holds {found}, but a configuration is a mapping of fields")
        );
        assert_eq!((err.line(), err.column()), (Some(1), Some(1)));
    }
}

#[test]
fn non_utf8_bytes_are_located() {
    let err = error(b"version: 1\nrepo_url: \"h\xfftps://x\"\n".to_vec());
    assert_eq!(err.message(), "the file is not valid UTF-8 (byte 0xff)");
    assert_eq!((err.line(), err.column()), (Some(2), Some(13)));
    assert_eq!(err.hint(), Some("save the file as UTF-8"));
    let err = error(b"\xfe\xffversion: 1\n".to_vec());
    assert_eq!((err.line(), err.column()), (Some(1), Some(1)));
}

#[test]
fn other_malformed_yaml_is_located() {
    let err = error("version: 1\nkeys: [a\n");
    assert!(err.message().starts_with("invalid YAML"), "{err}");
    assert_eq!(err.line(), Some(2));
    let err = error("version: 1\n---\nversion: 1\n");
    assert_eq!(err.message(), "the file holds more than one YAML document");
    let err = error("version: 1\nkeys: *nowhere\n");
    assert!(err.message().contains("anchor"), "{err}");
}

#[test]
fn control_characters_are_escaped_in_errors() {
    let err = error("version: 1\n\"evil\\e[2J\": 1\n");
    assert!(err.to_string().contains("evil\\u{1b}[2J"), "{err}");
    assert!(!err.to_string().contains('\u{1b}'));
    let src = Source {
        name: "a\u{1b}[2J.yml".into(),
        text: b"".to_vec(),
    };
    assert!(
        !parse_project(&src, &deploylink::config::RepoFacts::directory("web"))
            .unwrap_err()
            .to_string()
            .contains('\u{1b}')
    );
}

#[test]
fn anchors_within_the_limits_are_fine() {
    let text = "version: 1\nprojects:\n  web:\n    environments: &envs\n      production: {refs: [refs/heads/main]}\n  api:\n    environments: *envs\n";
    parse(text).unwrap();
}

/// Every prefix and many one-byte corruptions of the SPEC example: an error or a file, never a
/// panic.
#[test]
fn corrupted_files_never_panic() {
    let original = fixture("spec-project.yml");
    // Strided to keep the test near a second in a debug build.
    for len in (0..original.len()).step_by(4) {
        let _ = parse(&original[..len]);
    }
    for i in (0..original.len()).step_by(17) {
        for byte in [b'{', b':', b'-', b'*', b'\t', b'"', b'[', b'!', 0xff, 0] {
            let mut text = original.clone();
            text[i] = byte;
            let _ = parse(text);
        }
    }
}

/// Rule counts are limited: a file within every size limit could still hold 99,000
/// `keys.ignore` regexes (530 MB and 18.8 s to load); past each count the error names the field.
#[test]
fn rule_counts_are_limited_and_the_error_names_the_field() {
    let list =
        |n: usize, item: &dyn Fn(usize) -> String| (0..n).map(item).collect::<Vec<_>>().join(", ");
    let ignore = format!(
        "version: 1\nkeys: {{ ignore: [{}] }}\nenvironments:\n  production: {{ refs: [refs/heads/main] }}\n",
        list(101, &|i| format!("'^X{i}-'"))
    );
    let err = error(ignore);
    assert_eq!(err.field_path(), Some("keys.ignore"), "{err}");
    assert!(
        err.message()
            .contains("101 ignore patterns, more than the 100 a project file may hold"),
        "{err}"
    );
    let many = format!(
        "version: 1\nkeys: {{ ignore: [{}] }}\n",
        list(99_000, &|i| format!("'a{i}'"))
    );
    // Refused before any of them is compiled (timing is not asserted; see the module's doc).
    assert_eq!(error(many).field_path(), Some("keys.ignore"));
    let refs = format!(
        "version: 1\nenvironments:\n  production: {{ refs: [{}] }}\n",
        list(101, &|i| format!("refs/heads/r{i}"))
    );
    assert_eq!(
        error(refs).field_path(),
        Some("environments.production.refs")
    );
    let paths = format!(
        "version: 1\npaths: [{}]\nenvironments:\n  production: {{ refs: [refs/heads/main] }}\n",
        list(201, &|i| format!("dir{i}/**"))
    );
    assert_eq!(error(paths).field_path(), Some("paths"));
    let projects = format!(
        "version: 1\nprojects:\n{}",
        list(101, &|i| format!(
            "  p{i}:\n    environments: {{ production: {{ refs: [refs/heads/main] }} }}\n"
        ))
        .replace(", ", "")
    );
    assert_eq!(error(projects).field_path(), Some("projects"));
}

mod files {
    use super::super::support::{cli, TestRepo};
    use std::process::Command;
    use std::time::Duration;

    const PROJECT: &str = "version: 1\nkeys: { projects: [WEB] }\nenvironments:\n  production: { refs: [refs/heads/main] }\n";

    fn deploylink(repo: &TestRepo, args: &[&str]) -> cli::Ran {
        let mut command = cli::command();
        command.current_dir(repo.path()).args(args);
        cli::run(command, b"", Duration::from_secs(20))
    }

    #[track_caller]
    fn refused(ran: &cli::Ran, phrase: &str) {
        let stderr = cli::text(&ran.output.stderr);
        assert_eq!(ran.output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(phrase), "{phrase:?} not in {stderr}");
        assert!(ran.elapsed < Duration::from_secs(5), "{:?}", ran.elapsed);
    }

    /// A 200 MB all-zero project file in a commit (200 KB on the wire) is refused from its
    /// object header: the blob is never read (it was read whole, twice: 800 MB for 400 MB).
    #[test]
    fn a_huge_project_file_in_a_commit_is_refused_before_it_is_read() {
        let repo = TestRepo::new();
        repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink");
        let out = Command::new("sh")
            .current_dir(repo.path())
            .arg("-c")
            .arg("head -c 200000000 /dev/zero | git hash-object -w --stdin")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        let id = cli::text(&out.stdout).trim().to_owned();
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{id},.deploylink.yml"),
        ]);
        repo.commit("A huge project file");
        // 200 MB of address space: reading the blob once would not fit.
        let check = || {
            let mut command = Command::new("sh");
            command
                .current_dir(repo.path())
                .arg("-c")
                .arg("ulimit -v 200000; exec \"$0\" \"$@\"")
                .arg(super::super::support::deploylink())
                .args(["config", "check", "--rev", "HEAD"]);
            cli::run(command, b"", Duration::from_secs(20))
        };
        // A loose object, then the same blob in a pack.
        refused(&check(), "(200000000 bytes), larger than the 1 MiB limit");
        repo.git(&["repack", "-a", "-d", "-q"]);
        refused(&check(), "(200000000 bytes), larger than the 1 MiB limit");
        refused(
            &deploylink(
                &repo,
                &["plan", "--to", "HEAD", "--environment", "production"],
            ),
            "larger than the 1 MiB limit",
        );
    }

    /// The work tree's file (client hooks, `config check`) and `--config FILE` are read within
    /// the limit, and only a regular file is read: a committed symlink to `/dev/zero` grew
    /// without bound, and a FIFO waited forever.
    #[test]
    fn a_work_tree_file_that_is_no_regular_file_is_refused() {
        let repo = TestRepo::new();
        repo.commit_file(".deploylink.yml", PROJECT, "Add deploylink");
        let file = repo.path().join(".deploylink.yml");
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &file).unwrap();
        refused(
            &deploylink(&repo, &["config", "check"]),
            "not a regular file but a character device",
        );
        let message = repo.path().join("MSG");
        std::fs::write(&message, "no key here\n").unwrap();
        refused(
            &deploylink(&repo, &["hook", "commit-msg", message.to_str().unwrap()]),
            "not a regular file",
        );
        std::fs::remove_file(&file).unwrap();
        let made = Command::new("mkfifo").arg(&file).status().unwrap();
        assert!(made.success());
        refused(
            &deploylink(&repo, &["config", "check"]),
            "not a regular file but a FIFO",
        );
        refused(
            &deploylink(&repo, &["--config", "/dev/zero", "config", "check"]),
            "not a regular file",
        );
        std::fs::remove_file(&file).unwrap();
        let big = format!("{PROJECT}#{}\n", "x".repeat(2 << 20));
        std::fs::write(&file, big).unwrap();
        refused(
            &deploylink(&repo, &["config", "check"]),
            "larger than the 1 MiB limit",
        );
    }
}
