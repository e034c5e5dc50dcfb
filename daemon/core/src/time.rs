//! Wall time as the policy sees it: Unix seconds, a flag saying whether the head unit's
//! clock can be believed, validity windows and weekly schedules in vehicle-local time.
//!
//! Nothing here reads a clock; the [`crate::ports::Clock`] port does, so tests can put
//! the car anywhere in time.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WallTime(pub i64);

/// One reading of the wall clock.
///
/// A head unit's real-time clock may be unset or wrong until GNSS or the network sets it;
/// an untrusted reading must never widen access, so time-bound rules deny on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallClockReading {
    /// The time.
    pub time: WallTime,
    /// Whether the time comes from a source the vehicle trusts.
    pub trusted: bool,
}

/// A validity window; an absent bound is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validity {
    /// First second the key or profile is valid.
    pub not_before: Option<WallTime>,
    /// First second it is no longer valid.
    pub not_after: Option<WallTime>,
}

/// Where a time falls relative to a validity window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPosition {
    /// Before `not_before`.
    Early,
    /// Inside.
    Inside,
    /// At or after `not_after`.
    Late,
}

impl Validity {
    /// Always valid.
    pub const ALWAYS: Self = Self { not_before: None, not_after: None };

    /// Whether the window constrains anything (so needs a trusted clock).
    pub const fn is_bounded(&self) -> bool {
        self.not_before.is_some() || self.not_after.is_some()
    }

    /// Where `time` falls.
    pub fn position(&self, time: WallTime) -> WindowPosition {
        if self.not_before.is_some_and(|start| time < start) {
            WindowPosition::Early
        } else if self.not_after.is_some_and(|end| time >= end) {
            WindowPosition::Late
        } else {
            WindowPosition::Inside
        }
    }
}

/// The vehicle's offset from UTC, in minutes (from configuration or the navigation unit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UtcOffset(pub i16);

impl UtcOffset {
    /// Weekday and minute of the day at `time` in this offset.
    pub fn local(self, time: WallTime) -> (Weekday, u16) {
        let local = time.0.saturating_add(i64::from(self.0) * 60);
        let days = local.div_euclid(86_400);
        let minute = u16::try_from(local.rem_euclid(86_400) / 60).unwrap_or(0);
        // 1970-01-01 was a Thursday (index 3 from Monday).
        let weekday = Weekday::ALL.get(usize::try_from((days + 3).rem_euclid(7)).unwrap_or(0)).copied();
        (weekday.unwrap_or(Weekday::Mon), minute)
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    /// Monday first.
    pub const ALL: [Self; 7] = [Self::Mon, Self::Tue, Self::Wed, Self::Thu, Self::Fri, Self::Sat, Self::Sun];
    const NAMES: [&'static str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    const fn index(self) -> u8 {
        self as u8
    }

    fn name(self) -> &'static str {
        Self::NAMES.get(usize::from(self.index())).copied().unwrap_or("mon")
    }

    fn parse(s: &str) -> Option<Self> {
        Self::NAMES.iter().position(|n| *n == s).and_then(|i| Self::ALL.get(i).copied())
    }
}

/// Why a schedule string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule window {0:?}: expected e.g. \"mon-fri 08:00-18:00\" or \"sat,sun 10:00-14:30\"")]
pub struct ScheduleError(pub String);

/// One weekly window: on these days, from `start` up to (not including) `end`, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleWindow {
    days: u8,
    start_minute: u16,
    end_minute: u16,
}

impl ScheduleWindow {
    /// Whether every moment of `self` is also in `other` (same or fewer days, same or
    /// shorter hours).
    pub const fn is_within(&self, other: &Self) -> bool {
        self.days & !other.days == 0 && self.start_minute >= other.start_minute && self.end_minute <= other.end_minute
    }

    /// Whether `(day, minute)` falls inside.
    pub const fn contains(&self, day: Weekday, minute: u16) -> bool {
        self.days & (1 << day.index()) != 0 && minute >= self.start_minute && minute < self.end_minute
    }
}

fn parse_minute(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
}

fn parse_days(s: &str) -> Option<u8> {
    let mut days = 0u8;
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (Weekday::parse(a)?.index(), Weekday::parse(b)?.index());
                if a > b {
                    return None;
                }
                for d in a..=b {
                    days |= 1 << d;
                }
            }
            None => days |= 1 << Weekday::parse(part)?.index(),
        }
    }
    Some(days)
}

impl FromStr for ScheduleWindow {
    type Err = ScheduleError;

