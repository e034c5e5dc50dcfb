//! What the engine tells the dashboard: a snapshot of everything it shows, republished
//! after every change, and a stream of decisions as they happen.
//!
//! The snapshot is a `watch` value, so a slow or restarted consumer always catches up to
//! the latest state instead of replaying a backlog; decisions are a `broadcast`, because
//! each tap is news on its own.

use std::time::Duration;

use crate::audit::Transaction;
use crate::ids::{KeyId, ReaderName};
use crate::key::DigitalKey;
use crate::pairing::PairingSource;
use crate::policy::Denial;
use crate::ports::VehicleState;
use crate::profile::Action;
use crate::time::WallTime;

/// How long an owner's standard transaction on the console proves the owner is in the car,
/// for the dashboard commands that need it (adding or removing an owner, factory reset).
pub const OWNER_PRESENCE_WINDOW: Duration = Duration::from_secs(60);

/// Everything the dashboard shows, as of the last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The vehicle's reader group id (changes only at a factory reset).
    pub group_id: [u8; 16],
    /// Every key the vehicle knows, revoked ones included, by id.
    pub keys: Vec<DigitalKey>,
    /// The pending owner pairing.
    pub pairing: Option<PairingStatus>,
    /// Locks and immobilizer.
    pub vehicle: VehicleState,
    /// Key-tracking events waiting for the backend.
    pub tracking_pending: u64,
    /// Until when the last owner tap on the console counts as proof of presence.
    pub owner_present_until: Option<WallTime>,
}

impl Status {
    /// Every key, most recently used first (the order of the engine's `ListKeys`).
    pub fn keys_most_recent_first(&self) -> Vec<&DigitalKey> {
        let mut keys: Vec<&DigitalKey> = self.keys.iter().collect();
        keys.sort_by(|a, b| DigitalKey::most_recent_first(a, b));
        keys
    }
}

/// A pending pairing as the dashboard shows it (never the verifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairingStatus {
    /// Dashboard code or backend.
    pub source: PairingSource,
    /// Attempts left before a new code is needed.
    pub attempts_left: u8,
    /// When it expires.
    pub expires_at: Option<WallTime>,
}

/// One decided tap, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEvent {
    /// Which reader.
    pub reader: ReaderName,
    /// The key, when the phone proved one the vehicle knows.
    pub key: Option<KeyId>,
    /// What the tap asked for.
    pub action: Action,
    /// Fast or standard.
    pub transaction: Transaction,
    /// `None` when allowed; otherwise why not.
    pub denied: Option<Denial>,
    /// When (vehicle clock).
    pub at: WallTime,
}

/// When the owner last proved presence: the monotonic time (for the check, immune to clock
/// changes) and the wall time it ends (for display).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OwnerPresence {
    /// The owner key that proved it: the proof ends with that key's owner power.
    pub(super) key: KeyId,
    pub(super) at: Duration,
    pub(super) until: WallTime,
}

impl OwnerPresence {
    pub(super) fn holds(&self, now: Duration) -> bool {
        now.saturating_sub(self.at) <= OWNER_PRESENCE_WINDOW && now >= self.at
    }
}
