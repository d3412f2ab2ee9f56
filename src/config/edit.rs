//! Edits the organization file for `deploylink tracker connect` and `tracker disconnect`,
//! without losing what people wrote in it.
//!
//! No serde YAML crate keeps comments, so the file is edited as lines: the top-level
//! `trackers:` key (at the left margin), its entries (the lines at the entries' indentation
//! that read `name:`), and the lines that belong to each. Only the entry being replaced or
//! removed changes; every other line is kept byte for byte. A file that is not written in the
//! plain block style this understands (a flow mapping, anchors or aliases among the trackers,
//! tabs) is refused with [`EditError::CannotEdit`], which says what to paste by hand.
//!
//! Every result is read back with [`parse_trackers`] before it is returned: the edited tracker
//! must read as given, and every other tracker as it did, so a file deploylink would refuse is
//! never written.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::load::{parse_trackers, TrackersFile};
use super::names::check_name;
use super::tracker::{SecretRef, Tracker, TrackerKind, DEFAULT_MAX_CONCURRENCY};
use super::Source;

/// The first line of an organization file that `tracker connect` creates.
const NEW_FILE_COMMENT: &str =
    "# deploylink organization file, written by `deploylink tracker connect` (hand edits and comments are kept).";

/// A tracker to write into the organization file, as `tracker connect` was given it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTracker {
    /// The name projects choose it by.
    pub name: String,
    /// Cloud or Data Center.
    pub kind: TrackerKind,
    /// The site's base URL.
    pub url: String,
    /// Jira Cloud: where the account e-mail is read from (`user_env` / `user_file`).
    pub user: Option<SecretRef>,
    /// Where the token is read from (`token_env` / `token_file`).
    pub token: SecretRef,
    /// OAuth client id and client secret, for deployment records (Cloud).
    pub deployments: Option<(SecretRef, SecretRef)>,
    /// An extra root certificate to trust.
    pub ca_file: Option<PathBuf>,
    /// The most requests in flight at once; `None` leaves the field out (the default).
    pub max_concurrency: Option<u32>,
}

/// Why the organization file was not edited. Each message says what, in which file, and how
/// to fix it.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The file as it is does not load, so there is no knowing what an edit would keep.
    #[error("{file} cannot be edited: deploylink refuses the file as it is, so it cannot tell what to keep:\n{error}\n  fix: correct the file (the error above says where), then run the command again")]
    ExistingInvalid {
        /// The file.
        file: String,
        /// Why it does not load.
        error: Box<ConfigError>,
    },
    /// The file is written in a way this editor does not change with confidence.
    #[error("{file}: the trackers cannot be edited automatically: {reason}\n  fix: edit the file by hand: {fix}")]
    CannotEdit {
        /// The file.
        file: String,
        /// What in the file stops the edit.
        reason: String,
        /// What to change by hand (for a connect, the block to paste).
        fix: String,
    },
    /// The edit was made in memory, but the result does not load, or does not read back as
    /// intended; nothing is returned, so nothing is written.
    #[error("{file} was not changed: the edited file would not read back as intended:\n{problem}\n  fix: edit the file by hand: {fix}")]
    WouldBreak {
        /// The file.
        file: String,
        /// What was wrong with the result.
        problem: String,
        /// What to change by hand.
        fix: String,
    },
    /// The tracker to write is not valid on its own.
    #[error("the tracker '{name}' cannot be written to {file}: {reason}")]
    InvalidTracker {
        /// The file.
        file: String,
        /// The tracker's name, as given.
        name: String,
        /// What is wrong with it, and how to fix it.
        reason: String,
    },
    /// `disconnect` of a tracker that the file does not have.
    #[error("{file} has no tracker '{name}'; {}\n  fix: check the name (`deploylink tracker list` shows the connected trackers)", listing(names))]
    NotFound {
        /// The file.
        file: String,
        /// The name asked for.
        name: String,
        /// The trackers the file has, in file order.
        names: Vec<String>,
    },
}

