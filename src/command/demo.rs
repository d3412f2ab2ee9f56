//! `deploylink demo`: a sample repository with a realistic history, and its plan.
//!
//! The repository is built with libgit2 (no `git` binary needed) in a temporary directory:
//! keys of two Jira projects (WEB and OPS), a pull-request merge, a revert, two release tags,
//! and tokens that look like keys but are not (`UTF-8`, `SHA-256`, a CVE id).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use git2::{FileMode, Oid, Repository, Signature, Time};

use crate::config::{self, Source, TrustMode};
use crate::deliver::Sink;
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::plan::{self, BaseRule, DeployTarget, RunInfo};
use crate::range::WalkOptions;
use crate::report::Format;

const PROJECT_FILE: &str = r#"# The project file, versioned with the code.
version: 1
default_tracker: acme
repo_url: https://git.example.com/acme/shop
projects:
  shop:
    keys:
      projects: [WEB, OPS]
    environments:
      production: { refs: [refs/heads/main, "refs/tags/v*"], type: production }
      staging: { refs: ["refs/heads/release/*"], type: staging }
    actions: [remote-link, deployment, comment, fix-version, transition]
    fix_version: { name: "{tag}" }
    transition:
      production: { to: [In Progress, In Review, Done] }
    link:
      title: "Deployed {project} {short_sha} to {environment}"
      url: "{repo_url}/compare/{from}...{to}"
"#;

/// Builds the sample history; returns the repository.
pub fn build(dir: &Path) -> Result<Repository> {
    let git =
        |e: git2::Error| Error::usage(format!("cannot build the demo repository: {}", e.message()));
    let repo = Repository::init_bare(dir.join("shop.git")).map_err(git)?;
    let mut history = History {
        repo: &repo,
        files: BTreeMap::new(),
        time: 1_767_225_600,
    };
    history.files.insert(".deploylink.yml", PROJECT_FILE.into());
    let init = history
        .commit(&[], "Initial commit", &[("README.md", "# shop\n")])
        .map_err(git)?;
    let web101 = history
        .commit(
            &[init],
            "WEB-101: Add the checkout page",
            &[("apps/web/checkout.html", "<form></form>\n")],
        )
        .map_err(git)?;
    repo.reference("refs/tags/v1.0.0", web101, false, "demo")
        .map_err(git)?;
    // A pull request branch, merged with a merge commit whose title names the branch.
    let card1 = history
        .commit(
            &[web101],
            "WEB-102: Validate card numbers",
            &[("apps/web/card.js", "validate()\n")],
        )
        .map_err(git)?;
    let card2 = history
        .commit(
            &[card1],
            "WEB-102: Handle expired cards\n\nThe expiry is read as UTF-8 text.",
            &[("apps/web/card.js", "validate(); expiry()\n")],
        )
        .map_err(git)?;
    let ops7 = history
        .commit(
            &[web101],
            "OPS-7 Pin the base image to bookworm",
            &[("infra/Dockerfile", "FROM debian:bookworm\n")],
        )
        .map_err(git)?;
    let merge = history
        .commit(
            &[ops7, card2],
            "Merge pull request #12 from acme/WEB-102-card-validation\n\nValidate cards",
            &[],
        )
        .map_err(git)?;
    let cve = history
        .commit(
            &[merge],
            "Bump openssl to 3.0.15 (fixes CVE-2024-5535)",
            &[("infra/versions", "openssl 3.0.15\n")],
        )
        .map_err(git)?;
    let web103 = history
        .commit(
            &[cve],
            "WEB-103: Show a delivery estimate",
            &[("apps/web/estimate.js", "estimate()\n")],
        )
        .map_err(git)?;
    history.files.remove("apps/web/estimate.js");
    let revert_message =
        format!("Revert \"WEB-103: Show a delivery estimate\"\n\nThis reverts commit {web103}.");
    let revert = history
        .commit(&[web103], &revert_message, &[])
        .map_err(git)?;
    let ops9 = history
        .commit(
            &[revert],
            "OPS-9: Add a readiness probe\n\nImages are pinned by SHA-256 digest.",
            &[("infra/probe.yml", "path: /ready\n")],
        )
        .map_err(git)?;
    repo.reference("refs/heads/main", ops9, true, "demo")
        .map_err(git)?;
    repo.reference("refs/tags/v1.1.0", ops9, false, "demo")
        .map_err(git)?;
    repo.set_head("refs/heads/main").map_err(git)?;
    drop(history);
    Ok(repo)
}

