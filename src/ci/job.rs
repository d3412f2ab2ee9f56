//! The result of the CI job that ran the deploy, for `deploylink ci --state from-job`.
//!
//! A deploy is reported twice: `in_progress` when its job starts, then its final state from a
//! step that runs whatever happened to the deploy (GitLab's `after_script`, Bitbucket's
//! `after-script`, a GitHub step with `if: always()`). That last step reads the job's result
//! here. Where the CI exposes it, its own variable is read; where it does not (GitHub passes
//! `job.status` only into expressions, Jenkins and CircleCI only through the block or step
//! that runs), the template sets [`JOB_STATUS_VARIABLE`] explicitly, and that variable wins.

use super::env::{shown, Env};
use super::{CiError, Provider};

/// The variable a template sets to the job's result where the CI has no variable of its own
/// (`DEPLOYLINK_JOB_STATUS: ${{ job.status }}` on GitHub). It wins over the CI's variable.
pub const JOB_STATUS_VARIABLE: &str = "DEPLOYLINK_JOB_STATUS";

/// How the job that ran the deploy ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobResult {
    Succeeded,
    Failed,
    Cancelled,
}

/// A job's result and where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    pub result: JobResult,
    /// The variable it was read from.
    pub variable: &'static str,
    /// Its value, as quoted in messages.
    pub value: String,
}

/// The words [`JOB_STATUS_VARIABLE`] takes, in any case: GitHub's `job.status`
/// (`success`, `failure`, `cancelled`), GitLab's (`failed`, `canceled`), Jenkins's
/// `currentBuild.currentResult` (`SUCCESS`, `FAILURE`, `ABORTED`) and deploylink's own states.
const WORDS: [(&str, JobResult); 8] = [
    ("success", JobResult::Succeeded),
    ("successful", JobResult::Succeeded),
    ("succeeded", JobResult::Succeeded),
    ("failure", JobResult::Failed),
    ("failed", JobResult::Failed),
    ("cancelled", JobResult::Cancelled),
    ("canceled", JobResult::Cancelled),
    ("aborted", JobResult::Cancelled),
];

/// The result of the job this runs in, from `env` (a lookup of environment variables; blank
/// counts as unset): [`JOB_STATUS_VARIABLE`] when set, else the detected CI's own variable
/// (GitLab's `CI_JOB_STATUS`, Bitbucket's `BITBUCKET_EXIT_CODE`). An error names what was
/// looked for when nothing is set, and the accepted values when a value is not one.
pub fn job_status(env: &dyn Fn(&str) -> Option<String>) -> Result<JobStatus, CiError> {
    let env = Env::new(env);
    if let Some(value) = env.var(JOB_STATUS_VARIABLE) {
        return from_word(JOB_STATUS_VARIABLE, &value);
    }
    let provider = Provider::ALL.into_iter().find(|p| p.is_present(&env));
    match provider {
        Some(Provider::GitLab) => match env.var("CI_JOB_STATUS") {
            Some(value) => gitlab(&value),
            None => Err(missing(provider)),
        },
        Some(Provider::Bitbucket) => match env.var("BITBUCKET_EXIT_CODE") {
            Some(value) => bitbucket(&value),
            None => Err(missing(provider)),
        },
        _ => Err(missing(provider)),
    }
}

/// A word of [`WORDS`], in any case.
fn from_word(variable: &'static str, value: &str) -> Result<JobStatus, CiError> {
    let lower = value.to_ascii_lowercase();
    match WORDS.iter().find(|(word, _)| *word == lower) {
        Some(&(_, result)) => Ok(JobStatus {
            result,
            variable,
            value: shown(value),
        }),
        None => Err(CiError::JobStatus {
            variable,
            value: shown(value),
            expected: "success, failure or cancelled (also successful, failed, canceled, aborted)",
        }),
    }
}