fn listing(names: &[String]) -> String {
    if names.is_empty() {
        "it has no trackers".to_owned()
    } else {
        format!("its trackers are: {}", names.join(", "))
    }
}

/// The YAML of one tracker entry, indented for a block `trackers:` map (2 spaces for the name).
pub fn tracker_block(tracker: &NewTracker) -> String {
    join_lines(block_lines(tracker, 2, 2), "\n")
}

/// Adds `tracker` to the file's text, or replaces the entry of the same name.
///
/// `existing` is `None` when there is no file yet: the result is then a new file with
/// `version: 1`, a comment saying it was written by `deploylink tracker connect`, and
/// `trackers:`. The result is checked with [`parse_trackers`] before it is returned: the
/// tracker reads back as given, and the file's other trackers as they were.
pub fn upsert_tracker(
    existing: Option<&str>,
    source_name: &str,
    tracker: &NewTracker,
) -> Result<String, EditError> {
    let expected = check_new_tracker(source_name, tracker)?;
    let fix = format!(
        "under `trackers:`, add this entry (in place of any entry `{}:` there):\n\n{}",
        tracker.name,
        tracker_block(tracker)
    );
    let Some(existing) = existing.filter(|text| !holds_nothing(text)) else {
        let mut text = existing.map(str::to_owned).unwrap_or_default();
        let eol = existing.map_or("\n", line_ending);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push_str(eol);
        }
        if text.is_empty() {
            text.push_str(NEW_FILE_COMMENT);
            text.push_str(eol);
        }
        text.push_str("version: 1");
        text.push_str(eol);
        text.push_str("trackers:");
        text.push_str(eol);
        text.push_str(&join_lines(block_lines(tracker, 2, 2), eol));
        check_result(
            source_name,
            None,
            &text,
            &tracker.name,
            Some(&expected),
            &fix,
        )?;
        return Ok(text);
    };
    let before = parse_existing(source_name, existing)?;
    let doc = Lines::split(existing);
    let section = analyse(&doc).map_err(|reason| EditError::CannotEdit {
        file: source_name.to_owned(),
        reason,
        fix: fix.clone(),
    })?;
    let mut out: Vec<String> = doc.lines.iter().map(|l| l.text.to_owned()).collect();
    let mut eols: Vec<&str> = doc.lines.iter().map(|l| l.eol).collect();
    match &section {
        None => {
            // No `trackers:` yet: it goes at the end of the file.
            if let Some(last) = eols.last_mut() {
                if last.is_empty() {
                    *last = doc.eol;
                }
            }
            out.push("trackers:".to_owned());
            eols.push(doc.eol);
            for line in block_lines(tracker, 2, 2) {
                out.push(line);
                eols.push(doc.eol);
            }
        }
        Some(section) => {
            let indent = section.entry_indent.unwrap_or(2);
            let mut block = block_lines(tracker, indent, section.step);
            let (from, to) = match section.entries.iter().find(|e| e.name == tracker.name) {
                Some(entry) => {
                    // The comment on the entry's first line stays with it.
                    if let Some(comment) = entry.key_comment {
                        block[0].push_str(comment);
                    }
                    (entry.key, entry.end)
                }
                None => {
                    let at = section.entries.last().map_or(section.header + 1, |e| e.end);
                    (at, at)
                }
            };
            if section.empty_flow {
                out[section.header] = format!("trackers:{}", section.header_rest);
            }
            let n = block.len();
            out.splice(from..to, block);
            let new_eols = vec![doc.eol; n];
            eols.splice(from..to, new_eols);
            // The line before the inserted block may have had no line end (the file's end).
            if from > 0 && eols[from - 1].is_empty() {
                eols[from - 1] = doc.eol;
            }
            // A block that now ends the file keeps the file's ending: with or without one.
            if to == doc.lines.len() && doc.lines.last().is_some_and(|l| l.eol.is_empty()) {
                if let Some(last) = eols.last_mut() {
                    *last = "";
                }
            }
        }
    }
    let text = doc.join(&out, &eols);
    check_result(
        source_name,
        Some(&before),
        &text,
        &tracker.name,
        Some(&expected),
        &fix,
    )?;
    Ok(text)
}

