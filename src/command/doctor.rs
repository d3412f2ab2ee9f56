//! `deploylink doctor`: pre-flight checks of the project file's trackers and Jira projects.

use std::io::Write;

use super::write_report;
use crate::command::cli::{DoctorArgs, GlobalArgs, PlannedAction};
use crate::config::{self, Project, TrustMode};
use crate::doctor::{self, needs::Planned};
use crate::error::{Error, Result};
use crate::git::repo::Repo;
use crate::report::Doctor;

pub fn doctor(global: &GlobalArgs, args: &DoctorArgs, out: &mut dyn Write) -> Result<()> {
    let repo = Repo::open(global.repo.as_deref())?;
    let at = repo.resolve(&args.rev)?;
    let config = config::load_config(&global.config_paths(), &repo, at, TrustMode::Client)?;
    let projects: Vec<&Project> = if args.projects.is_empty() {
        config.projects().iter().collect()
    } else {
        args.projects
            .iter()
            .map(|name| {
                config.project(name).ok_or_else(|| {
                    let all: Vec<&str> = config.projects().iter().map(Project::name).collect();
                    Error::usage(format!(
                        "no project '{name}' in {}\n  hint: the projects are: {}",
                        config.source_name(),
                        all.join(", ")
                    ))
                })
            })
            .collect::<Result<_>>()?
    };
    let request = doctor::Request {
        projects,
        also: args.also.iter().map(|a| planned(*a)).collect(),
        repo: &repo,
        at,
    };
    let report = Doctor::new(doctor::run(&request));
    write_report(out, global.format, &report)?;
    if report.summary.fail > 0 {
        return Err(Error::TrackerCheck {
            message: format!(
                "{} of {} checks failed",
                report.summary.fail,
                report.checks.len()
            ),
            credentials: !report.only_unreachable(),
        });
    }
    Ok(())
}

fn planned(action: PlannedAction) -> Planned {
    match action {
        PlannedAction::RemoteLink => Planned::RemoteLink,
        PlannedAction::Comment => Planned::Comment,
        PlannedAction::FixVersion => Planned::FixVersion,
        PlannedAction::Transition => Planned::Transition,
    }
}
