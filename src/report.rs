//! Human and JSON renderings of results, from the same types.
//!
//! Human text carries ANSI styles; the binary writes it through `anstream`, which strips
//! them when stdout is not a terminal or `NO_COLOR` is set. The JSON shape is documented in
//! `docs/json-output.md` and kept stable.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::{json, Value};

use crate::deliver::{DeliveryOutcome, IssueResult, KeyOutcome};
use crate::issues::IssueCommits;
use crate::plan::{Deploy, RangeStatus};

const KEY: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const HEAD: Style = Style::new().bold();
const WARN: Style = AnsiColor::Yellow.on_default();
const BAD: Style = AnsiColor::Red.on_default().bold();

/// `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

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

fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// The run as JSON (SPEC 12's shape; documented in docs/json-output.md).
pub fn run_json(run: &Run<'_>) -> Value {
    let index = run.index();
    let mut counts: BTreeMap<&'static str, usize> = [
        "planned",
        "linked",
        "updated",
        "unknown",
        "rejected",
        "failed",
        "spooled",
        "rolled_back",
    ]
    .into_iter()
    .map(|r| (r, 0))
    .collect();
    let mut issues_total = 0;
    let deploys: Vec<Value> = run
        .deploys
        .iter()
        .map(|d| {
            issues_total += d.issues.len();
            let issues: Vec<Value> = d
                .issues
                .iter()
                .map(|i| {
                    let outcomes = index
                        .get(&(d.id.as_str(), i.key.as_str()))
                        .cloned()
                        .unwrap_or_default();
                    let result = issue_result(d, &outcomes);
                    *counts.entry(result.as_str()).or_default() += 1;
                    let mut issue = json!({"key": i.key, "commits": i.commits, "result": result});
                    if run.sent {
                        issue["actions"] = json!(outcomes);
                    }
                    issue
                })
                .collect();
            let mut deploy = json!({
                "project": d.project,
                "environment": d.environment,
                "environment_type": d.environment_type.as_str(),
                "ref": d.refname,
                "from": d.base.from().map(|id| id.to_string()),
                "to": d.to.to_string(),
                "base": d.base.source.describe(),
                "state": d.state.as_str(),
                "status": d.status,
                "commits": d.commits.len(),
                "issues": issues,
                "notes": d.notes,
            });
            if !run.sent {
                deploy["requests"] = json!(d.deliveries);
            }
            deploy
        })
        .collect();
    let mut summary = json!({"issues": issues_total});
    for (result, count) in counts {
        summary[result] = json!(count);
    }
    if run.sent {
        summary["requests"] = json!(run.outcomes.iter().map(|o| o.requests).sum::<u32>());
    }
    json!({"deploys": deploys, "summary": summary})
}

/// The run for people: one block per deploy, one line per issue, then (for a plan) the
/// requests.
pub fn run_human(run: &Run<'_>) -> String {
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
    let _ = writeln!(
        out,
        "{HEAD}summary:{HEAD:#} {} deploy{}, {issues} issue{}{what}",
        run.deploys.len(),
        plural(run.deploys.len()),
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
    let _ = writeln!(
        out,
        "{HEAD}{} -> {}{HEAD:#} ({}){}",
        d.project,
        d.environment,
        d.environment_type.as_str(),
        d.refname
            .as_deref()
            .map(|r| format!(" {r}"))
            .unwrap_or_default(),
    );
    let _ = writeln!(
        out,
        "  range {}..{}  {DIM}{} commit{}, base: {}{DIM:#}",
        from.as_deref().map(short).unwrap_or("(none)"),
        short(&to),
        d.commits.len(),
        plural(d.commits.len()),
        d.base.source.describe(),
    );
    for note in &d.notes {
        let _ = writeln!(out, "  {WARN}note:{WARN:#} {note}");
    }
    if d.issues.is_empty() && d.status != RangeStatus::TooLarge {
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
        issue_line(out, issue, result, &d.environment, short(&to), reason);
    }
    if !run.sent {
        for r in &d.deliveries {
            let body = serde_json::to_string_pretty(&r.body).unwrap_or_default();
            let _ = writeln!(out, "  {DIM}{} {}{DIM:#}", r.method, r.url);
            for line in body.lines() {
                let _ = writeln!(out, "    {line}");
            }
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `deploylink keys` output: one key per line, or JSON with the commits of each key.
pub fn keys_human(issues: &[IssueCommits]) -> String {
    let mut out = String::new();
    for issue in issues {
        let _ = writeln!(out, "{}", issue.key);
    }
    out
}

pub fn keys_json(issues: &[IssueCommits], commits: usize) -> Value {
    json!({
        "commits": commits,
        "keys": issues.iter().map(|i| json!({"key": i.key, "commits": i.commits})).collect::<Vec<_>>(),
    })
}
