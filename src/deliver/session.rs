//! A tracker as a delivery run sees it: its HTTP client, its credentials (read once, at the
//! start of the run), the OAuth token and `cloudId` of the deployments API (fetched once,
//! when first needed), and whether Jira refused the credentials (then nothing more is sent).

use std::sync::Mutex;

use super::attempt::Credential;
use crate::config::Tracker;
use crate::jira::client::{ClientError, HttpClient};
use crate::jira::credentials::{self, ClientCredentials, CredentialError, SiteAuth};

/// Why a tracker cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("tracker '{tracker}': {source}")]
    Client {
        tracker: String,
        #[source]
        source: ClientError,
    },
}

pub struct Session {
    pub tracker: Tracker,
    pub http: HttpClient,
    pub auth: SiteAuth,
    pub oauth: Option<ClientCredentials>,
    /// The OAuth token and when to renew it.
    pub(super) token: Mutex<Option<(String, std::time::Instant)>>,
    pub(super) cloud_id: Mutex<Option<String>>,
    /// The fix versions found or created in this run, so each is looked up once per project.
    pub(super) versions: super::release::VersionCache,
    /// Set when Jira answered 401 or 403 to the site's credentials: the reason every later
    /// request with them is not sent (no hammering with bad credentials).
    refused: Mutex<Option<String>>,
    /// The same for the OAuth client credentials of the deployments API.
    oauth_refused: Mutex<Option<String>>,
}

impl Session {
    /// Reads the tracker's credentials and builds its client. `oauth`: whether the OAuth client
    /// credentials are needed (a project uses the `deployment` action).
    pub fn open(tracker: &Tracker, oauth: bool) -> Result<Session, SessionError> {
        let auth = credentials::site_auth(tracker)?;
        let oauth = if oauth {
            credentials::client_credentials(tracker).transpose()?
        } else {
            None
        };
        let ca_files: Vec<&std::path::Path> = tracker.ca_file.iter().map(|p| p.as_path()).collect();
        let http = HttpClient::new(&ca_files).map_err(|source| SessionError::Client {
            tracker: tracker.name.clone(),
            source,
        })?;
        Ok(Session {
            tracker: tracker.clone(),
            http,
            auth,
            oauth,
            token: Mutex::new(None),
            cloud_id: Mutex::new(None),
            versions: Mutex::default(),
            refused: Mutex::new(None),
            oauth_refused: Mutex::new(None),
        })
    }

    fn flag(&self, credential: Credential) -> Option<&Mutex<Option<String>>> {
        match credential {
            Credential::None => None,
            Credential::Site => Some(&self.refused),
            Credential::OAuth => Some(&self.oauth_refused),
        }
    }

    /// Why requests with `credential` stopped, if they did.
    pub(super) fn refusal(&self, credential: Credential) -> Option<String> {
        let flag = self.flag(credential)?;
        flag.lock().ok().and_then(|r| r.clone())
    }

    /// Stops every later request with `credential`; true for the first refusal, which is
    /// the one worth logging (requests already in flight may be refused too).
    pub(super) fn refuse(&self, credential: Credential, reason: &str) -> bool {
        match self.flag(credential).map(Mutex::lock) {
            Some(Ok(mut refused)) if refused.is_none() => {
                *refused = Some(reason.to_owned());
                true
            }
            _ => false,
        }
    }
}
