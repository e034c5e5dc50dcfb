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
