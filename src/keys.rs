//! Issue keys: finding Jira issue keys such as `KAFKA-17710` in commit messages and branch names.
//!
//! The rules are those of SPEC section 5. One `regex::bytes::Regex` pass finds candidates; cheap
//! byte checks then apply the boundary rules, because the regex crate has no look-around. Text is
//! handled as bytes: a commit message need not be UTF-8, and nothing here panics on any input.
//!
//! Decisions the SPEC leaves open:
//! - "Letter" and "digit" in the boundary rules mean ASCII ones. Any other character, invalid UTF-8
//!   included, is a boundary, so CJK text written without spaces (`修复KAFKA-1问题`), em dashes,
//!   curly quotes and NBSP next to a key do not hide it.
//! - A "lower-case candidate" (which may not be followed by `-` or `.` and a letter or digit) is
//!   one with any lower-case letter: `kafka-1`, but also `Kafka-1` and `KAFKa-1`.
//! - A key's number must fit in a `u64`; a longer run of digits is not a key.
//! - `case_insensitive` without `projects` (and without `pattern`) is an error: the default rule
//!   would then read `utf-8`, `step-1` or `java-17` as keys.
//! - With `pattern`, the user's regex replaces the rule, boundaries and denylist. What group 1
//!   captures is upper-cased and must still be a well-formed key (`P-N`), else it is skipped;
//!   `projects`, if given, still filters, and `case_insensitive` makes the regex case-insensitive.
//! - `ignore` regexes are unanchored and match the upper-case key: write `^TEST-` to drop a project.

use std::collections::HashSet;
use std::fmt;

use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};

/// Tokens the default rule would take for keys but that name something else.
///
/// An entry `P-*` drops every number of `P`; any other entry drops that exact key. With
/// `keys.projects` the list is not used: only listed projects count there. Each entry can hide a
/// real project from the default rule, so the list keeps to numbering systems that are never Jira
/// projects and to exact names of encodings and algorithms.
pub const NOT_ISSUE_KEYS: &[&str] = &[
    "UTF-8",    // Unicode encoding.
    "UTF-16",   // Unicode encoding.
    "UTF-32",   // Unicode encoding.
    "ISO-8859", // Latin character sets (`ISO-8859-1` is already rejected by the `-1` after it).
    "ISO-8601", // date and time format.
    "SHA-1",    // hash algorithm.
    "SHA-2",    // hash algorithm family.
    "SHA-3",    // hash algorithm family.
    "SHA-224",  // hash algorithm.
    "SHA-256",  // hash algorithm.
    "SHA-384",  // hash algorithm.
    "SHA-512",  // hash algorithm.
    "SHA2-*",   // SHA-2 family as OpenSSL 3 names it (`SHA2-256`, `SHA2-512`).
    "SHA3-*",   // SHA-3 family, and digest names in errors (`unsupported digest SHA3-996`).
    "SHAKE-*",  // SHA-3 extendable-output functions (`SHAKE-128`, `SHAKE-256`).
    "AES-128",  // cipher key size; `AES` could be a team's project, so only exact names.
    "AES-192",  // cipher key size.
    "AES-256",  // cipher key size.
    "CRC-16",   // checksum.
    "CRC-32",   // checksum.
    "CRC-64",   // checksum.
    "RFC-*",    // IETF Requests for Comments.
    "CVE-*",    // vulnerability ids, also cut ones (`CVE-20…`); a whole one fails the rule anyway.
    "JDK-*",    // OpenJDK's own tracker (`JDK-8274524`) and JDK versions (`JDK-13`).
    "PEP-*",    // Python Enhancement Proposals.
    "KIP-*",    // Kafka Improvement Proposals (1,846 mentions on Kafka's trunk).
    "HTTP-*",   // protocol versions and status codes.
    "TLS-*",    // protocol versions.
    "PR-*",     // pull-request numbers in CI URLs (`.../detail/PR-15994/1/tests`).
];

