//! The system clock, with carkey's rule for when wall time is believed.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use carkey_core::ports::Clock;
use carkey_core::time::{WallClockReading, WallTime};

use crate::config::ClockTrust;

/// Wall time earlier than this cannot be right for this build (2026-01-01T00:00:00Z): an
/// unset real-time clock reads 1970 or 2000.
pub const PLAUSIBLE_AFTER: i64 = 1_767_225_600;

/// Where systemd-timesyncd marks a synchronized clock.
const TIMESYNC_FLAG: &str = "/run/systemd/timesync/synchronized";

/// The host's clocks.
#[derive(Debug, Clone)]
pub struct SystemClock {
    start: Instant,
    trust: ClockTrust,
}

impl SystemClock {
    /// A clock with the given trust rule.
    pub fn new(trust: ClockTrust) -> Self {
        Self { start: Instant::now(), trust }
    }
}

/// Whether a reading is believed under `trust`.
pub fn trusted(trust: ClockTrust, unix: i64, synchronized: impl FnOnce() -> bool) -> bool {
    match trust {
        ClockTrust::Always => true,
        ClockTrust::Plausible => unix >= PLAUSIBLE_AFTER,
        ClockTrust::Synchronized => unix >= PLAUSIBLE_AFTER && synchronized(),
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        self.start.elapsed()
    }

    fn wall(&self) -> WallClockReading {
        let unix = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        WallClockReading {
            time: WallTime(unix),
            trusted: trusted(self.trust, unix, || Path::new(TIMESYNC_FLAG).exists()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_rules() {
        assert!(trusted(ClockTrust::Always, 0, || false));
        assert!(!trusted(ClockTrust::Plausible, 946_684_800, || true));
        assert!(trusted(ClockTrust::Plausible, PLAUSIBLE_AFTER, || false));
        assert!(!trusted(ClockTrust::Synchronized, PLAUSIBLE_AFTER, || false));
        assert!(trusted(ClockTrust::Synchronized, PLAUSIBLE_AFTER, || true));
        assert!(!trusted(ClockTrust::Synchronized, 0, || true));
    }
}