/// Removes the named tracker's entry, and the comment lines directly above it (no blank line
/// between), which are taken to be about it. When it was the last tracker, `trackers:` stays,
/// as `trackers: {}`.
pub fn remove_tracker(existing: &str, source_name: &str, name: &str) -> Result<String, EditError> {
    let before = parse_existing(source_name, existing)?;
    let fix =
        format!("under `trackers:`, delete the entry `{name}:` and the lines indented below it");
    let doc = Lines::split(existing);
    let cannot = |reason| EditError::CannotEdit {
        file: source_name.to_owned(),
        reason,
        fix: fix.clone(),
    };
    let section = analyse(&doc).map_err(cannot)?;
    let not_found = |names: Vec<String>| EditError::NotFound {
        file: source_name.to_owned(),
        name: name.to_owned(),
        names,
    };
    let Some(section) = section else {
        return Err(not_found(Vec::new()));
    };
    let Some(index) = section.entries.iter().position(|e| e.name == name) else {
        return Err(not_found(
            section.entries.iter().map(|e| e.name.clone()).collect(),
        ));
    };
    let entry = &section.entries[index];
    let mut out: Vec<String> = doc.lines.iter().map(|l| l.text.to_owned()).collect();
    let mut eols: Vec<&str> = doc.lines.iter().map(|l| l.eol).collect();
    let (cut, end) = (entry.lead, entry.end);
    out.drain(cut..end);
    eols.drain(cut..end);
    // Blank lines that separated the entry from what follows go with it, when what is before
    // the cut already separates (a blank line), or is the header and another entry follows
    // (the blank lines before the next top-level key stay).
    let after_header = cut == section.header + 1;
    let prev_blank = cut > 0 && is_blank(&out[cut - 1]);
    let entry_follows = index + 1 < section.entries.len();
    if prev_blank || (after_header && entry_follows) {
        let next = (cut..out.len())
            .find(|&i| !is_blank(&out[i]))
            .unwrap_or(out.len());
        out.drain(cut..next);
        eols.drain(cut..next);
    }
    // An entry that ended the file takes the blank lines above it along.
    if cut == out.len() {
        let keep = (0..cut)
            .rev()
            .find(|&i| !is_blank(&out[i]))
            .map_or(0, |i| i + 1);
        out.truncate(keep);
        eols.truncate(keep);
    }
    if section.entries.len() == 1 {
        out[section.header] = format!("trackers: {{}}{}", section.header_rest);
    }
    // The file keeps its last line's ending (or lack of one).
    if let (Some(last), Some(orig)) = (eols.last_mut(), doc.lines.last()) {
        if orig.eol.is_empty() {
            *last = "";
        } else if last.is_empty() {
            *last = orig.eol;
        }
    }
    let text = doc.join(&out, &eols);
    check_result(source_name, Some(&before), &text, name, None, &fix)?;
    Ok(text)
}

/// The names of the trackers in the text, in file order (in name order when the file is
/// written in a style the editor does not follow, like a flow mapping).
pub fn tracker_names(existing: &str, source_name: &str) -> Result<Vec<String>, EditError> {
    let parsed = parse_existing(source_name, existing)?;
    let doc = Lines::split(existing);
    let from_lines = match analyse(&doc) {
        Ok(Some(section)) => section.entries.into_iter().map(|e| e.name).collect(),
        Ok(None) => Vec::new(),
        Err(_) => return Ok(parsed.trackers().iter().map(|t| t.name.clone()).collect()),
    };
    Ok(from_lines)
}

