//! The repository's identity `{repo}`: the one rule that names the repository in everything
//! deploylink writes (the remote links' `globalId`, the deployment records' pipeline id, the
//! `refs/deploylink/...` records, the comment's property entry, spool file names), so that
//! every clone of a repository gives the same ids whatever its directory is called.
//!
//! In this order, the first that gives a name wins:
//! 1. the project file's top-level `repository:` (`acme/shop`), as written;
//! 2. the path of the project file's `repo_url:` (`https://git.example.com/acme/shop`);
//! 3. the path of the `origin` remote's URL (https, ssh, scp-like, with or without `.git`);
//! 4. the CI's repository variable (`GITHUB_REPOSITORY`, `CI_PROJECT_PATH`, ...);
//! 5. the directory's name, without `.git` and without a Jenkins workspace suffix (`shop@2`
//!    gives `shop`), with a warning on every run that names `repository:` as the fix.
//!
//! An identity is one or more `/`-separated segments, each a name that fits in a git ref name
//! (letters, digits, `_`, `-`, `.`), so the single-project form can use it as its project name
//! and `refs/deploylink/acme/shop/production` is a valid ref. What steps 2 to 5 find is brought
//! to that form: lower case (hosts compare repository paths without case), other characters
//! become `-`. `docs/decisions.md` says why this order.

use std::sync::Once;

use crate::ci::CiRepository;
use crate::git::remote::url_path;
use crate::git::Repo;

/// The longest identity, in bytes: room for a host's group path, well inside the 255
/// characters of a `globalId` or a pipeline id.
pub const MAX_IDENTITY_CHARS: usize = 128;

/// Each segment's limit, the same as a project name's.
const MAX_SEGMENT_CHARS: usize = 64;

/// Where the identity came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    /// The project file's `repository:`.
    RepositoryField,
    /// The path of the project file's `repo_url:`.
    RepoUrl,
    /// The path of the `origin` remote's URL.
    Origin,
    /// The CI's variable, by name.
    Ci(&'static str),
    /// The repository's directory name.
    Directory,
    /// Nothing named the repository (a file checked outside any repository).
    Unknown,
}

/// The repository's identity, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    name: String,
    source: IdentitySource,
}

impl Identity {
    /// `{repo}`: `acme/shop`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> &IdentitySource {
        &self.source
    }

    /// Where it came from, as a phrase (`the origin remote's URL`); never a URL itself, which
    /// may hold credentials.
    pub fn describe_source(&self) -> String {
        match &self.source {
            IdentitySource::RepositoryField => "the project file's `repository:`".into(),
            IdentitySource::RepoUrl => "the path of the project file's `repo_url:`".into(),
            IdentitySource::Origin => "the path of the `origin` remote's URL".into(),
            IdentitySource::Ci(variable) => format!("the CI's ${variable}"),
            IdentitySource::Directory => "the repository's directory name".into(),
            IdentitySource::Unknown => "nothing (no repository, no `repository:`)".into(),
        }
    }

    /// The warning every run gives when no name more stable than the directory's was found.
    pub fn warning(&self) -> Option<String> {
        matches!(
            self.source,
            IdentitySource::Directory | IdentitySource::Unknown
        )
        .then(|| {
            format!(
                "the repository is identified as '{}' from {}, which another clone may not share: \
                 its ids (remote links, deployment records, refs/deploylink records) would differ; \
                 write `repository: {}` (or your host's `owner/name`) at the top of .deploylink.yml",
                self.name,
                self.describe_source(),
                super::edit::yaml_scalar(&self.name)
            )
        })
    }
}

/// What the repository and its environment say about its name, besides the project file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoFacts {
    /// `remote.origin.url`, as configured.
    pub origin_url: Option<String>,
    /// The CI's repository variable, when running in a known CI.
    pub ci: Option<CiRepository>,
    /// The repository's directory name (`shop.git`, `shop@2`, `shop`).
    pub directory: Option<String>,
}

impl RepoFacts {
    /// What `repo` and this process's environment say.
    pub fn of(repo: &Repo) -> RepoFacts {
        let env = |name: &str| std::env::var(name).ok();
        RepoFacts {
            origin_url: repo
                .git()
                .find_remote("origin")
                .ok()
                .and_then(|r| r.url().ok().map(str::to_owned)),
            ci: crate::ci::repository(&env),
            directory: Some(repo.directory_name()),
        }
    }

    /// No repository: a file checked on its own.
    pub fn none() -> RepoFacts {
        RepoFacts::default()
    }

