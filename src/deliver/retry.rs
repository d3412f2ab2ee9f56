//! When to retry a request to Jira, and after how long (SPEC 7; jira-api-facts 3).
//!
//! Retried: 429, 502, 503, 504 and connection failures, with exponential back-off and jitter
//! (Atlassian's guidance for rate limits: 4 retries, 5 s doubling to 30 s, jitter x0.7 to
//! x1.3; a server error or a dropped connection starts at 1 s, since nothing asked us to slow
//! down and a hook has a 20 s budget), waiting at least what `Retry-After` or
//! `X-RateLimit-Reset` asks. Never retried: other 4xx. A 401 or
//! 403 stops every request to that tracker (no hammering with bad credentials). A 404 on an
//! issue means the issue does not exist or cannot be seen: reported, not retried.
//!
//! Pure: the caller supplies the clock and the random number, so every decision is testable.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The parameters of back-off.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    /// The first wait after a 429 without `Retry-After`.
    pub first_rate_limit_delay: Duration,
    /// The first wait after a server error or a connection failure.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// Multipliers applied to the back-off delay: a random factor in this range.
    pub jitter: (f64, f64),
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            first_rate_limit_delay: Duration::from_secs(5),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            jitter: (0.7, 1.3),
        }
    }
}

/// The longest server-requested wait taken as asked. Any longer one is far past every time
/// budget anyway, which then ends the wait.
const MAX_SERVER_WAIT: Duration = Duration::from_secs(24 * 3600);

/// What came back from one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<'a> {
    /// An HTTP response, with the two headers that say how long to wait.
    Response {
        status: u16,
        retry_after: Option<&'a str>,
        rate_limit_reset: Option<&'a str>,
    },
    /// No connection was made: the request was certainly not processed.
    ConnectFailed,
    /// The connection broke or timed out after the request was sent: it may have been processed.
    Interrupted,
}

/// Whether the request may be sent twice with the same effect (a remote-link upsert with a
/// `globalId`, a deployments bulk call with sequence numbers), or not (a comment POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idempotency {
    Idempotent,
    NotIdempotent,
}

/// The decision after one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// 2xx.
    Delivered,
    /// Wait this long, then send again.
    RetryAfter(Duration),
    /// 404: the issue does not exist or the credentials cannot see it.
    UnknownIssue,
    /// 401 or 403: stop sending anything to this tracker.
    StopTracker { status: u16 },
    /// Give up on this request (a 4xx that a retry cannot fix, or no retries left).
    GiveUp { reason: String },
}

impl RetryPolicy {
    /// Judges attempt number `retries + 1` of a request. `random` is uniform in [0, 1).
    pub fn judge(
        &self,
        outcome: &Outcome<'_>,
        retries: u32,
        idempotency: Idempotency,
        now: SystemTime,
        random: f64,
    ) -> Verdict {
        let retryable = match outcome {
            Outcome::Response { status, .. } => match status {
                200..=299 => return Verdict::Delivered,
                404 => return Verdict::UnknownIssue,
                401 | 403 => return Verdict::StopTracker { status: *status },
                // 429 means the request was refused, not processed: safe to send again.
                429 => true,
                502..=504 => idempotency == Idempotency::Idempotent,
                _ => false,
            },
            Outcome::ConnectFailed => true,
            Outcome::Interrupted => idempotency == Idempotency::Idempotent,
        };
        if !retryable {
            return Verdict::GiveUp {
                reason: describe(outcome),
            };
        }
        if retries >= self.max_retries {
            return Verdict::GiveUp {
                reason: format!("{} after {} tries", describe(outcome), retries + 1),
            };
        }
        Verdict::RetryAfter(self.delay(outcome, retries, now, random))
    }

