//! Regexes and globs of the configuration, compiled when the file loads so that a bad one is an
//! error at its line, never a surprise during a deploy.

use globset::{Candidate, GlobBuilder, GlobSet, GlobSetBuilder};
use regex::{Regex, RegexBuilder};

/// The most memory one compiled regex may take. A configuration's regexes are a few dozen
/// characters; the bound keeps a hostile one (`(a{1000}){1000}`) from taking the process down.
pub const MAX_REGEX_BYTES: usize = 1024 * 1024;

/// Why a regex or glob does not compile: a message and, sometimes, a hint.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PatternProblem {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

fn problem(message: impl Into<String>) -> PatternProblem {
    PatternProblem {
        message: message.into(),
        hint: None,
    }
}

/// A regex that does not compile, with how to write one.
fn invalid_regex(error: &regex::Error) -> PatternProblem {
    let hint = match error {
        regex::Error::CompiledTooBig(_) => None,
        _ => Some(
            "write it in the syntax of Rust's regex crate (https://docs.rs/regex/#syntax): close \
             every `(`, `[` and `{`, and put a backslash before one meant literally"
                .to_owned(),
        ),
    };
    PatternProblem {
        message: format!("invalid regex: {}", regex_message(error)),
        hint,
    }
}

/// A glob that does not compile, with how to write one.
fn invalid_glob(error: &globset::Error) -> PatternProblem {
    PatternProblem {
        message: format!("invalid glob: {}", error.kind()),
        hint: Some(
            "`*` matches within one path segment, `**` across segments, `?` one character, \
             `[abc]` and `{a,b}` must be closed; put a backslash before a character meant literally"
                .to_owned(),
        ),
    }
}

/// Compiles a regex within [`MAX_REGEX_BYTES`].
pub(crate) fn compile_regex(text: &str) -> Result<Regex, PatternProblem> {
    RegexBuilder::new(text)
        .size_limit(MAX_REGEX_BYTES)
        .dfa_size_limit(MAX_REGEX_BYTES)
        .build()
        .map_err(|e| invalid_regex(&e))
}

/// The regex crate's message without its multi-line caret diagram, which does not fit in a
/// one-paragraph error (the error's column already points at the regex).
fn regex_message(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => text
            .lines()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or_else(|| text.lines().last().unwrap_or_default())
            .to_owned(),
        regex::Error::CompiledTooBig(limit) => {
            format!("it compiles to more than the {limit}-byte limit; simplify it")
        }
        other => other.to_string(),
    }
}

/// What a glob matches, which decides how it is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlobKind {
    /// A path in the repository, relative to its root.
    Path,
    /// A full ref name (`refs/heads/main`).
    Ref,
}

/// A list of globs compiled into one matcher.
#[derive(Clone, Debug)]
pub(crate) struct GlobList {
    patterns: Vec<String>,
    set: GlobSet,
}

impl GlobList {
    /// Compiles `patterns`; the error is the index of the first bad one and why.
    pub(crate) fn new(
        patterns: &[String],
        kind: GlobKind,
    ) -> Result<GlobList, (usize, PatternProblem)> {
        let mut builder = GlobSetBuilder::new();
        for (i, pattern) in patterns.iter().enumerate() {
            builder.add(compile_glob(pattern, kind).map_err(|p| (i, p))?);
        }
        let set = builder.build().map_err(|e| (0, invalid_glob(&e)))?;
        Ok(GlobList {
            patterns: patterns.to_vec(),
            set,
        })
    }

    /// The globs as written.
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether any glob matches `text` (a path as git's bytes, or a ref name).
    pub(crate) fn is_match(&self, text: &[u8]) -> bool {
        self.set.is_match_candidate(&Candidate::from_bytes(text))
    }
}

fn compile_glob(pattern: &str, kind: GlobKind) -> Result<globset::Glob, PatternProblem> {
    let pattern = normalize(pattern, kind)?;
    GlobBuilder::new(&pattern)
        // `*` stays within one path segment, like in git and in shells.
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| invalid_glob(&e))
}

/// Checks the form of a glob and rewrites the shorthands that [`GlobKind`] documents.
fn normalize(pattern: &str, kind: GlobKind) -> Result<String, PatternProblem> {
    if pattern.is_empty() {
        return Err(problem("the glob is empty"));
    }
    match kind {
        GlobKind::Ref if !pattern.starts_with("refs/") && !pattern.starts_with('*') => {
            let hint = format!(
                "write the full ref name: `refs/heads/{pattern}` for a branch, `refs/tags/{pattern}` for a tag"
            );
            Err(PatternProblem {
                message: format!("{} is not a full ref name", super::error::quoted(pattern)),
                hint: Some(hint),
            })
        }
        GlobKind::Ref => Ok(pattern.to_owned()),
        GlobKind::Path => {
            // Paths are relative to the repository root; a leading `/` says the same thing.
            let relative = pattern.trim_start_matches('/');
            if relative.is_empty() {
                return Err(problem(
                    "the glob names the repository root; leave `paths:` out to own every path",
                ));
            }
            Ok(match relative.strip_suffix('/') {
                Some(dir) => format!("{dir}/**"),
                None => relative.to_owned(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str], kind: GlobKind) -> GlobList {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        GlobList::new(&patterns, kind).unwrap()
    }

    #[test]
    fn ref_globs_keep_star_within_a_segment() {
        let g = globs(&["refs/heads/release/*", "refs/tags/v*"], GlobKind::Ref);
        assert!(g.is_match(b"refs/heads/release/1.2"));
        assert!(!g.is_match(b"refs/heads/release/1/hotfix"));
        assert!(g.is_match(b"refs/tags/v1.2"));
        assert!(!g.is_match(b"refs/heads/main"));
        let all = globs(&["refs/heads/**"], GlobKind::Ref);
        assert!(all.is_match(b"refs/heads/a/b/c"));
    }

    #[test]
    fn short_ref_names_are_refused_with_a_hint() {
        let (i, p) =
            GlobList::new(&["refs/heads/a".into(), "main".into()], GlobKind::Ref).unwrap_err();
        assert_eq!(i, 1);
        assert!(p.hint.unwrap().contains("refs/heads/main"));
    }

    #[test]
    fn path_globs_take_directories_and_bytes() {
        let g = globs(&["/apps/web/", "libs/*.rs"], GlobKind::Path);
        assert!(g.is_match(b"apps/web/src/main.rs"));
        assert!(g.is_match(b"libs/a.rs"));
        assert!(!g.is_match(b"libs/x/a.rs"));
        assert!(g.is_match(b"apps/web/\xff.bin"));
    }

    #[test]
    fn bad_patterns_say_why() {
        let (_, p) = GlobList::new(&["apps/[".into()], GlobKind::Path).unwrap_err();
        assert!(p.message.starts_with("invalid glob"), "{}", p.message);
        assert_eq!(
            compile_regex("(abc").unwrap_err().message,
            "invalid regex: unclosed group"
        );
        let big = compile_regex("(a{1000}){1000}").unwrap_err().message;
        assert!(big.contains("limit"), "{big}");
    }
}