/// Writes `text` to `path` atomically: creates the parent directory, writes a temporary file
/// in the same directory, fsyncs it, renames it over `path`, and fsyncs the directory. An
/// existing file keeps its permissions; a new file gets 0644 (it holds no secrets, only the
/// names of variables and files). When `path` is a symbolic link, the file it points to is
/// replaced and the link is kept.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let path = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let permissions = match fs::metadata(&path) {
        Ok(meta) => Some(meta.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map_or_else(|| "deploylink".into(), |n| n.to_string_lossy())
    );
    // Removed on drop if anything below fails.
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    temp.write_all(text.as_bytes())?;
    match permissions {
        Some(permissions) => temp.as_file().set_permissions(permissions)?,
        None => set_new_file_mode(temp.as_file())?,
    }
    temp.as_file().sync_all()?;
    temp.persist(&path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// A new file is 0644: the temporary file was created 0600.
#[cfg(unix)]
fn set_new_file_mode(file: &fs::File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_new_file_mode(_file: &fs::File) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

// ---- checking ----------------------------------------------------------------------------

fn parse_text(name: &str, text: &str) -> Result<TrackersFile, ConfigError> {
    parse_trackers(&Source {
        name: name.to_owned(),
        text: text.as_bytes().to_vec(),
    })
}

fn parse_existing(source_name: &str, text: &str) -> Result<TrackersFile, EditError> {
    parse_text(source_name, text).map_err(|error| EditError::ExistingInvalid {
        file: source_name.to_owned(),
        error: Box::new(error),
    })
}

/// Checks the tracker on its own (its name, and that its block loads and reads back as given);
/// returns it as loaded.
fn check_new_tracker(source_name: &str, tracker: &NewTracker) -> Result<Tracker, EditError> {
    let invalid = |reason: String| EditError::InvalidTracker {
        file: source_name.to_owned(),
        name: tracker.name.clone(),
        reason,
    };
    check_name(&tracker.name, "tracker")
        .map_err(|(message, hint)| invalid(format!("{message}\n  hint: {hint}")))?;
    let paths = [
        secret_path(tracker.user.as_ref()),
        secret_path(Some(&tracker.token)),
        tracker
            .deployments
            .as_ref()
            .and_then(|(id, _)| secret_path(Some(id))),
        tracker
            .deployments
            .as_ref()
            .and_then(|(_, secret)| secret_path(Some(secret))),
        tracker.ca_file.as_deref(),
    ];
    if let Some(path) = paths.into_iter().flatten().find(|p| p.to_str().is_none()) {
        return Err(invalid(format!(
            "the path {} is not UTF-8, which a YAML file cannot hold\n  hint: move the file to a path with a UTF-8 name",
            path.display()
        )));
    }
    let text = format!("version: 1\ntrackers:\n{}", tracker_block(tracker));
    let label = format!("the tracker '{}'", tracker.name);
    let loaded = parse_text(&label, &text).map_err(|e| {
        // The line and column are those of the block, not of the file: leave them out.
        let mut reason = match e.field_path() {
            Some(path) => format!("{path}: {}", e.message()),
            None => e.message().to_owned(),
        };
        if let Some(hint) = e.hint() {
            reason.push_str("\n  hint: ");
            reason.push_str(hint);
        }
        invalid(reason)
    })?;
    let loaded = loaded
        .tracker(&tracker.name)
        .cloned()
        .ok_or_else(|| invalid("its entry does not read back under its name".to_owned()))?;
    let url = tracker.url.strip_suffix('/').unwrap_or(&tracker.url);
    let differs = [
        ("kind", loaded.kind != tracker.kind),
        ("url", loaded.url != url),
        ("user", loaded.auth.user != tracker.user),
        ("token", loaded.auth.token != tracker.token),
        (
            "deployments",
            loaded
                .deployments
                .as_ref()
                .map(|d| (d.client_id.clone(), d.client_secret.clone()))
                != tracker.deployments,
        ),
        ("ca_file", loaded.ca_file != tracker.ca_file),
        (
            "max_concurrency",
            loaded.max_concurrency != tracker.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY),
        ),
    ];
    if let Some((field, _)) = differs.iter().find(|(_, d)| *d) {
        return Err(invalid(format!(
            "its `{field}` does not read back as given from the YAML written for it"
        )));
    }
    Ok(loaded)
}

fn secret_path(secret: Option<&SecretRef>) -> Option<&Path> {
    match secret {
        Some(SecretRef::File(path)) => Some(path),
        _ => None,
    }
}

/// Reads `text` back: it must load; the tracker `name` must be `expected` (or be gone, for a
/// removal); every other tracker and `allow_repository_trackers` must be as in `before`.
fn check_result(
    source_name: &str,
    before: Option<&TrackersFile>,
    text: &str,
    name: &str,
    expected: Option<&Tracker>,
    fix: &str,
) -> Result<(), EditError> {
    let broken = |problem: String| EditError::WouldBreak {
        file: source_name.to_owned(),
        problem,
        fix: fix.to_owned(),
    };
    let after = parse_text(source_name, text).map_err(|e| broken(e.to_string()))?;
    if after.tracker(name) != expected {
        return Err(broken(match expected {
            Some(_) => format!("the tracker '{name}' would not read back as given"),
            None => format!("the tracker '{name}' would still be there"),
        }));
    }
    if let Some(before) = before {
        let others = |file: &TrackersFile| -> Vec<Tracker> {
            file.trackers()
                .iter()
                .filter(|t| t.name != name)
                .cloned()
                .collect()
        };
        if others(before) != others(&after) {
            return Err(broken(
                "the other trackers would not read back as they were".to_owned(),
            ));
        }
        if before.allow_repository_trackers() != after.allow_repository_trackers() {
            return Err(broken(
                "`allow_repository_trackers` would not read back as it was".to_owned(),
            ));
        }
    }
    Ok(())
}

// ---- writing a tracker -------------------------------------------------------------------

/// The lines (without line ends) of the entry of `tracker`, its name at `indent` spaces and
/// each level below `step` spaces deeper.
fn block_lines(tracker: &NewTracker, indent: usize, step: usize) -> Vec<String> {
    let pad = |level: usize| " ".repeat(indent + level * step);
    let mut lines = vec![
        format!("{}{}:", pad(0), name_scalar(&tracker.name)),
        format!("{}kind: {}", pad(1), tracker.kind.as_str()),
        format!("{}url: {}", pad(1), yaml_scalar(&tracker.url)),
        format!("{}auth:", pad(1)),
    ];
    let secret = |what: &str, secret: &SecretRef| match secret {
        SecretRef::Env(name) => format!("{}{what}_env: {}", pad(2), yaml_scalar(name)),
        SecretRef::File(path) => format!(
            "{}{what}_file: {}",
            pad(2),
            yaml_scalar(&path.to_string_lossy())
        ),
    };
    if let Some(user) = &tracker.user {
        lines.push(secret("user", user));
    }
    lines.push(secret("token", &tracker.token));
    if let Some((id, client_secret)) = &tracker.deployments {
        lines.push(format!("{}deployments:", pad(1)));
        lines.push(secret("client_id", id));
        lines.push(secret("client_secret", client_secret));
    }
    if let Some(ca_file) = &tracker.ca_file {
        lines.push(format!(
            "{}ca_file: {}",
            pad(1),
            yaml_scalar(&ca_file.to_string_lossy())
        ));
    }
    if let Some(max) = tracker.max_concurrency {
        lines.push(format!("{}max_concurrency: {max}", pad(1)));
    }
    lines
}

/// `text` as a YAML scalar: plain when it is made only of `[A-Za-z0-9_./:@-]`, starts with a
/// letter, `_` or `/`, and cannot be read as anything but a string; else a double-quoted
/// string (JSON's escapes are YAML's).
pub(crate) fn yaml_scalar(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./:@-".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && !text.ends_with(':')
        && !is_yaml_keyword(text);
    if plain {
        text.to_owned()
    } else {
        serde_json::to_string(text).unwrap_or_else(|_| unreachable!("a string serializes"))
    }
}

/// A tracker name as a mapping key: plain unless it starts with a digit (`1acme` could read
/// as a number) or is a YAML keyword.
fn name_scalar(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        serde_json::to_string(name).unwrap_or_else(|_| unreachable!("a string serializes"))
    } else {
        yaml_scalar(name)
    }
}

