//! The sandbox (a local Jira-compatible server) driven over real HTTP on 127.0.0.1, as
//! deploylink and its tests use it.

use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use jira_sandbox::{Credentials, Fault, FaultAction, IssuePolicy, Options, Sandbox, CLOUD_ID};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

fn client() -> Client {
    deploylink::jira::install_tls_provider();
    Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

fn start() -> Sandbox {
    Sandbox::start(Options::default()).expect("start sandbox")
}

fn listed(keys: &[&str]) -> Sandbox {
    Sandbox::start(Options {
        issues: IssuePolicy::Listed(keys.iter().map(|k| k.to_string()).collect()),
        ..Options::default()
    })
    .expect("start sandbox")
}

/// Sends with Basic auth and returns (status, JSON body or Null).
fn send(builder: RequestBuilder) -> (u16, Value) {
    let response = builder
        .basic_auth("fred@example.com", Some("api-token"))
        .send()
        .expect("request");
    json_of(response)
}

fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn post(sandbox: &Sandbox, path: &str, body: &Value) -> (u16, Value) {
    send(client().post(format!("{}{path}", sandbox.url())).json(body))
}

fn get(sandbox: &Sandbox, path: &str) -> (u16, Value) {
    send(client().get(format!("{}{path}", sandbox.url())))
}

fn link(global_id: &str, title: &str) -> Value {
    json!({
        "globalId": global_id,
        "application": {"type": "deploylink", "name": "deploylink"},
        "relationship": "deployed in",
        "object": {
            "url": "https://git.example.com/acme/shop/commit/6a97d14",
            "title": title,
            "summary": "WEB-1: Validate card numbers",
            "status": {"resolved": true}
        }
    })
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

// ---------------------------------------------------------------- remote links

#[test]
fn remote_link_upsert_replaces_the_whole_link() {
    let sandbox = start();
    let path = "/rest/api/3/issue/WEB-1/remotelink";
    let (status, created) = post(&sandbox, path, &link("deploylink:shop:prod", "first"));
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_u64().expect("numeric id");
    assert!(created["self"]
        .as_str()
        .unwrap()
        .starts_with(&sandbox.url()));

    // Same globalId, no summary: an update that drops the summary, as Jira sets it to null.
    let mut second = link("deploylink:shop:prod", "second");
    second["object"].as_object_mut().unwrap().remove("summary");
    let (status, updated) = post(&sandbox, path, &second);
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["id"].as_u64(), Some(id));

    let (status, links) = get(&sandbox, path);
    assert_eq!(status, 200);
    let links = links.as_array().expect("array");
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(links[0]["object"]["title"], "second");
    assert!(links[0]["object"].get("summary").is_none(), "{links:?}");

    let (status, one) = get(
        &sandbox,
        &format!("{path}?globalId=deploylink%3Ashop%3Aprod"),
    );
    assert_eq!(status, 200);
    assert_eq!(one["id"].as_u64(), Some(id));
    let (status, _) = get(&sandbox, &format!("{path}?globalId=other"));
    assert_eq!(status, 404);

    let state = sandbox.state();
    assert_eq!(state.remote_links("WEB-1").len(), 1);
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
}

#[test]
fn remote_links_without_global_id_are_always_created_on_v2_too() {
    let sandbox = start();
    let mut body = link("x", "no global id");
    body.as_object_mut().unwrap().remove("globalId");
    for _ in 0..2 {
        let (status, reply) = post(&sandbox, "/rest/api/2/issue/OPS-7/remotelink", &body);
        assert_eq!(status, 201, "{reply}");
    }
    assert_eq!(sandbox.state().remote_links("OPS-7").len(), 2);
}

// ---------------------------------------------------------------- validation

#[test]
fn bodies_jira_would_reject_are_400_and_recorded() {
    let sandbox = start();
    let mut no_url = link("g", "t");
    no_url["object"].as_object_mut().unwrap().remove("url");
    let long_id = "g".repeat(256);
    let cases = [
        ("/rest/api/3/issue/WEB-1/remotelink", no_url, "url"),
        (
            "/rest/api/3/issue/WEB-1/remotelink",
            link(&long_id, "t"),
            "globalId",
        ),
        (
            "/rest/api/3/issue/WEB-1/comment",
            json!({"body": "plain"}),
            "body",
        ),
        (
            "/rest/api/2/issue/WEB-1/comment",
            json!({"body": adf("x")}),
            "body",
        ),
    ];
    for (path, body, needle) in &cases {
        let (status, reply) = post(&sandbox, path, body);
        assert_eq!(status, 400, "{path}: {reply}");
        let messages = reply["errorMessages"].to_string();
        assert!(messages.contains(needle), "{path}: {reply}");
        assert!(reply["errors"].is_object(), "{reply}");
    }
    let state = sandbox.state();
    assert_eq!(state.rejected.len(), cases.len(), "{:?}", state.rejected);
    for (rejected, (path, _, needle)) in state.rejected.iter().zip(&cases) {
        assert_eq!(rejected.method, "POST");
        assert_eq!(rejected.path, *path);
        assert!(rejected.reason.contains(needle), "{rejected:?}");
    }
    assert!(
        state.issues.is_empty(),
        "nothing stored: {:?}",
        state.issues
    );

    // The boundary: 255 characters is fine.
    let (status, reply) = post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/remotelink",
        &link(&"g".repeat(255), "t"),
    );
    assert_eq!(status, 201, "{reply}");
}

