//! The deploy lifecycle in every CI template, read from the files themselves: each reports
//! `in_progress` before the deploy commands and a final state after them, from a place the CI
//! runs whatever happened to the deploy. GitHub and GitLab templates are also run for real
//! (act, gitlab-ci-local: `templates.rs`); no runner exists here for Bitbucket, CircleCI and
//! Jenkins, so their structure is checked as parsed YAML, and as text for the Jenkinsfile.

use std::path::PathBuf;

use serde_json::Value;

/// What `deploylink ci --state` takes.
const STATES: [&str; 8] = [
    "successful",
    "failed",
    "pending",
    "in_progress",
    "cancelled",
    "rolled_back",
    "unknown",
    "from-job",
];

fn read(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}"))
}

/// The commands of a script list (strings), as text.
fn commands(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list of commands: {list:#}"))
        .iter()
        .map(|c| {
            c.as_str()
                .unwrap_or_else(|| panic!("a command that is not a string: {c:#}"))
                .to_owned()
        })
        .collect()
}

/// The index of the first command that contains `needle`.
fn position(commands: &[String], needle: &str) -> usize {
    commands
        .iter()
        .position(|c| c.contains(needle))
        .unwrap_or_else(|| panic!("no command contains {needle:?}: {commands:#?}"))
}

/// Every `--state X` (or a Jenkins `deploylinkCi('X'`) in `text` is a state deploylink takes.
fn assert_known_states(file: &str, text: &str) {
    for pattern in ["--state ", "deploylinkCi('"] {
        for (at, _) in text.match_indices(pattern) {
            let rest = &text[at + pattern.len()..];
            let state: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if state.is_empty() || rest.starts_with('"') {
                continue; // a variable: `--state "$DEPLOYLINK_STATE"`
            }
            assert!(
                STATES.contains(&state.as_str()),
                "{file}: `{pattern}{state}` is not a state deploylink ci takes"
            );
        }
    }
}

#[test]
fn github_workflow_reports_in_progress_then_the_job_status_always() {
    let file = "ci-templates/github/example-workflow.yml";
    let text = read(file);
    assert_known_states(file, &text);
    let workflow = yaml(&text);
    let jobs = workflow["jobs"].as_object().expect("jobs");
    let steps = jobs
        .values()
        .next()
        .and_then(|job| job["steps"].as_array())
        .expect("a job with steps");
    let uses_action = |s: &&Value| s["uses"].as_str() == Some("./ci-templates/github");
    let reports: Vec<(usize, &Value)> = steps
        .iter()
        .enumerate()
        .filter(|(_, s)| uses_action(s))
        .collect();
    assert_eq!(reports.len(), 2, "two reports: before and after the deploy");
    let (start, first) = reports[0];
    let (end, last) = reports[1];
    assert_eq!(first["with"]["state"], "in_progress");
    assert!(first.get("if").is_none(), "the start report always runs");
    assert_eq!(
        last["if"], "always()",
        "the final report runs whatever happened"
    );
    assert_eq!(last["with"]["state"], "from-job");
    assert_eq!(last["with"]["job-status"], "${{ job.status }}");
    let deploy = steps
        .iter()
        .position(|s| s["run"].as_str().is_some_and(|r| r.contains("deploy")))
        .expect("a deploy step");
    assert!(start < deploy && deploy < end, "in_progress, deploy, final");

    let file = "ci-templates/github/action.yml";
    let text = read(file);
    let action = yaml(&text);
    assert_eq!(action["inputs"]["state"]["default"], "successful");
    assert_eq!(action["inputs"]["job-status"]["default"], "");
    let run = action["runs"]["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == "run"))
        .expect("the run step");
    assert_eq!(
        run["env"]["DEPLOYLINK_JOB_STATUS"], "${{ inputs.job-status }}",
        "from-job reads DEPLOYLINK_JOB_STATUS"
    );
    assert_eq!(run["env"]["DEPLOYLINK_INPUT_STATE"], "${{ inputs.state }}");
    assert!(
        run["run"]
            .as_str()
            .unwrap()
            .contains("--state \"$DEPLOYLINK_INPUT_STATE\""),
        "{run:#}"
    );
}

#[test]
fn gitlab_component_reports_in_before_script_and_after_script() {
    let file = "ci-templates/gitlab/deploylink.yml";
    let text = read(file);
    assert_known_states(file, &text);
    let (_, jobs) = text.split_once("\n---\n").expect("spec, then jobs");
    let job = &yaml(jobs)["deploylink"];
    let before = commands(&job["before_script"]);
    let after = commands(&job["after_script"]);
    assert!(job["script"].is_array(), "a script for the deploy commands");
    let start = position(&before, "--state in_progress");
    assert!(
        before[start].contains("||"),
        "a failed start report must not stop the deploy: {}",
        before[start]
    );
    let end = position(&after, "--state from-job");
    // after_script is a shell of its own: it sets deploylink up again before the report.
    let setup = position(&after, "deploylink_ci()");
    assert!(setup < end);
    assert_eq!(
        after[setup], before[0],
        "after_script repeats before_script's setup"
    );
    for example in [
        "ci-templates/gitlab/example.gitlab-ci.yml",
        "ci-templates/gitlab/example.local.gitlab-ci.yml",
    ] {
        let job = &yaml(&read(example))["deploylink"];
        let script = commands(&job["script"]);
        assert!(
            script.iter().any(|c| c.contains("deploy")),
            "{example}: the deploy commands go in the job's script"
        );
        for key in ["before_script", "after_script"] {
            assert!(
                job.get(key).is_none(),
                "{example}: a {key} of its own would replace the component's report"
            );
        }
    }
}

#[test]
fn bitbucket_step_reports_from_after_script_with_the_exit_code() {
    let file = "ci-templates/bitbucket/bitbucket-pipelines.yml";
    let text = read(file);
    assert_known_states(file, &text);
    let pipelines = yaml(&text);
    let step = &pipelines["definitions"]["steps"][0]["step"];
    let script = commands(&step["script"]);
    let after = commands(&step["after-script"]);
    let start = position(&script, "--state in_progress");
    assert!(script[start].contains("--on-error warn") && script[start].contains("||"));
    let deploy = position(&script, "./deploy.sh");
    assert!(start < deploy, "in_progress before the deploy");
    let end = position(&after, "deploylink ci --state from-job");
    assert_eq!(after[0], script[0], "after-script repeats the setup");
    assert!(end > 0);
    // The branch and tag pipelines run that step (the YAML anchor).
    assert_eq!(&pipelines["pipelines"]["branches"]["main"][0]["step"], step);
    assert_eq!(&pipelines["pipelines"]["tags"]["v*"][0]["step"], step);
}

#[test]
fn circleci_job_reports_on_success_and_on_fail() {
    let file = "ci-templates/circleci/config.yml";
    let text = read(file);
    assert_known_states(file, &text);
    let config = yaml(&text);
    let steps = config["jobs"]["deploylink"]["steps"]
        .as_array()
        .expect("steps");
    let runs: Vec<(&str, Option<&str>)> = steps
        .iter()
        .filter_map(|s| s.get("run"))
        .map(|r| (r["command"].as_str().unwrap_or(""), r["when"].as_str()))
        .collect();
    let find = |needle: &str| {
        runs.iter()
            .position(|(c, _)| c.contains(needle))
            .unwrap_or_else(|| panic!("no step runs {needle:?}: {runs:#?}"))
    };
    let start = find("--state in_progress");
    let deploy = find("./deploy.sh");
    let success = find("--state successful");
    let failure = find("--state failed");
    assert!(start < deploy && deploy < success && deploy < failure);
    assert_eq!(runs[start].1, None, "the start report always runs");
    assert_eq!(runs[success].1, Some("on_success"));
    assert_eq!(runs[failure].1, Some("on_fail"));
}

/// The text of the `{ ... }` block that follows the first `name {` at or after `from`.
fn block<'t>(text: &'t str, name: &str, from: usize) -> (&'t str, usize) {
    let open = format!("{name} {{");
    let start = text[from..]
        .find(&open)
        .map(|i| from + i + open.len())
        .unwrap_or_else(|| panic!("no `{open}` in the Jenkinsfile"));
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            return (&text[start..start + i], start);
        }
    }
    panic!("`{open}` is not closed");
}

