//! Calendar arithmetic, in one place: seconds since the epoch, written as RFC 3339 in UTC
//! (`2026-01-02T03:04:05Z`) and read with any offset (the deploy history), civil dates for a
//! version's release date and for the dates servers send (`X-RateLimit-Reset`). Small on
//! purpose: nothing here needs a calendar library.

/// Seconds since 1970-01-01T00:00:00Z.
pub type Seconds = i64;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `2026-01-02T03:04:05Z`.
pub fn format(at: Seconds) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(86_400));
    let secs = at.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// `2026-01-02`, the day of `at` in UTC.
pub fn format_date(at: Seconds) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

fn number(text: &str, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| range.contains(n))
}

/// A date `YYYY-MM-DD`: its midnight in UTC.
pub fn parse_date(text: &str) -> Option<Seconds> {
    let mut parts = text.split('-');
    let year = number(parts.next()?, 1..=9999)?;
    let month = number(parts.next()?, 1..=12)?;
    let day = number(parts.next()?, 1..=31)?;
    if parts.next().is_some() || text.len() != 10 {
        return None;
    }
    let at = days_from_civil(year, month, day) * 86_400;
    // 2026-02-30 would silently become March 2nd.
    (civil_from_days(at / 86_400) == (year, month, day)).then_some(at)
}

/// RFC 3339: `2026-01-02T03:04:05Z`, `2026-01-02T03:04:05.250+02:00` (fractions dropped).
pub fn parse_rfc3339(text: &str) -> Option<Seconds> {
    let text = text.trim();
    if text.len() < 20 || !text.is_char_boundary(10) {
        return None;
    }
    let (date, rest) = text.split_at(10);
    let day = parse_date(date)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    if rest.len() < 9 || !rest.is_char_boundary(8) {
        return None;
    }
    let (clock, mut zone) = rest.split_at(8);
    let mut fields = clock.split(':');
    let hour = number(fields.next()?, 0..=23)?;
    let minute = number(fields.next()?, 0..=59)?;
    let second = number(fields.next()?, 0..=60)?;
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone.get(1..)?.split_once(':')?;
            sign * (number(h, 0..=23)? * 3600 + number(m, 0..=59)? * 60)
        }
    };
    Some(day + hour * 3600 + minute * 60 + second - offset)
}

/// `--since`: a duration back from `now` (`90d`, `12h`, `2weeks`), a date (`2026-01-01`) or
/// an RFC 3339 time.
pub fn parse_since(text: &str, now: Seconds) -> Option<Seconds> {
    if let Some(at) = parse_date(text).or_else(|| parse_rfc3339(text)) {
        return Some(at);
    }
    let back = humantime::parse_duration(text).ok()?;
    Some(now - i64::try_from(back.as_secs()).ok()?)
}

/// Now, in seconds since the epoch.
pub fn now() -> Seconds {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_offsets() {
        let at = parse_rfc3339("2026-01-02T03:04:05Z").unwrap();
        assert_eq!(format(at), "2026-01-02T03:04:05Z");
        assert_eq!(parse_rfc3339("2026-01-02T05:04:05.123+02:00"), Some(at));
        assert_eq!(parse_rfc3339("2026-01-01T22:04:05-05:00"), Some(at));
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_date("2026-01-01"), Some(1_767_225_600));
        assert_eq!(format_date(1_767_225_600 + 86_399), "2026-01-01");
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01T00:00:00Z",
            "2026-01-01T25:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00+0200",
            "yesterday",
            "2026-01-01T00:00:00.Z",
            "é026-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(parse_date("2026-1-1"), None);
    }

    #[test]
    fn since_takes_durations_and_dates() {
        let now = 1_767_225_600;
        assert_eq!(parse_since("90d", now), Some(now - 90 * 86_400));
        assert_eq!(parse_since("2025-12-31", now), Some(now - 86_400));
        assert_eq!(parse_since("soon", now), None);
    }
}