    /// The server's wait (as a minimum, plus up to 30%), else exponential back-off with jitter.
    fn delay(&self, outcome: &Outcome<'_>, retries: u32, now: SystemTime, random: f64) -> Duration {
        if let Some(wait) = server_wait(outcome, now) {
            // Capped first: `Retry-After: 18446744073709551615` would overflow the multiplication.
            return wait
                .min(MAX_SERVER_WAIT)
                .mul_f64(1.0 + 0.3 * random.clamp(0.0, 1.0));
        }
        let first = match outcome {
            Outcome::Response { status: 429, .. } => self.first_rate_limit_delay,
            _ => self.first_delay,
        };
        let doubled = first.saturating_mul(1u32 << retries.min(16));
        let base = doubled.min(self.max_delay);
        let (low, high) = self.jitter;
        base.mul_f64(low + (high - low) * random.clamp(0.0, 1.0))
    }
}

/// How long the server asked to wait: `Retry-After` (seconds or an HTTP date), else
/// `X-RateLimit-Reset` (an ISO 8601 time). Data Center sends `Retry-After: 0` when tokens
/// remain, which is no wait at all, so zero falls through to back-off.
fn server_wait(outcome: &Outcome<'_>, now: SystemTime) -> Option<Duration> {
    let Outcome::Response {
        retry_after,
        rate_limit_reset,
        ..
    } = outcome
    else {
        return None;
    };
    let from_retry_after = retry_after.and_then(|value| {
        let value = value.trim();
        match value.parse::<u64>() {
            Ok(seconds) => Some(Duration::from_secs(seconds)),
            Err(_) => until(http_date(value)?, now),
        }
    });
    let from_reset = || rate_limit_reset.and_then(|value| until(iso8601(value.trim())?, now));
    from_retry_after
        .or_else(from_reset)
        .filter(|wait| !wait.is_zero())
}

fn until(epoch_seconds: i64, now: SystemTime) -> Option<Duration> {
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let then = u64::try_from(epoch_seconds).ok()?;
    Some(Duration::from_secs(then.saturating_sub(now)))
}

fn describe(outcome: &Outcome<'_>) -> String {
    match outcome {
        Outcome::Response { status, .. } => format!("HTTP {status}"),
        Outcome::ConnectFailed => "could not connect".to_owned(),
        Outcome::Interrupted => "the connection broke after the request was sent".to_owned(),
    }
}

/// `2021-05-13T12:15Z`, `2021-05-13T12:15:30Z`, `2021-05-13T12:15:30.123+02:00`.
fn iso8601(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut ymd = date.splitn(3, '-');
    let (year, month, day) = (ymd.next()?, ymd.next()?, ymd.next()?);
    let (clock, offset) = split_offset(time)?;
    let mut hms = clock.splitn(3, ':');
    let (hour, minute) = (hms.next()?, hms.next()?);
    let second = match hms.next() {
        Some(s) => number(s.split('.').next()?, 60)?,
        None => 0,
    };
    let (year, month, day) = (number(year, 9999)?, number(month, 12)?, number(day, 31)?);
    let (hour, minute) = (number(hour, 23)?, number(minute, 59)?);
    let local = epoch_seconds(year, month, day, hour, minute, second)?;
    Some(local - offset)
}

/// Splits `12:15:30+02:00` into the clock and the offset in seconds (`Z` is zero).
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, 0));
    }
    let at = time.rfind(['+', '-'])?;
    let (clock, offset) = time.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let (h, m) = offset[1..].split_once(':').unwrap_or((&offset[1..], "0"));
    let (h, m) = (number(h, 23)?, number(m, 59)?);
    Some((clock, sign * (h * 3600 + m * 60)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's preferred form).
fn http_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split_whitespace();
    let _weekday = parts.next()?;
    let day = number(parts.next()?, 31)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as i64 + 1;
    let year = number(parts.next()?, 9999)?;
    let mut hms = parts.next()?.splitn(3, ':');
    let hour = number(hms.next()?, 23)?;
    let minute = number(hms.next()?, 59)?;
    let second = number(hms.next()?, 60)?;
    if parts.next()? != "GMT" {
        return None;
    }
    epoch_seconds(year, month, day, hour, minute, second)
}

/// A field of a date: decimal digits only (no sign), at most `max`. Bounding every field keeps
/// the arithmetic below far from overflow, whatever a server sends.
fn number(text: &str, max: i64) -> Option<i64> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| *n <= max)
}

