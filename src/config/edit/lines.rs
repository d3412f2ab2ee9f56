//! The file as lines, each with its own line end, so that what is not edited is kept byte for
//! byte (a byte order mark, CRLF line ends, a missing final newline).

/// One line of the file.
pub(super) struct Line<'a> {
    /// The line without its end.
    pub(super) text: &'a str,
    /// `"\n"`, `"\r\n"`, or `""` for a last line without one.
    pub(super) eol: &'a str,
}

/// The file split into lines.
pub(super) struct Lines<'a> {
    /// Whether the text starts with a byte order mark, which `join` puts back.
    bom: bool,
    pub(super) lines: Vec<Line<'a>>,
    /// The line end of new lines: the file's first.
    pub(super) eol: &'static str,
}

impl<'a> Lines<'a> {
    pub(super) fn split(text: &'a str) -> Lines<'a> {
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

    pub(super) fn join(&self, lines: &[String], eols: &[&str]) -> String {
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
pub(super) fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The lines, each followed by `eol`.
pub(super) fn join_lines(lines: Vec<String>, eol: &str) -> String {
    lines.into_iter().fold(String::new(), |mut text, line| {
        text.push_str(&line);
        text.push_str(eol);
        text
    })
}

/// A line of spaces only.
pub(super) fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// A text without YAML content: only blank lines and comments.
pub(super) fn holds_nothing(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .lines()
        .all(|l| is_blank(l) || is_comment(l))
}

pub(super) fn indent(text: &str) -> usize {
    text.len() - text.trim_start_matches(' ').len()
}

pub(super) fn is_comment(text: &str) -> bool {
    text.trim_start().starts_with('#')
}

/// A line that holds YAML content: neither blank nor a comment.
pub(super) fn is_content(text: &str) -> bool {
    !text.trim().is_empty() && !is_comment(text)
}
