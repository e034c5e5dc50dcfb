use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use crate::ports::Clock;
use crate::time::{WallClockReading, WallTime};

/// A clock the test sets. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct FakeClock {
    wall: Arc<AtomicI64>,
    untrusted: Arc<AtomicBool>,
    monotonic_ns: Arc<AtomicU64>,
}

impl FakeClock {
    /// A trusted clock at `unix` seconds.
    pub fn at(unix: i64) -> Self {
        let clock = Self::default();
        clock.set(unix);
        clock
    }

    /// Moves wall time (and monotonic time forward by the same amount, if positive).
    pub fn set(&self, unix: i64) {
        let before = self.wall.swap(unix, Ordering::SeqCst);
        let delta = u64::try_from(unix.saturating_sub(before)).unwrap_or(0);
        self.monotonic_ns.fetch_add(delta.saturating_mul(1_000_000_000), Ordering::SeqCst);
    }

    /// Marks the wall clock as (un)trusted.
    pub fn set_trusted(&self, trusted: bool) {
        self.untrusted.store(!trusted, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.monotonic_ns.load(Ordering::SeqCst))
    }

    fn wall(&self) -> WallClockReading {
        WallClockReading {
            time: WallTime(self.wall.load(Ordering::SeqCst)),
            trusted: !self.untrusted.load(Ordering::SeqCst),
        }
    }
}
