//! `deploylink tracker connect|list|disconnect` (SPEC 3.4): the organization file, edited
//! from the command line, with each tracker's credentials checked live against Jira.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::cli::{ConnectArgs, GlobalArgs, TrackerCommand};
use crate::config::edit::{self, NewTracker};
use crate::config::{self, SecretRef, Source, Tracker, TrustMode};
use crate::deliver::Session;
use crate::durable::{self, Access};
use crate::error::{Error, Result};
use crate::jira::client::{Attempt, Body, Method, Request, RequestAuth};
use crate::jira::response;
use crate::report::{Connected, Disconnected, TrackerCheck, TrackerList, TrackerRow};

pub fn run(global: &GlobalArgs, command: TrackerCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        TrackerCommand::Connect(args) => connect(global, &args, out),
        TrackerCommand::List { check } => list(global, check, out),
        TrackerCommand::Disconnect { name } => disconnect(global, &name, out),
    }
}

/// The organization file to edit: `--trackers`, `$DEPLOYLINK_TRACKERS`, else the first of the
/// user's locations that exists, else `~/.config/deploylink/trackers.yml`.
fn organization_file(global: &GlobalArgs) -> Result<PathBuf> {
    let env = |name: &str| std::env::var(name).ok();
    let candidates =
        config::trackers_file_candidates(global.trackers.as_deref(), &env, None, TrustMode::Client);
    let chosen = candidates
        .iter()
        .find(|c| c.is_explicit() || c.path().exists())
        .or_else(|| candidates.first());
    chosen.map(|c| c.path().to_path_buf()).ok_or_else(|| {
        Error::usage(
            "cannot tell where the organization file is: HOME is not set\n  \
             hint: pass --trackers FILE or set DEPLOYLINK_TRACKERS",
        )
    })
}

fn read_existing(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(config::ConfigError::unreadable(path, &e).into()),
    }
}

fn secret(env: &Option<String>, file: &Option<PathBuf>) -> Option<SecretRef> {
    match (env, file) {
        (Some(name), _) => Some(SecretRef::Env(name.clone())),
        (None, Some(path)) => Some(SecretRef::File(path.clone())),
        (None, None) => None,
    }
}

fn connect(global: &GlobalArgs, args: &ConnectArgs, out: &mut dyn Write) -> Result<()> {
    let path = organization_file(global)?;
    let name = path.display().to_string();
    let token = secret(&args.token_env, &args.token_file)
        .ok_or_else(|| Error::usage("give --token-env VAR or --token-file PATH"))?;
    let new = NewTracker {
        name: args.name.clone(),
        kind: args.kind,
        url: args.url.trim_end_matches('/').to_owned(),
        user: secret(&args.user_env, &args.user_file),
        token,
        deployments: args
            .client_id_env
            .clone()
            .zip(args.client_secret_env.clone())
            .map(|(id, secret)| (SecretRef::Env(id), SecretRef::Env(secret))),
        ca_file: args.ca_file.clone(),
        max_concurrency: args.max_concurrency,
    };
    let existing = read_existing(&path)?;
    // The new text is validated as deploylink reads it before anything is checked or written.
    let text = edit::upsert_tracker(existing.as_deref(), &name, &new)?;
    let parsed = config::parse_trackers(&Source {
        name: name.clone(),
        text: text.clone().into_bytes(),
    })?;
    let tracker = parsed.tracker(&args.name).ok_or_else(|| {
        Error::internal(format!("tracker '{}' missing after the edit", args.name))
    })?;
    let who = check(tracker)?;
    durable::write(&path, text.as_bytes(), Access::KeepOrShared)
        .map_err(|e| Error::io(format!("write {name}"), e))?;
    let replaced = existing
        .as_deref()
        .and_then(|t| edit::tracker_names(t, &name).ok())
        .is_some_and(|names| names.contains(&args.name));
    let connected = Connected {
        tracker: args.name.clone(),
        connected_as: who,
        file: name,
        replaced,
    };
    super::write_report(out, global.format, &connected)
}

fn list(global: &GlobalArgs, check_now: bool, out: &mut dyn Write) -> Result<()> {
    let path = organization_file(global)?;
    let Some(text) = read_existing(&path)? else {
        log::warn!(
            "no organization file at {}: no tracker is connected; `deploylink tracker connect` adds one",
            path.display()
        );
        let none = TrackerList {
            trackers: Vec::new(),
        };
        return super::write_report(out, global.format, &none);
    };
    let name = path.display().to_string();
    let file = config::parse_trackers(&Source {
        name: name.clone(),
        text: text.clone().into_bytes(),
    })?;
    // In the file's order, as people wrote them.
    let order = edit::tracker_names(&text, &name).unwrap_or_default();
    let mut trackers: Vec<&Tracker> = file.trackers().iter().collect();
    trackers.sort_by_key(|t| {
        order
            .iter()
            .position(|n| *n == t.name)
            .unwrap_or(usize::MAX)
    });
    let rows = trackers
        .into_iter()
        .map(|tracker| TrackerRow {
            name: tracker.name.clone(),
            kind: tracker.kind.as_str(),
            url: tracker.url.clone(),
            credentials: credentials_used(tracker),
            check: check_now
                .then(|| TrackerCheck::new(check(tracker).as_deref().map_err(ToString::to_string))),
        })
        .collect();
    let list = TrackerList { trackers: rows };
    super::write_report(out, global.format, &list)?;
    let failures = list.failures();
    if failures > 0 {
        return Err(Error::TrackerCheck {
            message: format!(
                "{failures} of {} trackers failed the check",
                list.trackers.len()
            ),
            credentials: false,
        });
    }
    Ok(())
}