/// GitLab's `CI_JOB_STATUS`: `success`, `failed` or `canceled` in `after_script`; `running`
/// in `script`, where the job has no result yet.
fn gitlab(value: &str) -> Result<JobStatus, CiError> {
    let result = match value {
        "success" => JobResult::Succeeded,
        "failed" => JobResult::Failed,
        "canceled" => JobResult::Cancelled,
        _ => {
            return Err(CiError::JobStatus {
                variable: "CI_JOB_STATUS",
                value: shown(value),
                expected: "success, failed or canceled, as GitLab sets it in after_script \
                           (run `deploylink ci --state from-job` there, not in script)",
            })
        }
    };
    Ok(JobStatus {
        result,
        variable: "CI_JOB_STATUS",
        value: value.to_owned(),
    })
}

/// Bitbucket's `BITBUCKET_EXIT_CODE` (set in `after-script`): 0 is success, any other exit
/// code a failure. Bitbucket runs no `after-script` for a stopped step, so it has no
/// "cancelled".
fn bitbucket(value: &str) -> Result<JobStatus, CiError> {
    let result = match value.parse::<i64>() {
        Ok(0) => JobResult::Succeeded,
        Ok(_) => JobResult::Failed,
        Err(_) => {
            return Err(CiError::JobStatus {
                variable: "BITBUCKET_EXIT_CODE",
                value: shown(value),
                expected: "an exit code, as Bitbucket sets it in after-script",
            })
        }
    };
    Ok(JobStatus {
        result,
        variable: "BITBUCKET_EXIT_CODE",
        value: value.to_owned(),
    })
}