struct History<'r> {
    repo: &'r Repository,
    files: BTreeMap<&'static str, String>,
    time: i64,
}

impl History<'_> {
    /// Commits the current files plus `changes`, one hour after the previous commit.
    fn commit(
        &mut self,
        parents: &[Oid],
        message: &str,
        changes: &[(&'static str, &str)],
    ) -> Result<Oid, git2::Error> {
        for (path, content) in changes {
            self.files.insert(path, (*content).to_owned());
        }
        self.time += 3600;
        let empty = self.repo.find_tree(self.repo.treebuilder(None)?.write()?)?;
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, content) in &self.files {
            update.upsert(*path, self.repo.blob(content.as_bytes())?, FileMode::Blob);
        }
        let tree = self
            .repo
            .find_tree(update.create_updated(self.repo, &empty)?)?;
        let who = Signature::new(
            "Dana Developer",
            "dana@example.com",
            &Time::new(self.time, 0),
        )?;
        let parents: Vec<git2::Commit> = parents
            .iter()
            .map(|id| self.repo.find_commit(*id))
            .collect::<Result<_, _>>()?;
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        self.repo.commit(None, &who, &who, message, &tree, &parents)
    }
}

/// The issues the demo's Jira has: OPS-9 is missing, to show how an unknown issue is reported.
#[cfg(feature = "sandbox")]
const DEMO_ISSUES: &[&str] = &["WEB-101", "WEB-102", "WEB-103", "OPS-7"];

/// Builds the sample repository, deploys tag v1.1.0 to production into an in-process sandbox
/// Jira (or, built without the sandbox, prints the plan), and shows what Jira now holds.
pub fn run(keep: bool, serve: bool, format: Format, out: &mut dyn Write) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("deploylink-demo-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary directory", e))?;
    build(dir.path())?;
    let repo = Repo::open(Some(&dir.path().join("shop.git")))?;
    #[cfg(feature = "sandbox")]
    let sandbox = jira_sandbox::Sandbox::start(jira_sandbox::Options {
        issues: jira_sandbox::IssuePolicy::Listed(
            DEMO_ISSUES.iter().map(|k| (*k).to_owned()).collect(),
        ),
        ..Default::default()
    })
    .map_err(|e| Error::io("start the sandbox Jira", e))?;
    #[cfg(feature = "sandbox")]
    let url = sandbox.url();
    #[cfg(not(feature = "sandbox"))]
    let url = "https://acme.atlassian.net".to_owned();
    let trackers = trackers_file(&url, dir.path())?;
    #[cfg(feature = "sandbox")]
    let connected = trackers.trackers().to_vec();
    let deploys = plan_release(&repo, trackers)?;
    let deliveries = crate::command::all_deliveries(&deploys);
    #[cfg(feature = "sandbox")]
    let (outcomes, sent) = {
        let mut sessions = Vec::new();
        for tracker in &connected {
            sessions.push(crate::deliver::Session::open(tracker, true)?);
        }
        let options = crate::deliver::Options {
            budget: std::time::Duration::from_secs(20),
            ..Default::default()
        };
        (
            crate::deliver::Jira::new(sessions, options).deliver(deliveries),
            true,
        )
    };
    #[cfg(not(feature = "sandbox"))]
    let (outcomes, sent) = (crate::deliver::DryRun.deliver(deliveries), false);
    if format == Format::Human {
        crate::command::write(
            out,
            &format!(
                "deploylink demo: a sample repository 'shop' (tags v1.0.0 and v1.1.0, a merged pull request, \
                 a revert, and look-alikes such as UTF-8, SHA-256 and CVE-2024-5535).\n\
                 Deploying tag v1.1.0 to production ships the commits since v1.0.0; {}:\n\n",
                if sent {
                    "deploylink recorded it in a local sandbox Jira, which has every sample issue but OPS-9"
                } else {
                    "this is what deploylink would write to Jira (built without the sandbox)"
                }
            ),
        )?;
    }
    crate::command::write_run(
        out,
        format,
        &crate::report::Run {
            deploys: &deploys,
            outcomes: &outcomes,
            sent,
        },
    )?;
    #[cfg(feature = "sandbox")]
    if format == Format::Human {
        crate::command::write(out, &jira_view(&sandbox.state()))?;
        let note = if serve {
            "serving until Ctrl-C"
        } else {
            "gone when the demo ends; `deploylink demo --serve` keeps it up"
        };
        crate::command::write(out, &format!("\nthe sandbox's page: {url}/ ({note})\n"))?;
    }
    if keep {
        let path = dir.keep();
        log::warn!(
            "the sample repository is kept at {}",
            path.join("shop.git").display()
        );
    }
    #[cfg(feature = "sandbox")]
    if serve {
        let _ = out.flush();
        sandbox.wait();
    }
    #[cfg(not(feature = "sandbox"))]
    let _ = serve;
    Ok(())
}

