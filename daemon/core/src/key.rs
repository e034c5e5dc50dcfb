//! A digital key as the vehicle knows it.

use carkey_protocol::crypto::EcPublicKey;
use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, KeyName, ProfileId};
use crate::profile::Action;
use crate::time::{Validity, WallTime};

/// Who holds the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The owner: may manage and share keys.
    Owner,
    /// A key shared by the owner.
    Friend,
}

impl Role {
    /// Stable spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Friend => "friend",
        }
    }
}

/// Whether a key works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "reason")]
pub enum KeyState {
    /// Works within its profile.
    Active,
    /// Temporarily disabled (lost phone); can be resumed.
    Suspended(String),
    /// Permanently disabled. Never leaves this state.
    Revoked(String),
}

impl KeyState {
    /// Stable spelling.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended(_) => "suspended",
            Self::Revoked(_) => "revoked",
        }
    }
}

/// How often a key was used, per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Allowed unlocks.
    pub unlock: u64,
    /// Allowed locks.
    pub lock: u64,
    /// Allowed trunk openings.
    pub trunk: u64,
    /// Allowed engine starts.
    pub engine_start: u64,
    /// Denied attempts.
    pub denied: u64,
}

impl Usage {
    /// Counts one allowed action.
    pub const fn record(&mut self, action: Action) {
        let counter = match action {
            Action::Unlock => &mut self.unlock,
            Action::Lock => &mut self.lock,
            Action::Trunk => &mut self.trunk,
            Action::EngineStart => &mut self.engine_start,
        };
        *counter = counter.saturating_add(1);
    }
}

/// An enrolled key. Its secrets (K_persistent, immobilizer token) live apart, in the
/// store and the engine's memory, so this type can be logged, listed and sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalKey {
    /// The key slot.
    pub id: KeyId,
    /// Display name.
    pub name: KeyName,
    /// The phone's long-term public key for this vehicle.
    pub endpoint: EcPublicKey,
    /// Owner or friend.
    pub role: Role,
    /// Which access profile applies.
    pub profile: ProfileId,
    /// Active, suspended or revoked.
    pub state: KeyState,
    /// The key's own validity window (on top of the profile's).
    pub validity: Validity,
    /// When it was enrolled (as the vehicle's clock said then).
    pub created_at: WallTime,
    /// Last authenticated tap.
    pub last_used_at: Option<WallTime>,
    /// Usage counters.
    pub usage: Usage,
    /// Recency rank: higher means used more recently. Orders the fast-path search, and
    /// unlike wall time it cannot go backwards.
    pub recency: u64,
    /// For a friend key enrolled from a share attestation: who signed it, and its serial.
    pub shared_by: Option<ShareOrigin>,
}

impl DigitalKey {
    /// The order in which keys are listed: most recently used first, then by id.
    pub fn most_recent_first(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.recency.cmp(&a.recency).then(a.id.cmp(&b.id))
    }

    /// A key just enrolled: active, never used, last in the fast-path order.
    pub fn enrolled(
        id: KeyId,
        name: KeyName,
        endpoint: EcPublicKey,
        role: Role,
        profile: ProfileId,
        validity: Validity,
        created_at: WallTime,
    ) -> Self {
        Self {
            id,
            name,
            endpoint,
            role,
            profile,
            state: KeyState::Active,
            validity,
            created_at,
            last_used_at: None,
            usage: Usage::default(),
            recency: 0,
            shared_by: None,
        }
    }
}

/// Where a shared key came from: the owner key that signed the share attestation and
/// the serial it chose. The vehicle never accepts the same (owner, serial) twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareOrigin {
    /// The signing owner key.
    pub owner: KeyId,
    /// The attestation's serial.
    pub serial: u64,
}