fn is_yaml_keyword(text: &str) -> bool {
    matches!(
        text.to_ascii_lowercase().as_str(),
        "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    )
}

// ---- reading the file's lines ------------------------------------------------------------

struct Line<'a> {
    /// The line without its end.
    text: &'a str,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without one.
    eol: &'a str,
}

struct Lines<'a> {
    bom: bool,
    lines: Vec<Line<'a>>,
    /// The line end of new lines: the file's first.
    eol: &'static str,
}

impl<'a> Lines<'a> {
    fn split(text: &'a str) -> Lines<'a> {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut lines = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            let (line, next) = match rest.find('\n') {
                Some(i) => (&rest[..=i], &rest[i + 1..]),
                None => (rest, ""),
            };
            let (text, eol) = if let Some(t) = line.strip_suffix("\r\n") {
                (t, "\r\n")
            } else if let Some(t) = line.strip_suffix('\n') {
                (t, "\n")
            } else {
                (line, "")
            };
            lines.push(Line { text, eol });
            rest = next;
        }
        Lines {
            bom,
            lines,
            eol: line_ending(body),
        }
    }

    fn join(&self, lines: &[String], eols: &[&str]) -> String {
        let mut text = String::new();
        if self.bom {
            text.push('\u{feff}');
        }
        for (line, eol) in lines.iter().zip(eols) {
            text.push_str(line);
            text.push_str(eol);
        }
        text
    }
}

