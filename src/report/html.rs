//! The HTML page of `deploylink metrics --format html`: one self-contained file (inline CSS
//! and SVG, no script, nothing loaded from elsewhere) that a browser shows as it is. Built
//! as strings, every text from the history escaped.

use std::fmt::Write;

use super::metrics::{duration, percent, MetricsReport};
use crate::history::metrics::{Metrics, Week};
use crate::time;

const GOOD: &str = "#2f855a";
const BAD: &str = "#c53030";
const LINE: &str = "#2b6cb0";
const GRID: &str = "#e2e8f0";
const TEXT: &str = "#1a202c";
const MUTED: &str = "#4a5568";

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 280.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 52.0;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;color:#1a202c;background:#fff;margin:24px 32px;max-width:820px}\
h1{font-size:24px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 4px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}\
h3{font-size:15px;margin:20px 0 4px;color:#2d3748}.muted{color:#4a5568;font-size:13px}\
.cards{display:flex;gap:12px;margin:12px 0}.card{flex:1;border:1px solid #e2e8f0;border-radius:6px;padding:10px 12px}\
.card .label{font-size:12px;color:#4a5568;text-transform:uppercase;letter-spacing:.04em}.card .value{font-size:22px;font-weight:bold;margin:4px 0}\
.card .sub{font-size:12px;color:#4a5568}.warn{background:#fffaf0;border:1px solid #f6ad55;border-radius:6px;padding:8px 12px;font-size:13px}\
svg{display:block}";

/// The whole page.
pub fn metrics_page(report: &MetricsReport) -> String {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<title>Deploy metrics</title>");
    let _ = writeln!(page, "<style>{STYLE}</style></head><body>");
    page.push_str("<h1>Deploy metrics</h1>\n<p class=\"muted\">DORA's four keys over the deploys recorded in git (refs/deploylink-history), as defined in deploylink's docs/metrics.md.</p>\n");
    if report.metrics.is_empty() {
        page.push_str("<p>No recorded deploys.</p>\n");
    }
    for m in &report.metrics {
        section(&mut page, m);
    }
    if !report.warnings.is_empty() {
        let _ = write!(
            page,
            "<h2>Skipped or doubtful entries</h2>\n<div class=\"warn\"><ul>"
        );
        for w in &report.warnings {
            let _ = write!(
                page,
                "<li>{}: {}</li>",
                escape(&w.refname),
                escape(&w.message)
            );
        }
        page.push_str("</ul></div>\n");
    }
    page.push_str("</body></html>\n");
    page
}

fn section(page: &mut String, m: &Metrics) {
    let _ = write!(
        page,
        "<h2>{} &rarr; {}</h2>\n<p class=\"muted\">{} to {} (UTC), {} deploys</p>\n<div class=\"cards\">",
        escape(&m.project),
        escape(&m.environment),
        escape(&m.since.replace('T', " ").replace('Z', "")),
        escape(&m.until.replace('T', " ").replace('Z', "")),
        m.deploys
    );
    let lead = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), duration);
    card(
        page,
        "Deployment frequency",
        &format!("{:.1} / week", m.deployment_frequency.per_week),
        &format!("{} successful of {} deploys", m.successful, m.deploys),
    );
    card(
        page,
        "Lead time for changes",
        &lead(m.lead_time_seconds.median),
        &format!(
            "median; p90 {} over {} commits",
            lead(m.lead_time_seconds.p90),
            m.lead_time_seconds.commits
        ),
    );
    card(
        page,
        "Change failure rate",
        &percent(m.change_failure_rate),
        &format!(
            "{} failed, {} rolled back, {} reverted",
            m.failed, m.rolled_back, m.reverted
        ),
    );
    card(
        page,
        "Recovery time",
        &lead(m.recovery_time_seconds.median),
        &format!("median of {} recoveries", m.recovery_time_seconds.count),
    );
    page.push_str("</div>\n");
    page.push_str("<h3>Deploys per week</h3>\n");
    page.push_str(&weeks_chart(&m.weeks));
    page.push_str("<h3>Lead time per deploy</h3>\n");
    page.push_str(&lead_chart(m));
}

fn card(page: &mut String, label: &str, value: &str, sub: &str) {
    let _ = write!(
        page,
        "<div class=\"card\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"sub\">{}</div></div>",
        escape(label),
        escape(value),
        escape(sub)
    );
}

/// A round upper bound for an axis and its tick step: 1, 2 or 5 times a power of ten.
fn nice_axis(max: f64) -> (f64, f64) {
    let max = if max <= 0.0 { 1.0 } else { max };
    let rough = max / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let step = step.max(if max >= 1.0 { 1.0 } else { step });
    ((max / step).ceil() * step, step)
}

fn svg_open(label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" font-size=\"12\">",
        escape(label)
    )
}

/// The y axis: grid lines, tick labels and the axis title.
fn y_axis(svg: &mut String, top: f64, step: f64, title: &str, label: impl Fn(f64) -> String) {
    let plot = HEIGHT - TOP - BOTTOM;
    let mut value = 0.0;
    while value <= top + step / 2.0 {
        let y = TOP + plot - value / top * plot;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{MUTED}\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            escape(&label(value))
        );
        value += step;
    }
    let _ = write!(
        svg,
        "<text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
        TOP + plot / 2.0,
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{TEXT}\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{:.1}\" stroke=\"{TEXT}\"/>",
        TOP + plot,
        WIDTH - RIGHT,
        TOP + plot,
        TOP + plot
    );
}

