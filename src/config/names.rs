//! The names a configuration gives: trackers, projects, environments, Jira project keys.
//!
//! Project and environment names end up in git ref names (`refs/deploylink/<project>/<env>`)
//! and in the `globalId` of remote links (`deploylink:{repo}:{project}:{environment}:{sha}`),
//! so they are held to a form that is safe in both.

const MAX_NAME_CHARS: usize = 64;

/// Checks the name of a tracker, project or environment (`what`). The error is a message and
/// a hint.
pub(crate) fn check_name(name: &str, what: &str) -> Result<(), (String, String)> {
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let shape_ok = !name.contains("..") && !name.ends_with('.') && !name.ends_with(".lock");
    if first_ok && chars_ok && shape_ok && name.len() <= MAX_NAME_CHARS {
        return Ok(());
    }
    Err((
        format!(
            "{} is not a valid {what} name",
            super::error::quoted(name)
        ),
        format!(
            "a {what} name is 1 to {MAX_NAME_CHARS} letters, digits, `_`, `-` or `.`, starting with a letter, digit or `_` (it becomes part of git ref names)"
        ),
    ))
}

/// Checks a Jira project key of `keys.projects`: an upper-case letter, then upper-case
/// letters, digits or `_` (Data Center allows `_` and keys longer than Cloud's ten).
pub(crate) fn check_project_key(key: &str) -> Result<(), (String, String)> {
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !(first_ok && rest_ok) || key.len() > 255 {
        return Err((
            format!("{} is not a Jira project key", super::error::quoted(key)),
            "a project key is a letter, then letters, digits or `_`, like `WEB` or `OPS_2`"
                .to_owned(),
        ));
    }
    if key.chars().any(|c| c.is_ascii_lowercase()) {
        return Err((
            format!(
                "{} is not upper case, as Jira project keys are",
                super::error::quoted(key)
            ),
            format!(
                "write `{}`; `case_insensitive: true` is what accepts lower-case keys in messages",
                key.to_ascii_uppercase()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_in_refs() {
        for good in ["web", "api-v2", "eu.prod", "_x", "A1"] {
            assert!(check_name(good, "project").is_ok(), "{good}");
        }
        for bad in [
            "", "-x", ".x", "a..b", "a.lock", "a b", "a/b", "a:b", "é", "a.",
        ] {
            assert!(check_name(bad, "project").is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(65), "project").is_err());
    }

    #[test]
    fn project_keys() {
        assert!(check_project_key("WEB").is_ok());
        assert!(check_project_key("OPS_2").is_ok());
        assert!(check_project_key("2WEB").is_err());
        assert!(check_project_key("WEB-1").is_err());
        let (_, hint) = check_project_key("web").unwrap_err();
        assert!(hint.starts_with("write `WEB`"));
    }
}