#[test]
fn malformed_input_is_refused_without_harm() {
    let sandbox = start();
    let url = sandbox.url();
    let (status, reply) = send(
        client()
            .post(format!("{url}/rest/api/3/issue/WEB-1/comment"))
            .header("content-type", "application/json")
            .body(vec![0xff, 0xfe, b'{']),
    );
    assert_eq!(status, 400, "{reply}");
    let (status, _) = send(
        client()
            .post(format!("{url}/rest/api/3/issue/WEB-1/remotelink"))
            .body("{not json"),
    );
    assert_eq!(status, 400);
    let (status, _) = get(&sandbox, "/rest/api/3/issue/%FF%FE/remotelink");
    assert_eq!(status, 404);
    let (status, reply) = get(&sandbox, "/no/such/thing");
    assert_eq!(status, 404);
    assert!(reply["errorMessages"].is_array(), "{reply}");
    assert_eq!(sandbox.state().rejected.len(), 2);

    // Over 10 MiB: 413, recorded, and the server still answers.
    let huge = vec![b' '; 10 * 1024 * 1024 + 1];
    let (status, _) = send(
        client()
            .post(format!("{url}/rest/api/3/issue/WEB-1/comment"))
            .body(huge),
    );
    assert_eq!(status, 413);
    assert_eq!(sandbox.state().rejected.len(), 3);

    // Not HTTP at all: that connection fails, the server does not.
    let mut garbage = std::net::TcpStream::connect(sandbox.addr()).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    garbage.write_all(b"\xff\x00 NOT HTTP\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = garbage.read_to_end(&mut answer);
    assert_eq!(get(&sandbox, "/rest/api/3/myself").0, 200);
}

#[test]
fn comments_v3_adf_and_v2_string() {
    let sandbox = start();
    let (status, comment) = post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/comment",
        &json!({"body": adf("Deployed")}),
    );
    assert_eq!(status, 201, "{comment}");
    assert!(comment["id"].is_string() && comment["self"].is_string());
    assert_eq!(comment["body"], adf("Deployed"));
    let (status, _) = post(
        &sandbox,
        "/rest/api/2/issue/WEB-1/comment",
        &json!({"body": "Deployed *shop*"}),
    );
    assert_eq!(status, 201);
    let state = sandbox.state();
    assert_eq!(state.comments("WEB-1").len(), 2);
    assert_eq!(state.comments("WEB-1")[1]["body"], "Deployed *shop*");
}

