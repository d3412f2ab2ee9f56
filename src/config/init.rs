//! The starter `.deploylink.yml` that `deploylink init [--tracker NAME]` writes: a
//! single-project file whose comments teach the format, and which loads as it is.

use crate::config::edit::yaml_scalar;
use crate::config::identity::{Identity, IdentitySource};
use crate::config::{DEFAULT_EXEMPT, DEFAULT_LINK_TITLE, DEFAULT_LINK_URL, DEFAULT_MAX_COMMITS};

/// What `deploylink init` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// The project's tracker (`--tracker`); `None` writes `tracker:` as a comment to fill in.
    pub tracker: Option<String>,
    /// The accepted Jira project keys; empty writes `keys:` as a commented example.
    pub project_keys: Vec<String>,
    /// The branch that deploys to production.
    pub branch: String,
    /// Where editors find the JSON Schema.
    pub schema: SchemaLine,
    /// The repository's identity, written as `repository:` (see `config::identity`).
    pub repository: Identity,
}

impl Default for InitOptions {
    fn default() -> InitOptions {
        InitOptions {
            tracker: None,
            project_keys: Vec::new(),
            branch: "main".to_owned(),
            schema: SchemaLine::LocalFile(".deploylink.schema.json".to_owned()),
            repository: crate::config::identity::identify_repository(
                &crate::config::RepoFacts::none(),
            ),
        }
    }
}

/// The `# yaml-language-server: $schema=...` line: where editors find the JSON Schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaLine {
    /// A file beside `.deploylink.yml`, like `.deploylink.schema.json` (what `deploylink
    /// schema` prints; writing it is the caller's business).
    LocalFile(String),
    /// The published schema's URL.
    Url(String),
}

/// The starter project file. The names and keys are written as given; the caller checks them
/// (the file is only valid if they are: `parse_project` says why when they are not).
pub fn starter_project_file(options: &InitOptions) -> String {
    let schema = match &options.schema {
        SchemaLine::LocalFile(path) => path,
        SchemaLine::Url(url) => url,
    };
    // A line break would end the comment.
    let schema: String = schema.chars().filter(|c| !c.is_control()).collect();
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(&format!("# yaml-language-server: $schema={schema}"));
    line(
        "# deploylink: which Jira issues each deploy of this repository ships, and what it writes",
    );
    line("# on them. `deploylink config check` validates this file and prints every default;");
    line("# `deploylink plan` shows what a deploy would write, without writing it.");
    line("version: 1");
    line("");
    line("# The repository's identity: it names the repository in every id deploylink writes");
    line("# (remote links, deployment records, refs/deploylink/...) and names this project, so");
    line("# every clone gives the same ids whatever its directory is called.");
    let found = match options.repository.source() {
        IdentitySource::Origin => Some("the `origin` remote's URL"),
        IdentitySource::Ci(_) => Some("the CI's repository variable"),
        IdentitySource::Directory => Some("the directory's name: write your host's owner/name"),
        IdentitySource::Unknown => Some("nothing: write your host's owner/name"),
        IdentitySource::RepositoryField | IdentitySource::RepoUrl => None,
    };
    if let Some(found) = found {
        line(&format!("# Taken from {found}."));
    }
    line(&format!(
        "repository: {}",
        yaml_scalar(options.repository.name())
    ));
    line("");
    line("# The tracker (a Jira site connected with `deploylink tracker connect`) that this");
    line("# project's issues live in.");
    match &options.tracker {
        Some(tracker) => line(&format!("tracker: {}", yaml_scalar(tracker))),
        None => {
            line(
                "# Run `deploylink tracker list` to see the connected trackers, and set one here:",
            );
            line("# tracker: acme");
        }
    }
    line("");
    line("# The issue keys of this project, found in commit messages (WEB-12).");
    if options.project_keys.is_empty() {
        line("# Without `keys:`, any key that looks like ABC-123 is taken. To accept only yours:");
        line("# keys:");
        line("#   projects: [WEB, OPS]          # the accepted Jira project keys");
        line("#   ignore: [\"^WEB-0$\"]           # regexes of keys to drop");
        line("#   case_insensitive: true        # also accept web-12, reported as WEB-12");
    } else {
        let keys: Vec<String> = options
            .project_keys
            .iter()
            .map(|k| yaml_scalar(k))
            .collect();
        line("keys:");
        line(&format!(
            "  projects: [{}]{}# the accepted Jira project keys",
            keys.join(", "),
            padding(keys.join(", ").len() + 14, 34)
        ));
        line("  # ignore: [\"^WEB-0$\"]           # regexes of keys to drop");
        line("  # case_insensitive: true        # also accept web-12, reported as WEB-12");
    }
    line("");
    line("# Where the project deploys: each environment lists the full ref names (globs) that");
    line("# deploy to it. `type` is Jira's: production, staging, testing, development, unmapped.");
    line("environments:");
    line("  production:");
    let branch_ref = yaml_scalar(&format!("refs/heads/{}", options.branch));
    line(&format!("    refs: [{branch_ref}, \"refs/tags/v*\"]"));
    line("    type: production");
    line("  # staging:");
    line("  #   refs: [\"refs/heads/release/*\"]");
    line("  #   type: staging");
    line("");
    line("# What is written on each issue of a deploy:");
    line("#   remote-link  a link to the deploy (Jira Cloud and Data Center; needs only the");
    line("#                tracker's token)");
    line("#   deployment   a Jira Software deployment record (Jira Cloud; the tracker needs");
    line("#                `deployments:` OAuth client credentials)");
    line("#   comment      a comment on each issue, once per deploy");
    line("actions: [remote-link]");
    line("");
    line("# What the client hooks (`deploylink install-hook pre-push` and `commit-msg`) enforce.");
    line("validate:");
    line("  require: every-commit           # every-commit | one-per-push | none");
    let exempt: Vec<String> = DEFAULT_EXEMPT.iter().map(|e| format!("\"{e}\"")).collect();
    line(&format!(
        "  exempt: [{}]   # messages that need no key",
        exempt.join(", ")
    ));
    line("  check_exists: false             # also ask Jira that the issues exist (needs credentials)");
    line("");
    line(
        "# The remote link on each issue. Placeholders: {project} {environment} {repo} {repo_url}",
    );
    line("# {ref} {branch} {tag} {from} {to} {short_sha} {run_url} {run_id} {state};");
    line("# {{ and }} write a brace.");
    line("link:");
    line(&format!("  title: \"{DEFAULT_LINK_TITLE}\""));
    let url = format!("  url: \"{DEFAULT_LINK_URL}\"");
    line(&format!(
        "{url}{}# or \"{{repo_url}}/compare/{{from}}...{{to}}\", with repo_url: below",
        padding(url.len(), 34)
    ));
    line("# repo_url: https://github.com/acme/web");
    line("");
    line("# A deploy whose range holds more commits than this writes nothing and warns (a first");
    line("# push of an old history, a wrong base).");
    line(&format!("max_commits: {DEFAULT_MAX_COMMITS}"));
    out
}

