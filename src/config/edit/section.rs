//! Finding the `trackers:` section and its entries among the file's lines, and refusing what
//! the editor cannot change with confidence.

use std::ops::Range;

use super::lines::{indent, is_comment, is_content, Line, Lines};

/// The `trackers:` section of a file.
pub(super) struct Section<'a> {
    /// The line of `trackers:`.
    pub(super) header: usize,
    /// What follows `trackers:` on its line, when it is only spaces and a comment.
    pub(super) header_rest: &'a str,
    /// Whether the header reads `trackers: {}`.
    pub(super) empty_flow: bool,
    /// The indentation of the entries' names, when there are entries.
    pub(super) entry_indent: Option<usize>,
    /// How much deeper each level below an entry is indented.
    pub(super) step: usize,
    pub(super) entries: Vec<Entry<'a>>,
}

/// One tracker entry of the section.
pub(super) struct Entry<'a> {
    pub(super) name: String,
    /// The first of the comment lines directly above the name (the name's line if none).
    pub(super) lead: usize,
    /// The line of `name:`.
    pub(super) key: usize,
    /// The first line after the entry's own lines.
    pub(super) end: usize,
    /// The comment on the name's line (with the spaces before it).
    pub(super) key_comment: Option<&'a str>,
}

/// Finds the `trackers:` section and its entries; `Ok(None)` when the file has none. The
/// error is why the file cannot be edited with confidence.
pub(super) fn analyse<'a>(doc: &Lines<'a>) -> Result<Option<Section<'a>>, String> {
    let lines = &doc.lines;
    let Some(header) = find_header(lines)? else {
        return Ok(None);
    };
    let (empty_flow, header_rest) = read_header(lines[header].text)?;
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
    let keys = entry_keys(lines, body.clone(), entry_indent)?;
    if let Some(first_field) = body
        .clone()
        .find(|&i| is_content(lines[i].text) && indent(lines[i].text) > entry_indent)
    {
        section.step = indent(lines[first_field].text) - entry_indent;
    }
    section.entries = entries(lines, &keys, header, end, entry_indent);
    Ok(Some(section))
}

/// The line of the top-level `trackers:` key, after a check that every top-level line is a
/// plain `key: value` line of a block mapping.
fn find_header(lines: &[Line<'_>]) -> Result<Option<usize>, String> {
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
    Ok(header)
}

/// What the `trackers:` line holds after its `:`: whether it reads `trackers: {}`, and what to
/// keep of it (spaces and a comment) when the line is rewritten.
fn read_header(header_text: &str) -> Result<(bool, &str), String> {
    let after = &header_text[header_text.find(':').map_or(header_text.len(), |i| i + 1)..];
    let (value, comment) = split_comment(after);
    match value.trim() {
        "" => Ok((false, after)),
        "{}" => Ok((true, comment)),
        v if v.starts_with('{') => {
            Err("`trackers:` is written as a flow mapping (`trackers: {...}`)".to_owned())
        }
        v if v.starts_with('&') => Err("`trackers:` has a YAML anchor (`&`)".to_owned()),
        v if v.starts_with('*') => Err("`trackers:` is a YAML alias (`*`)".to_owned()),
        v if v.starts_with('!') => Err("`trackers:` has a YAML tag (`!`)".to_owned()),
        v => Err(format!(
            "`trackers:` is followed by `{v}` on its line, where a block mapping was expected"
        )),
    }
}

/// An entry's name line: its line number, its name, and the comment on it.
type EntryKey<'a> = (usize, (String, Option<&'a str>));

/// The entries' names, and a check of every line below them.
fn entry_keys<'a>(
    lines: &[Line<'a>],
    body: Range<usize>,
    entry_indent: usize,
) -> Result<Vec<EntryKey<'a>>, String> {
    let mut keys = Vec::new();
    for i in body {
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
    Ok(keys)
}

/// The entries of the section's name lines `keys`, each with the lines it owns; `end` is the
/// first line after the section.
fn entries<'a>(
    lines: &[Line<'a>],
    keys: &[EntryKey<'a>],
    header: usize,
    end: usize,
    entry_indent: usize,
) -> Vec<Entry<'a>> {
    let mut entries = Vec::new();
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
        entries.push(Entry {
            name: name.clone(),
            lead,
            key: *key,
            end: own_end,
            key_comment: *key_comment,
        });
        previous_end = own_end;
    }
    entries
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
