//! Unix seconds as UTC ISO-8601 text (`2026-11-23T10:00:00Z`) and back.
//!
//! The daemon speaks Unix seconds of the vehicle's clock. A technician reads and types
//! calendar times, and a log pasted into a ticket must mean the same thing in every time
//! zone, so carkeyctl shows UTC only and never the local zone. The conversion is the
//! proleptic Gregorian calendar on day numbers (no leap seconds, like Unix time), which is
//! small enough to own instead of pulling in a date library.

use std::fmt;

const SECONDS_PER_DAY: i64 = 86_400;

/// Days from 0000-03-01 to 1970-01-01: the calendar below counts years from March so that
/// the leap day is the last day of its year.
const UNIX_EPOCH_DAY: i64 = 719_468;

/// Days in a 400-year era of the Gregorian calendar.
const DAYS_PER_ERA: i64 = 146_097;

/// A Unix time as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// Defined for every `i64`, so that any value a daemon sends is shown rather than refused:
/// years outside 0000..=9999 are written with as many digits as they need.
pub fn format_utc(unix: i64) -> String {
    let days = unix.div_euclid(SECONDS_PER_DAY);
    let second_of_day = unix.rem_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day % 3600 / 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// [`format_utc`], or `none` for an unset time ("never" for a last use, "-" for a bound).
pub fn format_optional(unix: Option<i64>, none: &str) -> String {
    unix.map_or_else(|| none.to_owned(), format_utc)
}

/// Why a time argument was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a time: write YYYY-MM-DDTHH:MM:SSZ (UTC), YYYY-MM-DD (midnight UTC) or @UNIX-SECONDS",
            self.0
        )
    }
}

impl std::error::Error for TimeError {}

/// Reads a time typed on the command line: `2026-11-23T10:00:00Z`, `2026-11-23` (midnight
/// UTC) or `@1795428000` (Unix seconds, as the daemon and scripts count).
pub fn parse_utc(text: &str) -> Result<i64, TimeError> {
    let refused = || TimeError(text.to_owned());
    if let Some(seconds) = text.strip_prefix('@') {
        return seconds.parse().map_err(|_| refused());
    }
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time.strip_suffix('Z').ok_or_else(refused)?)),
        None => (text, None),
    };
    let days = parse_date(date).ok_or_else(refused)?;
    let second_of_day = match time {
        Some(time) => parse_time_of_day(time).ok_or_else(refused)?,
        None => 0,
    };
    Ok(days * SECONDS_PER_DAY + second_of_day)
}

/// `YYYY-MM-DD` as days since 1970-01-01, if it names a real day.
fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day) = (digits(year)?, digits(month)?, digits(day)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `HH:MM:SS` as seconds since midnight (no leap second, as Unix time has none).
fn parse_time_of_day(text: &str) -> Option<i64> {
    let mut parts = text.split(':');
    let (hour, minute, second) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || [hour, minute, second].iter().any(|part| part.len() != 2) {
        return None;
    }
    let (hour, minute, second) = (digits(hour)?, digits(minute)?, digits(second)?);
    (hour < 24 && minute < 60 && second < 60).then_some(hour * 3600 + minute * 60 + second)
}

/// A run of ASCII digits (no sign, no spaces) as a number.
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The civil date of a day number (days since 1970-01-01), after H. Hinnant's
/// `civil_from_days`: exact over the whole range of the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days.saturating_add(UNIX_EPOCH_DAY);
    let era = shifted.div_euclid(DAYS_PER_ERA);
    let day_of_era = shifted.rem_euclid(DAYS_PER_ERA);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number (days since 1970-01-01) of a civil date; the inverse of
/// [`civil_from_days`] for the four-digit years a command line accepts.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - UNIX_EPOCH_DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_795_428_000), "2026-11-23T10:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(format_utc(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_utc(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn any_daemon_value_formats_without_panicking() {
        for unix in [i64::MIN, i64::MIN + 1, -62_167_219_200, i64::MAX - 1, i64::MAX] {
            let text = format_utc(unix);
            assert!(text.ends_with('Z'), "{unix}: {text}");
        }
    }

    #[test]
    fn unset_times_read_as_the_given_word() {
        assert_eq!(format_optional(None, "never"), "never");
        assert_eq!(format_optional(Some(0), "-"), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn parses_what_it_formats_and_dates_and_unix_seconds() {
        assert_eq!(parse_utc("2026-11-23T10:00:00Z"), Ok(1_795_428_000));
        assert_eq!(parse_utc("2026-11-23"), Ok(1_795_392_000));
        assert_eq!(parse_utc("@1795428000"), Ok(1_795_428_000));
        assert_eq!(parse_utc("@-5"), Ok(-5));
        assert_eq!(parse_utc("1969-12-31T23:59:59Z"), Ok(-1));
        assert_eq!(parse_utc("2000-02-29"), Ok(951_782_400));
        // Every day of four centuries round-trips.
        for day in -73_000..73_000 {
            let unix = day * SECONDS_PER_DAY + 45_296;
            assert_eq!(parse_utc(&format_utc(unix)), Ok(unix), "{}", format_utc(unix));
        }
    }

    #[test]
    fn refuses_malformed_and_impossible_times() {
        for bad in [
            "",
            "tomorrow",
            "2026-11-23T10:00:00",
            "2026-11-23T10:00:00+01:00",
            "2026-11-23 10:00:00Z",
            "2026-11-23T10:00Z",
            "2026-13-01",
            "2026-00-10",
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-11-23T24:00:00Z",
            "2026-11-23T10:60:00Z",
            "2026-11-23T10:00:60Z",
            "26-11-23",
            "+2026-11-23",
            "2026-1-23",
            "2026-11-23-01",
            "@",
            "@12x",
            "@99999999999999999999",
        ] {
            assert!(parse_utc(bad).is_err(), "{bad:?} was accepted");
        }
        let message = parse_utc("soon").unwrap_err().to_string();
        assert!(message.contains("YYYY-MM-DDTHH:MM:SSZ"), "{message}");
    }
}