/// Spaces that bring a line of `len` characters to column `column` (at least two).
fn padding(len: usize, column: usize) -> String {
    " ".repeat(column.saturating_sub(len).max(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_project, parse_trackers, resolve, Source, TrustMode};

    const TRACKERS: &str = "version: 1\ntrackers:\n  acme:\n    kind: jira-cloud\n    url: https://acme.atlassian.net\n    auth:\n      user_env: JIRA_USER\n      token_env: JIRA_API_TOKEN\n";

    fn options(tracker: bool, keys: bool, url: bool) -> InitOptions {
        InitOptions {
            tracker: tracker.then(|| "acme".to_owned()),
            project_keys: if keys {
                vec!["WEB".into(), "OPS".into()]
            } else {
                Vec::new()
            },
            branch: "main".into(),
            schema: if url {
                SchemaLine::Url("https://example.com/deploylink/config.schema.json".into())
            } else {
                SchemaLine::LocalFile(".deploylink.schema.json".into())
            },
            repository: crate::config::identity::identify_repository(
                &crate::config::RepoFacts::directory("web"),
            ),
        }
    }

    #[test]
    fn every_combination_loads_and_resolves() {
        for tracker in [true, false] {
            for keys in [true, false] {
                for url in [true, false] {
                    let opts = options(tracker, keys, url);
                    let text = starter_project_file(&opts);
                    let src = Source {
                        name: ".deploylink.yml".into(),
                        text: text.clone().into_bytes(),
                    };
                    let file = parse_project(&src, &crate::config::RepoFacts::none())
                        .unwrap_or_else(|e| panic!("{e}\n{text}"));
                    let org = parse_trackers(&Source {
                        name: "trackers.yml".into(),
                        text: TRACKERS.into(),
                    })
                    .unwrap();
                    let config = resolve(file, Some(org), TrustMode::Client)
                        .unwrap_or_else(|e| panic!("{e}\n{text}"));
                    let project = config.project("web").unwrap();
                    assert_eq!(project.tracker().is_ok(), tracker, "{text}");
                    let expected_keys: &[&str] = if keys { &["WEB", "OPS"] } else { &[] };
                    assert_eq!(project.key_rules_spec().projects, expected_keys);
                    let first = text.lines().next().unwrap();
                    let schema = if url {
                        "https://example.com/"
                    } else {
                        ".deploylink.schema.json"
                    };
                    assert!(
                        first.starts_with(&format!("# yaml-language-server: $schema={schema}")),
                        "{first}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_branch_deploys_to_production() {
        let mut opts = options(true, true, false);
        opts.branch = "release/*".into();
        let text = starter_project_file(&opts);
        assert!(
            text.contains("refs: [\"refs/heads/release/*\", \"refs/tags/v*\"]"),
            "{text}"
        );
        let file = parse_project(
            &Source {
                name: ".deploylink.yml".into(),
                text: text.into_bytes(),
            },
            &crate::config::RepoFacts::none(),
        )
        .unwrap();
        let project = &file.projects()[0];
        assert_eq!(
            project
                .environment_for_ref("refs/heads/release/2")
                .map(|e| e.name.as_str()),
            Some("production")
        );
        assert!(project.environment_for_ref("refs/tags/v1.0").is_some());
        assert!(project.environment_for_ref("refs/heads/main").is_none());
    }

    #[test]
    fn without_a_tracker_it_says_how_to_choose_one() {
        let text = starter_project_file(&options(false, false, false));
        assert!(text.contains("`deploylink tracker list`"), "{text}");
        assert!(text.contains("\n# tracker: acme\n"), "{text}");
        assert!(!text.contains("\ntracker:"), "{text}");
        assert!(text.contains("\n# keys:\n"), "{text}");
    }

    #[test]
    fn it_is_one_project_at_the_top_level() {
        let text = starter_project_file(&InitOptions::default());
        assert!(!text.contains("projects:\n"), "{text}");
        for field in [
            "version",
            "environments",
            "actions",
            "validate",
            "link",
            "max_commits",
        ] {
            assert!(text.contains(&format!("\n{field}:")), "{field}: {text}");
        }
        assert!(
            text.lines()
                .filter(|l| l.trim_start().starts_with('#'))
                .count()
                > 20
        );
    }
}