#[test]
fn jenkinsfile_reports_from_post_blocks() {
    let file = "ci-templates/jenkins/Jenkinsfile";
    let text = read(file);
    assert_known_states(file, &text);
    let (stage, at) = block(&text, "stage('Deploy')", 0);
    let (steps, _) = block(&text, "steps", at);
    let start = steps
        .find("deploylinkCi('in_progress', 'warn')")
        .expect("in_progress in the stage's steps");
    let deploy = steps.find("sh './deploy.sh'").expect("the deploy");
    assert!(start < deploy, "in_progress before the deploy");
    assert!(
        steps[..deploy].contains("catchError("),
        "a failed start report must not stop the deploy"
    );
    let (post, post_at) = block(&text, "post", at);
    assert!(
        stage.contains(post),
        "the post blocks are the Deploy stage's"
    );
    for (condition, state) in [
        ("success", "successful"),
        ("failure", "failed"),
        ("aborted", "cancelled"),
    ] {
        let (body, _) = block(&text, condition, post_at);
        assert!(
            body.contains(&format!("deploylinkCi('{state}', 'fail')")),
            "post {{ {condition} }} reports {state}: {body}"
        );
    }
    let (helper, _) = block(&text, "def deploylinkCi(String state, String onError)", 0);
    assert!(
        helper.contains("--state \"$DEPLOYLINK_STATE\""),
        "the helper passes its state: {helper}"
    );
}
