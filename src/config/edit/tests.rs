//! The editor's unit tests: blocks, scalars, the section's entries, and edits that keep
//! what people wrote.

use super::block::{name_scalar, yaml_scalar};
use super::check::{check_result, parse_text};
use super::lines::Lines;
use super::section::analyse;
use super::*;

fn cloud(name: &str) -> NewTracker {
    NewTracker {
        name: name.to_owned(),
        kind: TrackerKind::JiraCloud,
        url: format!("https://{name}.atlassian.net"),
        user: Some(SecretRef::Env("JIRA_USER".into())),
        token: SecretRef::Env("JIRA_API_TOKEN".into()),
        deployments: None,
        ca_file: None,
        max_concurrency: None,
    }
}

fn data_center(name: &str) -> NewTracker {
    NewTracker {
        name: name.to_owned(),
        kind: TrackerKind::JiraDataCenter,
        url: "https://jira.example.com".into(),
        user: None,
        token: SecretRef::File("/run/secrets/jira".into()),
        deployments: None,
        ca_file: Some("/etc/ssl/example-ca.pem".into()),
        max_concurrency: Some(4),
    }
}

fn names(text: &str) -> Vec<String> {
    tracker_names(text, "trackers.yml").unwrap()
}

#[test]
fn block_is_indented_for_the_trackers_map() {
    let mut t = cloud("acme");
    t.deployments = Some((
        SecretRef::Env("JIRA_CLIENT_ID".into()),
        SecretRef::File("/run/secrets/client secret".into()),
    ));
    assert_eq!(
        tracker_block(&t),
        "  acme:\n    kind: jira-cloud\n    url: https://acme.atlassian.net\n    auth:\n      user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\n    deployments:\n      client_id_env: JIRA_CLIENT_ID\n      client_secret_file: \"/run/secrets/client secret\"\n"
    );
    assert_eq!(
        tracker_block(&data_center("dc")),
        "  dc:\n    kind: jira-data-center\n    url: https://jira.example.com\n    auth:\n      token_file: /run/secrets/jira\n    ca_file: /etc/ssl/example-ca.pem\n    max_concurrency: 4\n"
    );
}

#[test]
fn scalars_are_quoted_when_they_need_it() {
    assert_eq!(yaml_scalar("https://a.example/x"), "https://a.example/x");
    assert_eq!(yaml_scalar("/run/secrets/jira"), "/run/secrets/jira");
    assert_eq!(yaml_scalar("JIRA_USER"), "JIRA_USER");
    assert_eq!(yaml_scalar("a b"), "\"a b\"");
    assert_eq!(yaml_scalar("/x #y"), "\"/x #y\"");
    assert_eq!(yaml_scalar("@x"), "\"@x\"");
    assert_eq!(yaml_scalar("-x"), "\"-x\"");
    assert_eq!(yaml_scalar("x:"), "\"x:\"");
    assert_eq!(yaml_scalar("null"), "\"null\"");
    assert_eq!(yaml_scalar("True"), "\"True\"");
    assert_eq!(yaml_scalar("12"), "\"12\"");
    assert_eq!(yaml_scalar(""), "\"\"");
    assert_eq!(yaml_scalar("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    assert_eq!(name_scalar("1acme"), "\"1acme\"");
    assert_eq!(name_scalar("acme-2.eu"), "acme-2.eu");
}

#[test]
fn a_new_file_says_who_wrote_it() {
    let text = upsert_tracker(None, "trackers.yml", &cloud("acme")).unwrap();
    assert!(text.starts_with("# "), "{text}");
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains("deploylink tracker connect"));
    assert!(
        text.contains("\nversion: 1\ntrackers:\n  acme:\n"),
        "{text}"
    );
    assert_eq!(names(&text), ["acme"]);
}

#[test]
fn a_blank_file_keeps_its_comments() {
    let text = upsert_tracker(Some("# ours\n"), "t.yml", &cloud("acme")).unwrap();
    assert!(
        text.starts_with("# ours\nversion: 1\ntrackers:\n  acme:\n"),
        "{text}"
    );
}

