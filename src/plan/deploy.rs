//! Which deploys a command line or a pushed ref means: the (project, environment) pairs.

use crate::config::{Config, Environment, Project};
use crate::error::{Error, Result};

/// The deploys of one deployed ref: every selected project with an environment that is named
/// by `--environment` or whose `refs` match the ref. An unmapped ref is "nothing to do".
pub fn targets<'c>(
    config: &'c Config,
    projects: &[String],
    environment: Option<&str>,
    refname: Option<&str>,
) -> Result<Vec<(&'c Project, &'c Environment)>> {
    let selected = select_projects(config, projects)?;
    let mut targets = Vec::new();
    for project in &selected {
        let found = match (environment, refname) {
            (Some(name), _) => project.environments().iter().find(|e| e.name == name),
            (None, Some(refname)) => project.environment_for_ref(refname),
            (None, None) => {
                return Err(Error::usage(
                    "cannot tell which environment this deploy goes to: --to is not a ref\n  \
                     hint: pass --environment ENV, or --ref REF (e.g. --ref refs/heads/main)",
                ))
            }
        };
        match found {
            Some(env) => targets.push((*project, env)),
            None if environment.is_some() && !projects.is_empty() => {
                return Err(unknown_environment(
                    project,
                    environment.unwrap_or_default(),
                ))
            }
            None => {}
        }
    }
    if targets.is_empty() {
        if let Some(name) = environment {
            let all: Vec<&str> = selected
                .iter()
                .flat_map(|p| p.environments().iter().map(|e| e.name.as_str()))
                .collect();
            return Err(Error::usage(format!(
                "no project defines environment '{name}'{}\n  hint: the environments are: {}",
                did_you_mean(name, &all),
                all.join(", ")
            )));
        }
        log::warn!(
            "{} maps to no environment of any project: nothing to do",
            refname.unwrap_or("the deployed commit")
        );
    }
    Ok(targets)
}

fn select_projects<'c>(config: &'c Config, names: &[String]) -> Result<Vec<&'c Project>> {
    if names.is_empty() {
        return Ok(config.projects().iter().collect());
    }
    names
        .iter()
        .map(|name| {
            config.project(name).ok_or_else(|| {
                let all: Vec<&str> = config.projects().iter().map(Project::name).collect();
                Error::usage(format!(
                    "no project '{name}' in {}{}\n  hint: the projects are: {}",
                    config.source_name(),
                    did_you_mean(name, &all),
                    all.join(", ")
                ))
            })
        })
        .collect()
}

fn unknown_environment(project: &Project, name: &str) -> Error {
    let all: Vec<&str> = project
        .environments()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    Error::usage(format!(
        "project '{}' has no environment '{name}'{}\n  hint: its environments are: {}",
        project.name(),
        did_you_mean(name, &all),
        all.join(", ")
    ))
}

/// " (did you mean 'x'?)" when one of `candidates` is near enough to `name` to be a typo.
fn did_you_mean(name: &str, candidates: &[&str]) -> String {
    crate::config::did_you_mean(name, candidates)
        .map(|c| format!(" (did you mean '{c}'?)"))
        .unwrap_or_default()
}
