//! Test repositories built with the real `git` binary, with fixed identities and dates.
#![allow(dead_code)]

pub mod cli;
pub mod jira;
pub mod openapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The empty tree, which every git knows.
pub const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

pub struct TestRepo {
    pub dir: tempfile::TempDir,
    /// The repository: `dir` itself, or a directory inside it (see [`TestRepo::named`]).
    root: PathBuf,
    time: std::cell::Cell<i64>,
}

impl TestRepo {
    /// A repository with a work tree, branch `main`.
    pub fn new() -> TestRepo {
        let repo = TestRepo::empty();
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    /// A bare repository, branch `main`.
    pub fn bare() -> TestRepo {
        let repo = TestRepo::empty();
        repo.git(&["init", "-q", "--bare", "-b", "main", "."]);
        repo
    }

    /// A repository with a work tree in a directory called `name` (the single-project form
    /// of `.deploylink.yml` names its project after the directory).
    pub fn named(name: &str) -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join(name);
        std::fs::create_dir(&root).expect("mkdir");
        let repo = TestRepo {
            dir,
            root,
            time: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    fn empty() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        TestRepo {
            root: dir.path().to_path_buf(),
            dir,
            time: std::cell::Cell::new(1_700_000_000),
        }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Runs git here and returns stdout; panics with git's stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args, None);
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    pub fn git_output(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let time = self.time.get();
        let date = format!("{time} +0000");
        let mut command = git_command(self.path());
        command
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        match stdin {
            None => command.output().expect("run git"),
            Some(input) => {
                use std::io::Write;
                command.stdin(std::process::Stdio::piped());
                command.stdout(std::process::Stdio::piped());
                command.stderr(std::process::Stdio::piped());
                let mut child = command.spawn().expect("spawn git");
                child.stdin.take().unwrap().write_all(input).unwrap();
                child.wait_with_output().expect("wait git")
            }
        }
    }

    /// Sets the date of the next commits (seconds since the epoch).
    pub fn set_time(&self, time: i64) {
        self.time.set(time);
    }

    /// A commit on the current branch changing `file` (work tree repositories only).
    pub fn commit_file(&self, file: &str, content: &str, message: &str) -> String {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        self.git(&["add", "--", file]);
        self.commit_message(message.as_bytes())
    }

    /// An empty commit on the current branch with an arbitrary (even non-UTF-8) message.
    pub fn commit(&self, message: &str) -> String {
        self.commit_message(message.as_bytes())
    }

    pub fn commit_message(&self, message: &[u8]) -> String {
        self.tick();
        let file = self.path().join(".git").join("TEST_MSG");
        let file = if file.parent().unwrap().exists() {
            file
        } else {
            self.path().join("TEST_MSG")
        };
        std::fs::write(&file, message).unwrap();
        self.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--cleanup=verbatim",
            "-F",
            file.to_str().unwrap(),
        ]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// A commit object with the given parents (no ref moves), dated `time`.
    pub fn commit_tree(&self, parents: &[&str], message: &str, time: i64) -> String {
        let saved = self.time.get();
        self.time.set(time);
        let mut args = vec!["commit-tree", EMPTY_TREE];
        for p in parents {
            args.push("-p");
            args.push(p);
        }
        args.push("-m");
        args.push(message);
        let id = self.git(&args);
        self.time.set(saved);
        id
    }

    /// A commit object written byte for byte (git commit would re-encode a non-UTF-8
    /// message as if it were Latin-1), with the given parent, dated `time`.
    pub fn commit_raw(&self, parent: Option<&str>, message: &[u8], time: i64) -> String {
        let mut object = format!("tree {EMPTY_TREE}\n").into_bytes();
        if let Some(parent) = parent {
            object.extend_from_slice(format!("parent {parent}\n").as_bytes());
        }
        object.extend_from_slice(format!("author A <a@example.com> {time} +0000\ncommitter C <c@example.com> {time} +0000\n\n").as_bytes());
        object.extend_from_slice(message);
        let output = self.git_output(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(&object),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn tick(&self) {
        self.time.set(self.time.get() + 60);
    }

    /// `git rev-list ARGS`, as a list of ids (newest first).
    pub fn rev_list(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["rev-list"];
        all.extend_from_slice(args);
        self.git(&all)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// `git` with a clean, fixed environment (no user config, fixed identity).
pub fn git_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("LC_ALL", "C");
    command
}

/// The deploylink binary under test.
pub fn deploylink() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_deploylink"))
}
