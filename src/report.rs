//! Human and JSON renderings of results, from the same types.
//!
//! Human text carries ANSI styles; the binary writes it through `anstream`, which strips
//! them when stdout is not a terminal or `NO_COLOR` is set. The JSON shape is documented in
//! `docs/json-output.md` and kept stable.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde_json::{json, Value};

use crate::issues::IssueCommits;
use crate::plan::{Deploy, RangeStatus};

const KEY: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const HEAD: Style = Style::new().bold();
const WARN: Style = AnsiColor::Yellow.on_default();

/// `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

/// The `result` of an issue in a plan.
fn planned_result(deploy: &Deploy) -> &'static str {
    match deploy.status {
        RangeStatus::RolledBack => "rolled_back",
        RangeStatus::Deployed | RangeStatus::TooLarge => "planned",
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(7)]
}

/// The plan as JSON (SPEC 12's shape plus the requests).
pub fn plan_json(deploys: &[Deploy]) -> Value {
    let mut issues = 0;
    let mut planned = 0;
    let mut rolled_back = 0;
    let deploys: Vec<Value> = deploys
        .iter()
        .map(|d| {
            let result = planned_result(d);
            issues += d.issues.len();
            match d.status {
                RangeStatus::RolledBack => rolled_back += d.issues.len(),
                _ => planned += d.issues.len(),
            }
            json!({
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
                "issues": d.issues.iter().map(|i| json!({
                    "key": i.key, "commits": i.commits, "result": result,
                })).collect::<Vec<_>>(),
                "requests": d.requests,
                "notes": d.notes,
            })
        })
        .collect();
    json!({
        "deploys": deploys,
        "summary": {
            "issues": issues, "planned": planned, "linked": 0, "updated": 0, "unknown": 0,
            "rejected": 0, "failed": 0, "spooled": 0, "rolled_back": rolled_back,
        },
    })
}

/// The plan for people: one block per deploy, one line per issue, then the requests.
pub fn plan_human(deploys: &[Deploy], show_requests: bool) -> String {
    let mut out = String::new();
    for d in deploys {
        deploy_human(&mut out, d, show_requests);
    }
    let issues: usize = deploys.iter().map(|d| d.issues.len()).sum();
    let requests: usize = deploys.iter().map(|d| d.requests.len()).sum();
    let _ = writeln!(
        out,
        "{HEAD}summary:{HEAD:#} {} deploy{}, {issues} issue{}, {requests} request{} planned (nothing was sent)",
        deploys.len(),
        plural(deploys.len()),
        plural(issues),
        plural(requests),
    );
    out
}

fn deploy_human(out: &mut String, d: &Deploy, show_requests: bool) {
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
    let result = planned_result(d);
    for issue in &d.issues {
        issue_line(out, issue, result, &d.environment, short(&to));
    }
    if show_requests {
        for r in &d.requests {
            let body = serde_json::to_string_pretty(&r.body).unwrap_or_default();
            let _ = writeln!(out, "  {DIM}{} {}{DIM:#}", r.method, r.url);
            for line in body.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
}

fn issue_line(out: &mut String, issue: &IssueCommits, result: &str, environment: &str, to: &str) {
    let n = issue.commits.len();
    let origin = if n == 0 {
        "(branch name)".to_owned()
    } else {
        format!("({n} commit{})", plural(n))
    };
    let _ = writeln!(
        out,
        "  {KEY}{:<12}{KEY:#} {result:<8} {environment} @ {to}  {DIM}{origin}{DIM:#}",
        issue.key.as_str()
    );
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