/// The error when no result is set: what was looked for, for the CI that was detected.
fn missing(provider: Option<Provider>) -> CiError {
    let (looked_for, hint) = match provider {
        Some(Provider::GitLab) => (
            format!("{JOB_STATUS_VARIABLE} or CI_JOB_STATUS"),
            "GitLab sets CI_JOB_STATUS in after_script: run `deploylink ci --state from-job` there",
        ),
        Some(Provider::Bitbucket) => (
            format!("{JOB_STATUS_VARIABLE} or BITBUCKET_EXIT_CODE"),
            "Bitbucket sets BITBUCKET_EXIT_CODE in after-script: run `deploylink ci --state from-job` there",
        ),
        Some(Provider::GitHubActions) => (
            JOB_STATUS_VARIABLE.to_owned(),
            "pass the job's result from the workflow: `env: DEPLOYLINK_JOB_STATUS: ${{ job.status }}` \
             (the action's `job-status` input does this), in a step with `if: always()`",
        ),
        _ => (
            JOB_STATUS_VARIABLE.to_owned(),
            "set DEPLOYLINK_JOB_STATUS to success, failure or cancelled where the CI knows the result \
             (Jenkins: a post block; CircleCI: a `when: on_fail` step), or give the state itself: --state failed",
        ),
    };
    CiError::NoJobStatus {
        provider: provider.map_or("no CI provider detected", Provider::name),
        looked_for,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(vars: &[(&str, &str)]) -> Result<JobStatus, CiError> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        };
        job_status(&lookup)
    }

    fn result(vars: &[(&str, &str)]) -> JobResult {
        status(vars).unwrap().result
    }

    #[test]
    fn github_passes_job_status_through_the_variable() {
        let github = ("GITHUB_ACTIONS", "true");
        for (value, expected) in [
            ("success", JobResult::Succeeded),
            ("failure", JobResult::Failed),
            ("cancelled", JobResult::Cancelled),
        ] {
            assert_eq!(result(&[github, (JOB_STATUS_VARIABLE, value)]), expected);
        }
        let err = status(&[github]).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "--state from-job: no job result: DEPLOYLINK_JOB_STATUS is not set (GitHub Actions)"
            ),
            "{err}"
        );
        assert!(err.contains("${{ job.status }}"), "{err}");
    }

    #[test]
    fn gitlab_reads_ci_job_status_in_after_script() {
        let gitlab = ("GITLAB_CI", "true");
        for (value, expected) in [
            ("success", JobResult::Succeeded),
            ("failed", JobResult::Failed),
            ("canceled", JobResult::Cancelled),
        ] {
            let status = status(&[gitlab, ("CI_JOB_STATUS", value)]).unwrap();
            assert_eq!(status.result, expected);
            assert_eq!(status.variable, "CI_JOB_STATUS");
        }
        let err = status(&[gitlab, ("CI_JOB_STATUS", "running")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--state from-job: CI_JOB_STATUS is 'running'"),
            "{err}"
        );
        assert!(err.contains("after_script"), "{err}");
        let err = status(&[gitlab]).unwrap_err().to_string();
        assert!(
            err.contains("DEPLOYLINK_JOB_STATUS or CI_JOB_STATUS is not set"),
            "{err}"
        );
    }

    #[test]
    fn bitbucket_reads_the_exit_code_in_after_script() {
        let bitbucket = ("BITBUCKET_BUILD_NUMBER", "12");
        assert_eq!(
            result(&[bitbucket, ("BITBUCKET_EXIT_CODE", "0")]),
            JobResult::Succeeded
        );
        for code in ["1", "2", "137", "-1"] {
            assert_eq!(
                result(&[bitbucket, ("BITBUCKET_EXIT_CODE", code)]),
                JobResult::Failed,
                "{code}"
            );
        }
        let err = status(&[bitbucket, ("BITBUCKET_EXIT_CODE", "oops")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("BITBUCKET_EXIT_CODE is 'oops'"), "{err}");
        let err = status(&[bitbucket]).unwrap_err().to_string();
        assert!(
            err.contains("DEPLOYLINK_JOB_STATUS or BITBUCKET_EXIT_CODE is not set"),
            "{err}"
        );
    }

    #[test]
    fn jenkins_and_circleci_read_what_their_templates_set() {
        let jenkins = ("JENKINS_URL", "https://ci.example.com/");
        for (value, expected) in [
            ("SUCCESS", JobResult::Succeeded),
            ("FAILURE", JobResult::Failed),
            ("ABORTED", JobResult::Cancelled),
        ] {
            assert_eq!(result(&[jenkins, (JOB_STATUS_VARIABLE, value)]), expected);
        }
        let circleci = ("CIRCLECI", "true");
        assert_eq!(
            result(&[circleci, (JOB_STATUS_VARIABLE, "failed")]),
            JobResult::Failed
        );
        for provider in [jenkins, circleci] {
            let err = status(&[provider]).unwrap_err().to_string();
            assert!(
                err.contains("DEPLOYLINK_JOB_STATUS is not set"),
                "{provider:?}: {err}"
            );
        }
    }

    #[test]
    fn the_explicit_variable_wins_over_the_cis_own() {
        let status = status(&[
            ("GITLAB_CI", "true"),
            ("CI_JOB_STATUS", "success"),
            (JOB_STATUS_VARIABLE, "cancelled"),
        ])
        .unwrap();
        assert_eq!(status.result, JobResult::Cancelled);
        assert_eq!(status.variable, JOB_STATUS_VARIABLE);
    }

    #[test]
    fn outside_ci_nothing_is_guessed() {
        let err = status(&[]).unwrap_err().to_string();
        assert!(
            err.starts_with("--state from-job: no job result: DEPLOYLINK_JOB_STATUS is not set (no CI provider detected)"),
            "{err}"
        );
        let err = status(&[(JOB_STATUS_VARIABLE, "unstable")])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--state from-job: DEPLOYLINK_JOB_STATUS is 'unstable'"),
            "{err}"
        );
        assert_eq!(
            result(&[(JOB_STATUS_VARIABLE, " Failure\n")]),
            JobResult::Failed,
            "trimmed, any case"
        );
    }
}
