//! The report of `deploylink metrics`: DORA's four keys per project and environment, for
//! people, as JSON, or as a self-contained HTML page (`html.rs`).

use serde::Serialize;

use super::{plural, Report, DIM, HEAD, WARN};
use crate::history::metrics::Metrics;
use crate::history::Problem;

#[derive(Serialize)]
pub struct MetricsReport {
    pub metrics: Vec<Metrics>,
    pub warnings: Vec<Problem>,
}

/// A duration for people: `45m`, `3h 20m`, `2d 4h`.
pub fn duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    match minutes {
        m if m < 1 => format!("{seconds}s"),
        m if m < 60 => format!("{m}m"),
        m if m < 24 * 60 => match m % 60 {
            0 => format!("{}h", m / 60),
            rest => format!("{}h {rest}m", m / 60),
        },
        m => match m / 60 % 24 {
            0 => format!("{}d", m / 1440),
            hours => format!("{}d {hours}h", m / 1440),
        },
    }
}

fn or_none(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), duration)
}

/// `25.0%`, or `-` without deploys.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

impl Report for MetricsReport {
    fn human(&self) -> String {
        let mut out = String::new();
        for m in &self.metrics {
            out.push_str(&format!(
                "{HEAD}{} -> {}{HEAD:#}  {DIM}{} .. {}{DIM:#}\n",
                m.project, m.environment, m.since, m.until
            ));
            out.push_str(&format!(
                "  deploys                {} ({} successful, {} failed, {} rolled back{})\n",
                m.deploys,
                m.successful,
                m.failed,
                m.rolled_back,
                if m.not_counted > 0 {
                    format!("; {} cancelled or unfinished not counted", m.not_counted)
                } else {
                    String::new()
                }
            ));
            out.push_str(&format!(
                "  deployment frequency   {} per day, {} per week\n",
                m.deployment_frequency.per_day, m.deployment_frequency.per_week
            ));
            out.push_str(&format!(
                "  lead time for changes  median {}, p90 {} ({} commit{})\n",
                or_none(m.lead_time_seconds.median),
                or_none(m.lead_time_seconds.p90),
                m.lead_time_seconds.commits,
                plural(m.lead_time_seconds.commits)
            ));
            out.push_str(&format!(
                "  change failure rate    {}{}\n",
                percent(m.change_failure_rate),
                if m.reverted > 0 {
                    format!(" ({} reverted later)", m.reverted)
                } else {
                    String::new()
                }
            ));
            out.push_str(&format!(
                "  recovery time          median {} ({} recover{})\n",
                or_none(m.recovery_time_seconds.median),
                m.recovery_time_seconds.count,
                if m.recovery_time_seconds.count == 1 {
                    "y"
                } else {
                    "ies"
                }
            ));
        }
        if self.metrics.is_empty() {
            out.push_str("no recorded deploys (deploys are recorded by the post-receive hook and by --record)\n");
        }
        if !self.warnings.is_empty() {
            out.push_str(&format!(
                "{WARN}{} history entr{} skipped or doubtful (see the warnings){WARN:#}\n",
                self.warnings.len(),
                if self.warnings.len() == 1 { "y" } else { "ies" }
            ));
        }
        out
    }

    fn html(&self) -> Option<String> {
        Some(super::html::metrics_page(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(duration(30), "30s");
        assert_eq!(duration(45 * 60), "45m");
        assert_eq!(duration(3 * 3600), "3h");
        assert_eq!(duration(3 * 3600 + 20 * 60), "3h 20m");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2d 4h");
        assert_eq!(percent(Some(0.25)), "25.0%");
    }
}