    /// Only a directory name (`shop`, `shop@2`): for tests and tools that have no repository.
    pub fn directory(name: &str) -> RepoFacts {
        RepoFacts {
            directory: Some(name.to_owned()),
            ..RepoFacts::default()
        }
    }
}

/// The identity the repository has without a project file's help: for `deploylink init`,
/// which writes it as `repository:`.
pub fn identify_repository(facts: &RepoFacts) -> Identity {
    identify(None, None, facts)
}

/// Logs [`Identity::warning`], once per run: a hook plans every pushed ref with the same file.
pub(crate) fn warn_once(identity: &Identity) {
    if let Some(warning) = identity.warning() {
        static WARNED: Once = Once::new();
        WARNED.call_once(|| log::warn!("{warning}"));
    }
}

/// The identity, by the order of this module. `repository` is the project file's field,
/// already checked by [`check_identity`]; `repo_url` its `repo_url:`.
pub(crate) fn identify(
    repository: Option<&str>,
    repo_url: Option<&str>,
    facts: &RepoFacts,
) -> Identity {
    let found =
        |name: Option<String>, source: IdentitySource| name.map(|name| Identity { name, source });
    found(
        repository.map(str::to_owned),
        IdentitySource::RepositoryField,
    )
    .or_else(|| {
        found(
            repo_url.and_then(url_path).and_then(|p| normalize(&p)),
            IdentitySource::RepoUrl,
        )
    })
    .or_else(|| {
        found(
            facts
                .origin_url
                .as_deref()
                .and_then(url_path)
                .and_then(|p| normalize(&p)),
            IdentitySource::Origin,
        )
    })
    .or_else(|| {
        let ci = facts.ci.as_ref()?;
        found(normalize(&ci.value), IdentitySource::Ci(ci.variable))
    })
    .or_else(|| {
        found(
            facts.directory.as_deref().and_then(directory_identity),
            IdentitySource::Directory,
        )
    })
    .unwrap_or_else(|| Identity {
        name: "repository".into(),
        source: IdentitySource::Unknown,
    })
}

/// A directory's name as an identity: without `.git` and without what follows an `@` (Jenkins
/// names concurrent workspaces `shop@2`, and its helpers `shop@tmp`).
fn directory_identity(directory: &str) -> Option<String> {
    let name = directory.strip_suffix(".git").unwrap_or(directory);
    let name = match name.split_once('@') {
        Some((before, _)) if !before.is_empty() => before,
        _ => name,
    };
    normalize(name)
}

/// A found path in the identity's form: lower case, each character outside letters, digits,
/// `_`, `-` and `.` as `-`, each segment trimmed to the form of a ref component; only the
/// last segments that fit in [`MAX_IDENTITY_CHARS`]. `None` when nothing is left.
fn normalize(path: &str) -> Option<String> {
    let segments: Vec<String> = path.split('/').filter_map(normalize_segment).collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut len = 0;
    for segment in segments.iter().rev() {
        let added = segment.len() + usize::from(!kept.is_empty());
        if len + added > MAX_IDENTITY_CHARS {
            break;
        }
        len += added;
        kept.push(segment);
    }
    kept.reverse();
    let name = kept.join("/");
    check_identity(&name).is_ok().then_some(name)
}

fn normalize_segment(segment: &str) -> Option<String> {
    let mut text: String = segment
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '_' | '-' | '.' => c,
            _ => '-',
        })
        .collect();
    while text.contains("..") {
        text = text.replace("..", ".");
    }
    let mut text = text.trim_start_matches(['.', '-']).to_owned();
    text.truncate(MAX_SEGMENT_CHARS);
    loop {
        let trimmed = text.trim_end_matches('.');
        let trimmed = trimmed.strip_suffix(".lock").unwrap_or(trimmed);
        if trimmed.len() == text.len() {
            break;
        }
        text = trimmed.to_owned();
    }
    (!text.is_empty()).then_some(text)
}

