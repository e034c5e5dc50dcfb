//! Time, injected.

use core::time::Duration;

use crate::time::WallClockReading;

/// The vehicle's clocks.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary fixed point; never goes backwards. For timeouts and
    /// measurements.
    fn monotonic(&self) -> Duration;
    /// Wall time for validity windows and schedules, with whether it can be trusted.
    fn wall(&self) -> WallClockReading;
}
