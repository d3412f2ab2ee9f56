//! Turns the parser's errors into configuration errors that say where and how to fix them.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, MessageFormatter};

use super::error::{did_you_mean, quoted, ConfigError, FieldPath, Segment};
use super::locate::position;
use super::yaml::{Document, MAX_ALIASES, MAX_DEPTH, MAX_NODES, MAX_REPLAYED_EVENTS};

/// What an error says, and how its field path is found from its position.
struct Diagnosis {
    message: String,
    hint: Option<String>,
    lookup: Lookup,
}

enum Lookup {
    /// A syntax or limit error: the position is all there is.
    Position,
    /// The node at the position.
    Node,
    /// A field missing from the mapping at the position.
    MissingField(String),
}

impl Diagnosis {
    fn new(message: impl Into<String>, lookup: Lookup) -> Diagnosis {
        Diagnosis {
            message: message.into(),
            hint: None,
            lookup,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> Diagnosis {
        self.hint = Some(hint.into());
        self
    }
}

/// The configuration error for a parser error in `doc`.
pub(crate) fn yaml_error(doc: &Document, error: &Error) -> ConfigError {
    let mut at = error.location().map(|l| position(&l));
    let inner = innermost(error);
    let mut diagnosis = diagnose(inner);
    let path = match (&diagnosis.lookup, at) {
        (Lookup::Position, _) | (_, None) => None,
        (Lookup::Node, Some(at)) => doc.path_at(at),
        (Lookup::MissingField(field), Some(position)) => {
            let mapping = doc.mapping_at(position);
            // Point at the start of the mapping that lacks the field, not at whichever of its
            // keys the parser was on.
            at = mapping.as_ref().and_then(|m| doc.position_of(m)).or(at);
            mapping.map(|m| m.key(field))
        }
    };
    if let Some(path) = &path {
        refine_for_trackers(&mut diagnosis, inner, path);
    }
    let mut config_error = ConfigError::in_file(doc.name(), diagnosis.message).at(at);
    if let Some(path) = &path {
        config_error = config_error.at_field(path);
    }
    match diagnosis.hint {
        Some(hint) => config_error.with_hint(hint),
        None => config_error,
    }
}

/// The error under the snippet and alias wrappers, which add nothing a one-line message needs.
fn innermost(error: &Error) -> &Error {
    match error.without_snippet() {
        Error::AliasError { error, .. } => innermost(error),
        other => other,
    }
}

fn diagnose(error: &Error) -> Diagnosis {
    value_error(error).unwrap_or_else(|| document_error(error))
}

/// An error about one value, which has a field path: a field or value that is not known, or
/// of the wrong type.
fn value_error(error: &Error) -> Option<Diagnosis> {
    let diagnosis = match error {
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let message = format!("unknown field {}", quoted(field));
            Diagnosis::new(message, Lookup::Node).hint(known_names(field, expected))
        }
        Error::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let message = format!("unknown value {}", quoted(variant));
            Diagnosis::new(message, Lookup::Node).hint(known_names(variant, expected))
        }
        Error::SerdeMissingField { field, .. } => Diagnosis::new(
            format!("missing field `{field}`"),
            Lookup::MissingField((*field).to_owned()),
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => Diagnosis::new(
            format!("expected {expected}, found {unexpected}"),
            Lookup::Node,
        ),
        Error::Unexpected { expected, .. } => {
            Diagnosis::new(format!("expected {}", friendly(expected)), Lookup::Node)
        }
        Error::InvalidScalar { ty, .. } => {
            Diagnosis::new(format!("expected {}", friendly(ty)), Lookup::Node)
        }
        Error::InvalidBooleanStrict { .. } => {
            Diagnosis::new("expected `true` or `false`", Lookup::Node)
                .hint("YAML 1.1 words like `yes`, `no`, `on` and `off` are not booleans here")
        }
        Error::NullIntoString { .. } => {
            Diagnosis::new("expected a string, found nothing", Lookup::Node)
        }
        Error::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().map_or_else(|| "a key".to_owned(), quoted);
            Diagnosis::new(
                format!("{key} is written twice in the same mapping"),
                Lookup::Node,
            )
            .hint("keep one of them")
        }
        Error::Message { msg, .. } => Diagnosis::new(msg.clone(), Lookup::Node),
        _ => return None,
    };
    Some(diagnosis)
}

