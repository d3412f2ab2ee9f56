//! Tag names that read as versions, for the previous-release rule of [`super::base`].
//!
//! A version tag is an optional prefix (everything before the first ASCII digit: `v`,
//! `release-`, `kafka-`), numeric components separated by `.` (`3`, `3.8`, `3.8.0`,
//! `0.10.2.1`), and an optional pre-release suffix that starts with a letter or with one of
//! `-`, `_`, `.`, `~` followed by letters, digits and those separators (`-rc2`, `-beta.1`,
//! `rc1`, `-incubating-candidate-9`). Anything else (`+build5`, a trailing `.`, a component too
//! large for a `u64`, no digit at all) is not a version.
//!
//! Order, among tags of the same prefix: the numeric components, missing ones counting as
//! zero (`3.8` equals `3.8.0`); then a final release above any of its pre-releases; then the
//! pre-release suffixes, read as runs of letters and runs of digits: numbers by value (`rc2`
//! below `rc10`), words ASCII case-insensitively (`alpha` < `beta` < `rc`), a number below a
//! word, and a suffix below any longer one that starts with it.
//!
//! The `semver` crate does not fit: it needs exactly three components and no prefix, and it
//! refuses `3.8`, `0.10.2.1`, `release-2.0` and `1.0rc1`.

use std::cmp::Ordering;

/// A tag name read as a version.
#[derive(Clone, Debug)]
pub struct Version<'a> {
    prefix: &'a str,
    numbers: Vec<u64>,
    /// The pre-release suffix as written (`-rc2`), `None` for a final release.
    pre: Option<&'a str>,
}

impl<'a> Version<'a> {
    /// Reads `name` (a tag's short name, such as `v1.2.3`) as a version, if it is one.
    pub fn parse(name: &'a str) -> Option<Version<'a>> {
        let start = name.find(|c: char| c.is_ascii_digit())?;
        let (prefix, rest) = name.split_at(start);
        let mut numbers = Vec::new();
        let mut rest = rest;
        loop {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            numbers.push(rest[..end].parse::<u64>().ok()?);
            rest = &rest[end..];
            match rest.strip_prefix('.') {
                Some(next) if next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
                _ => break,
            }
        }
        let pre = if rest.is_empty() {
            None
        } else if is_pre_release(rest) {
            Some(rest)
        } else {
            return None;
        };
        Some(Version {
            prefix,
            numbers,
            pre,
        })
    }

    /// What comes before the numbers: `v` of `v1.2.3`, empty for `3.8.0`.
    pub fn prefix(&self) -> &'a str {
        self.prefix
    }

    /// Whether this is a pre-release (`1.4.0-rc2`), not a final release.
    pub fn is_pre_release(&self) -> bool {
        self.pre.is_some()
    }
}

/// A pre-release suffix: a letter, or a separator then a letter or digit; only letters, digits
/// and separators throughout.
fn is_pre_release(suffix: &str) -> bool {
    let separator = |c: char| matches!(c, '-' | '_' | '.' | '~');
    let mut chars = suffix.chars();
    let starts = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some(c) if separator(c) => chars.next().is_some_and(|c| c.is_ascii_alphanumeric()),
        _ => false,
    };
    starts
        && suffix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || separator(c))
}

/// One run of a pre-release suffix: digits (without leading zeros) or letters.
enum Part<'a> {
    Number(&'a str),
    Word(&'a str),
}

impl PartialEq for Part<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Part<'_> {}

impl Ord for Part<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            // Runs of any length: by length, then digit by digit (no overflow).
            (Part::Number(a), Part::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Part::Number(_), Part::Word(_)) => Ordering::Less,
            (Part::Word(_), Part::Number(_)) => Ordering::Greater,
            (Part::Word(a), Part::Word(b)) => a
                .bytes()
                .map(|c| c.to_ascii_lowercase())
                .cmp(b.bytes().map(|c| c.to_ascii_lowercase())),
        }
    }
}

