//! Running the `deploylink` binary under test: the one place its command is built.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The variables by which deploylink knows it runs in a CI, which would also name the
/// repository (`GITHUB_REPOSITORY`) when the tests themselves run in one.
pub const CI_MARKERS: [&str; 7] = [
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BITBUCKET_BUILD_NUMBER",
    "JENKINS_URL",
    "CIRCLECI",
    "TF_BUILD",
    "BUILDKITE",
];

/// `deploylink` without what the test process's own environment would add: no organization
/// file, spool, log filter or colour setting of the developer's or the CI's, and no CI. Tests
/// add their arguments, variables and working directory.
pub fn command() -> Command {
    let mut command = Command::new(super::deploylink());
    for marker in CI_MARKERS {
        command.env_remove(marker);
    }
    command
        .env_remove("DEPLOYLINK_TRACKERS")
        .env_remove("DEPLOYLINK_SPOOL")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    command
}

/// A finished run: its output, and how long it took.
pub struct Ran {
    pub output: Output,
    pub elapsed: Duration,
}

/// Runs `command` with `stdin` on its standard input (a command that does not read it is
/// fine); fails the test if it is still running after `limit`, after killing it.
#[track_caller]
pub fn run(mut command: Command, stdin: &[u8], limit: Duration) -> Ran {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start deploylink");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // A broken pipe (a command that does not read stdin) is fine.
    let writer = std::thread::spawn(move || drop(input.write_all(&stdin)));
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let status: ExitStatus = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("deploylink ran longer than {limit:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    writer.join().unwrap();
    Ran {
        output: Output {
            status,
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        },
        elapsed,
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes).unwrap();
        bytes
    })
}

/// Output as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
