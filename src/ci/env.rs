//! Reading a CI's environment variables into commit ids, full refs, URLs and run numbers.
//!
//! [`Env`] wraps the lookup and collects notes; the conversions themselves are plain functions.

use super::CiError;

/// The longest excerpt of a variable's value quoted in a note or an error.
const SHOWN_CHARS: usize = 80;

/// A CI's environment variables, and the notes taken while reading them.
pub(super) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    notes: Vec<String>,
}

impl<'a> Env<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Env {
            lookup,
            notes: Vec::new(),
        }
    }

    /// The variable's trimmed value; an empty or blank one counts as unset.
    pub(super) fn var(&self, name: &str) -> Option<String> {
        let value = (self.lookup)(name)?;
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// Whether the variable is `true`, in any case (Azure sets `TF_BUILD=True`).
    pub(super) fn is_true(&self, name: &str) -> bool {
        self.var(name)
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }

    pub(super) fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub(super) fn into_notes(self) -> Vec<String> {
        self.notes
    }

    /// The first of `names` that is set.
    pub(super) fn first_of(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|name| self.var(name))
    }

    /// The deployed commit's id from the variable: `None`, with a note, when it is all zeros or
    /// no commit id.
    pub(super) fn commit(&mut self, name: &str) -> Option<String> {
        let value = self.var(name)?;
        self.commit_value(&value, name, CommitRole::Deployed)
    }

    /// The CI's previous commit from the variable: `None`, with a note, when it is all zeros (a
    /// new branch) or no commit id.
    pub(super) fn base(&mut self, name: &str) -> Option<String> {
        let value = self.var(name)?;
        self.commit_value(&value, name, CommitRole::Base)
    }

    /// `value` as a commit id; `source` names where it came from, for the note.
    pub(super) fn commit_value(
        &mut self,
        value: &str,
        source: &str,
        role: CommitRole,
    ) -> Option<String> {
        let consequence = match role {
            CommitRole::Deployed => "no deployed commit from the CI",
            CommitRole::Base => "no CI base",
        };
        if is_zero_id(value) {
            self.note(format!(
                "{source} is all zeros (no previous commit: a new branch, or a run not started by a push): {consequence}"
            ));
            None
        } else if looks_like_id(value) {
            Some(value.to_owned())
        } else {
            self.note(format!(
                "{source} is '{}', not a commit id: {consequence}",
                shown(value)
            ));
            None
        }
    }

    /// The full ref of a build: the tag variable wins over the branch variable.
    pub(super) fn branch_or_tag(&mut self, branch: &str, tag: &str) -> Option<String> {
        if let Some(name) = self.var(tag) {
            return self.valid_ref(format!("refs/tags/{name}"), tag);
        }
        let name = self.var(branch)?;
        self.valid_ref(format!("refs/heads/{name}"), branch)
    }

    /// A variable that already holds a full ref (`GITHUB_REF`, `BUILD_SOURCEBRANCH`).
    pub(super) fn full_ref(&mut self, name: &str) -> Option<String> {
        let value = self.var(name)?;
        if value.starts_with("refs/") {
            self.valid_ref(value, name)
        } else {
            self.note(format!(
                "{name} is '{}', not a full ref (refs/...): ignored",
                shown(&value)
            ));
            None
        }
    }

    /// `refname` if git would accept it, else `None` with a note naming `source`.
    pub(super) fn valid_ref(&mut self, refname: String, source: &str) -> Option<String> {
        if git2::Reference::is_valid_name(&refname) {
            Some(refname)
        } else {
            self.note(format!(
                "{source} gives '{}', which is not a valid git ref: ignored",
                shown(&refname)
            ));
            None
        }
    }

    /// The run number in the variable; an error when it is set but not an `i64`.
    pub(super) fn run_number(&self, name: &'static str) -> Result<Option<i64>, CiError> {
        let Some(value) = self.var(name) else {
            return Ok(None);
        };
        value
            .parse::<i64>()
            .map(Some)
            .map_err(|_| CiError::RunNumber {
                variable: name,
                value: shown(&value),
            })
    }
}

/// What a commit read from the environment is, for the note when it is not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CommitRole {
    Deployed,
    Base,
}

/// Whether `value` is an all-zeros commit id (SHA-1's 40 or SHA-256's 64 `0`s): git's "no commit".
pub(super) fn is_zero_id(value: &str) -> bool {
    matches!(value.len(), 40 | 64) && value.bytes().all(|b| b == b'0')
}