/// Candidates for the default rule: 2 to 10 upper-case letters or digits (Jira Cloud's project
/// key), a dash, a number without a leading zero. The boundaries are checked afterwards.
const DEFAULT_CANDIDATE: &str = "[A-Z][A-Z0-9]{1,9}-[1-9][0-9]*";

/// The most memory one regex built from configuration may compile to. Atlassian's own key regex
/// for GitHub (`[A-Z][A-Z\d]{1,255}-[1-9]\d{0,255}`, case-insensitive) needs about 2 MiB, and
/// 5,000 projects fit; a hostile pattern (`(a{1000}){1000}`) fails in milliseconds instead.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Jira Data Center's largest configurable project key.
const MAX_PROJECT_LEN: usize = 255;

/// A Jira issue key, always upper case: `WEB-12`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct IssueKey(String);

impl IssueKey {
    /// Checks `bytes` (`P-N` in any case) and returns it upper-cased, or `None` if it is not a key:
    /// `P` is a letter and at least one more letter, digit or `_`; `N` is a positive number
    /// without a leading zero that fits a `u64`. Every `IssueKey` is built here.
    fn parse(bytes: &[u8]) -> Option<IssueKey> {
        let dash = bytes.iter().rposition(|&b| b == b'-')?;
        let (project, number) = (&bytes[..dash], &bytes[dash + 1..]);
        let project_ok = project.len() >= 2
            && project[0].is_ascii_alphabetic()
            && project
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !project_ok || number.first() == Some(&b'0') {
            return None;
        }
        parse_number(number)?;
        Some(IssueKey(
            bytes
                .iter()
                .map(|&b| char::from(b.to_ascii_uppercase()))
                .collect(),
        ))
    }

    /// The key as text: `WEB-12`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The project key: `WEB`.
    pub fn project(&self) -> &str {
        // Project keys hold no `-`, so the last one separates the number.
        self.0.rsplit_once('-').map_or("", |(project, _)| project)
    }

    /// The issue number: `12`.
    pub fn number(&self) -> u64 {
        // `parse` checked that the number fits, so the fallback is never used.
        self.0
            .rsplit_once('-')
            .and_then(|(_, number)| parse_number(number.as_bytes()))
            .unwrap_or(0)
    }
}

impl fmt::Display for IssueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the configuration (or CLI flags) says about keys. Plain data, not validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyRulesSpec {
    /// Allowlist of Jira project keys; empty means the default rule.
    pub projects: Vec<String>,
    /// Also accept keys in lower or mixed case. Needs `projects` (or `pattern`).
    pub case_insensitive: bool,
    /// A user regex that replaces the rule; capture group 1 is the key.
    pub pattern: Option<String>,
    /// Regexes; a key (in upper case) matching any of them is dropped.
    pub ignore: Vec<String>,
}

/// Compiled rules.
#[derive(Clone, Debug)]
pub struct KeyRules {
    finder: Finder,
    ignore: Vec<regex::Regex>,
}

/// How candidates are found.
#[derive(Clone, Debug)]
enum Finder {
    /// SPEC 5's rule: a regex for candidates, then the boundary checks of `scope`.
    Rule {
        candidates: BytesRegex,
        scope: Scope,
    },
    /// The user's regex; if `projects` is not empty, only those projects count.
    Pattern {
        regex: BytesRegex,
        projects: Vec<String>,
    },
}

/// Which projects the rule takes, and so what may touch a key.
#[derive(Clone, Copy, Debug)]
enum Scope {
    /// The default rule: any key shape. `_` or `-` before it make it part of a longer name
    /// (`MAX_VALUE-8`, `SNYK-JAVA-ORG-1`), and `NOT_ISSUE_KEYS` are dropped.
    AnyProject,
    /// `keys.projects`: only listed projects, so `JIRA_KAFKA-4276` is KAFKA's key in a branch.
    Listed,
}

