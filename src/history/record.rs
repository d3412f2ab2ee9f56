//! `deploy.json`: what one history entry says about one deploy.

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use crate::plan::{Deploy, DeployState, RunInfo};
use crate::time::{self, Seconds};

/// The format of `deploy.json` this deploylink writes; a greater one was written by a newer
/// deploylink, whose fields this one cannot be sure to read right, so such an entry is
/// reported and skipped.
pub const VERSION: u32 = 1;

/// The one file of a history entry's tree.
pub const FILE: &str = "deploy.json";

/// One recorded deploy, as `deploy.json` holds it. Times are RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub version: u32,
    pub project: String,
    pub environment: String,
    /// The deployed ref (`refs/heads/main`), when known.
    #[serde(rename = "ref")]
    pub refname: Option<String>,
    /// The base of the range, when it was one commit.
    pub from: Option<String>,
    pub to: String,
    pub state: DeployState,
    pub deployed_at: String,
    /// The commits of the range (for a rollback: the commits that left), newest first.
    pub commits: Vec<RecordedCommit>,
    pub keys: Vec<String>,
    pub run_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_number: Option<i64>,
}

/// A commit of a recorded deploy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedCommit {
    pub id: String,
    pub authored_at: String,
    pub committed_at: String,
    /// The commit this one reverts (`This reverts commit <sha>`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverts: Option<String>,
}

impl DeployRecord {
    /// The record of `deploy`, deployed at `deployed_at`: the times and revert marks of its
    /// commits are read from `git`.
    pub fn of(
        git: &Repository,
        deploy: &Deploy,
        run: &RunInfo,
        deployed_at: Seconds,
    ) -> Result<DeployRecord, git2::Error> {
        let mut commits = Vec::with_capacity(deploy.commits.len());
        for summary in &deploy.commits {
            let commit = git.find_commit(Oid::from_str(&summary.id)?)?;
            commits.push(RecordedCommit {
                id: summary.id.clone(),
                authored_at: time::format(commit.author().when().seconds()),
                committed_at: time::format(commit.time().seconds()),
                reverts: crate::issues::reverted_commit(commit.message_bytes())
                    .map(|id| id.to_string()),
            });
        }
        let keys = deploy
            .issues
            .iter()
            .map(|i| i.key.as_str().to_owned())
            .chain(deploy.left_out.iter().map(|k| k.as_str().to_owned()))
            .collect();
        Ok(DeployRecord {
            version: VERSION,
            project: deploy.project.clone(),
            environment: deploy.environment.clone(),
            refname: deploy.refname.clone(),
            from: match deploy.base.exclude.as_slice() {
                [base] => Some(base.to_string()),
                _ => None,
            },
            to: deploy.to.to_string(),
            state: deploy.state,
            deployed_at: time::format(deployed_at),
            commits,
            keys,
            run_url: run.url.clone(),
            run_id: run.id.clone(),
            run_number: run.number,
        })
    }

    /// What makes two reports one deploy: the deployed commit and the run, when the run is
    /// known (`in_progress`, then `successful`, for the same run).
    pub fn run_key(&self) -> Option<String> {
        self.run_id
            .clone()
            .or_else(|| self.run_number.map(|n| n.to_string()))
            .or_else(|| self.run_url.clone())
    }
}
