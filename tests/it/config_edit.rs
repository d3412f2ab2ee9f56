//! `tracker connect` / `tracker disconnect` edit a hand-written organization file: what they
//! keep byte for byte, what they refuse, and how the file is written.

use std::path::PathBuf;

use deploylink::config::{
    parse_trackers, remove_tracker, tracker_block, tracker_names, upsert_tracker, EditError,
    NewTracker, SecretRef, Source, TrackerKind, TrackersFile,
};
use deploylink::durable::{self, Access};

/// How `tracker connect` and `init` write a configuration file.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    durable::write(path, text.as_bytes(), Access::KeepOrShared)
}

const FILE: &str = "/etc/deploylink/trackers.yml";

/// A hand-edited file with comments everywhere: a header, a tracker with comments above it and
/// in it, a second tracker in another style, and a setting after the trackers.
const HANDWRITTEN: &str = "\
# Organization trackers for the build farm.
# Owner: platform team (#platform on chat).
version: 1

trackers:
  # Production Jira Cloud site.
  acme:                              # name used by projects
    kind: jira-cloud
    url: https://acme.atlassian.net  # https only
    auth:
      user_env: JIRA_USER            # account e-mail
      token_env: JIRA_API_TOKEN
      # token_file: /run/secrets/jira   (alternative to token_env)
    deployments:
      client_id_env: JIRA_CLIENT_ID
      client_secret_env: JIRA_CLIENT_SECRET
    max_concurrency: 8

  # The self-hosted one, behind the VPN.
  legacy:
    kind: jira-data-center
    url: \"https://jira.internal.example.com\"
    auth: { token_file: /run/secrets/jira-dc }
    ca_file: /etc/ssl/internal-ca.pem

  # A third, for the mobile team.
  mobile:
    kind: jira-cloud
    url: https://acme-mobile.atlassian.net
    auth:
      user_env: MOBILE_JIRA_USER
      token_env: MOBILE_JIRA_TOKEN

# Repositories may bring their own trackers on the git server, for this site only.
allow_repository_trackers:
  - https://jira.acme.com
";

fn parse(text: &str) -> TrackersFile {
    parse_trackers(&Source {
        name: FILE.into(),
        text: text.as_bytes().to_vec(),
    })
    .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

fn cloud(name: &str, url: &str) -> NewTracker {
    NewTracker {
        name: name.into(),
        kind: TrackerKind::JiraCloud,
        url: url.into(),
        user: Some(SecretRef::Env("JIRA_USER".into())),
        token: SecretRef::Env("JIRA_API_TOKEN".into()),
        deployments: None,
        ca_file: None,
        max_concurrency: None,
    }
}

fn data_center(name: &str) -> NewTracker {
    NewTracker {
        name: name.into(),
        kind: TrackerKind::JiraDataCenter,
        url: "https://jira.example.org".into(),
        user: None,
        token: SecretRef::File("/run/secrets/jira-pat".into()),
        deployments: None,
        ca_file: Some(PathBuf::from("/etc/ssl/example-ca.pem")),
        max_concurrency: Some(4),
    }
}

/// The text of `HANDWRITTEN` from the line that starts with `from` up to (not including) the
/// line that starts with `to`.
fn part<'a>(text: &'a str, from: &str, to: &str) -> &'a str {
    let start = text.find(&format!("\n{from}")).map_or(0, |i| i + 1);
    let end = text[start..]
        .find(&format!("\n{to}"))
        .map_or(text.len(), |i| start + i + 1);
    &text[start..end]
}

#[test]
fn a_new_file() {
    let text = upsert_tracker(None, FILE, &cloud("acme", "https://acme.atlassian.net")).unwrap();
    assert_eq!(
        text,
        format!(
            "# deploylink organization file, written by `deploylink tracker connect` (hand edits and comments are kept).\nversion: 1\ntrackers:\n{}",
            tracker_block(&cloud("acme", "https://acme.atlassian.net"))
        )
    );
    let file = parse(&text);
    assert_eq!(file.trackers().len(), 1);
    assert_eq!(file.trackers()[0].url, "https://acme.atlassian.net");
}

#[test]
fn adding_keeps_every_other_line() {
    let text = upsert_tracker(Some(HANDWRITTEN), FILE, &data_center("onprem")).unwrap();
    // The new entry goes after the last one, before the comments and fields that follow.
    let before_new = part(HANDWRITTEN, "# Organization", "\n# Repositories");
    let expected = format!(
        "{before_new}{}\n{}",
        tracker_block(&data_center("onprem")),
        part(HANDWRITTEN, "# Repositories", "nothing")
    );
    assert_eq!(text, expected);
    let file = parse(&text);
    assert_eq!(
        tracker_names(&text, FILE).unwrap(),
        ["acme", "legacy", "mobile", "onprem"]
    );
    assert_eq!(file.allow_repository_trackers(), ["https://jira.acme.com"]);
    let onprem = file.tracker("onprem").unwrap();
    assert_eq!(onprem.max_concurrency, 4);
    assert_eq!(
        onprem.ca_file.as_deref(),
        Some("/etc/ssl/example-ca.pem".as_ref())
    );
}