/// A problem in the key configuration. Each names its field (see [`KeyRulesError::field`]).
#[derive(Debug, thiserror::Error)]
pub enum KeyRulesError {
    #[error("keys.projects[{index}] is {value:?}, which is not a Jira project key: {problem}")]
    Project {
        index: usize,
        value: String,
        problem: String,
    },
    #[error("keys.projects lists too many projects ({count}) to search for at once ({message}); list only the projects this repository uses")]
    Projects { count: usize, message: String },
    #[error("keys.pattern is not a usable regex: {message}")]
    Pattern { message: String },
    #[error("keys.pattern {pattern:?} has no capture group 1; put the key in parentheses, for example `#([A-Z][A-Z0-9]+-[0-9]+)`")]
    PatternWithoutGroup { pattern: String },
    #[error("keys.ignore[{index}] is not a usable regex: {message}")]
    Ignore { index: usize, message: String },
    #[error("keys.ignore[{index}] is {pattern:?}, which matches the empty string and so would drop every key; anchor it to what it should drop, for example `^TEST-`")]
    IgnoreMatchesEverything { index: usize, pattern: String },
    #[error("keys.case_insensitive needs keys.projects: without a project list it would read words such as `utf-8` or `step-1` as keys; list your projects, for example `projects: [KAFKA]`")]
    CaseInsensitiveWithoutProjects,
}

impl KeyRulesError {
    /// The configuration field at fault: `keys.pattern`, `keys.ignore[2]`, `keys.projects[0]`.
    pub fn field(&self) -> String {
        match self {
            KeyRulesError::Project { index, .. } => format!("keys.projects[{index}]"),
            KeyRulesError::Projects { .. } => "keys.projects".to_string(),
            KeyRulesError::Pattern { .. } | KeyRulesError::PatternWithoutGroup { .. } => {
                "keys.pattern".to_string()
            }
            KeyRulesError::Ignore { index, .. }
            | KeyRulesError::IgnoreMatchesEverything { index, .. } => {
                format!("keys.ignore[{index}]")
            }
            KeyRulesError::CaseInsensitiveWithoutProjects => "keys.case_insensitive".to_string(),
        }
    }
}

impl KeyRules {
    /// Checks `spec` and compiles its regexes; the first problem found is returned.
    pub fn new(spec: &KeyRulesSpec) -> Result<KeyRules, KeyRulesError> {
        for (index, value) in spec.projects.iter().enumerate() {
            if let Some(problem) = project_problem(value) {
                let value = value.clone();
                return Err(KeyRulesError::Project {
                    index,
                    value,
                    problem,
                });
            }
        }
        if spec.case_insensitive && spec.projects.is_empty() && spec.pattern.is_none() {
            return Err(KeyRulesError::CaseInsensitiveWithoutProjects);
        }
        let finder = match &spec.pattern {
            Some(pattern) => Finder::Pattern {
                regex: compile_pattern(pattern, spec.case_insensitive)?,
                projects: spec.projects.clone(),
            },
            // A constant pattern, so this cannot fail at run time; every test builds it.
            None if spec.projects.is_empty() => Finder::Rule {
                candidates: bytes_regex(DEFAULT_CANDIDATE, false, false)
                    .expect("the built-in key regex compiles"),
                scope: Scope::AnyProject,
            },
            None => Finder::Rule {
                candidates: compile_projects(&spec.projects, spec.case_insensitive)?,
                scope: Scope::Listed,
            },
        };
        let ignore = spec
            .ignore
            .iter()
            .enumerate()
            .map(|(index, pattern)| compile_ignore(index, pattern))
            .collect::<Result<_, _>>()?;
        Ok(KeyRules { finder, ignore })
    }

    /// The default rule (equivalent to `KeyRules::new(&KeyRulesSpec::default()).unwrap()`).
    pub fn default_rules() -> KeyRules {
        // The default spec involves no user input, so this cannot fail at run time.
        KeyRules::new(&KeyRulesSpec::default()).expect("the built-in key rules compile")
    }

    /// Keys in `text` in order of first appearance, each once. `text` may be non-UTF-8 and
    /// several megabytes.
    pub fn extract(&self, text: &[u8]) -> Vec<IssueKey> {
        let mut keys = Vec::new();
        let mut seen = HashSet::new();
        self.for_each_key(text, |key| {
            if !seen.contains(&key) {
                seen.insert(key.clone());
                keys.push(key);
            }
        });
        keys
    }

