//! `tracker connect`: adds a tracker's entry, or replaces the entry of the same name.

use super::block::block_lines;
use super::check::{check_new_tracker, check_result, parse_existing};
use super::lines::{holds_nothing, join_lines, line_ending, Lines};
use super::section::{analyse, Section};
use super::{tracker_block, EditError, NewTracker};

/// The first line of an organization file that `tracker connect` creates.
const NEW_FILE_COMMENT: &str =
    "# deploylink organization file, written by `deploylink tracker connect` (hand edits and comments are kept).";

/// Adds `tracker` to the file's text, or replaces the entry of the same name.
///
/// `existing` is `None` when there is no file yet: the result is then a new file with
/// `version: 1`, a comment saying it was written by `deploylink tracker connect`, and
/// `trackers:`. The result is checked with [`parse_trackers`](crate::config::parse_trackers)
/// before it is returned: the tracker reads back as given, and the file's other trackers as
/// they were.
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
        let text = new_file(existing, tracker);
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
        None => append_section(&doc, tracker, &mut out, &mut eols),
        Some(section) => splice_entry(&doc, section, tracker, &mut out, &mut eols),
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

/// The text of a file that held nothing (no file, or only blank lines and comments, which are
/// kept): `version: 1` and `trackers:` with the tracker's entry.
fn new_file(existing: Option<&str>, tracker: &NewTracker) -> String {
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
    text
}

/// No `trackers:` yet: it goes at the end of the file, with the tracker's entry.
fn append_section<'a>(
    doc: &Lines<'a>,
    tracker: &NewTracker,
    out: &mut Vec<String>,
    eols: &mut Vec<&'a str>,
) {
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

/// Puts the tracker's entry in place of the entry of the same name, or after the last entry,
/// written with the section's own indentation.
fn splice_entry<'a>(
    doc: &Lines<'a>,
    section: &Section<'_>,
    tracker: &NewTracker,
    out: &mut Vec<String>,
    eols: &mut Vec<&'a str>,
) {
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
