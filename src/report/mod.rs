//! What each command reports, as typed values: each renders for people (`human()`) and
//! serialises to JSON (serde), so both formats come from the same value.
//!
//! Human text carries ANSI styles; the binary writes it through `anstream`, which strips
//! them when stdout is not a terminal or `NO_COLOR` is set. The JSON shapes are documented in
//! `docs/json-output.md` and kept stable: fields are only ever added.

use anstyle::{AnsiColor, Style};
use serde::Serialize;

mod doctor;
mod history;
pub mod html;
mod keys;
mod metrics;
mod notes;
mod retry;
mod run;
mod setup;
mod tracker;
mod violations;

pub use doctor::{Doctor, DoctorSummary};
pub use history::{HistoryDeploy, HistoryList};
pub use keys::Keys;
pub use metrics::MetricsReport;
pub use notes::{Group, Notes};
pub use retry::{Retried, SpoolList, Waiting};
pub use run::Run;
pub use setup::{Initialized, Installed};
pub use tracker::{Connected, Disconnected, TrackerCheck, TrackerList, TrackerRow};
pub use violations::{Offender, Violation, Violations};

const KEY: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const HEAD: Style = Style::new().bold();
const WARN: Style = AnsiColor::Yellow.on_default();
const BAD: Style = AnsiColor::Red.on_default().bold();

/// `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Human,
    Json,
    /// Only `deploylink notes` writes markdown.
    Markdown,
    /// A self-contained page (`metrics`); other reports give their human text.
    Html,
}

impl Format {
    /// The name `--format` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

/// A command's result: text for people, and (through `Serialize`) the JSON document.
pub trait Report: Serialize {
    /// The text for a terminal, ending in a newline (or empty).
    fn human(&self) -> String;

    /// Markdown, for the reports that have it (release notes); the others are asked only for
    /// human text or JSON (the command line refuses `--format markdown` for them).
    fn markdown(&self) -> String {
        self.human()
    }

    /// A self-contained HTML page, for the reports that have one.
    fn html(&self) -> Option<String> {
        None
    }
}

/// The report in `format`: its human text, or its JSON document, pretty-printed with one
/// trailing newline. Object keys come out sorted (serde_json's map), which is the order every
/// document has always had.
pub fn render(report: &impl Report, format: Format) -> String {
    match format {
        Format::Human => report.human(),
        Format::Markdown => report.markdown(),
        Format::Html => report.html().unwrap_or_else(|| report.human()),
        Format::Json => match serde_json::to_value(report) {
            Ok(value) => format!("{value:#}\n"),
            // Only a map with non-string keys fails, and no report has one.
            Err(error) => format!("{:#}\n", serde_json::json!({ "error": error.to_string() })),
        },
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
