//! Request bodies checked against Atlassian's OpenAPI schemas (tests/it/support/openapi.rs), and
//! proof that the checker can fail. Gaps where a spec states a limit only in prose are tested as
//! gaps (the body is accepted), so that a spec update that encodes them shows up here.

use crate::support::openapi;

use serde_json::{json, Value};

/// The remote link deploylink sends today.
fn remote_link() -> Value {
    json!({
        "globalId": "deploylink:shop:shop:production:6a97d149a05665dc35640722f2e235ce704ae86f",
        "application": {"type": "deploylink", "name": "deploylink"},
        "relationship": "deployed in",
        "object": {
            "url": "https://git.example.com/acme/shop/commit/6a97d149a05665dc35640722f2e235ce704ae86f",
            "title": "Deployed shop 6a97d14 to production",
            "summary": "WEB-102: Validate card numbers",
            "icon": {"title": "Deployment to production"},
            "status": {"resolved": true}
        }
    })
}

fn adf_comment() -> Value {
    json!({"body": {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Deployed"}]}
    ]}})
}

/// Modelled on jira-api-facts.md 2.4 (the `SubmitDeploymentRequest` of the Software spec).
fn deployments() -> Value {
    json!({"deployments": [{
        "deploymentSequenceNumber": 20,
        "updateSequenceNumber": 1712345678,
        "associations": [{"associationType": "issueIdOrKeys", "values": ["WEB-102", "WEB-103"]}],
        "displayName": "shop 6a97d14",
        "url": "https://ci.example.com/acme/shop/runs/20",
        "description": "Deployed shop 6a97d14 to production",
        "lastUpdated": "2024-04-05T12:34:56Z",
        "state": "successful",
        "pipeline": {
            "id": "shop",
            "displayName": "shop deploy",
            "url": "https://ci.example.com/acme/shop"
        },
        "environment": {"id": "production", "displayName": "production", "type": "production"},
        // Optional in the spec (enum ["1.0"], default "1.0"), sent explicitly.
        "schemaVersion": "1.0"
    }]})
}

#[track_caller]
fn assert_valid(operation: &str, body: &Value) {
    if let Err(e) = openapi::validate(operation, body) {
        panic!("expected a valid {operation} body, got:\n{e}\nbody: {body:#}");
    }
}

/// Asserts the body is rejected and that one violation line names `pointer` and every `needle`.
#[track_caller]
fn assert_invalid(operation: &str, body: &Value, pointer: &str, needles: &[&str]) -> String {
    let err = match openapi::validate(operation, body) {
        Ok(()) => panic!("expected {operation} to reject the body, it passed: {body:#}"),
        Err(e) => e,
    };
    let prefix = format!("{pointer}: ");
    let hit = err
        .lines()
        .any(|l| l.starts_with(&prefix) && needles.iter().all(|n| l.contains(n)));
    assert!(
        hit,
        "no violation at {pointer} mentioning {needles:?} in:\n{err}"
    );
    err
}

// ---------------------------------------------------------------- the document itself

#[test]
fn every_operation_is_present_and_compiles() {
    assert_eq!(
        openapi::operations(),
        [
            "comment.v2",
            "comment.v3",
            "deployments.bulk",
            "devinfo.bulk",
            "issue-bulkfetch.v3",
            "issue-edit.v2",
            "issue-edit.v3",
            "issue-property.v2",
            "issue-property.v3",
            "remotelink.v2",
            "remotelink.v3",
            "transition.v2",
            "transition.v3",
            "version-create.v2",
            "version-create.v3",
            "version-update.v2",
            "version-update.v3",
        ]
    );
}

/// What `deploylink notes` sends; a misspelt field is refused (`additionalProperties: false`).
#[test]
fn bulkfetch_as_sent_is_valid_and_unknown_fields_are_rejected() {
    let body =
        json!({"issueIdsOrKeys": ["WEB-1", "OPS-2"], "fields": ["summary", "issuetype", "status"]});
    assert_valid("issue-bulkfetch.v3", &body);
    let misspelt = json!({"issueKeys": ["WEB-1"]});
    let err = openapi::validate("issue-bulkfetch.v3", &misspelt).unwrap_err();
    assert!(
        err.contains("issueIdsOrKeys") && err.contains("issueKeys"),
        "{err}"
    );
}

