//! Text templates with `{placeholder}` fields, used for the title and URL of the remote link
//! written on each issue (SPEC 6.1).
//!
//! A template is parsed once, when the configuration loads, so an unknown placeholder is a
//! configuration error before anything is sent to Jira, never a surprise at deploy time.
//! `{{` and `}}` write a literal brace.

use std::fmt;

/// One value a template can insert. The names are those of SPEC 6.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    /// `{project}`: the project's name in the configuration.
    Project,
    /// `{environment}`: the environment's name in the configuration.
    Environment,
    /// `{repo}`: the repository's identity (`acme/shop`; see `config::identity`).
    Repo,
    /// `{repo_url}`: the repository's web URL.
    RepoUrl,
    /// `{ref}`: the full ref name, like `refs/heads/main`.
    Ref,
    /// `{branch}`: the branch name when the ref is a branch, else empty.
    Branch,
    /// `{tag}`: the tag name when the ref is a tag, else empty.
    Tag,
    /// `{from}`: the base commit of the range, empty when there is none.
    From,
    /// `{to}`: the deployed commit.
    To,
    /// `{short_sha}`: the deployed commit, abbreviated.
    ShortSha,
    /// `{run_url}`: the CI run's URL.
    RunUrl,
    /// `{run_id}`: the CI run's number or id.
    RunId,
    /// `{state}`: the deploy's state (`successful`, `failed`, ...).
    State,
}

impl Placeholder {
    /// Every placeholder, in the order SPEC 6.1 lists them.
    pub const ALL: [Placeholder; 13] = [
        Placeholder::Project,
        Placeholder::Environment,
        Placeholder::Repo,
        Placeholder::RepoUrl,
        Placeholder::Ref,
        Placeholder::Branch,
        Placeholder::Tag,
        Placeholder::From,
        Placeholder::To,
        Placeholder::ShortSha,
        Placeholder::RunUrl,
        Placeholder::RunId,
        Placeholder::State,
    ];

    /// The name written between braces.
    pub fn as_str(self) -> &'static str {
        match self {
            Placeholder::Project => "project",
            Placeholder::Environment => "environment",
            Placeholder::Repo => "repo",
            Placeholder::RepoUrl => "repo_url",
            Placeholder::Ref => "ref",
            Placeholder::Branch => "branch",
            Placeholder::Tag => "tag",
            Placeholder::From => "from",
            Placeholder::To => "to",
            Placeholder::ShortSha => "short_sha",
            Placeholder::RunUrl => "run_url",
            Placeholder::RunId => "run_id",
            Placeholder::State => "state",
        }
    }

    /// The placeholder written `{name}`, if there is one.
    pub fn from_name(name: &str) -> Option<Placeholder> {
        Placeholder::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.as_str())
    }
}

/// Why a template could not be parsed. `offset` counts characters from the template's start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{name}` where `name` is not a placeholder.
    #[error("unknown placeholder `{{{name}}}` at character {offset}")]
    UnknownPlaceholder {
        /// The text between the braces.
        name: String,
        /// The closest known placeholder, if one is close.
        suggestion: Option<Placeholder>,
        /// Where the `{` is.
        offset: usize,
    },
    /// A `{` that no `}` closes.
    #[error("`{{` at character {offset} is never closed")]
    Unclosed {
        /// Where the `{` is.
        offset: usize,
    },
    /// A `}` that no `{` opened.
    #[error("`}}` at character {offset} closes nothing")]
    UnmatchedClose {
        /// Where the `}` is.
        offset: usize,
    },
}

impl TemplateError {
    /// A one-line suggestion that fixes the template.
    pub fn hint(&self) -> String {
        match self {
            TemplateError::UnknownPlaceholder {
                suggestion: Some(p),
                ..
            } => format!("did you mean `{p}`? placeholders: {}", placeholder_list()),
            TemplateError::UnknownPlaceholder { .. } => {
                format!("placeholders: {}", placeholder_list())
            }
            TemplateError::Unclosed { .. } | TemplateError::UnmatchedClose { .. } => {
                "write `{{` or `}}` for a literal brace".to_owned()
            }
        }
    }
}

