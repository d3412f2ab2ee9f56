//! DORA's four keys over a deploy history (docs/metrics.md has the definitions): pure
//! functions of the entries, the period and nothing else.

use std::collections::HashMap;

use serde::Serialize;

use super::chain::Entry;
use crate::plan::DeployState;
use crate::time::{self, Seconds};

const DAY: f64 = 86_400.0;

/// One deploy as the metrics count it: its reports merged (`in_progress`, then the final
/// state of the same run), with the final state and the time of the last report.
#[derive(Clone, Debug)]
pub struct Counted<'e> {
    /// The last report of the deploy.
    pub entry: &'e Entry,
    pub state: DeployState,
    pub at: Seconds,
}

/// The deploys of one history, oldest first: reports of the same deploy (the same commit and
/// the same run; without a run, a report after a `pending` or `in_progress` one for the same
/// commit) merged into one, whose final state counts. Without a run, a report of the commit
/// the last deploy already shipped, in the same state, is that deploy reported again (a
/// re-run of `link --record` after Jira was down, say) and is not counted twice: it deploys
/// nothing new.
pub fn deploys(entries: &[Entry]) -> Vec<Counted<'_>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.deployed_at); // stable: appends in order for equal times
    let mut out: Vec<Counted<'_>> = Vec::new();
    let mut by_run: HashMap<(&str, String), usize> = HashMap::new();
    let mut unfinished: HashMap<&str, usize> = HashMap::new();
    for entry in sorted {
        let to = entry.record.to.as_str();
        let same = match entry.record.run_key() {
            Some(run) => by_run.get(&(to, run.clone())).copied().or_else(|| {
                by_run.insert((to, run), out.len());
                None
            }),
            None => unfinished.remove(to),
        };
        if same.is_none() && entry.record.run_key().is_none() && repeats(out.last(), entry) {
            continue;
        }
        let counted = Counted {
            entry,
            state: entry.state(),
            at: entry.deployed_at,
        };
        let index = match same {
            Some(i) => {
                out[i] = counted;
                i
            }
            None => {
                out.push(counted);
                out.len() - 1
            }
        };
        if matches!(
            entry.state(),
            DeployState::Pending | DeployState::InProgress
        ) {
            unfinished.insert(to, index);
        }
    }
    // A merged report moves its deploy to the final report's time.
    out.sort_by_key(|c| c.at);
    out
}

/// Whether `entry`, a report without a run, repeats `last`: the same commit in the same state.
fn repeats(last: Option<&Counted<'_>>, entry: &Entry) -> bool {
    last.is_some_and(|last| last.entry.record.to == entry.record.to && last.state == entry.state())
}

/// Whether a deploy counts in the metrics: it ended, and changed or tried to change what
/// the environment runs. `cancelled`, `pending`, `in_progress` and `unknown` do not.
pub fn counts(state: DeployState) -> bool {
    matches!(
        state,
        DeployState::Successful | DeployState::Failed | DeployState::RolledBack
    )
}

