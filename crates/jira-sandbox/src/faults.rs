//! Faults injected on demand, so tests and benchmarks can see how deploylink handles a Jira
//! that rate-limits (429 + `Retry-After`, jira-api-facts 3.1), fails behind a proxy (an HTML
//! 502), is slow, or drops the connection.

use serde::{Deserialize, Serialize};

/// A fault: which requests it hits and what happens to them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    /// Match only this method (case-insensitive).
    #[serde(default)]
    pub method: Option<String>,
    /// Match only paths (with their query string) starting with this.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// How many matching requests it hits; `None` = every one.
    #[serde(default)]
    pub times: Option<u32>,
    /// The chance that a matching request is hit. A request the dice spare is treated as not
    /// matching: later faults may still hit it.
    #[serde(default = "certain")]
    pub probability: f64,
    pub action: FaultAction,
}

fn certain() -> f64 {
    1.0
}

/// What a fault does to a request it hits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer this instead of serving the request (e.g. 429 + `Retry-After`, an HTML 502 page,
    /// an empty 503). Headers that are not valid HTTP are left out.
    Respond {
        status: u16,
        #[serde(default)]
        headers: Vec<(String, String)>,
        #[serde(default)]
        body: String,
    },
    /// Wait, then serve normally (a slow Jira; longer than the client's timeout = a timeout).
    Delay { ms: u64 },
    /// Read the request, then close the connection without any response.
    Reset,
}

impl FaultAction {
    /// How the request log names what was done.
    pub(crate) fn describe(&self) -> String {
        match self {
            FaultAction::Respond { status, .. } => format!("respond {status}"),
            FaultAction::Delay { ms } => format!("delay {ms}ms"),
            FaultAction::Reset => "reset".to_string(),
        }
    }
}

impl Fault {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.times != Some(0)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

/// The first fault (in the order added) that matches, has hits left and wins its roll of the
/// dice; its hit count is used up.
pub(crate) fn take(faults: &mut [Fault], method: &str, path: &str) -> Option<FaultAction> {
    for fault in faults.iter_mut() {
        if !fault.matches(method, path) {
            continue;
        }
        // `fastrand::f64()` is in [0, 1): probability 0.0 never hits, 1.0 always does.
        if fault.probability < 1.0 && fastrand::f64() >= fault.probability {
            continue;
        }
        if let Some(left) = fault.times.as_mut() {
            *left -= 1;
        }
        return Some(fault.action.clone());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(times: Option<u32>, probability: f64, ms: u64) -> Fault {
        Fault {
            method: Some("post".into()),
            path_prefix: Some("/rest/".into()),
            times,
            probability,
            action: FaultAction::Delay { ms },
        }
    }

    #[test]
    fn first_match_with_hits_left_applies_then_runs_out() {
        let mut faults = vec![fault(Some(1), 1.0, 1), fault(None, 1.0, 2)];
        assert_eq!(
            take(&mut faults, "POST", "/rest/api/3/x"),
            Some(FaultAction::Delay { ms: 1 })
        );
        assert_eq!(
            take(&mut faults, "POST", "/rest/api/3/x"),
            Some(FaultAction::Delay { ms: 2 })
        );
        assert_eq!(take(&mut faults, "GET", "/rest/api/3/x"), None);
        assert_eq!(take(&mut faults, "POST", "/oauth/token"), None);
    }

    #[test]
    fn probability_zero_never_hits() {
        let mut faults = vec![fault(None, 0.0, 1)];
        for _ in 0..1000 {
            assert_eq!(take(&mut faults, "POST", "/rest/x"), None);
        }
    }

    #[test]
    fn json_defaults() {
        let fault: Fault =
            serde_json::from_str(r#"{"action":{"kind":"respond","status":503}}"#).unwrap();
        assert_eq!(fault.probability, 1.0);
        assert_eq!(fault.times, None);
        assert_eq!(
            fault.action,
            FaultAction::Respond {
                status: 503,
                headers: vec![],
                body: String::new()
            }
        );
    }
}