    /// Calls `found` for each key occurrence in `text`, duplicates included, without building a
    /// list: the hot path for 20,000-commit ranges. Rejected candidates cost no allocation.
    pub fn for_each_key(&self, text: &[u8], mut found: impl FnMut(IssueKey)) {
        let mut emit = |key: IssueKey| {
            if !self.ignore.iter().any(|re| re.is_match(key.as_str())) {
                found(key);
            }
        };
        match &self.finder {
            Finder::Rule { candidates, scope } => {
                for m in candidates.find_iter(text) {
                    if !is_key(text, &m, *scope) {
                        continue;
                    }
                    if let Some(key) = IssueKey::parse(m.as_bytes()) {
                        emit(key);
                    }
                }
            }
            Finder::Pattern { regex, projects } => {
                let listed = |key: &IssueKey| {
                    projects.is_empty() || projects.iter().any(|p| p == key.project())
                };
                for caps in regex.captures_iter(text) {
                    let group = caps.get(1);
                    let key = group.and_then(|g| IssueKey::parse(g.as_bytes()));
                    if let Some(key) = key.filter(listed) {
                        emit(key);
                    }
                }
            }
        }
    }

    /// Keys of a branch name such as `refs/heads/feature/KAFKA-12-add-login`, by the same rules.
    pub fn extract_branch(&self, refname: &str) -> Vec<IssueKey> {
        let branch = refname.strip_prefix("refs/heads/").unwrap_or(refname);
        self.extract(branch.as_bytes())
    }
}

/// The keys in the branch name of a deployed ref (`refs/heads/feature/WEB-12-login`), by each
/// of `rules`: none for a tag, another kind of ref, or when no ref is known.
pub fn branch_keys(rules: &[KeyRules], refname: Option<&str>) -> Vec<IssueKey> {
    refname
        .filter(|r| r.starts_with("refs/heads/"))
        .map(|branch| {
            rules
                .iter()
                .flat_map(|r| r.extract_branch(branch))
                .collect()
        })
        .unwrap_or_default()
}

/// SPEC 5's checks of a candidate `P-N` found in `text`: what comes before and after it, and
/// the denylist. The candidate regex has no look-around, so this is done here, on bytes.
fn is_key(text: &[u8], m: &regex::bytes::Match<'_>, scope: Scope) -> bool {
    let candidate = m.as_bytes();
    free_before(text, m.start(), scope)
        && free_after(text, candidate, m.end())
        && !(matches!(scope, Scope::AnyProject) && is_not_issue_key(candidate))
}

/// Whether the byte before a candidate starting at `start` lets it be a key.
fn free_before(text: &[u8], start: usize, scope: Scope) -> bool {
    match start.checked_sub(1).and_then(|i| text.get(i)) {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(b'_' | b'-') => matches!(scope, Scope::Listed),
        Some(_) => true,
    }
}

/// Whether the bytes after `candidate`, which ends at `end`, let it be a key.
fn free_after(text: &[u8], candidate: &[u8], end: usize) -> bool {
    match text.get(end) {
        None => true,
        Some(b) if b.is_ascii_alphanumeric() => false,
        Some(b'-' | b'.') => match text.get(end + 1) {
            // `CVE-2024-8184`, `zookeeper-3.5.9.jar`, `KAFKA-17532-2`: a longer number.
            Some(b) if b.is_ascii_digit() => false,
            // `kafka-1-metadata-loader`: lower case and a longer name is not a key, but
            // `KAFKA-12-add-login` (a branch) is.
            Some(b) if b.is_ascii_alphanumeric() => !candidate.iter().any(u8::is_ascii_lowercase),
            _ => true,
        },
        Some(_) => true,
    }
}

/// Whether an upper-case candidate is in `NOT_ISSUE_KEYS`.
fn is_not_issue_key(candidate: &[u8]) -> bool {
    NOT_ISSUE_KEYS
        .iter()
        .any(|entry| match entry.strip_suffix('*') {
            Some(prefix) => candidate.starts_with(prefix.as_bytes()),
            None => candidate == entry.as_bytes(),
        })
}