#[test]
fn adding_to_a_file_with_a_commented_tracker() {
    let text = "\
version: 1
trackers:
  acme:
    kind: jira-cloud
    url: https://acme.atlassian.net
    auth:
      user_env: JIRA_USER
      token_env: JIRA_API_TOKEN
  # old:                      (disconnected in March; kept for reference)
  #   kind: jira-data-center
  #   url: https://old.example.com
";
    let out = upsert_tracker(Some(text), FILE, &data_center("onprem")).unwrap();
    let split = text.find("  # old:").unwrap();
    assert_eq!(
        out,
        format!(
            "{}{}{}",
            &text[..split],
            tracker_block(&data_center("onprem")),
            &text[split..]
        )
    );
    parse(&out);
}

#[test]
fn replacing_leaves_the_other_entries_untouched() {
    let mut new = cloud("legacy", "https://acme-legacy.atlassian.net");
    new.user = Some(SecretRef::File("/run/secrets/jira-user".into()));
    let text = upsert_tracker(Some(HANDWRITTEN), FILE, &new).unwrap();
    // Everything before the entry, the comment above it included, and everything after it.
    let head = part(HANDWRITTEN, "# Organization", "  legacy:");
    let tail = part(HANDWRITTEN, "\n  # A third", "nothing");
    assert!(text.starts_with(head), "{text}");
    assert!(text.ends_with(tail), "{text}");
    assert_eq!(
        &text[head.len()..text.len() - tail.len()],
        tracker_block(&new)
    );
    let file = parse(&text);
    assert_eq!(file.tracker("legacy").unwrap().kind, TrackerKind::JiraCloud);
    let before = parse(HANDWRITTEN);
    assert_eq!(file.tracker("acme"), before.tracker("acme"));
    assert_eq!(file.tracker("mobile"), before.tracker("mobile"));
}

#[test]
fn replacing_the_first_entry_keeps_its_comments_outside_it() {
    let new = cloud("acme", "https://acme.atlassian.net");
    let text = upsert_tracker(Some(HANDWRITTEN), FILE, &new).unwrap();
    let head = part(HANDWRITTEN, "# Organization", "  acme:");
    let tail = part(HANDWRITTEN, "\n  # The self-hosted", "nothing");
    assert_eq!(
        text,
        format!(
            "{head}  acme:                              # name used by projects\n{}{tail}",
            tracker_block(&new).split_once('\n').unwrap().1
        )
    );
    // The deployments credentials are gone with the old entry.
    assert!(parse(&text).tracker("acme").unwrap().deployments.is_none());
}

#[test]
fn replacing_with_the_same_values_changes_nothing_else() {
    let once = upsert_tracker(Some(HANDWRITTEN), FILE, &data_center("onprem")).unwrap();
    let twice = upsert_tracker(Some(&once), FILE, &data_center("onprem")).unwrap();
    assert_eq!(once, twice);
}

#[test]
fn removing_the_first_entry() {
    let text = remove_tracker(HANDWRITTEN, FILE, "acme").unwrap();
    // Its comment and the blank line after it go; the rest is as it was.
    assert_eq!(
        text,
        format!(
            "{}{}",
            part(HANDWRITTEN, "# Organization", "  # Production"),
            part(HANDWRITTEN, "  # The self-hosted", "nothing")
        )
    );
    assert_eq!(tracker_names(&text, FILE).unwrap(), ["legacy", "mobile"]);
}

#[test]
fn removing_the_middle_entry() {
    let text = remove_tracker(HANDWRITTEN, FILE, "legacy").unwrap();
    assert_eq!(
        text,
        format!(
            "{}{}",
            part(HANDWRITTEN, "# Organization", "  # The self-hosted"),
            part(HANDWRITTEN, "  # A third", "nothing")
        )
    );
    assert_eq!(tracker_names(&text, FILE).unwrap(), ["acme", "mobile"]);
}

#[test]
fn removing_the_last_entry() {
    let text = remove_tracker(HANDWRITTEN, FILE, "mobile").unwrap();
    assert_eq!(
        text,
        format!(
            "{}{}",
            part(HANDWRITTEN, "# Organization", "  # A third"),
            part(HANDWRITTEN, "# Repositories", "nothing")
        )
    );
    let file = parse(&text);
    assert_eq!(tracker_names(&text, FILE).unwrap(), ["acme", "legacy"]);
    assert_eq!(file.allow_repository_trackers(), ["https://jira.acme.com"]);
}