// ---------------------------------------------------------------- issues and auth

#[test]
fn listed_policy_knows_only_its_issues() {
    let sandbox = listed(&["WEB-1"]);
    let (status, issue) = get(&sandbox, "/rest/api/3/issue/WEB-1");
    assert_eq!(status, 200, "{issue}");
    assert_eq!(issue["key"], "WEB-1");
    assert!(issue["fields"]["summary"].is_string());
    let id = issue["id"].as_str().expect("id").to_string();
    assert_eq!(
        get(&sandbox, &format!("/rest/api/2/issue/{id}")).1["key"],
        "WEB-1"
    );

    let (status, reply) = get(&sandbox, "/rest/api/3/issue/WEB-2");
    assert_eq!(status, 404);
    assert_eq!(
        reply,
        json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})
    );
    let (status, _) = post(
        &sandbox,
        "/rest/api/3/issue/WEB-2/remotelink",
        &link("g", "t"),
    );
    assert_eq!(status, 404);
    assert!(sandbox.state().issues.is_empty());
}

#[test]
fn missing_authorization_is_401() {
    let sandbox = start();
    let response = client()
        .get(format!("{}/rest/api/3/myself", sandbox.url()))
        .send()
        .unwrap();
    let (status, reply) = json_of(response);
    assert_eq!(status, 401);
    assert_eq!(
        reply["errorMessages"][0],
        "You are not authenticated. Authentication required to perform this operation."
    );
    // Any Basic or Bearer will do without explicit credentials.
    let (status, me) = get(&sandbox, "/rest/api/3/myself");
    assert_eq!(status, 200);
    assert_eq!(me["displayName"], "Sandbox User");
    assert_eq!(me["emailAddress"], "fred@example.com");
    let bearer = client()
        .get(format!("{}/rest/api/2/serverInfo", sandbox.url()))
        .bearer_auth("whatever")
        .send()
        .unwrap();
    let (status, info) = json_of(bearer);
    assert_eq!(status, 200);
    assert_eq!(info["deploymentType"], "Server");
    assert_eq!(
        get(&sandbox, "/rest/api/3/serverInfo").1["deploymentType"],
        "Cloud"
    );
    // The log names the scheme, never the credential.
    let log = sandbox.requests();
    assert_eq!(log[0].auth_scheme, None);
    assert_eq!(log[2].auth_scheme.as_deref(), Some("Bearer"));
    assert!(!format!("{log:?}").contains("whatever"));
}

#[test]
fn explicit_credentials_must_match() {
    let sandbox = Sandbox::start(Options {
        credentials: Some(Credentials {
            user: Some("ci@example.com".into()),
            token: "s3cret".into(),
        }),
        ..Options::default()
    })
    .unwrap();
    let url = format!("{}/rest/api/3/myself", sandbox.url());
    let status = |builder: RequestBuilder| builder.send().unwrap().status().as_u16();
    assert_eq!(
        status(
            client()
                .get(&url)
                .basic_auth("ci@example.com", Some("s3cret"))
        ),
        200
    );
    assert_eq!(
        status(
            client()
                .get(&url)
                .basic_auth("ci@example.com", Some("wrong"))
        ),
        401
    );
    assert_eq!(
        status(
            client()
                .get(&url)
                .basic_auth("other@example.com", Some("s3cret"))
        ),
        401
    );
    assert_eq!(status(client().get(&url).bearer_auth("s3cret")), 200);
    assert_eq!(status(client().get(&url).bearer_auth("wrong")), 401);
}

// ---------------------------------------------------------------- deployments