/// `"\r\n"` when the text's first line ends so, else `"\n"`.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The lines, each followed by `eol`.
fn join_lines(lines: Vec<String>, eol: &str) -> String {
    lines.into_iter().fold(String::new(), |mut text, line| {
        text.push_str(&line);
        text.push_str(eol);
        text
    })
}

/// A line of spaces only.
fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// A text without YAML content: only blank lines and comments.
fn holds_nothing(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .all(|l| is_blank(l) || is_comment(l))
}

fn indent(text: &str) -> usize {
    text.len() - text.trim_start_matches(' ').len()
}

fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// A line that holds YAML content: neither blank nor a comment.
fn is_content(text: &str) -> bool {
    !text.trim().is_empty() && !is_comment(text)
}

/// The `trackers:` section of a file.
struct Section<'a> {
    /// The line of `trackers:`.
    header: usize,
    /// What follows `trackers:` on its line, when it is only spaces and a comment.
    header_rest: &'a str,
    /// Whether the header reads `trackers: {}`.
    empty_flow: bool,
    /// The indentation of the entries' names, when there are entries.
    entry_indent: Option<usize>,
    /// How much deeper each level below an entry is indented.
    step: usize,
    entries: Vec<Entry<'a>>,
}

/// One tracker entry of the section.
struct Entry<'a> {
    name: String,
    /// The first of the comment lines directly above the name (the name's line if none).
    lead: usize,
    /// The line of `name:`.
    key: usize,
    /// The first line after the entry's own lines.
    end: usize,
    /// The comment on the name's line (with the spaces before it).
    key_comment: Option<&'a str>,
}

