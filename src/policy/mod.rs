//! The `validate:` policy of the client hooks: which commit messages must name an issue,
//! which are exempt, and the verdict on a push or a message ([`verdict`]).

mod verdict;

pub use verdict::{judge_message, judge_push, unknown_keys};

use crate::config::{Project, Requirement};
use crate::keys::IssueKey;

/// A commit message as `commit-msg` sees it: without comment lines (`#`, or git's
/// `core.commentChar`) and without everything below the scissors line of `git commit -v`.
pub fn clean_message(text: &str, comment_char: char) -> String {
    let scissors = format!("{comment_char} ------------------------ >8 ------------------------");
    let mut out = String::new();
    for line in text.lines() {
        if line == scissors {
            break;
        }
        if line.starts_with(comment_char) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// The projects whose policy requires something.
pub fn enforcing(projects: &[Project]) -> Vec<&Project> {
    projects
        .iter()
        .filter(|p| p.validate().require() != Requirement::None)
        .collect()
}

/// Whether any of `projects` exempts `message` (a merge, a revert, a fixup...).
pub fn is_exempt(projects: &[&Project], message: &str) -> bool {
    projects.iter().any(|p| p.validate().is_exempt(message))
}

/// The keys any of `projects` accepts in `message`.
pub fn keys_in(projects: &[&Project], message: &[u8]) -> Vec<IssueKey> {
    let mut keys = Vec::new();
    for project in projects {
        for key in project.key_rules().extract(message) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// `WEB-123 or OPS-123` for the projects' allowlists, else `PROJ-123`.
pub fn example_keys(projects: &[&Project]) -> String {
    let mut names: Vec<String> = projects
        .iter()
        .flat_map(|p| p.key_rules_spec().projects)
        .collect();
    names.dedup();
    if names.is_empty() {
        return "an issue key such as PROJ-123".into();
    }
    let examples: Vec<String> = names.iter().map(|n| format!("{n}-123")).collect();
    format!(
        "an issue key of {} (e.g. {})",
        names.join(", "),
        examples.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_the_scissors_part_are_not_the_message() {
        let text = "WEB-1 fix\n\nbody\n# Please enter the commit message\n# ------------------------ >8 ------------------------\n# Do not modify\ndiff --git a/x b/x\n+OPS-9\n";
        assert_eq!(clean_message(text, '#'), "WEB-1 fix\n\nbody");
        assert_eq!(clean_message("; c\nWEB-2\n", ';'), "WEB-2");
        assert_eq!(clean_message("# only comments\n", '#'), "");
    }
}