/// The organization file of the demo: its Jira at `url`, credentials in files under `dir`.
fn trackers_file(url: &str, dir: &Path) -> Result<config::TrackersFile> {
    let secrets = [
        ("user", "dana@example.com"),
        ("token", "demo-api-token"),
        ("client-id", "demo-client"),
        ("client-secret", "demo-secret"),
    ];
    for (name, value) in secrets {
        std::fs::write(dir.join(name), value)
            .map_err(|e| Error::io("write the demo's credential files", e))?;
    }
    let file = |name: &str| dir.join(name).display().to_string();
    let text = format!(
        "# The organization file: secrets are named, never written.\n\
         version: 1\n\
         trackers:\n  acme:\n    kind: jira-cloud\n    url: {url}\n    auth:\n      user_file: \"{}\"\n      token_file: \"{}\"\n\
         \x20   deployments:\n      client_id_file: \"{}\"\n      client_secret_file: \"{}\"\n      api_url: {url}\n      token_url: {url}/oauth/token\n",
        file("user"),
        file("token"),
        file("client-id"),
        file("client-secret"),
    );
    Ok(config::parse_trackers(&Source {
        name: "trackers.yml".into(),
        text: text.into_bytes(),
    })?)
}

/// The plan of deploying tag v1.1.0 to production.
fn plan_release(repo: &Repo, trackers: config::TrackersFile) -> Result<Vec<crate::plan::Deploy>> {
    let to = repo.resolve("refs/tags/v1.1.0")?;
    let project = config::parse_project(
        &Source {
            name: ".deploylink.yml".into(),
            text: PROJECT_FILE.into(),
        },
        &config::RepoFacts::none(),
    )?;
    let config = config::resolve(project, Some(trackers), TrustMode::Client)?;
    let refname = Some("refs/tags/v1.1.0".to_owned());
    let mut deploys = Vec::new();
    for (project, environment) in
        crate::plan::deploy::targets(&config, &[], None, refname.as_deref())?
    {
        let target = DeployTarget {
            repo_name: config.identity().name(),
            repo_url: config.repo_url(),
            project,
            environment,
            refname: refname.clone(),
            to,
            base: BaseRule::Auto,
            fallback: None,
            walk: WalkOptions::default(),
            max_issues: usize::try_from(config.max_issues()).unwrap_or(usize::MAX),
            state: plan::DeployState::Successful,
            run: RunInfo::default(),
        };
        deploys.push(plan::plan_deploy(repo, &target, &mut |_| {})?);
    }
    Ok(deploys)
}

/// What the sandbox Jira now shows on each issue.
#[cfg(feature = "sandbox")]
fn jira_view(state: &jira_sandbox::State) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("\nwhat Jira now shows:\n");
    for (key, issue) in &state.issues {
        if issue.remote_links.is_empty() && issue.comments.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {key}");
        for link in &issue.remote_links {
            let _ = writeln!(
                out,
                "    link        {} -> {}",
                link["object"]["title"].as_str().unwrap_or(""),
                link["object"]["url"].as_str().unwrap_or("")
            );
        }
        for record in state.deployments_for(key) {
            let _ = writeln!(
                out,
                "    deployment  {} to {} ({}), pipeline {} #{}",
                record.data["state"].as_str().unwrap_or(""),
                record.environment_id,
                record.data["environment"]["type"].as_str().unwrap_or(""),
                record.pipeline_id,
                record.deployment_sequence_number
            );
        }
        let comments = issue.comments.len();
        if comments > 0 {
            let _ = writeln!(out, "    comment     {comments} from deploylink");
        }
        for id in &issue.fix_versions {
            if let Some(version) = state.versions.iter().find(|v| &v.id == id) {
                let released = match (&version.released, &version.release_date) {
                    (true, Some(date)) => format!(" (released {date})"),
                    (true, None) => " (released)".to_owned(),
                    _ => String::new(),
                };
                let _ = writeln!(out, "    version     {}{released}", version.name);
            }
        }
        if let Some(status) = &issue.status {
            let _ = writeln!(out, "    status      {status}");
        }
    }
    if !state.rejected.is_empty() {
        let _ = writeln!(
            out,
            "  ({} requests refused as Jira would refuse them)",
            state.rejected.len()
        );
    }
    out
}