/// The bodies of the `fix-version` and `transition` actions, as deploylink builds them, pass
/// Atlassian's schemas on both API versions; a version id given as a number where Jira wants
/// a string, or a name of the wrong type, does not.
#[test]
fn release_bodies_pass_and_wrong_ones_fail() {
    use deploylink::jira::{transition, version};
    let mut fields = serde_json::Map::new();
    fields.insert("resolution".into(), json!({"name": "Done"}));
    for v in ["v2", "v3"] {
        let bodies = [
            (
                "version-create",
                version::create_body("v1.2", 10_000, Some("Released from acme/shop")),
            ),
            ("version-update", version::release_body("2026-12-06")),
            ("issue-edit", version::add_body("10100")),
            ("transition", transition::body("31", &fields)),
            (
                "transition",
                transition::body("31", &serde_json::Map::new()),
            ),
        ];
        for (operation, body) in bodies {
            let operation = format!("{operation}.{v}");
            if let Err(e) = openapi::validate(&operation, &body) {
                panic!("{operation} refused deploylink's body {body:#}:\n{e}");
            }
        }
        assert_invalid(
            &format!("version-create.{v}"),
            &json!({"name": 12, "projectId": 10000}),
            "/name",
            &[],
        );
        assert_invalid(
            &format!("transition.{v}"),
            &json!({"transition": {"id": 31}}),
            "/transition/id",
            &[],
        );
    }
}

#[test]
fn unknown_operation_is_an_error() {
    let err = openapi::validate("remotelink.v4", &remote_link()).unwrap_err();
    assert!(err.contains("unknown operation"), "{err}");
}

// ---------------------------------------------------------------- remote links (v3 and v2)

#[test]
fn remote_link_as_sent_is_valid() {
    assert_valid("remotelink.v3", &remote_link());
    assert_valid("remotelink.v2", &remote_link());
}

#[test]
fn remote_link_without_object_is_rejected() {
    for op in ["remotelink.v3", "remotelink.v2"] {
        let mut body = remote_link();
        body.as_object_mut().unwrap().remove("object");
        assert_invalid(op, &body, "/", &["\"object\"", "required"]);
    }
}

#[test]
fn remote_link_object_without_url_and_title_lists_both() {
    for op in ["remotelink.v3", "remotelink.v2"] {
        let mut body = remote_link();
        let object = body["object"].as_object_mut().unwrap();
        object.remove("url");
        object.remove("title");
        let err = assert_invalid(op, &body, "/object", &["\"url\"", "required"]);
        assert_invalid(op, &body, "/object", &["\"title\"", "required"]);
        assert!(err.contains("2 violation(s)"), "{err}");
    }
}

#[test]
fn remote_link_resolved_as_string_is_rejected() {
    for op in ["remotelink.v3", "remotelink.v2"] {
        let mut body = remote_link();
        body["object"]["status"]["resolved"] = json!("true");
        assert_invalid(op, &body, "/object/status/resolved", &["boolean"]);
    }
}

#[test]
fn remote_link_wrongly_typed_fields_are_rejected() {
    let mut body = remote_link();
    body["globalId"] = json!(42);
    body["application"] = json!("deploylink");
    body["object"]["icon"]["title"] = json!(["x"]);
    let op = "remotelink.v3";
    assert_invalid(op, &body, "/globalId", &["string"]);
    assert_invalid(op, &body, "/application", &["object"]);
    assert_invalid(op, &body, "/object/icon/title", &["string"]);
}

/// Both specs say "The maximum length is 255 characters." for `globalId`, but only in its
/// description: there is no `maxLength` keyword, so the validator cannot and does not reject a
/// longer one. deploylink has to enforce 255 itself; this test flips if a spec update encodes it.
#[test]
fn remote_link_global_id_max_length_is_prose_only() {
    for op in ["remotelink.v3", "remotelink.v2"] {
        let mut body = remote_link();
        body["globalId"] = json!("g".repeat(300));
        assert_valid(op, &body);
        assert!(
            openapi::prose_only(op)
                .iter()
                .any(|n| n.contains("globalId max 255")),
            "{op}: proseOnly note missing"
        );
    }
}

