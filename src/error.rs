//! The crate's error type and the exit-code contract of SPEC 8.
//!
//! Every failure is classified where it happens (configuration, git, usage), so the binary maps
//! it to an exit code without guessing from a message.

use crate::config::ConfigError;
use crate::git::GitError;

/// Exit codes, documented in the README and tested in `tests/cli_*.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// Done, including "nothing to do".
    Success = 0,
    /// A pre-push/commit-msg policy violation.
    PolicyViolation = 1,
    /// The command line was wrong.
    Usage = 2,
    /// A configuration file is missing, malformed or inconsistent.
    Config = 3,
    /// A delivery failed under `--on-error fail`.
    DeliveryFailed = 4,
    /// A git error: missing object or ref, shallow history that cannot be deepened.
    Git = 5,
    /// A bug in deploylink: a state its own code should never reach.
    Internal = 6,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{message}")]
    Usage { message: String },
    #[error(transparent)]
    Ci(#[from] crate::ci::CiError),
    #[error(transparent)]
    Spool(#[from] crate::deliver::spool::SpoolError),
    #[error(transparent)]
    Edit(#[from] crate::config::EditError),
    #[error(transparent)]
    Session(#[from] crate::deliver::SessionError),
    #[error(
        "{failed} {} failed (see above)\n  hint: run the same command again once Jira answers: \
         every write is idempotent, so nothing is written twice",
        if *failed == 1 { "delivery" } else { "deliveries" }
    )]
    DeliveryFailed { failed: usize },
    /// A commit message or a push breaks the project's `validate:` policy.
    #[error("{}", .0.message())]
    Policy(crate::report::Violations),
    /// A live check of a tracker failed: its credentials (exit 3) or the connection (exit 4).
    #[error("{message}")]
    TrackerCheck { message: String, credentials: bool },
    /// A bug: a state deploylink's own code should never reach.
    #[error("internal error: {message} (a bug in deploylink; please report it)")]
    Internal { message: String },
    #[error("cannot {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            action: action.into(),
            source,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config(_) => ExitCode::Config,
            Error::Git(GitError::Internal) => ExitCode::Internal,
            Error::Git(_) => ExitCode::Git,
            Error::Usage { .. } => ExitCode::Usage,
            Error::Edit(
                crate::config::EditError::NotFound { .. }
                | crate::config::EditError::InvalidTracker { .. },
            ) => ExitCode::Usage,
            Error::Edit(_) => ExitCode::Config,
            // The CI's environment is malformed: like a wrong flag.
            Error::Ci(_) => ExitCode::Usage,
            // An unwritable spool directory: the environment, like an unwritable file.
            Error::Spool(_) => ExitCode::Usage,
            // Unreadable credentials or CA file: the configuration names them.
            Error::Session(_) => ExitCode::Config,
            Error::DeliveryFailed { .. } => ExitCode::DeliveryFailed,
            Error::Policy(_) => ExitCode::PolicyViolation,
            Error::TrackerCheck {
                credentials: true, ..
            } => ExitCode::Config,
            Error::TrackerCheck { .. } => ExitCode::DeliveryFailed,
            // Reading stdin or writing a temporary file failed: the environment, not the input.
            Error::Io { .. } => ExitCode::Usage,
            Error::Internal { .. } => ExitCode::Internal,
        }
    }
}

impl From<crate::config::LoadError> for Error {
    fn from(error: crate::config::LoadError) -> Self {
        match error {
            crate::config::LoadError::Config(e) => Error::Config(e),
            crate::config::LoadError::Git(e) => Error::Git(e),
        }
    }
}

impl From<crate::deliver::run::RunError> for Error {
    fn from(error: crate::deliver::run::RunError) -> Self {
        match error {
            crate::deliver::run::RunError::Session(e) => Error::Session(e),
            crate::deliver::run::RunError::Record(e) => Error::Git(e),
        }
    }
}

impl From<crate::deliver::run::RunFailure> for Error {
    fn from(failure: crate::deliver::run::RunFailure) -> Self {
        match failure {
            crate::deliver::run::RunFailure::Deliveries { failed } => {
                Error::DeliveryFailed { failed }
            }
            crate::deliver::run::RunFailure::Session(e) => Error::Session(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_have_their_own_exit_code() {
        let codes = [
            ExitCode::Success,
            ExitCode::PolicyViolation,
            ExitCode::Usage,
            ExitCode::Config,
            ExitCode::DeliveryFailed,
            ExitCode::Git,
            ExitCode::Internal,
        ];
        assert_eq!(codes.map(ExitCode::code), [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(
            Error::internal("an unlimited walk reported a size limit").exit_code(),
            ExitCode::Internal
        );
        assert_eq!(
            Error::Git(GitError::Internal).exit_code(),
            ExitCode::Internal
        );
        assert_eq!(
            Error::internal("x").to_string(),
            "internal error: x (a bug in deploylink; please report it)"
        );
    }
}