/// Seconds since the epoch of a UTC civil time.
fn epoch_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = crate::time::days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000; // 2023-11-14T22:13:20Z

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    fn response<'a>(
        status: u16,
        retry_after: Option<&'a str>,
        reset: Option<&'a str>,
    ) -> Outcome<'a> {
        Outcome::Response {
            status,
            retry_after,
            rate_limit_reset: reset,
        }
    }

    fn judge(outcome: &Outcome<'_>, retries: u32) -> Verdict {
        RetryPolicy::default().judge(outcome, retries, Idempotency::Idempotent, now(), 0.5)
    }

    #[test]
    fn success_unknown_and_credential_failures_are_final() {
        assert_eq!(judge(&response(201, None, None), 0), Verdict::Delivered);
        assert_eq!(judge(&response(200, None, None), 0), Verdict::Delivered);
        assert_eq!(judge(&response(404, None, None), 0), Verdict::UnknownIssue);
        assert_eq!(
            judge(&response(401, None, None), 0),
            Verdict::StopTracker { status: 401 }
        );
        assert_eq!(
            judge(&response(403, None, None), 0),
            Verdict::StopTracker { status: 403 }
        );
        for status in [400, 405, 409, 413, 422] {
            assert!(
                matches!(
                    judge(&response(status, None, None), 0),
                    Verdict::GiveUp { .. }
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn back_off_after_a_rate_limit_doubles_from_five_seconds_to_thirty() {
        let policy = RetryPolicy::default();
        let delay = |retries, random| match policy.judge(
            &response(429, None, None),
            retries,
            Idempotency::Idempotent,
            now(),
            random,
        ) {
            Verdict::RetryAfter(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(delay(0, 0.5), Duration::from_secs(5));
        assert_eq!(delay(1, 0.5), Duration::from_secs(10));
        assert_eq!(delay(2, 0.5), Duration::from_secs(20));
        assert_eq!(delay(3, 0.5), Duration::from_secs(30), "capped");
        assert_eq!(delay(0, 0.0), Duration::from_millis(3500), "x0.7");
        assert_eq!(delay(0, 1.0), Duration::from_millis(6500), "x1.3");
    }

    #[test]
    fn back_off_after_a_server_error_doubles_from_one_second_with_jitter() {
        let policy = RetryPolicy::default();
        let patient = RetryPolicy {
            max_retries: 10,
            ..RetryPolicy::default()
        };
        let delay = |retries, random| match patient.judge(
            &response(503, None, None),
            retries,
            Idempotency::Idempotent,
            now(),
            random,
        ) {
            Verdict::RetryAfter(d) => d,
            other => panic!("{other:?}"),
        };
        assert_eq!(delay(0, 0.5), Duration::from_secs(1));
        assert_eq!(delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(delay(4, 0.5), Duration::from_secs(16));
        assert_eq!(delay(5, 0.5), Duration::from_secs(30), "capped");
        assert_eq!(delay(0, 0.0), Duration::from_millis(700), "x0.7");
        assert_eq!(delay(0, 1.0), Duration::from_millis(1300), "x1.3");
        assert_eq!(
            policy.judge(
                &response(503, None, None),
                4,
                Idempotency::Idempotent,
                now(),
                0.5
            ),
            Verdict::GiveUp {
                reason: "HTTP 503 after 5 tries".into()
            }
        );
    }

    #[test]
    fn retry_after_is_a_minimum_in_seconds_or_an_http_date() {
        assert_eq!(
            judge(&response(429, Some("7"), None), 0),
            Verdict::RetryAfter(Duration::from_secs(7).mul_f64(1.15))
        );
        let date = "Tue, 14 Nov 2023 22:13:50 GMT"; // NOW + 30 s
        assert_eq!(
            judge(&response(429, Some(date), None), 0),
            Verdict::RetryAfter(Duration::from_secs(30).mul_f64(1.15))
        );
        // Data Center's "Retry-After: 0" means no wait: fall back to back-off.
        assert_eq!(
            judge(&response(429, Some("0"), None), 0),
            Verdict::RetryAfter(Duration::from_secs(5))
        );
        // Garbage is ignored, not fatal.
        assert_eq!(
            judge(&response(429, Some("soon"), None), 0),
            Verdict::RetryAfter(Duration::from_secs(5))
        );
    }

    /// Found by `fuzz/run.sh` (jira_response): absurd waits and dates overflowed.
    #[test]
    fn absurd_server_waits_are_capped_not_overflowed() {
        assert_eq!(
            judge(&response(429, Some("18446744073709551615"), None), 0),
            Verdict::RetryAfter(MAX_SERVER_WAIT.mul_f64(1.15))
        );
        for reset in [
            "2026-11-28T12+07\u{ff}712:+0006666666666666666666",
            "2026-11-28T12:00+99999999999999999:00",
            "99999999999999-11-28T12:00Z",
            "2026-11-28T-1:00Z",
        ] {
            assert_eq!(
                judge(&response(429, None, Some(reset)), 0),
                Verdict::RetryAfter(Duration::from_secs(5)),
                "{reset}"
            );
        }
        let date = "Tue, 99999999999999999999 Nov 2023 22:13:50 GMT";
        assert_eq!(
            judge(&response(503, Some(date), None), 0),
            Verdict::RetryAfter(Duration::from_secs(1))
        );
    }

    #[test]
    fn rate_limit_reset_is_used_without_retry_after() {
        let reset = "2023-11-14T22:14Z"; // NOW + 40 s
        assert_eq!(
            judge(&response(429, None, Some(reset)), 0),
            Verdict::RetryAfter(Duration::from_secs(40).mul_f64(1.15))
        );
        let with_offset = "2023-11-15T00:14:20+02:00"; // NOW + 60 s
        assert_eq!(
            judge(&response(429, None, Some(with_offset)), 0),
            Verdict::RetryAfter(Duration::from_secs(60).mul_f64(1.15))
        );
        // A reset in the past: back-off.
        assert_eq!(
            judge(&response(429, None, Some("2020-01-01T00:00Z")), 0),
            Verdict::RetryAfter(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_request_that_may_have_been_processed_is_retried_only_if_idempotent() {
        let policy = RetryPolicy::default();
        let once = Idempotency::NotIdempotent;
        assert!(matches!(
            policy.judge(&Outcome::Interrupted, 0, once, now(), 0.5),
            Verdict::GiveUp { .. }
        ));
        assert!(matches!(
            policy.judge(&response(502, None, None), 0, once, now(), 0.5),
            Verdict::GiveUp { .. }
        ));
        // Refused or never sent: safe either way.
        assert!(matches!(
            policy.judge(&response(429, None, None), 0, once, now(), 0.5),
            Verdict::RetryAfter(_)
        ));
        assert!(matches!(
            policy.judge(&Outcome::ConnectFailed, 0, once, now(), 0.5),
            Verdict::RetryAfter(_)
        ));
        assert!(matches!(
            policy.judge(
                &Outcome::Interrupted,
                0,
                Idempotency::Idempotent,
                now(),
                0.5
            ),
            Verdict::RetryAfter(_)
        ));
    }

    #[test]
    fn dates_parse_to_the_right_second() {
        assert_eq!(iso8601("1970-01-01T00:00Z"), Some(0));
        assert_eq!(iso8601("2023-11-14T22:13:20Z"), Some(NOW as i64));
        assert_eq!(iso8601("2023-11-14T22:13:20.999Z"), Some(NOW as i64));
        assert_eq!(iso8601("2000-02-29T00:00Z"), Some(951_782_400));
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        for bad in [
            "",
            "2023-13-01T00:00Z",
            "2023-11-14",
            "tomorrow",
            "2023-11-14T25:00Z",
        ] {
            assert_eq!(iso8601(bad), None, "{bad}");
        }
        assert_eq!(http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
    }
}