/// The spec keeps `additionalProperties: true` (v3; absent = allowed in v2): unknown fields pass.
#[test]
fn remote_link_extra_fields_are_allowed_as_the_spec_says() {
    let mut body = remote_link();
    body["object"]["extra"] = json!("x");
    assert_valid("remotelink.v3", &body);
    assert_valid("remotelink.v2", &body);
}

// ---------------------------------------------------------------- comments

#[test]
fn adf_comment_is_valid_on_v3() {
    assert_valid("comment.v3", &adf_comment());
}

#[test]
fn wiki_text_comment_is_valid_on_v2() {
    assert_valid("comment.v2", &json!({"body": "Deployed"}));
}

#[test]
fn adf_comment_is_rejected_on_v2() {
    assert_invalid("comment.v2", &adf_comment(), "/body", &["string"]);
}

/// Checked in the v3 spec: `Comment.body` has NO type, only the description "The comment text in
/// Atlassian Document Format". So the schema accepts a plain string although Jira Cloud v3 wants
/// ADF; the requirement is recorded as prose-only. This test flips if the spec starts typing it.
#[test]
fn v3_plain_string_comment_is_accepted_because_adf_is_prose_only() {
    assert_valid("comment.v3", &json!({"body": "Deployed"}));
    assert!(openapi::prose_only("comment.v3")
        .iter()
        .any(|n| n.contains("ADF")));
}

/// readOnly properties (`id`, `author`, `created`, ...) are forbidden in requests (extract.py T3).
#[test]
fn comment_with_read_only_fields_is_rejected() {
    for (op, mut body) in [
        ("comment.v3", adf_comment()),
        ("comment.v2", json!({"body": "Deployed"})),
    ] {
        body["id"] = json!("10000");
        body["author"] = json!({"accountId": "5b10ac8d82e05b22cc7d4ef5"});
        assert_invalid(op, &body, "/id", &["readOnly"]);
        assert_invalid(op, &body, "/author", &["readOnly"]);
    }
}

#[test]
fn comment_visibility_type_outside_enum_is_rejected() {
    let mut body = adf_comment();
    body["visibility"] = json!({"type": "project", "value": "Developers"});
    assert_invalid("comment.v3", &body, "/visibility/type", &["group", "role"]);
    // `identifier` is nullable in the spec (extract.py T5).
    body["visibility"] = json!({"type": "role", "identifier": null, "value": "Developers"});
    assert_valid("comment.v3", &body);
}

// ---------------------------------------------------------------- issue properties

/// `setIssueProperty`'s body schema is `{}` in both specs: any JSON value. Its limits (non-empty,
/// at most 32768 bytes) are prose only.
#[test]
fn issue_property_accepts_any_json() {
    for op in ["issue-property.v3", "issue-property.v2"] {
        assert_valid(op, &json!({"deploys": [{"env": "production"}]}));
        assert_valid(op, &json!("x"));
    }
    assert!(openapi::prose_only("issue-property.v3")
        .iter()
        .any(|n| n.contains("32768")));
}

// ---------------------------------------------------------------- deployments

#[test]
fn deployments_body_is_valid() {
    assert_valid("deployments.bulk", &deployments());
}

#[test]
fn deployments_wrong_state_is_rejected() {
    let mut body = deployments();
    body["deployments"][0]["state"] = json!("deployed");
    assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments/0/state",
        &["\"deployed\" is not one of", "\"successful\"]"],
    );
}

#[test]
fn deployments_missing_update_sequence_number_is_rejected() {
    let mut body = deployments();
    body["deployments"][0]
        .as_object_mut()
        .unwrap()
        .remove("updateSequenceNumber");
    assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments/0",
        &["\"updateSequenceNumber\"", "required"],
    );
}