fn deployment(sequence: i64, update: i64, state: &str, keys: &[&str]) -> Value {
    json!({
        "deploymentSequenceNumber": sequence,
        "updateSequenceNumber": update,
        "associations": [{"associationType": "issueIdOrKeys", "values": keys}],
        "displayName": "shop 6a97d14",
        "url": "https://ci.example.com/acme/shop/runs/20",
        "description": "Deployed shop 6a97d14 to production",
        "lastUpdated": "2024-04-05T12:34:56Z",
        "state": state,
        "pipeline": {"id": "shop", "displayName": "shop deploy", "url": "https://ci.example.com/acme/shop"},
        "environment": {"id": "production", "displayName": "production", "type": "production"},
        "schemaVersion": "1.0"
    })
}

fn token(sandbox: &Sandbox) -> String {
    let response = client()
        .post(format!("{}/oauth/token", sandbox.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
        ])
        .send()
        .unwrap();
    let (status, reply) = json_of(response);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["token_type"], "Bearer");
    assert_eq!(reply["expires_in"], 3600);
    reply["access_token"].as_str().expect("token").to_string()
}

fn bulk(sandbox: &Sandbox, token: &str, cloud_id: &str, deployments: Vec<Value>) -> (u16, Value) {
    let response = client()
        .post(format!(
            "{}/jira/deployments/0.1/cloud/{cloud_id}/bulk",
            sandbox.url()
        ))
        .bearer_auth(token)
        .json(&json!({"deployments": deployments}))
        .send()
        .unwrap();
    json_of(response)
}

