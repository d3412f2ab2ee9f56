//! A local Jira-compatible HTTP server on 127.0.0.1: the subset of Jira deploylink talks to.
//!
//! What it is for: the fake Jira of deploylink's test suite (a dev-dependency, so the tests
//! build whatever deploylink's features), the `deploylink sandbox` command (try a setup
//! without a Jira) and what `deploylink demo` delivers to in-process (both behind deploylink's
//! default `sandbox` feature). It knows nothing of deploylink and is not published. Start one
//! with [`Sandbox::start`]; dropping it stops the server. It imitates:
//!
//! - the platform REST API under `/rest/api/3` (Cloud) and `/rest/api/2` (Data Center):
//!   `myself`, `serverInfo`, `issue/{key}`, remote links upserted by `globalId` (jira-api-facts
//!   1.2), comments with ADF (v3) or string (v2) bodies (1.3), issue properties, and Jira's
//!   error shape and status codes (1.6);
//! - projects, their versions (found, created, released) and issues' `fixVersions`
//!   (`versions.rs`), and one workflow with statuses and transitions, including a backwards
//!   "Reopen" (`workflow.rs`), both under the [`Setup`]'s permissions and edit screens;
//! - the Deployments API as an on-premise integration reaches it (2.2-2.5): `/_edge/tenant_info`,
//!   a client-credentials `/oauth/token`, and `POST /jira/deployments/0.1/cloud/{cloudId}/bulk`
//!   with its identity and `updateSequenceNumber` rules and `unknownIssueKeys`.
//!
//! Every request body is checked as the real Jira would: against Atlassian's OpenAPI schemas
//! (`src/jira-schemas.json`, extracted by the repository's
//! `tests/fixtures/jira-schemas/extract.py`) plus the limits Atlassian states only in prose
//! (`validate.rs`). A refused body is a 400 in Jira's shape and is kept in [`State::rejected`],
//! so a test can assert nothing was refused. [`Fault`]s imitate a rate-limiting, failing, slow
//! or vanishing Jira; [`Options::latency`] a distant one.
//!
//! `GET /` shows what Jira would now show; `GET|DELETE /_sandbox/state` reads or resets what was
//! received, `POST /_sandbox/faults` adds faults.
//!
//! - reading issues for release notes and pre-flight checks: `issue/bulkfetch` (Cloud),
//!   `search` (Data Center) and `search/jql` (Cloud) with `key in (...)` and `project = K`,
//!   summaries, types and statuses (`details.rs`), `project/{key}`, `project/{key}/statuses`,
//!   `mypermissions` and `issue/{key}/editmeta` shaped by [`Setup`] (`meta.rs`).
//!
//! Not imitated: deleting or editing links and comments, other JQL, case-insensitive
//! or moved-issue lookup (1.4), the per-issue 413 limits (their numbers are unknown, 6.2), and
//! rate limits except as faults.
//!
//! The server runs on its own thread, on a current-thread tokio runtime with hyper's HTTP/1.1
//! (keep-alive on). Handlers sleep asynchronously, so delayed requests overlap.

mod deployments;
mod details;
mod devinfo;
mod faults;
mod meta;
mod page;
mod routes;
mod search;
mod server;
mod setup;
mod state;
mod store;
mod validate;
mod versions;
mod wire;
mod workflow;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use deployments::CLOUD_ID;
pub use details::IssueDetails;
pub use faults::{Fault, FaultAction};
pub use setup::{project_of, Setup};
pub use state::{
    DeploymentRecord, DevCommitRecord, DevRepository, IssueRecord, RecordedRequest, Rejected,
    State, VersionRecord,
};
pub use workflow::FIRST_STATUS;