/// Finds the `trackers:` section and its entries; `Ok(None)` when the file has none. The
/// error is why the file cannot be edited with confidence.
fn analyse<'a>(doc: &Lines<'a>) -> Result<Option<Section<'a>>, String> {
    let lines = &doc.lines;
    let mut header = None;
    for (i, line) in lines.iter().enumerate() {
        let text = line.text;
        if text.is_empty() || text.starts_with([' ', '#']) {
            continue;
        }
        if text.starts_with('\t') {
            return Err(format!("line {} starts with a tab", i + 1));
        }
        if matches!(text.trim_end(), "---" | "...") {
            if let Some(h) = header {
                if i > h {
                    return Err(format!(
                        "a document marker (`{}`) follows `trackers:` on line {}",
                        text.trim_end(),
                        i + 1
                    ));
                }
            }
            continue;
        }
        let Some((key, _)) = plain_key(text) else {
            return Err(format!(
                "line {} is not a `key: value` line of a block mapping (the file is not written in the block style, one field per line)",
                i + 1
            ));
        };
        if key == "trackers" {
            header = Some(i);
        }
    }
    let Some(header) = header else {
        return Ok(None);
    };
    let header_text = lines[header].text;
    let after = &header_text[header_text.find(':').map_or(header_text.len(), |i| i + 1)..];
    let (value, comment) = split_comment(after);
    let (empty_flow, header_rest) = match value.trim() {
        "" => (false, after),
        "{}" => (true, comment),
        v if v.starts_with('{') => {
            return Err("`trackers:` is written as a flow mapping (`trackers: {...}`)".to_owned())
        }
        v if v.starts_with('&') => return Err("`trackers:` has a YAML anchor (`&`)".to_owned()),
        v if v.starts_with('*') => return Err("`trackers:` is a YAML alias (`*`)".to_owned()),
        v if v.starts_with('!') => return Err("`trackers:` has a YAML tag (`!`)".to_owned()),
        v => {
            return Err(format!(
                "`trackers:` is followed by `{v}` on its line, where a block mapping was expected"
            ))
        }
    };
    let end = (header + 1..lines.len())
        .find(|&i| {
            let t = lines[i].text;
            !t.is_empty() && !t.starts_with([' ', '#'])
        })
        .unwrap_or(lines.len());
    let body = header + 1..end;
    for i in body.clone() {
        if lines[i].text.contains('\t') {
            return Err(format!("line {} of the trackers holds a tab", i + 1));
        }
    }
    let entry_indent = body
        .clone()
        .find(|&i| is_content(lines[i].text))
        .map(|i| indent(lines[i].text));
    let mut section = Section {
        header,
        header_rest,
        empty_flow,
        entry_indent,
        step: 2,
        entries: Vec::new(),
    };
    let Some(entry_indent) = entry_indent else {
        return Ok(Some(section));
    };
    if empty_flow {
        return Err("`trackers: {}` is followed by indented lines".to_owned());
    }
    // The entries' names, and a check of every line below them.
    let mut keys = Vec::new();
    for i in body.clone() {
        let text = lines[i].text;
        if !is_content(text) {
            continue;
        }
        let depth = indent(text);
        if depth < entry_indent {
            return Err(format!(
                "line {} is indented less than the tracker names above it",
                i + 1
            ));
        }
        let content = text.trim();
        if depth == entry_indent {
            keys.push((
                i,
                entry_key(content).map_err(|why| format!("line {}: {why}", i + 1))?,
            ));
        } else {
            check_field_line(content).map_err(|why| format!("line {}: {why}", i + 1))?;
        }
    }
    if let Some(first_field) = body
        .clone()
        .find(|&i| is_content(lines[i].text) && indent(lines[i].text) > entry_indent)
    {
        section.step = indent(lines[first_field].text) - entry_indent;
    }
    let mut previous_end = header + 1;
    for (n, (key, (name, key_comment))) in keys.iter().enumerate() {
        let next = keys.get(n + 1).map_or(end, |(k, _)| *k);
        // The entry's own lines: up to its last field, and the comments indented under it
        // that follow that field directly.
        let mut own_end = (key + 1..next)
            .rev()
            .find(|&i| is_content(lines[i].text))
            .map_or(key + 1, |i| i + 1);
        while own_end < next
            && is_comment(lines[own_end].text)
            && indent(lines[own_end].text) > entry_indent
        {
            own_end += 1;
        }
        // The comment lines directly above the name are about it.
        let mut lead = *key;
        while lead > previous_end && is_comment(lines[lead - 1].text) {
            lead -= 1;
        }
        section.entries.push(Entry {
            name: name.clone(),
            lead,
            key: *key,
            end: own_end,
            key_comment: *key_comment,
        });
        previous_end = own_end;
    }
    Ok(Some(section))
}