/// `<from $JIRA_USER>, <from $JIRA_API_TOKEN>` and the OAuth pair, if any.
fn credentials_used(tracker: &Tracker) -> String {
    let mut parts: Vec<String> = tracker.auth.user.iter().map(ToString::to_string).collect();
    parts.push(tracker.auth.token.to_string());
    if let Some(d) = &tracker.deployments {
        parts.push(format!("deployments: {} {}", d.client_id, d.client_secret));
    }
    parts.join(", ")
}

fn disconnect(global: &GlobalArgs, name: &str, out: &mut dyn Write) -> Result<()> {
    let path = organization_file(global)?;
    let file_name = path.display().to_string();
    let Some(existing) = read_existing(&path)? else {
        return Err(Error::usage(format!(
            "no organization file at {file_name}, so tracker '{name}' is not connected"
        )));
    };
    let text = edit::remove_tracker(&existing, &file_name, name)?;
    durable::write(&path, text.as_bytes(), Access::KeepOrShared)
        .map_err(|e| Error::io(format!("write {file_name}"), e))?;
    let disconnected = Disconnected {
        tracker: name.to_owned(),
        file: file_name,
        projects_using_it: projects_using(global, name),
    };
    super::write_report(out, global.format, &disconnected)
}

/// The projects of the repository around the current directory (its work tree's
/// `.deploylink.yml`, else HEAD's) that name `tracker`; empty outside a repository.
fn projects_using(global: &GlobalArgs, tracker: &str) -> Vec<String> {
    let Ok(repo) = crate::git::repo::Repo::open(global.repo.as_deref()) else {
        return Vec::new();
    };
    let from_tree = repo
        .git()
        .workdir()
        .map(|dir| dir.join(super::PROJECT_FILE))
        .and_then(|path| crate::config::read_source(&path).ok())
        .map(|source| source.text);
    let from_head = || {
        let head = repo.resolve("HEAD").ok()?;
        let source = crate::config::file_in_commit(&repo, head).ok()??;
        Some(source.text)
    };
    let Some(text) = from_tree.or_else(from_head) else {
        return Vec::new();
    };
    let source = Source {
        name: super::PROJECT_FILE.into(),
        text,
    };
    match config::parse_project(&source, &config::RepoFacts::of(&repo)) {
        Ok(file) => file
            .projects()
            .iter()
            .filter(|p| file.tracker_of(p) == Some(tracker))
            .map(|p| p.name().to_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// `GET /rest/api/{3|2}/myself` with the tracker's credentials: the account's display name,
/// or an error that tells 401 from 403 from unreachable from a TLS failure.
pub fn check(tracker: &Tracker) -> Result<String> {
    let session = Session::open(tracker, false)?;
    let url = format!(
        "{}/rest/api/{}/myself",
        tracker.url,
        tracker.kind.rest_api_version()
    );
    let attempt = session.http.send(&Request {
        method: Method::Get,
        url: &url,
        auth: RequestAuth::Site(&session.auth),
        body: Body::None,
        timeout: Duration::from_secs(15),
    });
    let failure = |message: String, credentials: bool| Error::TrackerCheck {
        message,
        credentials,
    };
    match attempt {
        Attempt::Response(r) if r.status == 200 => {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            let who = ["displayName", "name", "emailAddress", "accountId"]
                .iter()
                .find_map(|k| body[k].as_str())
                .ok_or_else(|| {
                    failure(
                        format!("{url} answered 200 but not with a Jira user: is {} a Jira site?", tracker.url),
                        true,
                    )
                })?;
            Ok(who.to_owned())
        }
        Attempt::Response(r) if r.status == 401 || r.status == 403 => {
            Err(failure(response::refusal(tracker, &r), true))
        }
        Attempt::Response(r) if r.status == 404 => Err(failure(
            format!(
                "{url}: {}: there is no Jira REST API at this URL; check --url (a Data Center site \
                 behind a context path needs it, e.g. https://host/jira) and --kind",
                response::describe(&r)
            ),
            true,
        )),
        Attempt::Response(r) => Err(failure(format!("{url}: {}", response::describe(&r)), false)),
        Attempt::ConnectFailed { reason, tls: true } => Err(failure(
            format!(
                "TLS failure talking to {}: {reason}\n  hint: if the site uses a private certificate \
                 authority, pass --ca-file PEM",
                tracker.url
            ),
            false,
        )),
        Attempt::ConnectFailed { reason, .. } => Err(failure(
            format!("cannot reach {}: {reason}\n  hint: check the URL, the network and any proxy (HTTPS_PROXY)", tracker.url),
            false,
        )),
        Attempt::Interrupted { reason } => Err(failure(format!("{url}: no answer: {reason}"), false)),
    }
}
