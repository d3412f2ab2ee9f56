//! One HTTP client per delivery run: keep-alive, timeouts, `User-Agent: deploylink/<version>`,
//! rustls with the system's roots plus an optional `ca_file`, and redirects followed only
//! within the origin a request was sent to, so credentials never reach another host.
//!
//! A send returns an [`Attempt`] value: a response (any status), or a connection failure
//! classified by whether the request may have been processed (which decides retries).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use serde_json::Value;

use super::credentials::SiteAuth;

/// Time to open a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time for one request and its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Response bodies are read up to this size: Jira's answers are small; an HTML error page or
/// a misbehaving proxy is not kept whole.
const BODY_LIMIT: u64 = 1 << 20;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read the CA file {path}: {reason}\n  hint: ca_file must be a PEM file readable by this user")]
    CaFile { path: PathBuf, reason: String },
    #[error("cannot start the HTTP client: {0}")]
    Build(String),
}

/// An HTTP client shared by every request of a run.
///
/// Two clients in fact: `https` URLs go through the proxy the environment names
/// (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`; TLS runs end to end through it), and plain `http`
/// URLs (loopback hosts only, by the configuration's rule) never go through a proxy: a proxy
/// would see the credentials in clear, and a loopback host is on this machine anyway.
#[derive(Clone, Debug)]
pub struct HttpClient {
    http: Client,
    direct: Client,
}

/// How one request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum RequestAuth<'a> {
    None,
    Site(&'a SiteAuth),
    Bearer(&'a str),
}

/// A request body.
#[derive(Clone, Copy, Debug)]
pub enum Body<'a> {
    None,
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// One request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub auth: RequestAuth<'a>,
    pub body: Body<'a>,
    pub timeout: Duration,
}

impl<'a> Request<'a> {
    /// A request to the site's own REST API, with the site's credentials.
    pub fn site(
        method: Method,
        url: &'a str,
        auth: &'a SiteAuth,
        body: Body<'a>,
        timeout: Duration,
    ) -> Request<'a> {
        Request {
            method,
            url,
            auth: RequestAuth::Site(auth),
            body,
            timeout,
        }
    }
}

/// A response of any status.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub rate_limit_reset: Option<String>,
    pub content_type: Option<String>,
    /// Where a redirect that was not followed pointed.
    pub location: Option<String>,
    pub body: String,
}

/// What one send produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    Response(Response),
    /// No connection: the request was certainly not processed. `tls` when the TLS handshake
    /// failed (an unknown certificate authority, a wrong host name).
    ConnectFailed {
        reason: String,
        tls: bool,
    },
    /// The connection broke or timed out after the request was sent: it may have been processed.
    Interrupted {
        reason: String,
    },
}

impl HttpClient {
    /// A client trusting the system's roots and, when given, the certificates of `ca_files`.
    pub fn new(ca_files: &[&Path]) -> Result<HttpClient, ClientError> {
        let mut certificates = Vec::new();
        for path in ca_files {
            let pem = std::fs::read(path).map_err(|e| ClientError::CaFile {
                path: path.to_path_buf(),
                reason: e.kind().to_string(),
            })?;
            let found =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::CaFile {
                    path: path.to_path_buf(),
                    reason: format!("not a PEM certificate bundle ({e})"),
                })?;
            certificates.extend(found);
        }
        let builder = |extra| {
            super::tls::trust(Client::builder(), extra)
                .user_agent(concat!("deploylink/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .pool_idle_timeout(Duration::from_secs(30))
                .redirect(same_origin_redirects())
        };
        let http = builder(certificates)
            .build()
            .map_err(|e| ClientError::Build(error_chain(&e)))?;
        let direct = builder(Vec::new())
            .no_proxy()
            .build()
            .map_err(|e| ClientError::Build(error_chain(&e)))?;
        Ok(HttpClient { http, direct })
    }

    /// Sends one request and reads its response.
    pub fn send(&self, request: &Request<'_>) -> Attempt {
        let client = if is_plain_http(request.url) {
            &self.direct
        } else {
            &self.http
        };
        let builder = match request.method {
            Method::Get => client.get(request.url),
            Method::Post => client.post(request.url),
            Method::Put => client.put(request.url),
        };
        let builder = authenticate(builder, request.auth)
            .timeout(request.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        let builder = match request.body {
            Body::None => builder,
            Body::Json(value) => builder.json(value),
            Body::Form(fields) => builder.form(fields),
        };
        match builder.send() {
            Ok(response) => read_response(response),
            Err(error) => failed(&error),
        }
    }
}

/// Whether `url` is plain `http`, which must never go through a proxy.
fn is_plain_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

fn authenticate(builder: RequestBuilder, auth: RequestAuth<'_>) -> RequestBuilder {
    match auth {
        RequestAuth::None => builder,
        RequestAuth::Site(SiteAuth::Basic { user, token }) => {
            builder.basic_auth(user.expose(), Some(token.expose()))
        }
        RequestAuth::Site(SiteAuth::Bearer(token)) => builder.bearer_auth(token.expose()),
        RequestAuth::Bearer(token) => builder.bearer_auth(token),
    }
}

/// Follows a redirect only to the scheme, host and port the request was first sent to:
/// anything else is returned as the 3xx it is, and reported, so that an `Authorization`
/// header never reaches a host it was not meant for (SPEC 3.3).
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(|u| u.origin());
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if first.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn header(response: &reqwest::blocking::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn read_response(response: reqwest::blocking::Response) -> Attempt {
    let status = response.status().as_u16();
    let retry_after = header(&response, "retry-after");
    let rate_limit_reset = header(&response, "x-ratelimit-reset");
    let content_type = header(&response, "content-type");
    let location = header(&response, "location");
    let mut bytes = Vec::new();
    if let Err(error) = response.take(BODY_LIMIT).read_to_end(&mut bytes) {
        return Attempt::Interrupted {
            reason: format!("the response broke off: {error}"),
        };
    }
    Attempt::Response(Response {
        status,
        retry_after,
        rate_limit_reset,
        content_type,
        location,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn failed(error: &reqwest::Error) -> Attempt {
    let reason = error_chain(error);
    if error.is_connect() {
        let lower = reason.to_lowercase();
        // rustls's errors name the failure, not the layer: these words are how they read.
        let tls = [
            "certificate",
            "tls",
            "ssl",
            "handshake",
            "unknownissuer",
            "corrupt message",
            "alert",
        ]
        .iter()
        .any(|w| lower.contains(w));
        return Attempt::ConnectFailed { reason, tls };
    }
    if error.is_timeout() {
        return Attempt::Interrupted {
            reason: "timed out waiting for the response".into(),
        };
    }
    Attempt::Interrupted { reason }
}

/// The error and its causes, without the URL (which reqwest puts first and the caller knows).
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        parts.push(error.to_string());
    }
    parts.join(": ")
}
