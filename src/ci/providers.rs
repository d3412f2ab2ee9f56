//! The providers read from environment variables alone (every one but GitHub Actions).

use super::env::{encode_path_segment, jenkins_ref, Env};
use super::{CiError, Detected};
use crate::git::remote::{web_url, UrlForms};

pub(super) fn gitlab(env: &mut Env) -> Result<Detected, CiError> {
    Ok(Detected {
        to: env.commit("CI_COMMIT_SHA"),
        base: env.base("CI_COMMIT_BEFORE_SHA"),
        refname: env.branch_or_tag("CI_COMMIT_BRANCH", "CI_COMMIT_TAG"),
        run_url: env.var("CI_PIPELINE_URL"),
        run_id: env.var("CI_PIPELINE_ID"),
        run_number: env.run_number("CI_PIPELINE_IID")?,
        repo_url: env
            .var("CI_PROJECT_URL")
            .and_then(|url| web_url(&url, UrlForms::HttpsOnly)),
        environment: env.var("CI_ENVIRONMENT_NAME"),
        ..Detected::default()
    })
}

pub(super) fn bitbucket(env: &mut Env) -> Result<Detected, CiError> {
    // BITBUCKET_GIT_HTTP_ORIGIN is `http://bitbucket.org/<workspace>/<repo>`.
    let repo_url = env.var("BITBUCKET_GIT_HTTP_ORIGIN").and_then(|origin| {
        let https = match origin.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("http://") => {
                format!("https://{}", &origin[7..])
            }
            _ => origin,
        };
        web_url(&https, UrlForms::HttpsOnly)
    });
    let run_number = env.run_number("BITBUCKET_BUILD_NUMBER")?;
    let run_url = repo_url
        .as_ref()
        .zip(run_number)
        .map(|(repo_url, n)| format!("{repo_url}/addon/pipelines/home#!/results/{n}"));
    Ok(Detected {
        to: env.commit("BITBUCKET_COMMIT"),
        refname: env.branch_or_tag("BITBUCKET_BRANCH", "BITBUCKET_TAG"),
        run_url,
        run_id: env.var("BITBUCKET_PIPELINE_UUID"),
        run_number,
        repo_url,
        environment: env.var("BITBUCKET_DEPLOYMENT_ENVIRONMENT"),
        ..Detected::default()
    })
}

pub(super) fn jenkins(env: &mut Env) -> Result<Detected, CiError> {
    let refname = match (env.var("TAG_NAME"), env.var("GIT_BRANCH")) {
        (Some(tag), _) => env.valid_ref(format!("refs/tags/{tag}"), "TAG_NAME"),
        (None, Some(branch)) => env.valid_ref(jenkins_ref(&branch), "GIT_BRANCH"),
        (None, None) => None,
    };
    Ok(Detected {
        to: env.commit("GIT_COMMIT"),
        base: env.base("GIT_PREVIOUS_SUCCESSFUL_COMMIT"),
        refname,
        run_url: env.var("BUILD_URL"),
        run_id: env.first_of(&["BUILD_ID", "BUILD_TAG"]),
        run_number: env.run_number("BUILD_NUMBER")?,
        repo_url: env
            .var("GIT_URL")
            .and_then(|url| web_url(&url, UrlForms::HttpsOnly)),
        ..Detected::default()
    })
}

pub(super) fn circleci(env: &mut Env) -> Result<Detected, CiError> {
    Ok(Detected {
        to: env.commit("CIRCLE_SHA1"),
        refname: env.branch_or_tag("CIRCLE_BRANCH", "CIRCLE_TAG"),
        run_url: env.var("CIRCLE_BUILD_URL"),
        run_id: env.var("CIRCLE_WORKFLOW_ID"),
        run_number: env.run_number("CIRCLE_BUILD_NUM")?,
        repo_url: env
            .var("CIRCLE_REPOSITORY_URL")
            .and_then(|url| web_url(&url, UrlForms::HttpsOrSsh)),
        ..Detected::default()
    })
}

pub(super) fn azure(env: &mut Env) -> Result<Detected, CiError> {
    let run_number = env.run_number("BUILD_BUILDID")?;
    let run_id = env.var("BUILD_BUILDID");
    let run_url = match (
        env.var("SYSTEM_COLLECTIONURI"),
        env.var("SYSTEM_TEAMPROJECT"),
    ) {
        (Some(collection), Some(project)) => {
            run_number.map(|id| azure_run_url(&collection, &project, id))
        }
        _ => None,
    };
    Ok(Detected {
        to: env.commit("BUILD_SOURCEVERSION"),
        refname: env.full_ref("BUILD_SOURCEBRANCH"),
        run_url,
        run_id,
        run_number,
        repo_url: env
            .var("BUILD_REPOSITORY_URI")
            .and_then(|url| web_url(&url, UrlForms::HttpsOnly)),
        ..Detected::default()
    })
}

/// `{collection}{project}/_build/results?buildId={id}`: the collection URI ends with `/`
/// (`https://dev.azure.com/org/`) and the project is a display name (`Web Shop`).
pub(super) fn azure_run_url(collection: &str, project: &str, id: i64) -> String {
    format!(
        "{}/{}/_build/results?buildId={id}",
        collection.trim_end_matches('/'),
        encode_path_segment(project)
    )
}

pub(super) fn buildkite(env: &mut Env) -> Result<Detected, CiError> {
    Ok(Detected {
        to: env.commit("BUILDKITE_COMMIT"),
        refname: env.branch_or_tag("BUILDKITE_BRANCH", "BUILDKITE_TAG"),
        run_url: env.var("BUILDKITE_BUILD_URL"),
        run_id: env.var("BUILDKITE_BUILD_ID"),
        run_number: env.run_number("BUILDKITE_BUILD_NUMBER")?,
        repo_url: env
            .var("BUILDKITE_REPO")
            .and_then(|url| web_url(&url, UrlForms::HttpsOrSsh)),
        ..Detected::default()
    })
}

#[cfg(test)]
mod tests {
    use super::azure_run_url;

    #[test]
    fn azure_run_urls_mind_the_slash_and_encode_the_project() {
        let expected = "https://dev.azure.com/acme/Web%20Shop/_build/results?buildId=812";
        assert_eq!(
            azure_run_url("https://dev.azure.com/acme/", "Web Shop", 812),
            expected
        );
        assert_eq!(
            azure_run_url("https://dev.azure.com/acme", "Web Shop", 812),
            expected
        );
        assert_eq!(
            azure_run_url("https://tfs.example.com/tfs/DefaultCollection/", "shop", 7),
            "https://tfs.example.com/tfs/DefaultCollection/shop/_build/results?buildId=7"
        );
    }
}
