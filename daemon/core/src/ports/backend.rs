//! The automaker's backend as the engine will need it for offline-first sync.
//!
//! Transactions never wait for it: it is consulted when connectivity returns, and
//! everything it says is applied through the same engine commands as a dashboard change.

use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::ids::KeyId;
use crate::time::WallTime;

/// A change the backend orders for a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "change")]
pub enum RemoteKeyChange {
    /// Suspend (lost phone reported to the automaker).
    Suspend {
        /// Which key.
        key: KeyId,
        /// Why.
        reason: String,
    },
    /// Resume a suspended key.
    Resume {
        /// Which key.
        key: KeyId,
    },
    /// Revoke for good.
    Revoke {
        /// Which key.
        key: KeyId,
        /// Why.
        reason: String,
    },
}

/// What the vehicle tells the backend about its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTrackingReport {
    /// Which key.
    pub key: KeyId,
    /// Its state now.
    pub state: String,
    /// When the vehicle observed it.
    pub at: WallTime,
}

/// Something the automaker's key-tracking service must hear about (queued in the
/// store's outbox, delivered when the backend is reachable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingEvent {
    /// Which key.
    pub key: KeyId,
    /// What happened.
    pub kind: TrackingKind,
    /// When the vehicle observed it.
    pub at: WallTime,
}

/// What happened to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrackingKind {
    /// An owner key was paired.
    OwnerPaired,
    /// A friend key was enrolled at its first tap from a share attestation.
    FriendFirstUse,
    /// A key was revoked on the vehicle (dashboard, replacement).
    Revoked,
    /// A key was removed by its phone's termination attestation.
    Terminated,
}

impl TrackingKind {
    /// Stable spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OwnerPaired => "owner-paired",
            Self::FriendFirstUse => "friend-first-use",
            Self::Revoked => "revoked",
            Self::Terminated => "terminated",
        }
    }
}

/// Why a sync round failed (it is retried later; nothing is lost).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// No connectivity.
    #[error("backend unreachable: {0}")]
    Unreachable(String),
    /// The backend answered something that does not parse or does not verify.
    #[error("invalid backend response: {0}")]
    InvalidResponse(String),
}

/// The backend client.
pub trait Backend: Send {
    /// Sends reports and fetches the changes after `cursor`; returns them with the new
    /// cursor.
    fn sync(
        &mut self,
        reports: &[KeyTrackingReport],
        cursor: u64,
    ) -> impl Future<Output = Result<(Vec<RemoteKeyChange>, u64), BackendError>> + Send;
}
