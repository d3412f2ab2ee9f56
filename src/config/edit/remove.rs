//! `tracker disconnect`: removes a tracker's entry and the lines that belong to it.

use super::check::{check_result, parse_existing};
use super::lines::{is_blank, Lines};
use super::section::{analyse, Section};
use super::EditError;

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
    let text = cut_entry(&doc, &section, index);
    check_result(source_name, Some(&before), &text, name, None, &fix)?;
    Ok(text)
}

/// The text without the entry `index` of the section, the comment lines directly above it, and
/// the blank lines that would be left doubled.
fn cut_entry(doc: &Lines<'_>, section: &Section<'_>, index: usize) -> String {
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
    doc.join(&out, &eols)
}