/// Checks an identity as written in `repository:`: `/`-separated segments, each a name that
/// fits in a git ref name. The error is a message and a hint.
pub(crate) fn check_identity(value: &str) -> Result<(), (String, String)> {
    let hint = || {
        format!(
            "write the repository's path on its host, like `acme/shop`: segments of letters, digits, `_`, `-` or `.` separated by `/`, each starting with a letter, digit or `_`, at most {MAX_IDENTITY_CHARS} characters in all (it becomes part of git ref names and Jira ids)"
        )
    };
    let problem = if value.is_empty() {
        Some("is empty".to_owned())
    } else if value.len() > MAX_IDENTITY_CHARS {
        Some(format!("is longer than {MAX_IDENTITY_CHARS} characters"))
    } else if value.starts_with('/') || value.ends_with('/') || value.contains("//") {
        Some("has an empty segment (a leading, trailing or double `/`)".to_owned())
    } else {
        value
            .split('/')
            .find_map(|segment| super::names::check_name(segment, "repository").err())
            .map(|_| "is not a repository path".to_owned())
    };
    match problem {
        Some(problem) => Err((format!("{} {problem}", super::error::quoted(value)), hint())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(origin: Option<&str>, ci: Option<&str>, directory: Option<&str>) -> RepoFacts {
        RepoFacts {
            origin_url: origin.map(str::to_owned),
            ci: ci.map(|value| CiRepository {
                variable: "GITHUB_REPOSITORY",
                value: value.to_owned(),
            }),
            directory: directory.map(str::to_owned),
        }
    }

    fn name_and_source(identity: Identity) -> (String, IdentitySource) {
        (identity.name, identity.source)
    }

    #[test]
    fn each_step_wins_over_the_later_ones() {
        let all = facts(
            Some("git@github.com:acme/from-origin.git"),
            Some("acme/from-ci"),
            Some("from-dir"),
        );
        let cases = [
            (
                Some("acme/field"),
                Some("https://git.example.com/acme/url"),
                &all,
                "acme/field",
                IdentitySource::RepositoryField,
            ),
            (
                None,
                Some("https://git.example.com/acme/url"),
                &all,
                "acme/url",
                IdentitySource::RepoUrl,
            ),
            (None, None, &all, "acme/from-origin", IdentitySource::Origin),
        ];
        for (field, url, facts, name, source) in cases {
            assert_eq!(
                name_and_source(identify(field, url, facts)),
                (name.to_owned(), source)
            );
        }
        let ci = facts(None, Some("acme/from-ci"), Some("from-dir"));
        assert_eq!(
            name_and_source(identify(None, None, &ci)),
            (
                "acme/from-ci".to_owned(),
                IdentitySource::Ci("GITHUB_REPOSITORY")
            )
        );
        let dir = facts(None, None, Some("from-dir"));
        assert_eq!(
            name_and_source(identify(None, None, &dir)),
            ("from-dir".to_owned(), IdentitySource::Directory)
        );
        assert_eq!(
            identify(None, None, &RepoFacts::none()).source,
            IdentitySource::Unknown
        );
    }

    #[test]
    fn only_the_directory_warns() {
        let dir = identify(None, None, &facts(None, None, Some("shop")));
        assert!(dir.warning().unwrap().contains("repository: shop"));
        let origin = identify(
            None,
            None,
            &facts(Some("/srv/git/shop.git"), None, Some("x")),
        );
        assert_eq!(origin.warning(), None);
    }

    #[test]
    fn directories_lose_git_and_jenkins_suffixes() {
        for (dir, expected) in [
            ("shop", Some("shop")),
            ("shop.git", Some("shop")),
            ("shop@2", Some("shop")),
            ("shop@tmp", Some("shop")),
            ("Shop", Some("shop")),
            (".tmpAb12", Some("tmpab12")),
            ("@2", Some("2")),
            ("my shop", Some("my-shop")),
            ("...", None),
        ] {
            assert_eq!(directory_identity(dir).as_deref(), expected, "{dir}");
        }
    }

    #[test]
    fn found_paths_fit_in_refs() {
        for (path, expected) in [
            ("acme/shop", Some("acme/shop")),
            (
                "Acme/Web%20Shop/_git/shop",
                Some("acme/web-20shop/_git/shop"),
            ),
            ("acme/.hidden/x.lock", Some("acme/hidden/x")),
            ("a..b/c.", Some("a.b/c")),
            ("~user/shop", Some("user/shop")),
            ("//", None),
        ] {
            assert_eq!(normalize(path).as_deref(), expected, "{path}");
        }
        let long = format!("{}/{}/shop", "a".repeat(64), "b".repeat(64));
        assert_eq!(normalize(&long), Some(format!("{}/shop", "b".repeat(64))));
        for found in ["acme/shop", "x", "a.b/c_d-e"] {
            assert!(check_identity(found).is_ok(), "{found}");
        }
    }

    #[test]
    fn written_identities_are_checked() {
        for bad in [
            "",
            "/acme/shop",
            "acme/shop/",
            "acme//shop",
            "acme/.x",
            "a b",
            "acme:shop",
            "acme/shop.lock",
            "acme/sh..op",
            "é",
        ] {
            assert!(check_identity(bad).is_err(), "{bad}");
        }
        assert!(check_identity(&"a".repeat(129)).is_err());
        assert!(check_identity("Acme/Shop").is_ok());
    }
}