#[test]
fn deployments_environment_type_and_lengths_are_checked() {
    let mut body = deployments();
    body["deployments"][0]["environment"]["type"] = json!("prod");
    body["deployments"][0]["displayName"] = json!("d".repeat(256));
    body["deployments"][0]["pipeline"]["url"] =
        json!(format!("https://ci.example.com/{}", "p".repeat(2000)));
    let op = "deployments.bulk";
    assert_invalid(
        op,
        &body,
        "/deployments/0/environment/type",
        &["production"],
    );
    assert_invalid(
        op,
        &body,
        "/deployments/0/displayName",
        &["longer than 255"],
    );
    assert_invalid(
        op,
        &body,
        "/deployments/0/pipeline/url",
        &["longer than 2000"],
    );
}

/// `format` is asserted: `lastUpdated` is a date-time, `url` a URI.
#[test]
fn deployments_formats_are_checked() {
    let mut body = deployments();
    body["deployments"][0]["lastUpdated"] = json!("yesterday");
    body["deployments"][0]["url"] = json!("not a uri");
    let op = "deployments.bulk";
    assert_invalid(op, &body, "/deployments/0/lastUpdated", &["date-time"]);
    assert_invalid(op, &body, "/deployments/0/url", &["uri"]);
}

/// The Software spec gives `Pipeline` no `type`; extract.py T8 makes it an object.
#[test]
fn deployments_pipeline_must_be_an_object() {
    let mut body = deployments();
    body["deployments"][0]["pipeline"] = json!("shop");
    assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments/0/pipeline",
        &["object"],
    );
}

#[test]
fn deployments_count_limits_are_checked() {
    let mut body = deployments();
    body["deployments"] = json!([]);
    assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments",
        &["[]", "less than 1 item"],
    );
    let one = deployments()["deployments"][0].clone();
    body["deployments"] = Value::Array(vec![one; 101]);
    assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments",
        &["more than 100"],
    );
}

/// 500 association values: each `values` array has `maxItems: 500` (encoded, rejected here); the
/// rule that the TOTAL across all associations of a deployment is at most 500 is prose only, so
/// 2 x 300 values pass the validator.
#[test]
fn deployments_association_values_limit_per_array_is_encoded_total_is_prose_only() {
    let keys = |n: usize| -> Vec<String> { (1..=n).map(|i| format!("WEB-{i}")).collect() };
    let mut body = deployments();
    body["deployments"][0]["associations"] =
        json!([{"associationType": "issueIdOrKeys", "values": keys(501)}]);
    let err = assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments/0/associations/0",
        &["anyOf"],
    );
    assert!(
        err.contains(
            "/deployments/0/associations/0/values: <array of 501 items> has more than 500 items"
        ),
        "{err}"
    );

    body["deployments"][0]["associations"] = json!([
        {"associationType": "issueIdOrKeys", "values": keys(300)},
        {"associationType": "issueKeys", "values": keys(300)}
    ]);
    assert_valid("deployments.bulk", &body);
    assert!(openapi::prose_only("deployments.bulk")
        .iter()
        .any(|n| n.contains("500")));
}

/// The spec puts `oneOf: [issue, service]` AND `anyOf: [issue, service, commit]` on each
/// association; the extraction reads the `oneOf` as the list's rule ("must contain at least one
/// of IssueIdOrKeysAssociation or ServiceIdOrKeysAssociation"): a list of commit associations
/// alone fails, commits beside issue keys pass.
#[test]
fn deployments_commit_associations_need_an_issue_association_beside_them() {
    let mut body = deployments();
    let commit = json!({
        "associationType": "commit",
        "values": [{"commitHash": "6a97d14", "repositoryId": "shop"}]
    });
    body["deployments"][0]["associations"] = json!([commit.clone()]);
    let err = assert_invalid(
        "deployments.bulk",
        &body,
        "/deployments/0/associations",
        &["contains"],
    );
    assert!(!err.is_empty());
    body["deployments"][0]["associations"] =
        json!([{"associationType": "issueIdOrKeys", "values": ["WEB-1"]}, commit]);
    assert_valid("deployments.bulk", &body);
}

// ---------------------------------------------------------------- routing