#[test]
fn removing_the_only_entry_leaves_an_empty_map() {
    let text = "\
version: 1
trackers:   # connected with deploylink tracker connect
  acme:
    kind: jira-cloud
    url: https://acme.atlassian.net
    auth:
      user_env: JIRA_USER
      token_env: JIRA_API_TOKEN

allow_repository_trackers: false
";
    let out = remove_tracker(text, FILE, "acme").unwrap();
    assert_eq!(
        out,
        "version: 1\ntrackers: {}   # connected with deploylink tracker connect\n\nallow_repository_trackers: false\n"
    );
    assert!(parse(&out).trackers().is_empty());
    assert!(tracker_names(&out, FILE).unwrap().is_empty());
    // And connecting again turns it back into a block.
    let again = upsert_tracker(
        Some(&out),
        FILE,
        &cloud("acme", "https://acme.atlassian.net"),
    )
    .unwrap();
    assert_eq!(again, text);
}

#[test]
fn removing_every_entry_one_by_one() {
    let mut text = HANDWRITTEN.to_owned();
    for name in ["legacy", "acme", "mobile"] {
        text = remove_tracker(&text, FILE, name).unwrap();
        assert!(!tracker_names(&text, FILE)
            .unwrap()
            .contains(&name.to_owned()));
    }
    assert!(parse(&text).trackers().is_empty());
    assert!(text.contains("\ntrackers: {}\n\n# Repositories"), "{text}");
    assert!(text.starts_with(part(HANDWRITTEN, "# Organization", "trackers:")));
    assert!(text.ends_with(part(HANDWRITTEN, "# Repositories", "nothing")));
}

#[test]
fn a_field_after_trackers_is_kept() {
    let text = "version: 1\ntrackers:\n  acme:\n    kind: jira-data-center\n    url: https://jira.acme.com\n    auth:\n      token_env: JIRA_PAT\nallow_repository_trackers: [https://jira.acme.com]\n";
    let out = upsert_tracker(Some(text), FILE, &data_center("onprem")).unwrap();
    assert!(
        out.ends_with(
            "    max_concurrency: 4\nallow_repository_trackers: [https://jira.acme.com]\n"
        ),
        "{out}"
    );
    assert_eq!(
        parse(&out).allow_repository_trackers(),
        ["https://jira.acme.com"]
    );
    let out = remove_tracker(&out, FILE, "acme").unwrap();
    assert!(
        out.ends_with("\nallow_repository_trackers: [https://jira.acme.com]\n"),
        "{out}"
    );
    assert_eq!(
        parse(&out).allow_repository_trackers(),
        ["https://jira.acme.com"]
    );
}

#[test]
fn a_file_without_trackers_gets_them_at_the_end() {
    let text = "# just a start\nversion: 1\nallow_repository_trackers: false\n";
    let out = upsert_tracker(Some(text), FILE, &data_center("onprem")).unwrap();
    assert_eq!(
        out,
        format!("{text}trackers:\n{}", tracker_block(&data_center("onprem")))
    );
}

