//! The report of `plan`, `link`, `ci` and the post-receive hook: each deploy, its issues and
//! what happened to their deliveries.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::ops::Not;

use anstyle::Style;
use serde::Serialize;

use super::{plural, Report, BAD, DIM, HEAD, KEY, WARN};
use crate::deliver::{Delivery, DeliveryOutcome, IssueResult, KeyOutcome};
use crate::issues::IssueCommits;
use crate::keys::IssueKey;
use crate::plan::{Deploy, RangeStatus};

/// A run's deploys and what happened to their deliveries (all `planned` for a plan).
pub struct Run<'a> {
    pub deploys: &'a [Deploy],
    pub outcomes: &'a [DeliveryOutcome],
    /// Whether the deliveries were sent (`link`) or only recorded (`plan`).
    pub sent: bool,
}

/// The outcomes of one issue of one deploy, over all its actions.
type IssueOutcomes<'a> = HashMap<(&'a str, &'a str), Vec<&'a KeyOutcome>>;

impl<'a> Run<'a> {
    fn index(&self) -> IssueOutcomes<'a> {
        let mut index: IssueOutcomes<'a> = HashMap::new();
        for outcome in self.outcomes {
            for key in &outcome.keys {
                index
                    .entry((outcome.delivery.deploy.as_str(), key.key.as_str()))
                    .or_default()
                    .push(key);
            }
        }
        index
    }
}

/// An issue's result: the worst of its actions'; a rolled-back deploy's issues that were
/// written (or planned) are `rolled_back`.
fn issue_result(deploy: &Deploy, outcomes: &[&KeyOutcome]) -> IssueResult {
    let worst = outcomes
        .iter()
        .map(|o| o.result)
        .max()
        .unwrap_or(IssueResult::Planned);
    let written = matches!(
        worst,
        IssueResult::Planned | IssueResult::Linked | IssueResult::Updated
    );
    if deploy.status == RangeStatus::RolledBack && written {
        IssueResult::RolledBack
    } else {
        worst
    }
}

/// Why an issue's result is what it is: the reason of its worst action, if it has one,
/// named by its action when the actions ended differently.
fn issue_reason(outcomes: &[&KeyOutcome]) -> Option<String> {
    let worst = outcomes.iter().max_by_key(|o| o.result)?;
    let reason = worst.reason.as_deref()?;
    let mixed = outcomes.iter().any(|o| o.result != worst.result);
    Some(if mixed {
        format!("{}: {reason}", worst.action.as_str())
    } else {
        reason.to_owned()
    })
}

/// A push that deploys nothing: it has no environment, only development information.
fn pushed(deploy: &Deploy) -> bool {
    deploy.status == RangeStatus::Pushed
}

fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// The run's JSON document (documented in docs/json-output.md).
#[derive(Serialize)]
struct RunDocument<'a> {
    deploys: Vec<DeployDocument<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct DeployDocument<'a> {
    project: &'a str,
    /// `null` for a push that deploys nothing (status `pushed`).
    environment: Option<&'a str>,
    environment_type: Option<&'static str>,
    #[serde(rename = "ref")]
    refname: Option<&'a str>,
    from: Option<String>,
    to: String,
    base: String,
    state: &'static str,
    status: RangeStatus,
    /// The commits of the range; `null` when it was refused for its size.
    commits: Option<usize>,
    /// Why the range was refused, when it was: nothing is written for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<RefusedDocument>,
    issues: Vec<IssueDocument<'a>>,
    notes: &'a [String],
    /// The keys past `max_issues`: nothing was written to them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    left_out: Vec<&'a str>,
    /// A plan's requests; absent after delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<&'a [Delivery]>,
}

/// A refused range: `{"reason": "max_commits", "limit": 2000}` (more than `limit` commits).
#[derive(Serialize)]
struct RefusedDocument {
    reason: &'static str,
    limit: usize,
}

#[derive(Serialize)]
struct IssueDocument<'a> {
    key: &'a IssueKey,
    commits: &'a [String],
    result: IssueResult,
    /// Each action's outcome, after delivery only.
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<&'a KeyOutcome>>,
}

