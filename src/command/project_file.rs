//! `deploylink config check` and `deploylink init`: the project file, validated or started.

use std::io::Write;
use std::path::Path;

use super::{write, write_report, PROJECT_FILE};
use crate::command::cli::{GlobalArgs, InitArgs};
use crate::config::{self, ConfigError, Source, TrustMode};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::git::GitError;
use crate::report;

pub fn config_check(global: &GlobalArgs, rev: Option<&str>, out: &mut dyn Write) -> Result<()> {
    // Outside a repository the work tree's file can still be checked; `--rev` needs one.
    let (repo, mut open_error) = match Repo::open(global.repo.as_deref()) {
        Ok(repo) => (Some(repo), None),
        Err(error) => (None, Some(error)),
    };
    let source = match (&global.config, rev, &repo) {
        (Some(path), _, _) => config::read_source(path)?,
        (None, Some(rev), Some(repo)) => {
            let at = repo.resolve(rev)?;
            let mut source = config::file_in_commit(repo, at)?
                .ok_or_else(|| ConfigError::missing_project_file(PROJECT_FILE, &at.to_string()))?;
            source.name = format!("{PROJECT_FILE} at {rev}");
            source
        }
        (None, Some(_), None) => return Err(open_error.take().ok_or(GitError::Internal)?.into()),
        (None, None, _) => {
            let dir = repo
                .as_ref()
                .and_then(|r| r.git().workdir().map(Path::to_path_buf))
                .unwrap_or_else(|| std::path::PathBuf::from("."));
            config::read_source(&dir.join(PROJECT_FILE))?
        }
    };
    let facts = repo
        .as_ref()
        .map_or_else(config::RepoFacts::none, config::RepoFacts::of);
    let project = config::parse_project(&source, &facts)?;
    let org = config::load_trackers(
        &global.config_paths(),
        repo.as_ref().map(Repo::git_dir),
        TrustMode::Client,
    )?;
    let config = config::resolve(project, org, TrustMode::Client)?;
    for project in config.projects() {
        if let Err(e) = project.tracker() {
            log::warn!("{e}");
        }
    }
    log::info!("{}: configuration is valid", config.source_name());
    write(out, &config.effective_yaml())
}

/// `deploylink init`: a starter `.deploylink.yml` at the repository root (or here, outside
/// one), checked by the same loader as every other file before it is written.
pub fn init(global: &GlobalArgs, args: &InitArgs, out: &mut dyn Write) -> Result<()> {
    use crate::config::init::{starter_project_file, InitOptions, SchemaLine};
    const SCHEMA_FILE: &str = ".deploylink.schema.json";
    let repo = Repo::open(global.repo.as_deref()).ok();
    let dir = repo
        .as_ref()
        .and_then(|r| r.git().workdir().map(Path::to_path_buf))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    // Outside a repository, the directory it is written in.
    let facts = match &repo {
        Some(repo) => config::RepoFacts::of(repo),
        None => std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .map_or_else(config::RepoFacts::none, |n| {
                config::RepoFacts::directory(&n)
            }),
    };
    let path = dir.join(PROJECT_FILE);
    if path.exists() && !args.force {
        return Err(Error::usage(format!(
            "{} exists already\n  hint: pass --force to replace it, or `deploylink config check` to validate it",
            path.display()
        )));
    }
    let schema = match &args.schema_url {
        Some(url) => SchemaLine::Url(url.clone()),
        None => SchemaLine::LocalFile(SCHEMA_FILE.into()),
    };
    let text = starter_project_file(&InitOptions {
        tracker: args.tracker.clone(),
        project_keys: args.keys.clone(),
        branch: args.branch.clone(),
        schema,
        repository: config::identity::identify_repository(&facts),
    });
    let source = Source {
        name: path.display().to_string(),
        text: text.clone().into_bytes(),
    };
    config::parse_project(&source, &config::RepoFacts::none())?;
    if let Some(name) = &args.tracker {
        let org = config::load_trackers(&global.config_paths(), None, TrustMode::Client)
            .ok()
            .flatten();
        if org.as_ref().and_then(|o| o.tracker(name)).is_none() {
            log::warn!(
                "tracker '{name}' is not connected on this machine; `deploylink tracker connect {name} --kind jira-cloud --url https://...` connects it"
            );
        }
    }
    let write_file = |path: &Path, text: &str| {
        crate::durable::write(path, text.as_bytes(), crate::durable::Access::KeepOrShared)
            .map_err(|e| Error::io(format!("write {}", path.display()), e))
    };
    write_file(&path, &text)?;
    let mut written = vec![path];
    if args.schema_url.is_none() {
        let schema = serde_json::to_string_pretty(&config::json_schema()).unwrap_or_default();
        let schema_path = dir.join(SCHEMA_FILE);
        write_file(&schema_path, &format!("{schema}\n"))?;
        written.push(schema_path);
    }
    write_report(out, global.format, &report::Initialized { written })
}
