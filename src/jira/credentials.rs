//! Reading the secrets a tracker's configuration names (SPEC 3.1): an environment variable or
//! a file, read at the moment of delivery (so `retry` picks up a rotated token).
//!
//! A [`Secret`] never shows its value: `Debug` and `Display` print a placeholder, and every
//! error names where the value was looked for, never what was found.

use std::fmt;

use crate::config::{SecretRef, Tracker, TrackerKind};

/// A credential's value. Not `Clone` on purpose: it is read, used for a header, and dropped.
pub struct Secret(String);

impl Secret {
    /// The value, for building an `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A credential that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "tracker '{tracker}': the environment variable {name} is not set\n  \
         hint: export {name} before running deploylink (in CI: add it as a masked secret variable)"
    )]
    MissingEnv { tracker: String, name: String },
    #[error("tracker '{tracker}': the environment variable {name} is empty")]
    EmptyEnv { tracker: String, name: String },
    #[error("tracker '{tracker}': cannot read the credential file {path}: {reason}\n  hint: check that the file exists and that this user may read it")]
    File {
        tracker: String,
        path: String,
        reason: String,
    },
    #[error("tracker '{tracker}': the credential file {path} is empty")]
    EmptyFile { tracker: String, path: String },
}

/// Reads one secret.
pub fn read(tracker: &str, reference: &SecretRef) -> Result<Secret, CredentialError> {
    match reference {
        SecretRef::Env(name) => match std::env::var(name) {
            Ok(value) if value.trim().is_empty() => Err(CredentialError::EmptyEnv {
                tracker: tracker.to_owned(),
                name: shown(name),
            }),
            Ok(value) => Ok(Secret(value.trim().to_owned())),
            Err(_) => Err(CredentialError::MissingEnv {
                tracker: tracker.to_owned(),
                name: shown(name),
            }),
        },
        SecretRef::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CredentialError::File {
                tracker: tracker.to_owned(),
                path: path.display().to_string(),
                reason: e.kind().to_string(),
            })?;
            // A file written by `echo` ends with a newline that is not part of the token.
            let value = text.trim_end_matches(['\n', '\r']);
            if value.trim().is_empty() {
                return Err(CredentialError::EmptyFile {
                    tracker: tracker.to_owned(),
                    path: path.display().to_string(),
                });
            }
            Ok(Secret(value.to_owned()))
        }
    }
}

/// A variable's name as an error may show it: a token pasted in place of the name (which the
/// configuration refuses, but a caller may not have loaded one) is not repeated.
fn shown(name: &str) -> String {
    if crate::config::shows_as_variable_name(name) {
        name.to_owned()
    } else {
        "(named by a value that is not a variable name; not shown, as it may be a secret)"
            .to_owned()
    }
}

/// How requests to a tracker's REST API authenticate.
pub enum SiteAuth {
    /// Jira Cloud: the account e-mail and an API token.
    Basic { user: Secret, token: Secret },
    /// Jira Data Center: a personal access token.
    Bearer(Secret),
}

impl fmt::Debug for SiteAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteAuth::Basic { .. } => f.write_str("Basic(<redacted>)"),
            SiteAuth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Reads the credentials of `tracker`'s REST API.
pub fn site_auth(tracker: &Tracker) -> Result<SiteAuth, CredentialError> {
    let token = read(&tracker.name, &tracker.auth.token)?;
    match (&tracker.kind, &tracker.auth.user) {
        (TrackerKind::JiraCloud, Some(user)) => Ok(SiteAuth::Basic {
            user: read(&tracker.name, user)?,
            token,
        }),
        // Data Center: a personal access token, sent as a Bearer token.
        (_, _) => Ok(SiteAuth::Bearer(token)),
    }
}

/// The OAuth client credentials of the deployments API.
pub struct ClientCredentials {
    pub client_id: Secret,
    pub client_secret: Secret,
}

/// Reads the OAuth client credentials of `tracker`, if it has `deployments:`.
pub fn client_credentials(tracker: &Tracker) -> Option<Result<ClientCredentials, CredentialError>> {
    let deployments = tracker.deployments.as_ref()?;
    Some((|| {
        Ok(ClientCredentials {
            client_id: read(&tracker.name, &deployments.client_id)?,
            client_secret: read(&tracker.name, &deployments.client_secret)?,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
        let auth = SiteAuth::Bearer(Secret("hunter2".into()));
        assert!(!format!("{auth:?}").contains("hunter2"));
    }

    #[test]
    fn a_missing_variable_is_named_and_a_file_loses_its_final_newline() {
        let error = read(
            "acme",
            &SecretRef::Env("DEPLOYLINK_TEST_SURELY_UNSET_1".into()),
        )
        .unwrap_err();
        assert!(error
            .to_string()
            .contains("DEPLOYLINK_TEST_SURELY_UNSET_1 is not set"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        let secret = read("acme", &SecretRef::File(path.clone())).unwrap();
        assert_eq!(secret.expose(), "s3cret");
        std::fs::write(&path, "\n").unwrap();
        let error = read("acme", &SecretRef::File(path)).unwrap_err();
        assert!(error.to_string().contains("is empty"));
    }
}