/// Whether `value` looks like a full or abbreviated commit id (Bitbucket gives 12 digits for
/// pull requests).
pub(super) fn looks_like_id(value: &str) -> bool {
    (7..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Jenkins's `GIT_BRANCH` as a full ref: `origin/main` and `refs/remotes/origin/main` are
/// `refs/heads/main`, a full `refs/...` stays, anything else is a branch name (which may itself
/// contain `/`: only the remote `origin` is stripped).
pub(super) fn jenkins_ref(value: &str) -> String {
    let branch = value
        .strip_prefix("refs/remotes/origin/")
        .or_else(|| value.strip_prefix("origin/"))
        .filter(|rest| !rest.is_empty());
    match branch {
        Some(branch) => format!("refs/heads/{branch}"),
        None if value.starts_with("refs/") => value.to_owned(),
        None => format!("refs/heads/{value}"),
    }
}

/// `segment` percent-encoded for a URL path: every byte but RFC 3986's unreserved ones.
pub(super) fn encode_path_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A value as quoted in a note or error: control characters escaped, at most [`SHOWN_CHARS`].
pub(super) fn shown(value: &str) -> String {
    let mut shown: String = value.chars().take(SHOWN_CHARS).collect();
    if value.chars().nth(SHOWN_CHARS).is_some() {
        shown.push_str("...");
    }
    shown.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZEROS: &str = "0000000000000000000000000000000000000000";

    fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce(&mut Env) -> T) -> (T, Vec<String>) {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        let mut env = Env::new(&lookup);
        let result = f(&mut env);
        (result, env.into_notes())
    }

    #[test]
    fn zero_ids_are_sha1_or_sha256_zeros_only() {
        assert!(is_zero_id(ZEROS));
        assert!(is_zero_id(&"0".repeat(64)));
        assert!(!is_zero_id("0000000"));
        assert!(!is_zero_id(&"0".repeat(41)));
        assert!(!is_zero_id("a000000000000000000000000000000000000000"));
    }

    #[test]
    fn a_zero_base_is_no_commit_with_a_note() {
        let (base, notes) = with_env(&[("CI_COMMIT_BEFORE_SHA", ZEROS)], |env| {
            env.commit("CI_COMMIT_BEFORE_SHA")
        });
        assert_eq!(base, None);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("CI_COMMIT_BEFORE_SHA is all zeros"),
            "{notes:?}"
        );
    }

    #[test]
    fn head_and_other_non_ids_are_no_commit_with_a_note() {
        let (to, notes) = with_env(&[("BUILDKITE_COMMIT", "HEAD")], |env| {
            env.commit("BUILDKITE_COMMIT")
        });
        assert_eq!(to, None);
        assert_eq!(
            notes,
            ["BUILDKITE_COMMIT is 'HEAD', not a commit id: no deployed commit from the CI"]
        );
        let (to, _) = with_env(&[("C", "8d081548cabb")], |env| env.commit("C"));
        assert_eq!(
            to.as_deref(),
            Some("8d081548cabb"),
            "abbreviated ids are ids"
        );
        let (to, _) = with_env(&[("C", "abc")], |env| env.commit("C"));
        assert_eq!(to, None, "too short to be an id");
    }

    #[test]
    fn empty_and_blank_values_are_unset_and_values_are_trimmed() {
        let (values, notes) = with_env(&[("A", ""), ("B", "  \n"), ("C", " main\n")], |env| {
            (env.var("A"), env.var("B"), env.var("C"))
        });
        assert_eq!(values, (None, None, Some("main".to_owned())));
        assert!(notes.is_empty());
    }

    #[test]
    fn a_tag_wins_over_a_branch() {
        let vars = [("CIRCLE_BRANCH", "main"), ("CIRCLE_TAG", "v1.2")];
        let (refname, _) = with_env(&vars, |env| {
            env.branch_or_tag("CIRCLE_BRANCH", "CIRCLE_TAG")
        });
        assert_eq!(refname.as_deref(), Some("refs/tags/v1.2"));
        let (refname, _) = with_env(&vars[..1], |env| {
            env.branch_or_tag("CIRCLE_BRANCH", "CIRCLE_TAG")
        });
        assert_eq!(refname.as_deref(), Some("refs/heads/main"));
    }

    #[test]
    fn an_invalid_ref_is_dropped_with_a_note() {
        let (refname, notes) = with_env(&[("B", "feature..x")], |env| env.branch_or_tag("B", "T"));
        assert_eq!(refname, None);
        assert_eq!(
            notes,
            ["B gives 'refs/heads/feature..x', which is not a valid git ref: ignored"]
        );
        let (refname, notes) = with_env(&[("R", "main")], |env| env.full_ref("R"));
        assert_eq!(refname, None);
        assert_eq!(notes, ["R is 'main', not a full ref (refs/...): ignored"]);
    }

    #[test]
    fn jenkins_branches_lose_only_the_origin_remote() {
        let cases = [
            ("origin/main", "refs/heads/main"),
            (
                "origin/feature/JRA-1-login",
                "refs/heads/feature/JRA-1-login",
            ),
            ("refs/remotes/origin/release/2.x", "refs/heads/release/2.x"),
            ("refs/heads/main", "refs/heads/main"),
            ("refs/tags/v1.2", "refs/tags/v1.2"),
            ("main", "refs/heads/main"),
            ("feature/x", "refs/heads/feature/x"),
            ("upstream/main", "refs/heads/upstream/main"),
            ("origin/", "refs/heads/origin/"),
            ("originals/x", "refs/heads/originals/x"),
        ];
        for (branch, expected) in cases {
            assert_eq!(jenkins_ref(branch), expected, "{branch}");
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_path_segment("Web Shop"), "Web%20Shop");
        assert_eq!(encode_path_segment("shop-2.x_~"), "shop-2.x_~");
        assert_eq!(encode_path_segment("Café/#?"), "Caf%C3%A9%2F%23%3F");
    }

    #[test]
    fn run_numbers_must_be_integers() {
        let (n, _) = with_env(&[("N", "42")], |env| env.run_number("N").ok());
        assert_eq!(n, Some(Some(42)));
        let (n, _) = with_env(&[], |env| env.run_number("N").ok());
        assert_eq!(n, Some(None));
        let (err, _) = with_env(&[("N", "20240101.3")], |env| {
            env.run_number("N").unwrap_err()
        });
        assert_eq!(
            err.to_string().lines().next(),
            Some("N is '20240101.3', which is not a run number")
        );
        let (err, _) = with_env(&[("N", "99999999999999999999")], |env| {
            env.run_number("N").is_err()
        });
        assert!(err, "overflow is an error, not a panic");
    }

    #[test]
    fn shown_values_are_short_and_escaped() {
        assert_eq!(shown("a\nb"), "a\\nb");
        assert_eq!(shown(&"x".repeat(200)).len(), SHOWN_CHARS + 3);
    }
}