impl PartialOrd for Part<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The runs of letters and of digits of a pre-release suffix, separators dropped.
fn parts(suffix: &str) -> Vec<Part<'_>> {
    let mut parts = Vec::new();
    let bytes = suffix.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        let letter = bytes[i].is_ascii_alphabetic();
        if !digit && !letter {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_digit() == digit && bytes[i].is_ascii_alphanumeric())
        {
            i += 1;
        }
        let run = &suffix[start..i];
        parts.push(if digit {
            let trimmed = run.trim_start_matches('0');
            Part::Number(if trimmed.is_empty() { "0" } else { trimmed })
        } else {
            Part::Word(run)
        });
    }
    parts
}

fn compare_numbers(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| at(a, i).cmp(&at(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl Ord for Version<'_> {
    /// Prefix first (versions of different prefixes are never compared by the rule), then as
    /// the module documentation says.
    fn cmp(&self, other: &Self) -> Ordering {
        self.prefix
            .cmp(other.prefix)
            .then_with(|| compare_numbers(&self.numbers, &other.numbers))
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => parts(a).cmp(&parts(b)),
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Version<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str) -> Version<'_> {
        Version::parse(name).unwrap_or_else(|| panic!("{name} should read as a version"))
    }

    #[test]
    fn the_spec_examples_read_as_versions() {
        for (name, prefix, pre) in [
            ("v1.2.3", "v", false),
            ("3.8.0", "", false),
            ("release-2.0", "release-", false),
            ("1.4.0-rc2", "", true),
            ("0.10.2.1", "", false),
            ("nightly-5", "nightly-", false),
            ("1.0rc1", "", true),
            ("v2.0.0-beta.1", "v", true),
            ("kafka-0.7.2-incubating-candidate-5", "kafka-", true),
            ("releases/1.2", "releases/", false),
        ] {
            let version = v(name);
            assert_eq!(version.prefix(), prefix, "{name}");
            assert_eq!(version.is_pre_release(), pre, "{name}");
        }
    }

    #[test]
    fn other_names_are_not_versions() {
        for name in [
            "",
            "latest",
            "v",
            "1.2.",
            "1..2",
            "1.2.3+build5",
            "1.2.3-",
            "1.2.3-rc 1",
            "1.2.3/x",
            "99999999999999999999.1",
            "1.2.3-ü",
        ] {
            assert!(Version::parse(name).is_none(), "{name:?}");
        }
    }

    #[test]
    fn order_of_numbers_finals_and_pre_releases() {
        let ascending = [
            "0.8.0-beta1",
            "0.8.0",
            "0.10.2.0-rc0",
            "0.10.2.0",
            "0.10.2.1",
            "3.6.0-rc0",
            "3.6.0-rc2",
            "3.6.0",
            "3.6.1",
            "3.6.2-rc1",
            "3.6.2-rc10",
            "3.6.2",
            "3.7",
            "3.7.0.1",
            "3.7.1-alpha",
            "3.7.1-Beta",
            "3.7.1-beta.2",
            "3.7.1-rc1",
            "3.7.1",
            "3.8.0",
            "10.0.0",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]), "{} > {}", pair[1], pair[0]);
        }
    }

    #[test]
    fn missing_components_and_leading_zeros_count_as_equal() {
        assert_eq!(v("3.8"), v("3.8.0"));
        assert_eq!(v("3.08"), v("3.8"));
        assert_eq!(v("1.0-rc01"), v("1.0-rc1"));
        assert_eq!(v("1.0-rc.1"), v("1.0-rc1"));
    }

    #[test]
    fn prefixes_order_before_numbers() {
        assert_ne!(v("v1.0"), v("1.0"));
        assert!(v("release-9.0") < v("v1.0"));
    }

    #[test]
    fn huge_pre_release_numbers_compare_without_overflow() {
        assert!(v("1.0-rc99999999999999999999998") < v("1.0-rc99999999999999999999999"));
        assert!(v("1.0-rc9") < v("1.0-rc0000000000000000000000010"));
    }
}