#[test]
fn a_flow_style_file_cannot_be_edited() {
    let text = "version: 1\ntrackers: {acme: {kind: jira-data-center, url: \"https://jira.acme.com\", auth: {token_env: JIRA_PAT}}}\n";
    let new = data_center("onprem");
    let err = upsert_tracker(Some(text), FILE, &new).unwrap_err();
    let EditError::CannotEdit { file, reason, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(file, FILE);
    assert!(reason.contains("flow mapping"), "{reason}");
    let message = err.to_string();
    assert!(message.contains(FILE), "{message}");
    assert!(message.contains("edit the file by hand"), "{message}");
    assert!(message.contains(&tracker_block(&new)), "{message}");
    let err = remove_tracker(text, FILE, "acme").unwrap_err();
    assert!(matches!(err, EditError::CannotEdit { .. }), "{err}");
    assert!(
        err.to_string().contains("delete the entry `acme:`"),
        "{err}"
    );
}

#[test]
fn anchors_among_the_trackers_cannot_be_edited() {
    let text = "\
version: 1
trackers:
  acme:
    kind: jira-data-center
    url: https://jira.acme.com
    auth: &pat
      token_env: JIRA_PAT
  acme2:
    kind: jira-data-center
    url: https://jira2.acme.com
    auth: *pat
";
    parse(text);
    let err = remove_tracker(text, FILE, "acme").unwrap_err();
    let EditError::CannotEdit { reason, .. } = &err else {
        panic!("{err}");
    };
    assert!(reason.contains("anchor"), "{reason}");
}

#[test]
fn a_file_deploylink_refuses_is_not_edited() {
    let text = "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: http://acme.atlassian.net\n    auth:\n      user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\n";
    let err = upsert_tracker(Some(text), FILE, &data_center("onprem")).unwrap_err();
    let EditError::ExistingInvalid { file, error } = &err else {
        panic!("{err}");
    };
    assert_eq!(file, FILE);
    assert_eq!(error.field_path(), Some("trackers.acme.url"));
    assert!(err.to_string().contains(":5:"), "{err}");
    let err = remove_tracker("version: 2\n", FILE, "acme").unwrap_err();
    assert!(matches!(err, EditError::ExistingInvalid { .. }), "{err}");
    let err = tracker_names("trackers: [", FILE).unwrap_err();
    assert!(matches!(err, EditError::ExistingInvalid { .. }), "{err}");
}

#[test]
fn crlf_files_keep_crlf() {
    let lf = "# Windows-edited\nversion: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://acme.atlassian.net\n    auth:\n      user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\nallow_repository_trackers: false\n";
    let crlf = lf.replace('\n', "\r\n");
    let out = upsert_tracker(Some(&crlf), FILE, &data_center("onprem")).unwrap();
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    assert_eq!(
        out,
        upsert_tracker(Some(lf), FILE, &data_center("onprem"))
            .unwrap()
            .replace('\n', "\r\n")
    );
    let removed = remove_tracker(&out, FILE, "acme").unwrap();
    assert!(!removed.replace("\r\n", "").contains('\n'), "{removed:?}");
    assert_eq!(tracker_names(&removed, FILE).unwrap(), ["onprem"]);
    let back = remove_tracker(&out, FILE, "onprem").unwrap();
    assert_eq!(back, crlf);
}

#[test]
fn removing_an_unknown_name_lists_the_names() {
    let err = remove_tracker(HANDWRITTEN, FILE, "acmee").unwrap_err();
    let EditError::NotFound { names, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(names, &["acme", "legacy", "mobile"]);
    let message = err.to_string();
    assert!(
        message.contains(FILE) && message.contains("'acmee'"),
        "{message}"
    );
    assert!(message.contains("acme, legacy, mobile"), "{message}");
    let err = remove_tracker("version: 1\n", FILE, "acme").unwrap_err();
    assert!(err.to_string().contains("it has no trackers"), "{err}");
}

#[test]
fn values_that_need_quotes_are_quoted() {
    let mut new = data_center("onprem");
    new.token = SecretRef::File("/run/secrets/jira #2: \"pat\"".into());
    new.ca_file = Some("/etc/ssl/ca, with: commas.pem".into());
    let out = upsert_tracker(Some(HANDWRITTEN), FILE, &new).unwrap();
    let file = parse(&out);
    let onprem = file.tracker("onprem").unwrap();
    assert_eq!(onprem.auth.token, new.token);
    assert_eq!(onprem.ca_file, new.ca_file);
}

#[test]
fn a_tracker_deploylink_would_refuse_is_not_written() {
    let mut new = cloud("acme", "http://acme.atlassian.net");
    let err = upsert_tracker(Some(HANDWRITTEN), FILE, &new).unwrap_err();
    assert!(matches!(err, EditError::InvalidTracker { .. }), "{err}");
    assert!(err.to_string().contains("https"), "{err}");
    new.url = "https://acme.atlassian.net".into();
    new.kind = TrackerKind::JiraDataCenter;
    let err = upsert_tracker(None, FILE, &new).unwrap_err();
    assert!(err.to_string().contains("user_"), "{err}");
}

#[test]
fn write_atomically_creates_replaces_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deploylink/nested/trackers.yml");
    write_atomically(&path, "version: 1\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "version: 1\n");
    write_atomically(&path, "version: 1\ntrackers: {}\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "version: 1\ntrackers: {}\n"
    );
    let listing: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(listing, ["trackers.yml"]);
}

#[cfg(unix)]
#[test]
fn write_atomically_keeps_the_mode_and_gives_new_files_0644() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trackers.yml");
    write_atomically(&path, "a\n").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&path), 0o644);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    write_atomically(&path, "b\n").unwrap();
    assert_eq!(mode(&path), 0o640);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
    // A symbolic link stays a link; the file it points to is replaced.
    let link = dir.path().join("link.yml");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    write_atomically(&link, "c\n").unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "c\n");
    let mut listing: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listing.sort();
    assert_eq!(listing, ["link.yml", "trackers.yml"]);
}