/// The key of a top-level line `key: ...` written as a plain word, and what follows the `:`.
fn plain_key(text: &str) -> Option<(&str, &str)> {
    let colon = text.find(':')?;
    let key = text[..colon].trim_end();
    let rest = &text[colon + 1..];
    let word = !key.is_empty()
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (word && (rest.is_empty() || rest.starts_with([' ', '\t']))).then_some((key, rest))
}

/// Splits what follows a `:` into its value and its comment (with the spaces before it).
fn split_comment(after: &str) -> (&str, &str) {
    let bytes = after.as_bytes();
    let hash = (0..bytes.len()).find(|&i| bytes[i] == b'#' && (i == 0 || bytes[i - 1] == b' '));
    match hash {
        Some(i) => {
            let value = &after[..i];
            let start = value.trim_end().len();
            (&after[..start], &after[start..])
        }
        None => (after, ""),
    }
}

/// The name of an entry line `name:` (plain or quoted), and the comment after it.
fn entry_key(content: &str) -> Result<(String, Option<&str>), String> {
    let (name, after) = if let Some(rest) = content.strip_prefix(['"', '\'']) {
        let quote = content.as_bytes()[0] as char;
        let close = rest
            .find(quote)
            .ok_or("a quoted tracker name is not closed")?;
        let name = &rest[..close];
        let after = rest[close + 1..]
            .strip_prefix(':')
            .ok_or("a tracker name is not followed by `:`")?;
        (name, after)
    } else if content.starts_with(['-', '?', '[', '{', '&', '*', '!']) {
        return Err(format!(
            "`{}` is not written as `name:` at the trackers' indentation",
            short(content)
        ));
    } else {
        let colon = content
            .find(':')
            .ok_or_else(|| format!("`{}` is not a `name:` line", short(content)))?;
        (&content[..colon], &content[colon + 1..])
    };
    let plain_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !plain_name {
        return Err(format!(
            "the tracker name `{}` is not a plain name",
            short(name)
        ));
    }
    if !after.is_empty() && !after.starts_with(' ') {
        return Err(format!("`{}` is not a `name:` line", short(content)));
    }
    let (value, comment) = split_comment(after);
    let value = value.trim();
    if !value.is_empty() {
        let why = match value.chars().next() {
            Some('&') => "has a YAML anchor (`&`)",
            Some('*') => "is a YAML alias (`*`)",
            Some('{') => "is written as a flow mapping (`{...}`)",
            Some('!') => "has a YAML tag (`!`)",
            _ => "has a value on its own line",
        };
        return Err(format!("the tracker `{name}` {why}"));
    }
    Ok((name.to_owned(), (!comment.is_empty()).then_some(comment)))
}

/// Refuses the lines inside an entry that make an edit uncertain: anchors, aliases, tags and
/// merge keys (an entry could then share lines with another).
fn check_field_line(content: &str) -> Result<(), String> {
    if content.starts_with("<<") {
        return Err("a YAML merge key (`<<`) is used among the trackers".to_owned());
    }
    let value = match content.find(": ") {
        Some(i) => content[i + 2..].trim_start(),
        None => content,
    };
    let value = value.strip_prefix("- ").unwrap_or(value);
    match value.chars().next() {
        Some('&') => Err("a YAML anchor (`&`) is used among the trackers".to_owned()),
        Some('*') => Err("a YAML alias (`*`) is used among the trackers".to_owned()),
        Some('!') => Err("a YAML tag (`!`) is used among the trackers".to_owned()),
        _ => Ok(()),
    }
}

fn short(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}

#[cfg(test)]
mod tests {
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
        let err = check(&format!("{a}allow_repository_trackers: true\n"), "b");
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
}
