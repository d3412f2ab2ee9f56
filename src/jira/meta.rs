//! What a pre-flight check reads from a Jira site, writing nothing: who the credentials are
//! (`myself`), whether a project exists (`project/{key}`), the account's permissions in it
//! (`mypermissions`), the fields of an issue's edit screen (`issue/{key}/editmeta`), the
//! statuses of its workflows (`project/{key}/statuses`) and a recent issue of a project
//! (`search/jql` on Cloud, `search` on Data Center).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::client::{Attempt, Body, HttpClient, Method, Request, Response};
use super::credentials::SiteAuth;
use super::response;
use crate::config::{Tracker, TrackerKind};

const TIMEOUT: Duration = Duration::from_secs(15);

/// Why a question could not be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// A sentence with the URL and what Jira said.
    pub message: String,
    /// Jira was not reached (network, TLS, timeout, 5xx), as opposed to an answer.
    pub unreachable: bool,
}

/// A tracker's client and credentials, and the API version its kind speaks.
pub struct Site<'a> {
    pub http: &'a HttpClient,
    pub tracker: &'a Tracker,
    pub auth: &'a SiteAuth,
}

impl Site<'_> {
    fn url(&self, path: &str) -> String {
        format!(
            "{}/rest/api/{}/{path}",
            self.tracker.url,
            self.tracker.kind.rest_api_version()
        )
    }

    /// `GET` `path`: the answer's JSON when 2xx, `Ok(None)` on 404, otherwise a problem.
    fn get(&self, path: &str) -> Result<Option<Value>, Problem> {
        let url = self.url(path);
        let attempt = self.http.send(&Request::site(
            Method::Get,
            &url,
            self.auth,
            Body::None,
            TIMEOUT,
        ));
        let shown = url.split_once('?').map_or(url.as_str(), |(p, _)| p);
        match attempt {
            Attempt::Response(r) if (200..300).contains(&r.status) => serde_json::from_str(&r.body)
                .map(Some)
                .map_err(|_| Problem {
                    message: format!("{shown}: the answer is not JSON"),
                    unreachable: false,
                }),
            Attempt::Response(r) if r.status == 404 => Ok(None),
            Attempt::Response(r) => Err(self.refused(shown, &r)),
            Attempt::ConnectFailed { reason, .. } => Err(Problem {
                message: format!("cannot reach {}: {reason}", self.tracker.url),
                unreachable: true,
            }),
            Attempt::Interrupted { reason } => Err(Problem {
                message: format!("{shown}: no answer: {reason}"),
                unreachable: true,
            }),
        }
    }

    fn refused(&self, url: &str, r: &Response) -> Problem {
        let message = match r.status {
            401 => response::refusal(self.tracker, r),
            _ => format!("{url}: {}", response::describe(r)),
        };
        Problem {
            message,
            unreachable: r.status >= 500,
        }
    }

    /// The account's display name (`myself`).
    pub fn myself(&self) -> Result<String, Problem> {
        let body = self.get("myself")?.unwrap_or_default();
        ["displayName", "name", "emailAddress", "accountId"]
            .iter()
            .find_map(|k| body[k].as_str().map(str::to_owned))
            .ok_or_else(|| Problem {
                message: format!(
                    "{} answered, but not with a Jira user: is {} a Jira site?",
                    self.url("myself"),
                    self.tracker.url
                ),
                unreachable: false,
            })
    }

    /// Whether the project exists (and the account can see it).
    pub fn project_exists(&self, key: &str) -> Result<bool, Problem> {
        Ok(self.get(&format!("project/{key}"))?.is_some())
    }

    /// Whether the account has each of `permissions` in project `key`.
    pub fn my_permissions(
        &self,
        key: &str,
        permissions: &[&str],
    ) -> Result<BTreeMap<String, bool>, Problem> {
        let path = format!(
            "mypermissions?projectKey={key}&permissions={}",
            permissions.join(",")
        );
        let body = self.get(&path)?.unwrap_or_default();
        Ok(permissions
            .iter()
            .map(|p| {
                let have = body["permissions"][p]["havePermission"]
                    .as_bool()
                    .unwrap_or(false);
                ((*p).to_owned(), have)
            })
            .collect())
    }

    /// The field ids of `issue`'s edit screen; `None` when the issue does not exist.
    pub fn edit_fields(&self, issue: &str) -> Result<Option<Vec<String>>, Problem> {
        Ok(self.get(&format!("issue/{issue}/editmeta"))?.map(|body| {
            match body["fields"].as_object() {
                Some(fields) => fields.keys().cloned().collect(),
                None => Vec::new(),
            }
        }))
    }

    /// The status names of every workflow of project `key`, each once; `None` when the
    /// project does not exist.
    pub fn project_statuses(&self, key: &str) -> Result<Option<Vec<String>>, Problem> {
        let Some(body) = self.get(&format!("project/{key}/statuses"))? else {
            return Ok(None);
        };
        let mut names: Vec<String> = Vec::new();
        for issue_type in body.as_array().into_iter().flatten() {
            for status in issue_type["statuses"].as_array().into_iter().flatten() {
                if let Some(name) = status["name"].as_str() {
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_owned());
                    }
                }
            }
        }
        Ok(Some(names))
    }

    /// The key of the most recently updated issue of project `key`, if it has one.
    pub fn recent_issue(&self, key: &str) -> Result<Option<String>, Problem> {
        let jql = encode(&format!("project = \"{key}\" ORDER BY updated DESC"));
        let path = match self.tracker.kind {
            // The old `search` is gone from Cloud (jira-api-facts 1.5).
            TrackerKind::JiraCloud => format!("search/jql?jql={jql}&maxResults=1&fields=summary"),
            TrackerKind::JiraDataCenter => format!("search?jql={jql}&maxResults=1&fields=summary"),
        };
        let body = self.get(&path)?.unwrap_or_default();
        Ok(body["issues"][0]["key"].as_str().map(str::to_owned))
    }
}

/// Percent-encodes a query parameter value (the JQL of a search).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