/// An error about the document as a whole: its syntax or its limits.
fn document_error(error: &Error) -> Diagnosis {
    match error {
        Error::MultipleDocuments { .. } => Diagnosis::new(
            "the file holds more than one YAML document",
            Lookup::Position,
        )
        .hint("remove the `---` line; a configuration is a single document"),
        Error::Eof { .. } => {
            Diagnosis::new("the file ends in the middle of a value", Lookup::Position)
                .hint("close the quote, bracket or brace opened before this point")
        }
        Error::Budget { breach, .. } => over_budget(breach),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => too_many_aliases(),
        Error::UnknownAnchor { .. } => Diagnosis::new(
            "the alias names an anchor that is not defined before it",
            Lookup::Position,
        )
        .hint("define `&name` before using `*name`"),
        other => syntax(other),
    }
}

/// A YAML syntax error, in the parser's words, with a hint for the usual causes.
fn syntax(error: &Error) -> Diagnosis {
    let text = serde_saphyr::DefaultMessageFormatter.format_message(error);
    if text.contains("recursion limit") || text.contains("nesting") {
        return over_budget(&BudgetBreach::Depth {
            depth: MAX_DEPTH + 1,
        });
    }
    let diagnosis = Diagnosis::new(format!("invalid YAML: {text}"), Lookup::Position);
    if text.contains("tab") {
        diagnosis.hint("indent with spaces: YAML does not allow tabs in indentation")
    } else {
        diagnosis.hint(
            "fix the YAML at this line and column: close each `[`, `{` and quote, indent with \
             spaces, and quote a value that holds `: ` or starts with `*`, `&`, `!` or `@`",
        )
    }
}

fn over_budget(breach: &BudgetBreach) -> Diagnosis {
    let hint =
        "this limit protects deploylink from hostile files; a real configuration is far below it";
    let message = match breach {
        BudgetBreach::Depth { .. } => {
            format!("the file nests lists and mappings deeper than {MAX_DEPTH} levels")
        }
        BudgetBreach::Aliases { .. }
        | BudgetBreach::Anchors { .. }
        | BudgetBreach::AliasAnchorRatio { .. }
        | BudgetBreach::RecordedAnchorEvents { .. }
        | BudgetBreach::RecordedAnchorBytes { .. } => return too_many_aliases(),
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => {
            format!("the file holds more than {MAX_NODES} values, aliases expanded")
        }
        BudgetBreach::Documents { .. } => {
            return Diagnosis::new(
                "the file holds more than one YAML document",
                Lookup::Position,
            )
            .hint("remove the `---` line; a configuration is a single document")
        }
        other => format!("the file is over a parser limit ({other:?})"),
    };
    Diagnosis::new(message, Lookup::Position).hint(hint)
}

fn too_many_aliases() -> Diagnosis {
    Diagnosis::new(
        format!("the YAML aliases (`*name`) of the file expand to more than {MAX_REPLAYED_EVENTS} values"),
        Lookup::Position,
    )
    .hint(format!("this is how an alias bomb looks; write the values out, or use fewer aliases (at most {MAX_ALIASES})"))
}