#[test]
fn names_in_file_order() {
    let text = "version: 1\ntrackers:\n  zeta:\n    kind: jira-data-center\n    url: https://z.example\n    auth: {token_env: Z}\n  alpha:\n    kind: jira-data-center\n    url: https://a.example\n    auth:\n      token_env: A\n";
    assert_eq!(names(text), ["zeta", "alpha"]);
    // A flow mapping falls back to name order.
    let flow = "version: 1\ntrackers: {zeta: {kind: jira-data-center, url: 'https://z.example', auth: {token_env: Z}}, alpha: {kind: jira-data-center, url: 'https://a.example', auth: {token_env: A}}}\n";
    assert_eq!(names(flow), ["alpha", "zeta"]);
    assert!(names("version: 1\n").is_empty());
}

#[test]
fn entries_and_their_lines() {
    let text = "version: 1\ntrackers:\n  # about a\n  a:   # the first\n    kind: x\n#   url: old\n    url: y\n    # a's last comment\n\n  # about b\n  # more\n  b:\n    kind: x\n  # orphan\n\n# top\nallow_repository_trackers: true\n";
    let doc = Lines::split(text);
    let s = analyse(&doc).unwrap().unwrap();
    assert_eq!((s.header, s.entry_indent, s.step), (1, Some(2), 2));
    let a = &s.entries[0];
    assert_eq!((a.lead, a.key, a.end), (2, 3, 8));
    assert_eq!(a.key_comment, Some("   # the first"));
    let b = &s.entries[1];
    assert_eq!((b.lead, b.key, b.end), (9, 11, 13));
}

#[test]
fn refuses_what_it_cannot_edit_with_confidence() {
    for (text, why) in [
        ("version: 1\ntrackers: {a: {}}\n", "flow mapping"),
        ("version: 1\ntrackers: &t\n  a:\n", "anchor"),
        ("version: 1\ntrackers:\n  a: &a\n    kind: x\n", "anchor"),
        ("version: 1\ntrackers:\n  a:\n    auth: *x\n", "alias"),
        ("version: 1\ntrackers:\n  a:\n    <<: *x\n", "merge key"),
        ("version: 1\ntrackers:\n  a:\n    kind:\tx\n", "tab"),
        ("{version: 1}\n", "block style"),
        ("version: 1\n\"trackers\": {}\n", "block style"),
    ] {
        let doc = Lines::split(text);
        let err = analyse(&doc).err().unwrap_or_else(|| panic!("{text}"));
        assert!(err.contains(why), "{text}: {err}");
    }
}

#[test]
fn an_empty_flow_mapping_is_editable() {
    let text = "version: 1\ntrackers: {}   # none yet\n";
    let out = upsert_tracker(Some(text), "t.yml", &cloud("acme")).unwrap();
    assert!(
        out.starts_with("version: 1\ntrackers:   # none yet\n  acme:\n"),
        "{out}"
    );
    let back = remove_tracker(&out, "t.yml", "acme").unwrap();
    assert_eq!(back, text);
}

#[test]
fn keeps_the_files_indentation() {
    let text = "version: 1\ntrackers:\n    a:\n        kind: jira-data-center\n        url: https://a.example\n        auth:\n            token_env: A\n";
    let out = upsert_tracker(Some(text), "t.yml", &data_center("b")).unwrap();
    assert!(out.starts_with(text), "{out}");
    assert!(
        out.ends_with("    b:\n        kind: jira-data-center\n        url: https://jira.example.com\n        auth:\n            token_file: /run/secrets/jira\n        ca_file: /etc/ssl/example-ca.pem\n        max_concurrency: 4\n"),
        "{out}"
    );
}

#[test]
fn replacing_keeps_the_comment_on_the_name() {
    let text = "version: 1\ntrackers:\n  acme:   # production\n    kind: jira-data-center\n    url: https://old.example\n    auth:\n      token_env: OLD\n";
    let out = upsert_tracker(Some(text), "t.yml", &cloud("acme")).unwrap();
    assert!(
        out.contains("\n  acme:   # production\n    kind: jira-cloud\n"),
        "{out}"
    );
    assert!(!out.contains("OLD"), "{out}");
}