/// How a legend item is drawn.
#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Box,
    Dot,
    Dashed,
}

/// A legend at the top right: (colour, label, mark).
fn legend(svg: &mut String, items: &[(&str, &str, Mark)]) {
    let mut x = WIDTH - RIGHT;
    for (colour, label, mark) in items.iter().rev() {
        x -= 7.5 * label.len() as f64 + 26.0;
        if *mark == Mark::Dot {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"16\" r=\"4\" fill=\"{colour}\"/>",
                x + 6.0
            );
        } else if *mark == Mark::Dashed {
            let _ = write!(
                svg,
                "<line x1=\"{x:.1}\" y1=\"16\" x2=\"{:.1}\" y2=\"16\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
                x + 14.0
            );
        } else {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"10\" width=\"12\" height=\"12\" fill=\"{colour}\"/>"
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"20\" fill=\"{TEXT}\">{}</text>",
            x + 18.0,
            escape(label)
        );
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Jan 5`, or `Jan 5 2026` when asked for the year.
fn day_label(at: i64, year: bool) -> String {
    let date = time::format_date(at);
    let month = date[5..7].parse::<usize>().unwrap_or(1);
    let day = date[8..10].trim_start_matches('0');
    if year {
        format!("{} {day} {}", MONTHS[month - 1], &date[..4])
    } else {
        format!("{} {day}", MONTHS[month - 1])
    }
}

/// Stacked bars of successful and failed deploys per week.
fn weeks_chart(weeks: &[Week]) -> String {
    let mut svg = svg_open("Deploys per week: successful and failed or rolled back");
    let max = weeks
        .iter()
        .map(|w| w.successful + w.failed)
        .max()
        .unwrap_or(0) as f64;
    let (top, step) = nice_axis(max);
    y_axis(&mut svg, top, step, "deploys", |v| format!("{v}"));
    legend(
        &mut svg,
        &[
            (GOOD, "successful", Mark::Box),
            (BAD, "failed or rolled back", Mark::Box),
        ],
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / weeks.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let every = weeks.len().div_ceil(8).max(1);
    for (i, week) in weeks.iter().enumerate() {
        let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
        let base = TOP + plot_h;
        let good = week.successful as f64 / top * plot_h;
        let bad = week.failed as f64 / top * plot_h;
        if week.successful > 0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{good:.1}\" fill=\"{GOOD}\"><title>week of {}: {} successful</title></rect>",
                base - good,
                time::format_date(week.start),
                week.successful
            );
        }
        if week.failed > 0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bad:.1}\" fill=\"{BAD}\"><title>week of {}: {} failed or rolled back</title></rect>",
                base - good - bad,
                time::format_date(week.start),
                week.failed
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">{}</text>",
                x + bar / 2.0,
                base + 18.0,
                day_label(week.start, false)
            );
        }
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">week starting (UTC)</text></svg>",
        LEFT + plot_w / 2.0,
        HEIGHT - 8.0
    );
    svg
}

/// Each successful deploy's median lead time (dots joined by a line) over time, and the
/// period's median (dashed).
fn lead_chart(m: &Metrics) -> String {
    let mut svg = svg_open("Lead time for changes per deploy");
    let points = &m.lead_time_per_deploy;
    let max = points.iter().map(|p| p.median).max().unwrap_or(0) as f64;
    let (unit, name) = if max >= 3.0 * 86_400.0 {
        (86_400.0, "days")
    } else if max >= 2.0 * 3600.0 {
        (3600.0, "hours")
    } else {
        (60.0, "minutes")
    };
    let (top, step) = nice_axis(max / unit);
    y_axis(&mut svg, top, step, &format!("lead time ({name})"), |v| {
        format!("{v}")
    });
    legend(
        &mut svg,
        &[
            (LINE, "median per deploy", Mark::Dot),
            (MUTED, "median over the period", Mark::Dashed),
        ],
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let start = time::parse_rfc3339(&m.since).unwrap_or(0);
    let end = time::parse_rfc3339(&m.until)
        .unwrap_or(start)
        .max(start + 1);
    let x_of = |at: i64| LEFT + (at - start) as f64 / (end - start) as f64 * plot_w;
    let y_of = |seconds: f64| TOP + plot_h - seconds / unit / top * plot_h;
    if let Some(median) = m.lead_time_seconds.median {
        let y = y_of(median as f64);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{MUTED}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
            WIDTH - RIGHT
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x_of(p.at), y_of(p.median as f64)))
        .collect();
    if path.len() > 1 {
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"1.5\" stroke-opacity=\"0.6\"/>",
            path.join(" ")
        );
    }
    let radius = if points.len() > 200 { 2.0 } else { 4.0 };
    for p in points {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{radius}\" fill=\"{LINE}\"><title>{} ({}): {} over {} commits</title></circle>",
            x_of(p.at),
            y_of(p.median as f64),
            escape(&p.deployed_at),
            escape(p.to.get(..12).unwrap_or(&p.to)),
            duration(p.median),
            p.commits
        );
    }
    // Dates along the time axis: the period's ends and three between.
    for i in 0..=4 {
        let at = start + (end - start) * i / 4;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{MUTED}\">{}</text>",
            x_of(at),
            TOP + plot_h + 18.0,
            day_label(at, i == 0 || i == 4)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{MUTED}\">deployed (UTC)</text></svg>",
        LEFT + plot_w / 2.0,
        HEIGHT - 8.0
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_axes_are_round() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(nice_axis(7.0), (8.0, 2.0));
        assert_eq!(nice_axis(0.0), (1.0, 1.0));
        assert_eq!(nice_axis(23.0), (30.0, 10.0));
        assert_eq!(nice_axis(3.0), (3.0, 1.0));
    }

    #[test]
    fn the_page_has_no_script_and_loads_nothing() {
        let report = MetricsReport {
            metrics: vec![],
            warnings: vec![],
        };
        let page = metrics_page(&report);
        assert!(!page.contains("<script"));
        assert!(
            !page.contains("http://")
                || !page
                    .replace("http://www.w3.org/2000/svg", "")
                    .contains("http://")
        );
        assert!(!page.contains("https://"));
    }
}