/// "did you mean" when one known name is close, else the list of known names.
fn known_names(unknown: &str, known: &[&'static str]) -> String {
    match did_you_mean(unknown, known) {
        Some(near) => format!("did you mean `{near}`?"),
        None if known.is_empty() => "this mapping takes no fields".to_owned(),
        None => format!("expected one of: {}", known.join(", ")),
    }
}

/// The parser's names of what it expected, in words.
fn friendly(expected: &str) -> String {
    match expected {
        "mapping start" => "a mapping (`field: value` lines)".to_owned(),
        "sequence start" => "a list".to_owned(),
        "string scalar" | "string" => "a string".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".to_owned(),
        "bool" => "`true` or `false`".to_owned(),
        other => other.to_owned(),
    }
}

/// Inside `trackers:`, an unknown field named like a credential, or a value where a mapping of
/// references belongs, is a literal secret: say so, and never echo the value.
fn refine_for_trackers(diagnosis: &mut Diagnosis, error: &Error, path: &FieldPath) {
    if path.segments().first() != Some(&Segment::Key("trackers".to_owned())) {
        return;
    }
    let leaf = path.leaf_key().unwrap_or_default();
    let in_deployments = path.has_key("deployments");
    match error {
        Error::SerdeUnknownField { field, .. } => {
            if let Some((message, hint)) = literal_credential(field, in_deployments) {
                *diagnosis = Diagnosis::new(message, Lookup::Node).hint(hint);
            }
        }
        Error::SerdeInvalidType { .. } | Error::Unexpected { .. }
            if leaf == "auth" || leaf == "deployments" =>
        {
            *diagnosis = Diagnosis::new(
                format!("`{leaf}` holds a value where a mapping of references belongs; secrets never go in configuration files"),
                Lookup::Node,
            )
            .hint(format!("write `{leaf}:` as a mapping of `*_env` or `*_file` fields, like `token_env: JIRA_API_TOKEN`"));
        }
        Error::SerdeInvalidType { expected, .. } | Error::SerdeInvalidValue { expected, .. } => {
            // The parser's message quotes the value, which may be a token pasted in the wrong
            // place: keep only what was expected.
            diagnosis.message = format!("expected {expected}");
        }
        _ => {}
    }
}

/// The message and hint for a credential written literally as `field`.
fn literal_credential(field: &str, in_deployments: bool) -> Option<(String, String)> {
    let name = field.to_ascii_lowercase().replace('-', "_");
    let (reference, example_env, example_file) = match name.as_str() {
        "user" | "username" | "email" | "login" | "account" => {
            return Some((
                format!("{} is not a field: the account is read from a variable or a file, like the token", quoted(field)),
                "write `user_env: JIRA_USER` and export the account e-mail in that variable, or `user_file: /run/secrets/jira-user`".to_owned(),
            ));
        }
        "client_id" => ("client_id", "JIRA_CLIENT_ID", "/run/secrets/jira-client-id"),
        "client_secret" => (
            "client_secret",
            "JIRA_CLIENT_SECRET",
            "/run/secrets/jira-client-secret",
        ),
        "secret" if in_deployments => (
            "client_secret",
            "JIRA_CLIENT_SECRET",
            "/run/secrets/jira-client-secret",
        ),
        "token"
        | "api_token"
        | "apitoken"
        | "pat"
        | "password"
        | "passwd"
        | "secret"
        | "access_token"
        | "personal_access_token"
        | "bearer"
        | "api_key"
        | "apikey"
        | "credentials" => ("token", "JIRA_API_TOKEN", "/run/secrets/jira"),
        _ => return None,
    };
    let what = if reference == "client_id" {
        "a literal credential"
    } else {
        "a literal secret"
    };
    Some((
        format!("{} holds {what}; secrets never go in configuration files", quoted(field)),
        format!("write `{reference}_env: {example_env}` and export the value in that variable, or `{reference}_file: {example_file}`"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_reference_to_write_instead() {
        let (message, hint) = literal_credential("token", false).unwrap();
        assert_eq!(
            message,
            "`token` holds a literal secret; secrets never go in configuration files"
        );
        assert!(hint.starts_with("write `token_env: JIRA_API_TOKEN`"));
        let (_, hint) = literal_credential("secret", true).unwrap();
        assert!(hint.starts_with("write `client_secret_env:"));
        assert!(literal_credential("url", false).is_none());
    }
}