fn placeholder_list() -> String {
    let names: Vec<String> = Placeholder::ALL.iter().map(|p| p.to_string()).collect();
    names.join(" ")
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(Placeholder),
}

/// A parsed template: literal text and placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; every `{name}` must be a known placeholder.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().enumerate().peekable();
        while let Some((offset, c)) = chars.next() {
            match c {
                '{' if chars.next_if(|&(_, n)| n == '{').is_some() => literal.push('{'),
                '}' if chars.next_if(|&(_, n)| n == '}').is_some() => literal.push('}'),
                '}' => return Err(TemplateError::UnmatchedClose { offset }),
                '{' => {
                    let name = read_name(&mut chars).ok_or(TemplateError::Unclosed { offset })?;
                    let field = field(&name, offset)?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(field));
                }
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            text: text.to_owned(),
            parts,
        })
    }

    /// Fills in each placeholder with `value`; a placeholder without a value renders empty.
    pub fn render(&self, value: &dyn Fn(Placeholder) -> Option<String>) -> String {
        let mut out = String::with_capacity(self.text.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Field(p) => out.push_str(&value(*p).unwrap_or_default()),
            }
        }
        out
    }

    /// Whether the template inserts `p` anywhere.
    pub fn uses(&self, p: Placeholder) -> bool {
        self.parts.contains(&Part::Field(p))
    }

    /// Whether it renders the same for every deploy (no placeholder).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Reads up to the closing `}`; `None` when the text ends first. A `{` inside a name means the
/// first brace was never closed (`{a{b}`), which is reported as such.
fn read_name(chars: &mut impl Iterator<Item = (usize, char)>) -> Option<String> {
    let mut name = String::new();
    for (_, c) in chars {
        match c {
            '}' => return Some(name),
            '{' => return None,
            _ => name.push(c),
        }
    }
    None
}

fn field(name: &str, offset: usize) -> Result<Placeholder, TemplateError> {
    Placeholder::from_name(name).ok_or_else(|| TemplateError::UnknownPlaceholder {
        name: name.to_owned(),
        suggestion: closest(name),
        offset,
    })
}

/// The known placeholder nearest to `name`, when it is near enough to be a typo.
fn closest(name: &str) -> Option<Placeholder> {
    let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
    Placeholder::ALL
        .into_iter()
        .map(|p| (strsim::jaro_winkler(&wanted, p.as_str()), p))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(p: Placeholder) -> Option<String> {
        match p {
            Placeholder::Project => Some("web".into()),
            Placeholder::ShortSha => Some("1a2b3c4".into()),
            _ => None,
        }
    }

    #[test]
    fn renders_fields_and_escaped_braces() {
        let t = Template::parse("{{x}} {project}@{short_sha}{tag}}}").unwrap();
        assert_eq!(t.render(&values), "{x} web@1a2b3c4}");
        assert!(t.uses(Placeholder::Tag));
        assert!(!t.uses(Placeholder::RunUrl));
    }

    #[test]
    fn unknown_placeholder_suggests_the_nearest() {
        let err = Template::parse("Deployed {projet}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownPlaceholder {
                name: "projet".into(),
                suggestion: Some(Placeholder::Project),
                offset: 9
            }
        );
        assert!(err.hint().starts_with("did you mean `{project}`?"));
    }

    #[test]
    fn unbalanced_braces_are_errors() {
        assert_eq!(
            Template::parse("a {project"),
            Err(TemplateError::Unclosed { offset: 2 })
        );
        assert_eq!(
            Template::parse("a {b{project}"),
            Err(TemplateError::Unclosed { offset: 2 })
        );
        assert_eq!(
            Template::parse("a } b"),
            Err(TemplateError::UnmatchedClose { offset: 2 })
        );
    }

    #[test]
    fn multibyte_text_is_kept() {
        let t = Template::parse("déployé {project} ✓").unwrap();
        assert_eq!(t.render(&values), "déployé web ✓");
    }
}
