//! The one error type of the configuration: what is wrong, where, and how to fix it.

use std::fmt;

/// A field path inside a configuration file, like `projects.web.environments.production.refs[1]`.
///
/// Kept as segments, not text, so that a key containing a dot still finds its YAML node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct FieldPath {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub(crate) fn root() -> FieldPath {
        FieldPath::default()
    }

    pub(crate) fn key(&self, key: &str) -> FieldPath {
        let mut path = self.clone();
        path.segments.push(Segment::Key(key.to_owned()));
        path
    }

    pub(crate) fn index(&self, index: usize) -> FieldPath {
        let mut path = self.clone();
        path.segments.push(Segment::Index(index));
        path
    }

    /// This path extended by `text`, a path written like `keys.ignore[2]`.
    pub(crate) fn join_text(&self, text: &str) -> FieldPath {
        let mut path = self.clone();
        for part in text.split('.') {
            let (key, indexes) = part
                .split_once('[')
                .map_or((part, ""), |(k, rest)| (k, rest));
            if !key.is_empty() {
                path = path.key(key);
            }
            for index in indexes.split('[') {
                if let Ok(index) = index.trim_end_matches(']').parse() {
                    path = path.index(index);
                }
            }
        }
        path
    }

    pub(crate) fn from_segments(segments: Vec<Segment>) -> FieldPath {
        FieldPath { segments }
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub(crate) fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The last key of the path, skipping indexes: `token` for `trackers.acme.auth.token`.
    pub(crate) fn leaf_key(&self) -> Option<&str> {
        self.segments.iter().rev().find_map(|s| match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        })
    }

    /// Whether any key of the path is `key`.
    pub(crate) fn has_key(&self, key: &str) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Key(k) if k == key))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{}", printable(key))?,
                Segment::Key(key) => write!(f, ".{}", printable(key))?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A line and column in a file, both 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A configuration file that cannot be used, with everything needed to fix it.
///
/// Displays as one paragraph:
/// `<file>:<line>:<column>: <field path>: <message>` and, on the next line, `  hint: <hint>`.
/// Parts that are not known are left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    file: String,
    position: Option<Position>,
    field_path: Option<String>,
    message: String,
    hint: Option<String>,
}