fn is_failure(state: DeployState) -> bool {
    matches!(state, DeployState::Failed | DeployState::RolledBack)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frequency {
    pub per_day: f64,
    pub per_week: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LeadTime {
    pub median: Option<i64>,
    pub p90: Option<i64>,
    /// How many commits were measured.
    pub commits: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recovery {
    pub median: Option<i64>,
    pub count: usize,
}

/// A successful deploy's lead times: for the charts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeployLead {
    pub to: String,
    pub deployed_at: String,
    #[serde(skip)]
    pub at: Seconds,
    pub median: i64,
    pub commits: usize,
}

/// Deploys per week, by outcome: for the charts.
#[derive(Clone, Debug, PartialEq)]
pub struct Week {
    /// Monday 00:00 UTC.
    pub start: Seconds,
    pub successful: usize,
    pub failed: usize,
}

/// The four keys for one project and environment over one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub project: String,
    pub environment: String,
    pub since: String,
    /// The last counted deploy's time (`since` when there is none).
    pub until: String,
    pub deploys: usize,
    pub successful: usize,
    pub failed: usize,
    pub rolled_back: usize,
    /// Successful deploys whose commits a later deploy reverted.
    pub reverted: usize,
    /// Reports that are no deploy of the metrics: cancelled, or never finished.
    pub not_counted: usize,
    pub deployment_frequency: Frequency,
    pub lead_time_seconds: LeadTime,
    pub change_failure_rate: Option<f64>,
    pub recovery_time_seconds: Recovery,
    pub lead_time_per_deploy: Vec<DeployLead>,
    #[serde(skip)]
    pub weeks: Vec<Week>,
}

/// The metrics of one history over `since..` (from its first deploy when `None`).
pub fn compute(
    project: &str,
    environment: &str,
    entries: &[Entry],
    since: Option<Seconds>,
) -> Metrics {
    let all = deploys(entries);
    let since = since.or_else(|| all.first().map(|c| c.at)).unwrap_or(0);
    let counted: Vec<&Counted<'_>> = all.iter().filter(|c| counts(c.state)).collect();
    let within = |c: &&Counted<'_>| c.at >= since;
    let period: Vec<&Counted<'_>> = counted.iter().copied().filter(within).collect();
    let until = period.last().map_or(since, |c| c.at);
    let of = |state| period.iter().filter(|c| c.state == state).count();
    let successful = of(DeployState::Successful);
    let days = ((until - since) as f64 / DAY).max(1.0);
    let reverted = reverted_deploys(&counted);
    let reverted_in_period = period
        .iter()
        .filter(|c| reverted.contains(&c.entry.id))
        .count();
    let failures = period.iter().filter(|c| is_failure(c.state)).count() + reverted_in_period;
    let (leads, per_deploy) = lead_times(&counted, since);
    let recoveries = recovery_times(&counted, since);
    Metrics {
        project: project.to_owned(),
        environment: environment.to_owned(),
        since: time::format(since),
        until: time::format(until),
        deploys: period.len(),
        successful,
        failed: of(DeployState::Failed),
        rolled_back: of(DeployState::RolledBack),
        reverted: reverted_in_period,
        not_counted: all
            .iter()
            .filter(|c| c.at >= since && !counts(c.state))
            .count(),
        deployment_frequency: Frequency {
            per_day: round(successful as f64 / days),
            per_week: round(successful as f64 * 7.0 / days),
        },
        lead_time_seconds: LeadTime {
            median: percentile(&leads, 50),
            p90: percentile(&leads, 90),
            commits: leads.len(),
        },
        change_failure_rate: (!period.is_empty())
            .then(|| round(failures as f64 / period.len() as f64)),
        recovery_time_seconds: Recovery {
            median: percentile(&recoveries, 50),
            count: recoveries.len(),
        },
        lead_time_per_deploy: per_deploy,
        weeks: weeks(&period),
    }
}

/// Three decimals: enough for rates, and stable JSON.
fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The nearest-rank percentile: the smallest value with at least `p`% of the values at or
/// below it (the median of 1, 2, 3, 4 is 2).
pub fn percentile(values: &[i64], p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// For each commit, from its commit time to the first successful deploy that shipped it,
/// for the commits first shipped in the period; and each such deploy's median.
fn lead_times(counted: &[&Counted<'_>], since: Seconds) -> (Vec<i64>, Vec<DeployLead>) {
    let mut shipped: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut all = Vec::new();
    let mut per_deploy = Vec::new();
    for deploy in counted
        .iter()
        .filter(|c| c.state == DeployState::Successful)
    {
        let entry = deploy.entry;
        let mut own = Vec::new();
        for (commit, committed_at) in entry.record.commits.iter().zip(&entry.committed_at) {
            if !shipped.insert(commit.id.as_str()) {
                continue;
            }
            if let Some(committed_at) = committed_at {
                own.push((deploy.at - committed_at).max(0));
            }
        }
        if deploy.at < since || own.is_empty() {
            continue;
        }
        per_deploy.push(DeployLead {
            to: entry.record.to.clone(),
            deployed_at: time::format(deploy.at),
            at: deploy.at,
            median: percentile(&own, 50).unwrap_or(0),
            commits: own.len(),
        });
        all.extend(own);
    }
    (all, per_deploy)
}

/// The successful deploys (history commit ids) whose commits a later successful deploy
/// reverted (`This reverts commit <sha>`).
fn reverted_deploys(counted: &[&Counted<'_>]) -> std::collections::HashSet<git2::Oid> {
    let mut first_shipped: HashMap<&str, (usize, git2::Oid)> = HashMap::new();
    let mut reverted = std::collections::HashSet::new();
    for (i, deploy) in counted.iter().enumerate() {
        if deploy.state != DeployState::Successful {
            continue;
        }
        for commit in &deploy.entry.record.commits {
            if let Some((earlier, id)) = commit
                .reverts
                .as_deref()
                .and_then(|sha| first_shipped.get(sha))
            {
                if *earlier < i {
                    reverted.insert(*id);
                }
            }
        }
        for commit in &deploy.entry.record.commits {
            first_shipped
                .entry(commit.id.as_str())
                .or_insert((i, deploy.entry.id));
        }
    }
    reverted
}

/// From the first failed or rolled-back deploy of a run of them to the next successful
/// deploy, for failures in the period that were recovered from.
fn recovery_times(counted: &[&Counted<'_>], since: Seconds) -> Vec<i64> {
    let mut failing_since: Option<Seconds> = None;
    let mut out = Vec::new();
    for deploy in counted {
        if is_failure(deploy.state) {
            failing_since.get_or_insert(deploy.at);
        } else if deploy.state == DeployState::Successful {
            if let Some(start) = failing_since.take() {
                if start >= since {
                    out.push(deploy.at - start);
                }
            }
        }
    }
    out
}

/// Deploys per week (weeks start on Monday, UTC), every week of the period, empty ones too.
fn weeks(period: &[&Counted<'_>]) -> Vec<Week> {
    const WEEK: i64 = 7 * 86_400;
    // 1970-01-01 was a Thursday: Mondays are 4 days after a multiple of a week.
    let monday = |at: Seconds| (at - 4 * 86_400).div_euclid(WEEK) * WEEK + 4 * 86_400;
    let (Some(first), Some(last)) = (period.first(), period.last()) else {
        return Vec::new();
    };
    let mut weeks: Vec<Week> = (monday(first.at)..=monday(last.at))
        .step_by(WEEK as usize)
        .map(|start| Week {
            start,
            successful: 0,
            failed: 0,
        })
        .collect();
    for deploy in period {
        let i = ((monday(deploy.at) - monday(first.at)) / WEEK) as usize;
        if let Some(week) = weeks.get_mut(i) {
            if deploy.state == DeployState::Successful {
                week.successful += 1;
            } else {
                week.failed += 1;
            }
        }
    }
    weeks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::{DeployRecord, RecordedCommit, VERSION};

    const T0: Seconds = 1_767_225_600; // 2026-01-01T00:00:00Z
    const H: Seconds = 3600;

    fn sha(n: u32) -> String {
        format!("{n:040x}")
    }

    /// One entry: deployed at `at`, shipping `commits` (id, commit time, reverted commit).
    fn entry(
        n: u32,
        state: DeployState,
        at: Seconds,
        commits: &[(u32, Seconds, Option<u32>)],
    ) -> Entry {
        let record = DeployRecord {
            version: VERSION,
            project: "shop".into(),
            environment: "production".into(),
            refname: None,
            from: None,
            to: sha(1000 + n),
            state,
            deployed_at: time::format(at),
            commits: commits
                .iter()
                .map(|(id, t, reverts)| RecordedCommit {
                    id: sha(*id),
                    authored_at: time::format(*t),
                    committed_at: time::format(*t),
                    reverts: reverts.map(sha),
                })
                .collect(),
            keys: vec![],
            run_url: None,
            run_id: None,
            run_number: None,
        };
        Entry {
            id: git2::Oid::from_str(&sha(5000 + n)).unwrap(),
            committed_at: commits
                .iter()
                .map(|(_, t, _)| (*t <= at).then_some(*t))
                .collect(),
            record,
            deployed_at: at,
        }
    }

    fn with_run(mut e: Entry, run: &str) -> Entry {
        e.record.run_id = Some(run.into());
        e
    }

    /// The spec's example: 3 successful and 1 failed deploy over 6 days.
    fn example() -> Vec<Entry> {
        vec![
            entry(
                1,
                DeployState::Successful,
                T0 + 24 * H,
                &[(1, T0 + 22 * H, None)],
            ),
            entry(
                2,
                DeployState::Failed,
                T0 + 48 * H,
                &[(2, T0 + 40 * H, None)],
            ),
            // Ships commit 2 again (the failed deploy did not) and commit 3.
            entry(
                3,
                DeployState::Successful,
                T0 + 51 * H,
                &[(3, T0 + 48 * H, None), (2, T0 + 40 * H, None)],
            ),
            entry(4, DeployState::Successful, T0 + 6 * 24 * H, &[]),
        ]
    }

    #[test]
    fn the_four_keys_of_a_known_history() {
        let m = compute("shop", "production", &example(), Some(T0));
        assert_eq!(m.since, "2026-01-01T00:00:00Z");
        assert_eq!(m.until, "2026-01-07T00:00:00Z");
        assert_eq!(
            (m.deploys, m.successful, m.failed, m.rolled_back),
            (4, 3, 1, 0)
        );
        assert_eq!(
            m.deployment_frequency,
            Frequency {
                per_day: 0.5,
                per_week: 3.5
            }
        );
        // Lead times: 2 h (commit 1), 3 h (commit 3), 11 h (commit 2, first shipped by deploy 3).
        assert_eq!(
            m.lead_time_seconds,
            LeadTime {
                median: Some(3 * H),
                p90: Some(11 * H),
                commits: 3
            }
        );
        assert_eq!(m.change_failure_rate, Some(0.25));
        // Failed at 48 h, recovered at 51 h.
        assert_eq!(
            m.recovery_time_seconds,
            Recovery {
                median: Some(3 * H),
                count: 1
            }
        );
        assert_eq!(m.lead_time_per_deploy.len(), 2);
        assert_eq!(m.lead_time_per_deploy[1].median, 3 * H);
    }

    #[test]
    fn a_deploy_reverted_later_counts_as_a_failure() {
        let entries = vec![
            entry(1, DeployState::Successful, T0 + H, &[(1, T0, None)]),
            entry(2, DeployState::Successful, T0 + 2 * H, &[(2, T0 + H, None)]),
            entry(
                3,
                DeployState::Successful,
                T0 + 3 * H,
                &[(3, T0 + 2 * H, Some(1))],
            ),
        ];
        let m = compute("shop", "production", &entries, None);
        assert_eq!(m.reverted, 1);
        assert_eq!(m.change_failure_rate, Some(0.333));
    }

    #[test]
    fn the_same_commit_reported_again_without_a_run_is_not_a_second_deploy() {
        let entries = vec![
            entry(1, DeployState::Successful, T0, &[(1, T0 - H, None)]),
            // `link --record` run again on the same commit: 0 new commits, same state.
            entry(1, DeployState::Successful, T0 + H, &[]),
            // A failed deploy of it, then a successful one, are two reports that count.
            entry(2, DeployState::Failed, T0 + 2 * H, &[(2, T0 + H, None)]),
            entry(2, DeployState::Successful, T0 + 3 * H, &[(2, T0 + H, None)]),
        ];
        let all = deploys(&entries);
        assert_eq!(all.len(), 3, "{all:#?}");
        assert_eq!(all[0].at, T0, "the first report's time is kept");
        let m = compute("shop", "production", &entries, None);
        assert_eq!((m.deploys, m.successful, m.failed), (3, 2, 1));
    }

    #[test]
    fn a_run_reported_twice_is_one_deploy_with_its_final_state() {
        let entries = vec![
            with_run(
                entry(1, DeployState::InProgress, T0, &[(1, T0 - H, None)]),
                "77",
            ),
            with_run(
                entry(1, DeployState::Successful, T0 + H, &[(1, T0 - H, None)]),
                "77",
            ),
            // Without a run: merged only after an unfinished report of the same commit.
            entry(2, DeployState::InProgress, T0 + 2 * H, &[]),
            entry(2, DeployState::Failed, T0 + 3 * H, &[]),
            entry(3, DeployState::Cancelled, T0 + 4 * H, &[]),
        ];
        let all = deploys(&entries);
        assert_eq!(all.len(), 3);
        let m = compute("shop", "production", &entries, None);
        assert_eq!(
            (m.deploys, m.successful, m.failed, m.not_counted),
            (2, 1, 1, 1)
        );
        // Lead time to the successful report, not the in_progress one.
        assert_eq!(m.lead_time_seconds.median, Some(2 * H));
    }

    #[test]
    fn recovery_runs_from_the_first_failure_of_a_streak() {
        let entries = vec![
            entry(1, DeployState::Failed, T0, &[]),
            entry(2, DeployState::RolledBack, T0 + H, &[]),
            entry(3, DeployState::Successful, T0 + 5 * H, &[]),
            entry(4, DeployState::Failed, T0 + 6 * H, &[]),
        ];
        let m = compute("shop", "production", &entries, None);
        assert_eq!(
            m.recovery_time_seconds,
            Recovery {
                median: Some(5 * H),
                count: 1
            }
        );
        assert_eq!(m.change_failure_rate, Some(0.75));
    }

    #[test]
    fn commits_shipped_before_the_period_and_skewed_commits_are_not_measured() {
        let entries = vec![
            entry(
                1,
                DeployState::Successful,
                T0 - 48 * H,
                &[(1, T0 - 50 * H, None)],
            ),
            // Commit 1 again (already shipped), commit 2 skewed (committed after the deploy).
            entry(
                2,
                DeployState::Successful,
                T0 + H,
                &[(1, T0 - 50 * H, None), (2, T0 + 5 * H, None), (3, T0, None)],
            ),
        ];
        let m = compute("shop", "production", &entries, Some(T0));
        assert_eq!(m.deploys, 1);
        assert_eq!(
            m.lead_time_seconds,
            LeadTime {
                median: Some(H),
                p90: Some(H),
                commits: 1
            }
        );
    }

    #[test]
    fn percentiles_by_nearest_rank_and_an_empty_history() {
        assert_eq!(percentile(&[4, 1, 3, 2], 50), Some(2));
        assert_eq!(percentile(&[4, 1, 3, 2], 90), Some(4));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        let m = compute("shop", "production", &[], Some(T0));
        assert_eq!((m.deploys, m.change_failure_rate), (0, None));
        assert_eq!(m.deployment_frequency.per_day, 0.0);
    }

    #[test]
    fn weeks_start_on_monday_and_include_empty_ones() {
        // 2026-01-01 is a Thursday; 2026-01-05 a Monday.
        let entries = vec![
            entry(1, DeployState::Successful, T0, &[]),
            entry(2, DeployState::Failed, T0 + 4 * 24 * H, &[]),
            entry(3, DeployState::Successful, T0 + 18 * 24 * H, &[]),
        ];
        let m = compute("shop", "production", &entries, None);
        let weeks: Vec<(String, usize, usize)> = m
            .weeks
            .iter()
            .map(|w| (time::format_date(w.start), w.successful, w.failed))
            .collect();
        assert_eq!(
            weeks,
            vec![
                ("2025-12-29".into(), 1, 0),
                ("2026-01-05".into(), 0, 1),
                ("2026-01-12".into(), 0, 0),
                ("2026-01-19".into(), 1, 0),
            ]
        );
    }
}