    /// `"<days> HH:MM-HH:MM"`; days are `mon`…`sun`, ranges (`mon-fri`) and lists
    /// (`sat,sun`). A window may not cross midnight: write two windows instead.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ScheduleError(s.to_owned());
        let (days, hours) = s.trim().split_once(' ').ok_or_else(err)?;
        let (start, end) = hours.trim().split_once('-').ok_or_else(err)?;
        let window = Self {
            days: parse_days(days).ok_or_else(err)?,
            start_minute: parse_minute(start).ok_or_else(err)?,
            end_minute: parse_minute(end).ok_or_else(err)?,
        };
        if window.start_minute >= window.end_minute {
            return Err(err());
        }
        Ok(window)
    }
}

impl fmt::Display for ScheduleWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> =
            Weekday::ALL.iter().filter(|d| self.days & (1 << d.index()) != 0).map(|d| d.name()).collect();
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02}",
            days.join(","),
            self.start_minute / 60,
            self.start_minute % 60,
            self.end_minute / 60,
            self.end_minute % 60
        )
    }
}

impl Serialize for ScheduleWindow {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScheduleWindow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

/// When in the week a profile may be used. An empty schedule allows no time at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklySchedule(pub Vec<ScheduleWindow>);

impl WeeklySchedule {
    /// Whether every window of `self` lies inside some window of `other` (a sufficient
    /// test of "allows no more than", which is all sharing needs).
    pub fn is_within(&self, other: &Self) -> bool {
        self.0.iter().all(|mine| other.0.iter().any(|theirs| mine.is_within(theirs)))
    }

    /// Whether `time` (at `offset`) falls in any window.
    pub fn allows(&self, time: WallTime, offset: UtcOffset) -> bool {
        let (day, minute) = offset.local(time);
        self.0.iter().any(|w| w.contains(day, minute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-23 is a Monday.
    const MONDAY_NOON_UTC: WallTime = WallTime(1_795_392_000 + 12 * 3600);

    #[test]
    fn local_time_uses_the_offset() {
        assert_eq!(UtcOffset(0).local(WallTime(0)), (Weekday::Thu, 0));
        assert_eq!(UtcOffset(0).local(MONDAY_NOON_UTC), (Weekday::Mon, 720));
        assert_eq!(UtcOffset(60).local(MONDAY_NOON_UTC), (Weekday::Mon, 780));
        assert_eq!(UtcOffset(-13 * 60).local(MONDAY_NOON_UTC), (Weekday::Sun, 23 * 60));
        assert_eq!(UtcOffset(0).local(WallTime(-1)), (Weekday::Wed, 1439));
    }

    #[test]
    fn schedule_windows_parse_and_print() {
        let w: ScheduleWindow = "mon-fri 08:00-18:30".parse().unwrap();
        assert_eq!(w.to_string(), "mon,tue,wed,thu,fri 08:00-18:30");
        assert!(w.contains(Weekday::Mon, 8 * 60));
        assert!(!w.contains(Weekday::Mon, 18 * 60 + 30));
        assert!(!w.contains(Weekday::Sat, 9 * 60));
        let all_day: ScheduleWindow = "sat,sun 00:00-24:00".parse().unwrap();
        assert!(all_day.contains(Weekday::Sun, 1439));
        for bad in [
            "",
            "mon",
            "mon 8:00-9:00",
            "fri-mon 08:00-09:00",
            "mon 09:00-09:00",
            "mon 22:00-02:00",
            "xyz 08:00-09:00",
            "mon 24:01-24:30",
        ] {
            assert!(bad.parse::<ScheduleWindow>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn schedule_allows_only_inside_its_windows() {
        let s = WeeklySchedule(vec!["mon 11:00-13:00".parse().unwrap()]);
        assert!(s.allows(MONDAY_NOON_UTC, UtcOffset(0)));
        assert!(!s.allows(MONDAY_NOON_UTC, UtcOffset(120)));
        assert!(!WeeklySchedule::default().allows(MONDAY_NOON_UTC, UtcOffset(0)));
    }

    #[test]
    fn validity_window_is_half_open() {
        let v = Validity { not_before: Some(WallTime(10)), not_after: Some(WallTime(20)) };
        assert_eq!(v.position(WallTime(9)), WindowPosition::Early);
        assert_eq!(v.position(WallTime(10)), WindowPosition::Inside);
        assert_eq!(v.position(WallTime(20)), WindowPosition::Late);
        assert_eq!(Validity::ALWAYS.position(WallTime(i64::MIN)), WindowPosition::Inside);
    }
}
