//! The HTTP side: accepting connections, reading bodies (at most 10 MiB), applying faults and
//! latency, logging each request, and turning a [`Reply`] into a hyper response.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use super::faults::{self, FaultAction};
use super::state::RecordedRequest;
use super::wire::{self, Reply};
use super::{deployments, routes, Shared};

/// Largest request body accepted; a larger one is a 413.
const BODY_LIMIT: usize = 10 * 1024 * 1024;
/// How much of a too-large body is read and dropped before the 413 (beyond it, the connection
/// is simply closed after the 413).
const DRAIN_LIMIT: usize = 4 * BODY_LIMIT;
/// How much of a body the request log keeps.
const LOGGED_BODY_MAX: usize = 64 * 1024;

/// Accepts connections until told to stop; dropping the runtime afterwards closes them all.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let accepted = std::future::poll_fn(|cx| {
            if std::pin::Pin::new(&mut stop).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match accepted {
            None => return,
            Some(Ok((stream, _))) => {
                tokio::spawn(connection(stream, Arc::clone(&shared)));
            }
            // Out of file descriptors and the like: wait a little rather than spin.
            Some(Err(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request| handle(Arc::clone(&shared), request));
    // A connection error (client gone, a Reset fault) ends this connection only.
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// Returned by a handler to make hyper drop the connection without a response.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

type HttpResponse = Response<Full<Bytes>>;

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<HttpResponse, DropConnection> {
    let (parts, body) = request.into_parts();
    let header = |name: HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let path = parts.uri.path();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| path.to_string(), |pq| pq.as_str().to_string());
    let control = routes::is_control(path);
    let mut record = record_of(&parts, &target);
    let declared = header(CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let body = match read_body(body, declared).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let reply = too_large(&shared, &record.method, path);
            record.body = "<over 10 MiB, not kept>".into();
            return Ok(finish(&shared, record, reply, control));
        }
        Err(BodyError::Broken) => return Err(DropConnection),
    };
    record.body = logged_body(path, &body);

    let fault = if control {
        None
    } else {
        faults::take(&mut shared.store().faults, &record.method, &target)
    };
    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }
    record.fault = fault.as_ref().map(FaultAction::describe);
    match fault {
        Some(FaultAction::Respond {
            status,
            headers,
            body,
        }) => {
            let reply = Reply {
                status,
                headers,
                body: body.into_bytes(),
            };
            return Ok(finish(&shared, record, reply, control));
        }
        Some(FaultAction::Reset) => {
            shared.store().record(record);
            return Err(DropConnection);
        }
        Some(FaultAction::Delay { ms }) => {
            // A client that gives up first closes the connection, and hyper drops this future
            // mid-sleep: the guard still records the request, unanswered (status 0).
            let mut unanswered = record.clone();
            unanswered.fault = record
                .fault
                .as_ref()
                .map(|fault| format!("{fault} (the client gave up)"));
            let guard = RecordOnDrop {
                shared: &shared,
                record: Some(unanswered),
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            guard.disarm();
        }
        None => {}
    }

    let incoming = routes::Incoming {
        method: &record.method,
        path,
        query: parts.uri.query(),
        authorization: header(AUTHORIZATION),
        content_type: header(CONTENT_TYPE),
        body: &body,
    };
    let reply = {
        let mut store = shared.store();
        let reply = routes::route(&mut store, &shared.config, &incoming);
        shared.persist(&mut store);
        reply
    };
    Ok(finish(&shared, record, reply, control))
}

/// The log entry of a request, before its body and outcome are known.
fn record_of(parts: &hyper::http::request::Parts, target: &str) -> RecordedRequest {
    let scheme =
        |v: &HeaderValue| wire::Authorization::scheme(&String::from_utf8_lossy(v.as_bytes()));
    RecordedRequest {
        method: parts.method.as_str().to_string(),
        path: target.to_string(),
        auth_scheme: parts.headers.get(AUTHORIZATION).map(scheme),
        body: String::new(),
        status: 0,
        fault: None,
    }
}

enum BodyError {
    TooLarge,
    /// The client went away or sent a malformed body.
    Broken,
}

/// Reads the whole body, up to [`BODY_LIMIT`]. A larger body is still read (up to
/// [`DRAIN_LIMIT`]) and thrown away, so that the client, still writing, gets the 413 instead of
/// a broken connection.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|length| length > DRAIN_LIMIT as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut kept: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Broken);
        };
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen > DRAIN_LIMIT {
                return Err(BodyError::TooLarge);
            }
            if seen <= BODY_LIMIT {
                kept.extend_from_slice(&data);
            }
        }
    }
    if seen > BODY_LIMIT {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(kept))
}

fn too_large(shared: &Shared, method: &str, path: &str) -> Reply {
    let message = format!("The request body is larger than {BODY_LIMIT} bytes.");
    let mut store = shared.store();
    store.reject(method, path, message.clone());
    shared.persist(&mut store);
    Reply::platform_message(413, &message)
}

/// The body as the request log keeps it: text, cut when long, token requests without secrets.
fn logged_body(path: &str, body: &[u8]) -> String {
    if path == "/oauth/token" {
        return deployments::redacted_token_request(body);
    }
    if body.len() > LOGGED_BODY_MAX {
        let head = String::from_utf8_lossy(&body[..LOGGED_BODY_MAX]);
        return format!("{head}... <{} bytes in all>", body.len());
    }
    String::from_utf8_lossy(body).into_owned()
}

/// Records a request whose handling was abandoned, unless disarmed.
struct RecordOnDrop<'a> {
    shared: &'a Shared,
    record: Option<RecordedRequest>,
}

impl RecordOnDrop<'_> {
    fn disarm(mut self) {
        self.record = None;
    }
}

impl Drop for RecordOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.shared.store().record(record);
        }
    }
}

/// Logs the request (unless it is a control route) and turns the reply into a response.
fn finish(
    shared: &Shared,
    mut record: RecordedRequest,
    reply: Reply,
    control: bool,
) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !control {
        record.status = status.as_u16();
        shared.store().record(record);
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = status;
    for (name, value) in reply.headers {
        // Fault headers come from tests and users: skip what is not valid HTTP.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