impl ConfigError {
    /// An error about a whole file (no line, no field).
    pub(crate) fn in_file(file: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            position: None,
            field_path: None,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> ConfigError {
        self.hint = Some(hint.into());
        self
    }

    /// The same place, with another message (and no hint).
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> ConfigError {
        self.message = message.into();
        self.hint = None;
        self
    }

    pub(crate) fn at(mut self, position: Option<Position>) -> ConfigError {
        self.position = position;
        self
    }

    pub(crate) fn at_field(mut self, path: &FieldPath) -> ConfigError {
        self.field_path = (!path.is_root()).then(|| path.to_string());
        self
    }

    /// A configuration file that cannot be read: missing, unreadable, a directory.
    pub fn unreadable(path: &std::path::Path, error: &std::io::Error) -> ConfigError {
        ConfigError::unreadable_as(path, error, "file")
    }

    /// [`ConfigError::unreadable`] for a file that the message calls `what`.
    pub(crate) fn unreadable_as(
        path: &std::path::Path,
        error: &std::io::Error,
        what: &str,
    ) -> ConfigError {
        use std::io::ErrorKind;
        let (message, hint) = match error.kind() {
            ErrorKind::NotFound => (
                format!("the {what} does not exist"),
                "check the path (a starter `.deploylink.yml` is in the README's quick start)",
            ),
            ErrorKind::PermissionDenied => (
                format!("the {what} cannot be read: {error}"),
                "give the user that runs deploylink read access to it",
            ),
            ErrorKind::IsADirectory => (
                format!("the {what} cannot be read: {error}"),
                "this is a directory; name the file inside it",
            ),
            _ => (
                format!("the {what} cannot be read: {error}"),
                "check that the path names a readable file",
            ),
        };
        ConfigError::in_file(&path.display().to_string(), message).with_hint(hint)
    }

    /// The deployed commit has no project file (`file`, like `.deploylink.yml`).
    pub fn missing_project_file(file: &str, commit: &str) -> ConfigError {
        let short = commit.get(..7).unwrap_or(commit);
        ConfigError::in_file(
            file,
            format!(
                "commit {} has no {file} at the repository root",
                printable(short)
            ),
        )
        .with_hint(format!(
            "commit a {file} (the README's quick start has one), or name one with `--config FILE`"
        ))
    }

    /// The file, as named by the caller: a path, or `.deploylink.yml at 1a2b3c4`.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The 1-based line, when the error is at a place in the file.
    pub fn line(&self) -> Option<u32> {
        self.position.map(|p| p.line)
    }

    /// The 1-based column, when the error is at a place in the file.
    pub fn column(&self) -> Option<u32> {
        self.position.map(|p| p.column)
    }

    /// The field, like `projects.web.environments.production.refs[1]`.
    pub fn field_path(&self) -> Option<&str> {
        self.field_path.as_deref()
    }

    /// What is wrong, as a sentence without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it, when there is more to say than the message.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", printable(&self.file))?;
        if let Some(Position { line, column }) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        f.write_str(": ")?;
        if let Some(path) = &self.field_path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// `text` with control characters escaped, so that a hostile file name or key cannot move the
/// cursor or clear the terminal when an error is printed.
pub(crate) fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        let escaped: String = text
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        std::borrow::Cow::Owned(escaped)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// `text` in backticks, escaped for a terminal: how messages quote names from the file.
pub(crate) fn quoted(text: &str) -> String {
    format!("`{}`", printable(text))
}

/// The entry of `known` nearest to `unknown`, when it is near enough to be a typo.
pub(crate) fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let unknown = normal(unknown);
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(&unknown, &normal(k)), *k))
        .filter(|(score, _)| *score >= 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_every_known_part() {
        let path = FieldPath::root()
            .key("projects")
            .key("web")
            .key("refs")
            .index(1);
        let err = ConfigError::in_file("a.yml", "bad glob")
            .at(Some(Position { line: 3, column: 7 }))
            .at_field(&path)
            .with_hint("write `refs/heads/*`");
        assert_eq!(
            err.to_string(),
            "a.yml:3:7: projects.web.refs[1]: bad glob\n  hint: write `refs/heads/*`"
        );
        assert_eq!(
            ConfigError::in_file("a.yml", "too big").to_string(),
            "a.yml: too big"
        );
    }

    #[test]
    fn explains_missing_and_unreadable_files() {
        let err = ConfigError::missing_project_file(".deploylink.yml", "1a2b3c4d5e6f");
        assert_eq!(
            err.to_string(),
            ".deploylink.yml: commit 1a2b3c4 has no .deploylink.yml at the repository root\n  hint: commit a .deploylink.yml (the README's quick start has one), or name one with `--config FILE`"
        );
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = ConfigError::unreadable(std::path::Path::new("/x/a.yml"), &missing);
        assert_eq!(
            (err.file(), err.message()),
            ("/x/a.yml", "the file does not exist")
        );
    }

    #[test]
    fn joins_written_paths() {
        let base = FieldPath::root().key("projects").key("web");
        assert_eq!(
            base.join_text("keys.ignore[2]").to_string(),
            "projects.web.keys.ignore[2]"
        );
        assert_eq!(
            base.join_text("a[1][2].b").to_string(),
            "projects.web.a[1][2].b"
        );
        assert_eq!(FieldPath::root().join_text("").to_string(), "");
    }

    #[test]
    fn positions_order_by_line_then_column() {
        assert!(Position { line: 1, column: 9 } < Position { line: 2, column: 1 });
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(quoted("a\u{1b}[2Jb"), "`a\\u{1b}[2Jb`");
    }

    #[test]
    fn suggests_close_names_only() {
        let known = ["environments", "paths", "actions"];
        assert_eq!(did_you_mean("enviroments", &known), Some("environments"));
        assert_eq!(did_you_mean("zzz", &known), None);
    }
}