/// Counts of issue results over all deploys; `requests` (HTTP requests sent) after delivery.
#[derive(Default, Serialize)]
struct Summary {
    issues: usize,
    planned: usize,
    linked: usize,
    updated: usize,
    unknown: usize,
    rejected: usize,
    failed: usize,
    spooled: usize,
    rolled_back: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    requests: Option<u32>,
}

impl Summary {
    fn count(&mut self, result: IssueResult) {
        let count = match result {
            IssueResult::Planned => &mut self.planned,
            IssueResult::Linked => &mut self.linked,
            IssueResult::Updated => &mut self.updated,
            IssueResult::Unknown => &mut self.unknown,
            IssueResult::Rejected => &mut self.rejected,
            IssueResult::Failed => &mut self.failed,
            IssueResult::Spooled => &mut self.spooled,
            IssueResult::RolledBack => &mut self.rolled_back,
        };
        *count += 1;
    }
}

impl<'a> Run<'a> {
    fn document(&self) -> RunDocument<'a> {
        let index = self.index();
        let mut summary = Summary::default();
        let deploys = self
            .deploys
            .iter()
            .map(|d| {
                summary.issues += d.issues.len();
                let issues = d
                    .issues
                    .iter()
                    .map(|i| {
                        let outcomes = index
                            .get(&(d.id.as_str(), i.key.as_str()))
                            .cloned()
                            .unwrap_or_default();
                        let result = issue_result(d, &outcomes);
                        summary.count(result);
                        IssueDocument {
                            key: &i.key,
                            commits: &i.commits,
                            result,
                            actions: self.sent.then_some(outcomes),
                        }
                    })
                    .collect();
                DeployDocument {
                    project: &d.project,
                    environment: pushed(d).not().then_some(d.environment.as_str()),
                    environment_type: pushed(d).not().then_some(d.environment_type.as_str()),
                    refname: d.refname.as_deref(),
                    from: d.base.from().map(|id| id.to_string()),
                    to: d.to.to_string(),
                    base: d.base.source.describe(),
                    state: d.state.as_str(),
                    status: d.status,
                    commits: d.refused.is_none().then_some(d.commits.len()),
                    refused: d.refused.map(|r| RefusedDocument {
                        reason: "max_commits",
                        limit: r.limit,
                    }),
                    issues,
                    notes: &d.notes,
                    left_out: d.left_out.iter().map(IssueKey::as_str).collect(),
                    requests: (!self.sent).then_some(d.deliveries.as_slice()),
                }
            })
            .collect();
        if self.sent {
            summary.requests = Some(self.outcomes.iter().map(|o| o.requests).sum());
        }
        RunDocument { deploys, summary }
    }
}

impl Serialize for Run<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.document().serialize(serializer)
    }
}

impl Report for Run<'_> {
    fn human(&self) -> String {
        run_human(self)
    }
}

/// The run for people: one block per deploy, one line per issue, then (for a plan) the
/// requests.
fn run_human(run: &Run<'_>) -> String {
    let index = run.index();
    let mut out = String::new();
    let mut counts: BTreeMap<IssueResult, usize> = BTreeMap::new();
    for d in run.deploys {
        deploy_human(&mut out, d, run, &index, &mut counts);
    }
    let issues: usize = run.deploys.iter().map(|d| d.issues.len()).sum();
    let requests: usize = run.deploys.iter().map(|d| d.deliveries.len()).sum();
    let what = if run.sent {
        let sent: u32 = run.outcomes.iter().map(|o| o.requests).sum();
        let results: Vec<String> = counts
            .iter()
            .map(|(r, n)| format!("{n} {}", r.as_str().replace('_', " ")))
            .collect();
        format!(
            "{}{} ({sent} request{} sent)",
            if results.is_empty() { "" } else { ": " },
            results.join(", "),
            plural(sent as usize)
        )
    } else {
        format!(
            ", {requests} request{} planned (nothing was sent)",
            plural(requests)
        )
    };
    // Pushes that deploy nothing (development information only) are counted apart.
    let pushes = run.deploys.iter().filter(|d| pushed(d)).count();
    let deploys = run.deploys.len() - pushes;
    let pushes = match pushes {
        0 => String::new(),
        1 => ", 1 push".to_owned(),
        n => format!(", {n} pushes"),
    };
    let _ = writeln!(
        out,
        "{HEAD}summary:{HEAD:#} {deploys} deploy{}{pushes}, {issues} issue{}{what}",
        plural(deploys),
        plural(issues),
    );
    out
}