#[test]
fn deployments_need_an_issued_token_and_the_right_cloud() {
    let sandbox = listed(&["WEB-1"]);
    let (status, tenant) = json_of(
        client()
            .get(format!("{}/_edge/tenant_info", sandbox.url()))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(tenant["cloudId"], CLOUD_ID);

    let one = || vec![deployment(1, 1, "successful", &["WEB-1"])];
    let (status, reply) = bulk(&sandbox, "not-issued", CLOUD_ID, one());
    assert_eq!(status, 401);
    assert!(reply[0]["message"].is_string(), "{reply}");

    let token = token(&sandbox);
    let (status, reply) = bulk(&sandbox, &token, "some-other-cloud", one());
    assert_eq!(status, 404, "{reply}");
    let (status, reply) = bulk(&sandbox, &token, CLOUD_ID, one());
    assert_eq!(status, 202, "{reply}");
    assert_eq!(sandbox.state().tokens_issued, 1);

    // JSON token requests work too; a missing secret does not; the log hides secrets.
    let json_token = client()
        .post(format!("{}/oauth/token", sandbox.url()))
        .json(&json!({"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}))
        .send()
        .unwrap();
    assert_eq!(json_token.status().as_u16(), 200);
    let no_secret = client()
        .post(format!("{}/oauth/token", sandbox.url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", "id")])
        .send()
        .unwrap();
    let (status, reply) = json_of(no_secret);
    assert_eq!(status, 400);
    assert_eq!(reply["error"], "invalid_request");
    assert!(!format!("{:?}", sandbox.requests()).contains("=secret"));
    assert!(!format!("{:?}", sandbox.requests()).contains("\"secret\""));
}

#[test]
fn deployments_keys_and_sequence_numbers() {
    let sandbox = listed(&["WEB-1", "WEB-2"]);
    let token = token(&sandbox);
    let (status, reply) = bulk(
        &sandbox,
        &token,
        CLOUD_ID,
        vec![
            deployment(20, 100, "successful", &["WEB-1", "UTF-8"]),
            deployment(21, 100, "successful", &["NOPE-1"]),
        ],
    );
    assert_eq!(status, 202, "{reply}");
    assert_eq!(
        reply["acceptedDeployments"],
        json!([{"pipelineId": "shop", "environmentId": "production", "deploymentSequenceNumber": 20}])
    );
    assert_eq!(
        reply["rejectedDeployments"][0]["key"]["deploymentSequenceNumber"],
        21
    );
    assert!(reply["rejectedDeployments"][0]["errors"][0]["message"].is_string());
    assert_eq!(reply["unknownIssueKeys"], json!(["UTF-8", "NOPE-1"]));

    let state = sandbox.state();
    assert_eq!(state.deployments.len(), 1);
    assert_eq!(state.deployments_for("WEB-1")[0].issue_keys, vec!["WEB-1"]);

    // An older update is accepted but does not replace; a newer one does.
    let (status, reply) = bulk(
        &sandbox,
        &token,
        CLOUD_ID,
        vec![deployment(20, 99, "failed", &["WEB-1"])],
    );
    assert_eq!(status, 202);
    assert_eq!(reply["acceptedDeployments"].as_array().unwrap().len(), 1);
    assert_eq!(sandbox.state().deployments[0].data["state"], "successful");
    bulk(
        &sandbox,
        &token,
        CLOUD_ID,
        vec![deployment(20, 101, "rolled_back", &["WEB-2"])],
    );
    let state = sandbox.state();
    assert_eq!(state.deployments.len(), 1);
    assert_eq!(state.deployments[0].data["state"], "rolled_back");
    assert_eq!(state.deployments[0].update_sequence_number, 101);
    assert!(state.deployments_for("WEB-1").is_empty());
    assert!(state.rejected.is_empty(), "{:?}", state.rejected);
}

#[test]
fn deployments_over_500_association_values_are_400() {
    let sandbox = start();
    let token = token(&sandbox);
    let mut too_many = deployment(1, 1, "successful", &["WEB-1"]);
    let keys: Vec<String> = (1..=300).map(|n| format!("WEB-{n}")).collect();
    let services: Vec<String> = (1..=201).map(|n| format!("svc-{n}")).collect();
    too_many["associations"] = json!([
        {"associationType": "issueIdOrKeys", "values": keys},
        {"associationType": "serviceIdOrKeys", "values": services}
    ]);
    let (status, reply) = bulk(&sandbox, &token, CLOUD_ID, vec![too_many]);
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply[0]["message"].as_str().unwrap().contains("500"),
        "{reply}"
    );
    let state = sandbox.state();
    assert!(state.deployments.is_empty());
    assert_eq!(state.rejected.len(), 1);
    assert!(state.rejected[0].path.ends_with("/bulk"));
}

// ---------------------------------------------------------------- properties

#[test]
fn issue_properties_get_and_put() {
    let sandbox = start();
    let url = format!(
        "{}/rest/api/3/issue/WEB-1/properties/deploylink",
        sandbox.url()
    );
    assert_eq!(send(client().get(&url)).0, 404);
    let put = |value: &Value| {
        client()
            .put(&url)
            .basic_auth("u", Some("t"))
            .json(value)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put(&json!({"env": "production", "n": 1})), 201);
    assert_eq!(put(&json!({"env": "staging"})), 200);
    let (status, reply) = send(client().get(&url));
    assert_eq!(status, 200);
    assert_eq!(
        reply,
        json!({"key": "deploylink", "value": {"env": "staging"}})
    );

    assert_eq!(put(&json!("x".repeat(40_000))), 400);
    assert_eq!(sandbox.state().rejected.len(), 1);
    assert_eq!(
        sandbox.state().issues["WEB-1"].properties["deploylink"],
        json!({"env": "staging"})
    );
}

// ---------------------------------------------------------------- faults

fn respond(status: u16, headers: &[(&str, &str)], body: &str, times: Option<u32>) -> Fault {
    Fault {
        method: None,
        path_prefix: Some("/rest/api/3/issue/".into()),
        times,
        probability: 1.0,
        action: FaultAction::Respond {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        },
    }
}

#[test]
fn fault_429_with_retry_after_then_normal_service() {
    let sandbox = start();
    sandbox.push_fault(respond(429, &[("Retry-After", "7")], "", Some(1)));
    let response = client()
        .post(format!(
            "{}/rest/api/3/issue/WEB-1/remotelink",
            sandbox.url()
        ))
        .basic_auth("u", Some("t"))
        .json(&link("g", "t"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(
        sandbox.state().issues.is_empty(),
        "a faulted request is not served"
    );
    let (status, _) = post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/remotelink",
        &link("g", "t"),
    );
    assert_eq!(status, 201);
    let log = sandbox.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].fault.as_deref(), Some("respond 429"));
    assert_eq!(log[0].status, 429);
    assert_eq!(log[1].fault, None);
}

#[test]
fn fault_html_502_added_over_http() {
    let sandbox = start();
    let page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let faults = json!([{
        "path_prefix": "/rest/api/3/myself",
        "action": {"kind": "respond", "status": 502, "headers": [["Content-Type", "text/html"]], "body": page}
    }]);
    let added = client()
        .post(format!("{}/_sandbox/faults", sandbox.url()))
        .json(&faults)
        .send()
        .unwrap();
    assert_eq!(added.status().as_u16(), 204);
    let response = client()
        .get(format!("{}/rest/api/3/myself", sandbox.url()))
        .basic_auth("u", Some("t"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().unwrap(), page);
    // Other paths are untouched.
    assert_eq!(get(&sandbox, "/rest/api/3/serverInfo").0, 200);
}

#[test]
fn fault_reset_closes_the_connection_without_a_response() {
    let sandbox = start();
    sandbox.push_fault(Fault {
        method: Some("POST".into()),
        path_prefix: None,
        times: None,
        probability: 1.0,
        action: FaultAction::Reset,
    });
    let result = client()
        .post(format!(
            "{}/rest/api/3/issue/WEB-1/remotelink",
            sandbox.url()
        ))
        .basic_auth("u", Some("t"))
        .json(&link("g", "t"))
        .send();
    assert!(
        result.is_err(),
        "expected a connection error, got {result:?}"
    );
    let log = sandbox.requests();
    assert!(!log.is_empty());
    assert!(log
        .iter()
        .all(|r| r.status == 0 && r.fault.as_deref() == Some("reset")));
    assert!(
        log[0].body.contains("globalId"),
        "the request was read first"
    );
    assert_eq!(
        get(&sandbox, "/rest/api/3/myself").0,
        200,
        "GET is not faulted"
    );
}

#[test]
fn fault_delay_is_slow_and_times_out_a_short_client() {
    let sandbox = start();
    let delay = |ms| Fault {
        method: Some("GET".into()),
        path_prefix: Some("/rest/api/3/myself".into()),
        times: Some(1),
        probability: 1.0,
        action: FaultAction::Delay { ms },
    };
    sandbox.push_fault(delay(300));
    let started = Instant::now();
    assert_eq!(get(&sandbox, "/rest/api/3/myself").0, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    sandbox.push_fault(delay(2_000));
    deploylink::jira::install_tls_provider();
    let short = Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let result = short
        .get(format!("{}/rest/api/3/myself", sandbox.url()))
        .basic_auth("u", Some("t"))
        .send();
    assert!(result.as_ref().is_err_and(|e| e.is_timeout()), "{result:?}");
}

#[test]
fn fault_with_probability_zero_never_hits() {
    let sandbox = start();
    let mut fault = respond(503, &[], "", None);
    fault.probability = 0.0;
    sandbox.push_fault(fault);
    let client = client();
    for _ in 0..30 {
        let status = client
            .get(format!("{}/rest/api/3/issue/WEB-1", sandbox.url()))
            .basic_auth("u", Some("t"))
            .send()
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
    }
    assert!(sandbox.requests().iter().all(|r| r.fault.is_none()));
}

// ---------------------------------------------------------------- latency and connections

#[test]
fn latency_overlaps_across_concurrent_requests() {
    let latency = Duration::from_millis(250);
    let sandbox = Sandbox::start(Options {
        latency,
        ..Options::default()
    })
    .unwrap();
    let url = format!("{}/rest/api/3/myself", sandbox.url());
    let barrier = Arc::new(Barrier::new(9));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (url, barrier, client) = (url.clone(), Arc::clone(&barrier), client());
            std::thread::spawn(move || {
                barrier.wait();
                let started = Instant::now();
                let status = client.get(&url).bearer_auth("t").send().unwrap().status();
                (status.as_u16(), started.elapsed())
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for thread in threads {
        let (status, took) = thread.join().unwrap();
        assert_eq!(status, 200);
        assert!(
            took >= latency,
            "a request took {took:?}, less than the latency"
        );
    }
    let total = started.elapsed();
    assert!(
        total < latency * 4,
        "8 requests took {total:?}: they did not overlap"
    );
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let sandbox = start();
    let mut stream = std::net::TcpStream::connect(sandbox.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for _ in 0..3 {
        stream
            .write_all(
                b"GET /rest/api/3/serverInfo HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer t\r\n\r\n",
            )
            .unwrap();
        let head = read_response(&mut stream);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
}

/// Reads one response (headers and a Content-Length body) and returns it as text.
fn read_response(stream: &mut std::net::TcpStream) -> String {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "connection closed");
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

// ---------------------------------------------------------------- page, state, persistence

#[test]
fn page_shows_everything_escaped() {
    let sandbox = start();
    post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/remotelink",
        &link("g", "<script>alert(1)</script>"),
    );
    post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/comment",
        &json!({"body": adf("Deployed & done")}),
    );
    let token = token(&sandbox);
    bulk(
        &sandbox,
        &token,
        CLOUD_ID,
        vec![deployment(7, 1, "successful", &["WEB-1"])],
    );
    let mut bad = link("g2", "t");
    bad["object"].as_object_mut().unwrap().remove("url");
    post(&sandbox, "/rest/api/3/issue/WEB-1/remotelink", &bad);

    let page = client()
        .get(format!("{}/", sandbox.url()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("WEB-1"));
    assert!(page.contains("Deployed &amp; done"), "{page}");
    assert!(page.contains("production"), "{page}");
    assert!(page.contains("Rejected requests: 1"), "{page}");
    assert!(page.contains("class=\"resolved\""), "{page}");
}

#[test]
fn state_over_http_and_reset() {
    let sandbox = start();
    post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/remotelink",
        &link("g", "t"),
    );
    let state: Value = client()
        .get(format!("{}/_sandbox/state", sandbox.url()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(state["issues"]["WEB-1"]["remote_links"][0]["globalId"], "g");
    let deleted = client()
        .delete(format!("{}/_sandbox/state", sandbox.url()))
        .send()
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 204);
    assert!(sandbox.state().issues.is_empty());
    assert!(
        sandbox.requests().is_empty(),
        "control routes are not logged"
    );
}

#[test]
fn state_file_persists_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox-state.json");
    let options = || Options {
        state_file: Some(file.clone()),
        ..Options::default()
    };
    let first_id = {
        let sandbox = Sandbox::start(options()).unwrap();
        let (status, reply) = post(
            &sandbox,
            "/rest/api/3/issue/WEB-1/remotelink",
            &link("g", "t"),
        );
        assert_eq!(status, 201);
        reply["id"].as_u64().unwrap()
    };
    assert!(file.exists());
    let sandbox = Sandbox::start(options()).unwrap();
    assert_eq!(sandbox.state().remote_links("WEB-1").len(), 1);
    let (status, links) = get(&sandbox, "/rest/api/3/issue/WEB-1/remotelink");
    assert_eq!(status, 200);
    assert_eq!(links[0]["id"].as_u64(), Some(first_id));
    let (_, second) = post(
        &sandbox,
        "/rest/api/3/issue/WEB-1/remotelink",
        &link("h", "t"),
    );
    assert_ne!(
        second["id"].as_u64(),
        Some(first_id),
        "ids continue after the loaded ones"
    );
    drop(sandbox);

    std::fs::write(&file, "{ not a state").unwrap();
    let error = Sandbox::start(options())
        .err()
        .expect("an unparseable state file is an error");
    assert!(error.to_string().contains("sandbox-state.json"), "{error}");
}
