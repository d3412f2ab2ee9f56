//! The report of `deploylink history`: every recorded deploy, oldest first, and what could
//! not be read.

use serde::Serialize;

use super::{plural, Report, DIM, HEAD, KEY, WARN};
use crate::history::{Problem, RecordedCommit};
use crate::plan::DeployState;

/// One recorded deploy.
#[derive(Serialize)]
pub struct HistoryDeploy {
    pub project: String,
    pub environment: String,
    pub state: DeployState,
    pub deployed_at: String,
    #[serde(rename = "ref")]
    pub refname: Option<String>,
    pub from: Option<String>,
    pub to: String,
    pub commits: Vec<RecordedCommit>,
    pub keys: Vec<String>,
    pub run_url: Option<String>,
    /// The history commit that holds the entry.
    pub entry: String,
}

#[derive(Serialize)]
pub struct HistoryList {
    pub deploys: Vec<HistoryDeploy>,
    /// Entries that could not be read or are doubtful, each named.
    pub warnings: Vec<Problem>,
}

impl Report for HistoryList {
    fn human(&self) -> String {
        let mut out = String::new();
        for d in &self.deploys {
            let state = match d.state {
                DeployState::Successful => HEAD,
                DeployState::Failed | DeployState::RolledBack => super::BAD,
                _ => WARN,
            };
            let keys = if d.keys.is_empty() {
                String::new()
            } else {
                format!("  {KEY}{}{KEY:#}", d.keys.join(" "))
            };
            out.push_str(&format!(
                "{}  {}/{}  {state}{:<11}{state:#}  {}  {DIM}{} commit{}{DIM:#}{keys}\n",
                d.deployed_at,
                d.project,
                d.environment,
                d.state.as_str(),
                d.to.get(..12).unwrap_or(&d.to),
                d.commits.len(),
                plural(d.commits.len()),
            ));
        }
        out.push_str(&format!(
            "{} deploy{}",
            self.deploys.len(),
            plural(self.deploys.len())
        ));
        if !self.warnings.is_empty() {
            out.push_str(&format!(
                ", {WARN}{} history entr{} skipped or doubtful (see the warnings){WARN:#}",
                self.warnings.len(),
                if self.warnings.len() == 1 { "y" } else { "ies" }
            ));
        }
        out.push('\n');
        out
    }
}