#[test]
fn operation_for_routes_requests() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "POST",
            "/rest/api/3/issue/WEB-1/remotelink",
            Some("remotelink.v3"),
        ),
        (
            "POST",
            "/rest/api/2/issue/WEB-1/remotelink",
            Some("remotelink.v2"),
        ),
        (
            "post",
            "/rest/api/3/issue/10001/remotelink",
            Some("remotelink.v3"),
        ),
        (
            "POST",
            "https://acme.atlassian.net/rest/api/3/issue/WEB-1/remotelink",
            Some("remotelink.v3"),
        ),
        // Data Center under a context path.
        (
            "POST",
            "https://jira.example.com/jira/rest/api/2/issue/WEB-1/remotelink",
            Some("remotelink.v2"),
        ),
        (
            "POST",
            "/rest/api/3/issue/WEB-1/comment",
            Some("comment.v3"),
        ),
        (
            "POST",
            "/rest/api/2/issue/WEB-1/comment?expand=renderedBody",
            Some("comment.v2"),
        ),
        (
            "PUT",
            "/rest/api/3/issue/WEB-1/properties/deploylink",
            Some("issue-property.v3"),
        ),
        (
            "PUT",
            "/rest/api/2/issue/WEB-1/properties/deploylink",
            Some("issue-property.v2"),
        ),
        (
            "POST",
            "/rest/deployments/0.1/bulk",
            Some("deployments.bulk"),
        ),
        (
            "POST",
            "https://api.atlassian.com/jira/deployments/0.1/cloud/0c5d7e0a-1234/bulk",
            Some("deployments.bulk"),
        ),
        // Not operations we model.
        ("GET", "/rest/api/3/issue/WEB-1/remotelink", None),
        ("PUT", "/rest/api/3/issue/WEB-1/remotelink/10000", None),
        (
            "DELETE",
            "/rest/api/3/issue/WEB-1/properties/deploylink",
            None,
        ),
        ("POST", "/rest/api/3/issue/WEB-1", None),
        ("POST", "/rest/api/latest/issue/WEB-1/remotelink", None),
        ("POST", "/rest/api/3/issue//remotelink", None),
        ("POST", "", None),
    ];
    for (method, path, want) in cases {
        assert_eq!(
            openapi::operation_for(method, path),
            *want,
            "{method} {path}"
        );
    }
}

// ---------------------------------------------------------------- drift

/// Re-runs extract.py and compares with the checked-in
/// crates/jira-sandbox/src/jira-schemas.json. Needs `python3` and the directory of the specs
/// in DEPLOYLINK_JIRA_SPECS (`bash .ci/run` sets it). Fails, never skips, when either is missing. Ignored by a plain
/// `cargo test` (the specs are not in the repository); `bash .ci/run` runs it with `--ignored`.
#[test]
#[ignore = "needs python3 and Atlassian's OpenAPI files in DEPLOYLINK_JIRA_SPECS; bash .ci/run runs it"]
fn schemas_json_matches_extract_py() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/fixtures/jira-schemas");
    let script = dir.join("extract.py");
    let regenerate = "regenerate with: python3 tests/fixtures/jira-schemas/extract.py [SPECS_DIR]";
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(&script).args(["--out", "-"]);
    let Some(specs) = std::env::var_os("DEPLOYLINK_JIRA_SPECS") else {
        panic!("set DEPLOYLINK_JIRA_SPECS to the directory of Atlassian's OpenAPI files; it does not skip")
    };
    cmd.arg(specs);
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run python3 ({e}): the schemas.json drift check needs python3 (3.11+) on PATH; \
             it does not skip"
        ),
    };
    assert!(
        out.status.success(),
        "extract.py failed ({}):\n{}\n(DEPLOYLINK_JIRA_SPECS names the specs' directory)",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = String::from_utf8(out.stdout).expect("extract.py output is UTF-8");
    let checked_in =
        std::fs::read_to_string(root.join("crates/jira-sandbox/src/jira-schemas.json"))
            .expect("read crates/jira-sandbox/src/jira-schemas.json")
            .replace("\r\n", "\n");
    if fresh != checked_in {
        let first = fresh
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "length differs".to_string(),
                |i| format!("line {}", i + 1),
            );
        panic!(
            "crates/jira-sandbox/src/jira-schemas.json is out of date with extract.py and the \
             specs (first difference: {first}); {regenerate}"
        );
    }
}
