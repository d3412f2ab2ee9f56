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
use crate::plan::{self, BaseRule, DeployTarget, RunInfo};
use crate::range::WalkOptions;
use crate::repo::Repo;
use crate::report::Format;

const PROJECT_FILE: &str = r#"# The project file, versioned with the code (SPEC 3.2).
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
    link:
      title: "Deployed {project} {short_sha} to {environment}"
      url: "{repo_url}/compare/{from}...{to}"
"#;

const TRACKERS_FILE: &str = r#"# The organization file (SPEC 3.1): secrets are named, never written.
version: 1
trackers:
  acme:
    kind: jira-cloud
    url: https://acme.atlassian.net
    auth:
      user_env: JIRA_USER
      token_env: JIRA_API_TOKEN
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

/// Builds the sample repository and writes the plan of deploying tag v1.1.0 to production.
pub fn run(keep: bool, format: Format, out: &mut dyn Write) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("deploylink-demo-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary directory", e))?;
    build(dir.path())?;
    let repo = Repo::open(Some(&dir.path().join("shop.git")))?;
    let to = repo.resolve("refs/tags/v1.1.0")?;
    let project = config::parse_project(
        &Source {
            name: ".deploylink.yml".into(),
            text: PROJECT_FILE.into(),
        },
        &repo.name(),
    )?;
    let trackers = config::parse_trackers(&Source {
        name: "trackers.yml".into(),
        text: TRACKERS_FILE.into(),
    })?;
    let config = config::resolve(project, Some(trackers), TrustMode::Client)?;
    let refname = Some("refs/tags/v1.1.0".to_owned());
    let mut deploys = Vec::new();
    for (project, environment) in crate::deploy::targets(&config, &[], None, refname.as_deref())? {
        let target = DeployTarget {
            repo_name: "shop",
            repo_url: config.repo_url(),
            project,
            environment,
            refname: refname.clone(),
            to,
            base: BaseRule::Auto,
            walk: WalkOptions::default(),
            state: plan::DeployState::Successful,
            run: RunInfo::default(),
        };
        deploys.push(plan::plan_deploy(&repo, &target, &mut |_| {})?);
    }
    if format == Format::Human {
        crate::command::write(
            out,
            "deploylink demo: a sample repository 'shop' (tags v1.0.0 and v1.1.0, a merged pull request, \
             a revert, and look-alikes such as UTF-8, SHA-256 and CVE-2024-5535).\n\
             Deploying tag v1.1.0 to production ships the commits since v1.0.0; this is what deploylink \
             would write to Jira:\n\n",
        )?;
    }
    let outcomes = crate::deliver::Recorder.deliver(crate::command::all_deliveries(&deploys));
    crate::command::write_run(
        out,
        format,
        &crate::report::Run {
            deploys: &deploys,
            outcomes: &outcomes,
            sent: false,
        },
    )?;
    if keep {
        let path = dir.keep();
        log::warn!(
            "the sample repository is kept at {}",
            path.join("shop.git").display()
        );
    }
    Ok(())
}