#[test]
fn a_file_without_a_final_newline() {
    let text = "version: 1\ntrackers:\n  a:\n    kind: jira-data-center\n    url: https://a.example\n    auth:\n      token_env: A";
    let out = upsert_tracker(Some(text), "t.yml", &data_center("b")).unwrap();
    assert!(out.starts_with(&format!("{text}\n  b:\n")), "{out}");
    assert!(!out.ends_with('\n'), "{out:?}");
    assert_eq!(remove_tracker(&out, "t.yml", "b").unwrap(), text);
    let no_trackers = "version: 1";
    let out = upsert_tracker(Some(no_trackers), "t.yml", &data_center("b")).unwrap();
    assert!(out.starts_with("version: 1\ntrackers:\n  b:\n"), "{out}");
}

#[test]
fn removing_the_entry_at_the_end_of_the_file() {
    let a = "version: 1\ntrackers:\n  a:\n    kind: jira-data-center\n    url: https://a.example\n    auth:\n      token_env: A\n";
    let text = format!("{a}\n  # b\n  b:\n    kind: jira-data-center\n    url: https://b.example\n    auth:\n      token_env: B\n");
    assert_eq!(remove_tracker(&text, "t.yml", "b").unwrap(), a);
    let text = text.trim_end();
    assert_eq!(remove_tracker(text, "t.yml", "b").unwrap(), a.trim_end());
}

#[test]
fn a_result_that_does_not_read_back_is_refused() {
    let a = "version: 1\ntrackers:\n  a:\n    kind: jira-data-center\n    url: https://a.example\n    auth:\n      token_env: A\n";
    let before = parse_text("t.yml", a).unwrap();
    let check = |text: &str, name: &str| {
        check_result("t.yml", Some(&before), text, name, None, "do it by hand").unwrap_err()
    };
    let err = check("version: 1\ntrackers: [\n", "b");
    assert!(matches!(err, EditError::WouldBreak { .. }), "{err}");
    assert!(err.to_string().contains("do it by hand"), "{err}");
    let err = check(&a.replace("https://a.example", "https://b.example"), "b");
    assert!(err.to_string().contains("the other trackers"), "{err}");
    let err = check(a, "a");
    assert!(err.to_string().contains("would still be there"), "{err}");
    let err = check(
        &format!("{a}allow_repository_trackers: [https://a.example]\n"),
        "b",
    );
    assert!(
        err.to_string().contains("allow_repository_trackers"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_a_new_file() {
    let text = upsert_tracker(Some(""), "t.yml", &cloud("acme")).unwrap();
    assert_eq!(text, upsert_tracker(None, "t.yml", &cloud("acme")).unwrap());
}

#[test]
fn a_byte_order_mark_stays() {
    let text = "\u{feff}version: 1\ntrackers: {}\n";
    let out = upsert_tracker(Some(text), "t.yml", &cloud("acme")).unwrap();
    assert!(
        out.starts_with("\u{feff}version: 1\ntrackers:\n  acme:\n"),
        "{out}"
    );
}

#[test]
fn an_invalid_tracker_is_refused_before_the_file_is_read() {
    let mut t = cloud("acme");
    t.user = None;
    let err = upsert_tracker(Some("not: [yaml"), "t.yml", &t).unwrap_err();
    assert!(matches!(err, EditError::InvalidTracker { .. }), "{err}");
    assert!(err.to_string().contains("user_env"), "{err}");
    let mut t = cloud("bad name");
    t.user = None;
    let err = upsert_tracker(None, "t.yml", &t).unwrap_err();
    assert!(
        err.to_string().contains("not a valid tracker name"),
        "{err}"
    );
    let mut t = data_center("dc");
    t.ca_file = Some("relative.pem".into());
    let err = upsert_tracker(None, "t.yml", &t).unwrap_err();
    assert!(err.to_string().contains("trackers.dc.ca_file"), "{err}");
}

#[test]
fn odd_values_round_trip() {
    let mut t = data_center("1st");
    t.token = SecretRef::File("/run/secrets/jira token #1: \"x\"".into());
    t.ca_file = Some("/etc/ssl/ca: 'y'.pem".into());
    t.url = "https://jira.example.com/".into();
    let out = upsert_tracker(None, "t.yml", &t).unwrap();
    assert!(out.contains("\n  \"1st\":\n"), "{out}");
    assert_eq!(names(&out), ["1st"]);
    let out = upsert_tracker(Some(&out), "t.yml", &data_center("1st")).unwrap();
    assert_eq!(names(&out), ["1st"]);
}