/// Parses ASCII digits as a `u64`; `None` if empty, not all digits, or too large.
fn parse_number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        let digit = char::from(b).to_digit(10)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// Why `value` is not a Jira project key, with a hint; `None` if it is one. Jira Data Center
/// allows `_`, digits and up to 255 characters; Cloud keys are a subset.
fn project_problem(value: &str) -> Option<String> {
    let shape_ok = |v: &str| {
        let mut bytes = v.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_uppercase())
            && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let problem = if value.is_empty() {
        "it is empty; write a project key such as KAFKA".to_string()
    } else if value.chars().count() > MAX_PROJECT_LEN {
        let count = value.chars().count();
        format!("it has {count} characters, and Jira allows at most {MAX_PROJECT_LEN}")
    } else if let Some((project, _)) = value.split_once('-').filter(|(p, _)| shape_ok(p)) {
        format!("it looks like an issue key; list the project instead: {project}")
    } else if value.len() < 2 {
        "it has one character, and Jira project keys have at least two".to_string()
    } else if shape_ok(value) {
        return None;
    } else if shape_ok(&value.to_ascii_uppercase()) {
        format!(
            "it is not in upper case; write {}",
            value.to_ascii_uppercase()
        )
    } else if !value.starts_with(|c: char| c.is_ascii_alphabetic()) {
        "it must start with a letter A-Z, as in KAFKA or MY_PROJ".to_string()
    } else {
        "it may hold only upper-case letters A-Z, digits and `_`, as in KAFKA or MY_PROJ"
            .to_string()
    };
    Some(problem)
}

/// The regex that finds the listed projects' keys; `projects` are already checked.
fn compile_projects(
    projects: &[String],
    case_insensitive: bool,
) -> Result<BytesRegex, KeyRulesError> {
    let alternatives: Vec<String> = projects.iter().map(|p| regex::escape(p)).collect();
    let pattern = format!("(?:{})-[1-9][0-9]*", alternatives.join("|"));
    // No Unicode: `(?i)K` would otherwise also match the Kelvin sign, which is not ASCII.
    bytes_regex(&pattern, false, case_insensitive).map_err(|e| KeyRulesError::Projects {
        count: projects.len(),
        message: e.to_string(),
    })
}

fn compile_pattern(pattern: &str, case_insensitive: bool) -> Result<BytesRegex, KeyRulesError> {
    let regex =
        bytes_regex(pattern, true, case_insensitive).map_err(|e| KeyRulesError::Pattern {
            message: regex_problem(e),
        })?;
    if regex.captures_len() < 2 {
        let pattern = pattern.to_string();
        return Err(KeyRulesError::PatternWithoutGroup { pattern });
    }
    Ok(regex)
}

fn compile_ignore(index: usize, pattern: &str) -> Result<regex::Regex, KeyRulesError> {
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| KeyRulesError::Ignore {
            index,
            message: regex_problem(e),
        })?;
    if regex.is_match("") {
        let pattern = pattern.to_string();
        return Err(KeyRulesError::IgnoreMatchesEverything { index, pattern });
    }
    Ok(regex)
}

fn bytes_regex(
    pattern: &str,
    unicode: bool,
    case_insensitive: bool,
) -> Result<BytesRegex, regex::Error> {
    BytesRegexBuilder::new(pattern)
        .unicode(unicode)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// The regex crate's error, with a hint on what to do about it.
fn regex_problem(error: regex::Error) -> String {
    match error {
        regex::Error::CompiledTooBig(limit) => format!(
            "it compiles to more than {limit} bytes; make it smaller, for example with \
             fewer or shorter counted repetitions such as `{{1,10}}`"
        ),
        other => format!(
            "{other}\nThe syntax is the Rust regex crate's \
             (https://docs.rs/regex/latest/regex/#syntax); it has no look-around and no \
             backreferences."
        ),
    }
}