use store::Store;

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// Which issues exist.
    pub issues: IssuePolicy,
    /// Load the state from this file at start (if it exists) and save it after every write.
    pub state_file: Option<PathBuf>,
    /// Added to every response (benchmarks: a distant Jira). Requests still overlap.
    pub latency: Duration,
    /// When set, the platform API accepts only these credentials (see [`Credentials`]).
    pub credentials: Option<Credentials>,
    /// What the account may do in each project and which fields each edit screen shows.
    pub setup: Setup,
    /// Summaries and issue types that replace an issue's defaults ([`IssueDetails::default_of`]).
    pub details: BTreeMap<String, IssueDetails>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            issues: IssuePolicy::Any,
            state_file: None,
            latency: Duration::ZERO,
            credentials: None,
            setup: Setup::default(),
            details: BTreeMap::new(),
        }
    }
}

/// Which issue keys exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuePolicy {
    /// Every key shaped `^[A-Z][A-Z0-9_]+-[1-9][0-9]*$`.
    Any,
    /// Only these keys (exact match).
    Listed(Vec<String>),
}

/// Credentials the sandbox insists on: Basic must be `user:token` (any user when `user` is
/// `None`), Bearer must be `token`. `/oauth/token` then wants `client_secret = token` (and
/// `client_id = user` when set).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: Option<String>,
    pub token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What the request handlers need besides the store.
pub(crate) struct Config {
    pub base_url: String,
    pub credentials: Option<Credentials>,
    /// Read by the handlers of permission-, screen- and version-dependent requests.
    pub setup: Setup,
    pub details: BTreeMap<String, IssueDetails>,
    latency: Duration,
    state_file: Option<PathBuf>,
}

struct Shared {
    config: Config,
    store: Mutex<Store>,
}

impl Shared {
    /// The store, even if a handler panicked while holding it (the data is still consistent
    /// enough for a test double, and a poisoned lock must not take the whole sandbox down).
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves the state file if the store changed since the last save.
    fn persist(&self, store: &mut Store) {
        if !std::mem::take(&mut store.dirty) {
            return;
        }
        if let Some(path) = &self.config.state_file {
            if let Err(e) = store.state.save(path) {
                log::error!("sandbox: cannot save state file {}: {e}", path.display());
            }
        }
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds, starts the server thread and returns once the socket is listening.
    pub fn start(options: Options) -> std::io::Result<Sandbox> {
        let state = match &options.state_file {
            Some(path) if path.exists() => State::load(path)?,
            _ => State::default(),
        };
        let listener = std::net::TcpListener::bind(options.bind)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let base_url = format!("http://{}", reachable(addr));
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(state, options.issues, base_url.clone())),
            config: Config {
                base_url,
                credentials: options.credentials,
                setup: options.setup,
                details: options.details,
                latency: options.latency,
                state_file: options.state_file,
            },
        });
        let (shutdown, stop) = oneshot::channel();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("deploylink-sandbox".into())
            .spawn(move || runtime.block_on(server::serve(listener, serving, stop)))?;
        Ok(Sandbox {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.shared.config.base_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A copy of everything received so far.
    pub fn state(&self) -> State {
        self.shared.store().state.clone()
    }

    /// The request log, oldest first (the last 10,000 requests).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.store().requests.iter().cloned().collect()
    }

    /// Adds a fault after those already there.
    pub fn push_fault(&self, fault: Fault) {
        self.shared.store().faults.push(fault);
    }

    /// Puts issue `key` at workflow status `status` (see the workflow in `workflow.rs`).
    pub fn set_status(&self, key: &str, status: &str) {
        self.shared.store().set_status(key, status);
    }

    /// Makes the screen of every transition to `status` require `fields`.
    pub fn require_fields(&self, status: &str, fields: &[&str]) {
        let fields = fields.iter().map(|f| f.to_string()).collect();
        self.shared.store().require_fields(status, fields);
    }

    /// Removes every fault: Jira is healthy again, and keeps what it received.
    pub fn clear_faults(&self) {
        self.shared.store().faults.clear();
    }

    /// Forgets everything: state, request log, faults and issued tokens.
    pub fn reset(&self) {
        let mut store = self.shared.store();
        store.reset();
        self.shared.persist(&mut store);
    }

    /// Blocks until the server thread ends (it runs until the process is killed).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The address a client can reach: a wildcard bind is reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}
