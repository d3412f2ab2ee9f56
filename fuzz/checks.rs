//! What each fuzz target feeds deploylink, and what must hold for any input besides "no
//! panic". Shared by the libFuzzer targets (`fuzz/fuzz_targets/`) and by
//! `tests/it/fuzz_regressions.rs`, which replays every saved input on stable Rust in `cargo test`.

#![allow(dead_code)] // each fuzz target uses one function of this file

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deploylink::config::{
    self, parse_project, parse_trackers, remove_tracker, tracker_names, Source, TrustMode,
};
use deploylink::deliver::retry::{Idempotency, Outcome, RetryPolicy, Verdict};
use deploylink::git::push::{parse_pushed, parse_received, BadLine};
use deploylink::jira::client::Response;
use deploylink::jira::{deployment, response};
use deploylink::keys::{IssueKey, KeyRules, KeyRulesSpec};

/// A project file and an organization file: parsed, resolved and, when valid, printed as the
/// effective configuration. An error must name the file. The line-based editor of
/// `tracker connect`/`disconnect` must refuse or succeed, never panic.
pub fn config(data: &[u8]) {
    let source = Source {
        name: "fuzz.yml".to_owned(),
        text: data.to_vec(),
    };
    let trackers = parse_trackers(&source);
    if let Err(error) = &trackers {
        assert_eq!(error.file(), "fuzz.yml", "{error}");
    }
    match parse_project(&source, &deploylink::config::RepoFacts::directory("fuzz")) {
        Ok(project) => {
            if let Ok(config) = config::resolve(project, trackers.ok(), TrustMode::Client) {
                assert!(!config.effective_yaml().is_empty());
            }
        }
        Err(error) => {
            assert_eq!(error.file(), "fuzz.yml", "{error}");
            assert!(!error.to_string().is_empty());
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = tracker_names(text, "fuzz.yml");
        if let Ok(edited) = remove_tracker(text, "fuzz.yml", "jira") {
            // The editor re-parses what it writes; what it returns must parse.
            let edited = Source {
                name: "fuzz.yml".to_owned(),
                text: edited.into_bytes(),
            };
            assert!(
                parse_trackers(&edited).is_ok(),
                "remove_tracker wrote a bad file"
            );
        }
    }
}

/// `post-receive` and `pre-push` input: every line is a ref or a numbered complaint.
pub fn hook_stdin(data: &[u8]) {
    let lines = data.split(|&b| b == b'\n').count();
    let (received, bad) = parse_received(data);
    check_lines(received.len(), &bad, lines);
    for r in &received {
        assert!(!r.refname.is_empty());
    }
    let (pushed, bad) = parse_pushed(data);
    check_lines(pushed.len(), &bad, lines);
}

fn check_lines(good: usize, bad: &[BadLine], lines: usize) {
    assert!(good + bad.len() <= lines);
    for line in bad {
        assert!((1..=lines).contains(&line.number), "{line}");
        assert!(!line.problem.is_empty());
    }
}

/// Key extraction under the three kinds of rules. The first byte picks the rules:
/// 0 the default rule; 1 a project list, case-insensitive; 2 the first line is a user
/// `pattern`. Every key found must be in the text, listed keys must be of listed projects,
/// and `extract` must be `for_each_key` without repeats.
pub fn keys(data: &[u8]) {
    let Some((&mode, text)) = data.split_first() else {
        return;
    };
    let (rules, text) = match mode % 3 {
        0 => (KeyRules::default_rules(), text),
        1 => {
            let spec = KeyRulesSpec {
                projects: vec!["KAFKA".into(), "OPS".into()],
                case_insensitive: true,
                ..KeyRulesSpec::default()
            };
            (
                KeyRules::new(&spec).expect("a fixed project list compiles"),
                text,
            )
        }
        _ => {
            let split = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
            let spec = KeyRulesSpec {
                pattern: Some(String::from_utf8_lossy(&text[..split]).into_owned()),
                ..KeyRulesSpec::default()
            };
            match KeyRules::new(&spec) {
                Ok(rules) => (rules, &text[split.min(text.len())..]),
                Err(error) => {
                    assert!(error.to_string().contains("keys."), "{error}");
                    return;
                }
            }
        }
    };
    let keys = rules.extract(text);
    let mut all = Vec::new();
    rules.for_each_key(text, |key| all.push(key));
    let mut firsts: Vec<IssueKey> = Vec::new();
    for key in all {
        if !firsts.contains(&key) {
            firsts.push(key);
        }
    }
    assert_eq!(keys, firsts);
    let lower = text.to_ascii_lowercase();
    for key in &keys {
        let wanted = key.as_str().to_ascii_lowercase();
        assert!(
            contains(&lower, wanted.as_bytes()),
            "{key} is not in the text"
        );
        assert_eq!(key.as_str(), format!("{}-{}", key.project(), key.number()));
        if mode % 3 == 1 {
            assert!(["KAFKA", "OPS"].contains(&key.project()), "{key}");
        }
    }
    let _ = rules.extract_branch(&String::from_utf8_lossy(text));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A Jira answer: the first two bytes are the status, then `\0`-separated `Content-Type`,
/// `Retry-After`, `X-RateLimit-Reset` and the body. Its description must be short and one
/// line's worth, the JSON parsers must not panic, and the retry verdict must be sane.
pub fn jira_response(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 1000;
    let mut fields = data[2..]
        .splitn(4, |&b| b == 0)
        .map(String::from_utf8_lossy);
    let mut next = || fields.next().map(|f| f.into_owned());
    let (content_type, retry_after, rate_limit_reset) = (next(), next(), next());
    let body = next().unwrap_or_default();
    let answer = Response {
        status,
        retry_after: retry_after.clone(),
        rate_limit_reset: rate_limit_reset.clone(),
        content_type,
        location: None,
        body,
    };
    let description = response::describe(&answer);
    assert!(
        description.starts_with(&status.to_string()),
        "{description}"
    );
    // The status line, a 300-character detail and a little wording around them.
    assert!(description.chars().count() <= 400, "{description}");
    let _ = deployment::parse_bulk_answer(&answer.body);
    let _ = deployment::parse_token(&answer.body);
    let _ = deployment::parse_tenant_info(&answer.body);

    let outcome = Outcome::Response {
        status,
        retry_after: retry_after.as_deref(),
        rate_limit_reset: rate_limit_reset.as_deref(),
    };
    // 2026-11-28: a fixed clock, so a saved input replays the same way.
    let now = UNIX_EPOCH + Duration::from_secs(1_795_824_000);
    let policy = RetryPolicy::default();
    for retries in 0..=policy.max_retries {
        for idempotency in [Idempotency::Idempotent, Idempotency::NotIdempotent] {
            for random in [0.0, 0.5, 0.999] {
                judge(&policy, &outcome, retries, idempotency, now, random);
            }
        }
    }
}

fn judge(
    policy: &RetryPolicy,
    outcome: &Outcome<'_>,
    retries: u32,
    idempotency: Idempotency,
    now: SystemTime,
    random: f64,
) {
    let verdict = policy.judge(outcome, retries, idempotency, now, random);
    let Outcome::Response { status, .. } = outcome else {
        return;
    };
    match verdict {
        Verdict::Delivered => assert!((200..300).contains(status)),
        Verdict::RetryAfter(_) => {
            assert!(matches!(status, 429 | 502..=504), "retried a {status}");
            assert!(retries < policy.max_retries);
        }
        Verdict::UnknownIssue => assert_eq!(*status, 404),
        Verdict::StopTracker { status: s } => assert!(matches!(s, 401 | 403)),
        Verdict::GiveUp { reason } => assert!(!reason.is_empty()),
    }
}