fn deploy_human(
    out: &mut String,
    d: &Deploy,
    run: &Run<'_>,
    index: &IssueOutcomes<'_>,
    counts: &mut BTreeMap<IssueResult, usize>,
) {
    let to = d.to.to_string();
    let from = d.base.from().map(|id| id.to_string());
    let refname = d
        .refname
        .as_deref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default();
    if pushed(d) {
        let _ = writeln!(
            out,
            "{HEAD}{} pushed{HEAD:#} (development information){refname}",
            d.project
        );
    } else {
        let _ = writeln!(
            out,
            "{HEAD}{} -> {}{HEAD:#} ({}){refname}",
            d.project,
            d.environment,
            d.environment_type.as_str(),
        );
    }
    let _ = writeln!(
        out,
        "  range {}..{}  {DIM}{}, base: {}{DIM:#}",
        from.as_deref().map(short).unwrap_or("(none)"),
        short(&to),
        d.range_size(),
        d.base.source.describe(),
    );
    for note in &d.notes {
        let _ = writeln!(out, "  {WARN}note:{WARN:#} {note}");
    }
    if d.issues.is_empty() && d.refused.is_none() {
        let _ = writeln!(out, "  no issue keys in this range");
    }
    for issue in &d.issues {
        let outcomes = index
            .get(&(d.id.as_str(), issue.key.as_str()))
            .cloned()
            .unwrap_or_default();
        let result = issue_result(d, &outcomes);
        *counts.entry(result).or_default() += 1;
        let reason = if run.sent {
            issue_reason(&outcomes)
        } else {
            None
        };
        let place = if pushed(d) {
            "pushed"
        } else {
            d.environment.as_str()
        };
        issue_line(out, issue, result, place, short(&to), reason);
    }
    if !run.sent {
        let mut shown = std::collections::HashSet::new();
        for r in &d.deliveries {
            if r.steps.is_empty() {
                request_human(out, &r.method, &r.url, Some(&r.body));
                continue;
            }
            // A step shared by several deliveries (a version looked up once per project) is
            // shown once.
            for step in &r.steps {
                if shown.insert((&step.method, &step.url, &step.when)) {
                    request_human(out, &step.method, &step.url, step.body.as_ref());
                    let _ = writeln!(out, "    {DIM}when: {}{DIM:#}", step.when);
                }
            }
        }
    }
}

fn request_human(out: &mut String, method: &str, url: &str, body: Option<&serde_json::Value>) {
    let _ = writeln!(out, "  {DIM}{method} {url}{DIM:#}");
    if let Some(body) = body {
        let body = serde_json::to_string_pretty(body).unwrap_or_default();
        for line in body.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

fn issue_line(
    out: &mut String,
    issue: &IssueCommits,
    result: IssueResult,
    environment: &str,
    to: &str,
    reason: Option<String>,
) {
    let n = issue.commits.len();
    let origin = if n == 0 {
        "(branch name)".to_owned()
    } else {
        format!("({n} commit{})", plural(n))
    };
    let style = match result {
        IssueResult::Failed | IssueResult::Rejected => BAD,
        IssueResult::Unknown | IssueResult::Spooled => WARN,
        _ => Style::new(),
    };
    let _ = write!(
        out,
        "  {KEY}{:<12}{KEY:#} {style}{:<11}{style:#} {environment} @ {to}  {DIM}{origin}{DIM:#}",
        issue.key.as_str(),
        result.as_str()
    );
    match reason {
        Some(reason) => {
            let _ = writeln!(out, "  {reason}");
        }
        None => out.push('\n'),
    }
}
