//! Durable state as the engine needs it.
//!
//! The engine keeps everything in memory and writes through: each engine command becomes
//! one [`KeyStore::commit`] of a list of [`Change`]s, applied atomically and durably
//! before the command is acknowledged. Loading happens once, at start.

use carkey_protocol::crypto::Secret32;

use crate::audit::{AuditEntry, AuditHead};
use crate::ids::{KeyId, ProfileId};
use crate::key::DigitalKey;
use crate::pairing::PairingOffer;
use crate::ports::TrackingEvent;
use crate::profile::AccessProfile;

/// A key together with its secrets.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key.
    pub key: DigitalKey,
    /// K_persistent from its last standard transaction.
    pub k_persistent: Option<Secret32>,
    /// The immobilizer token written to the phone's confidential mailbox at pairing.
    pub immobilizer_token: Option<Secret32>,
}

/// Everything the engine starts from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The vehicle's identity, once created.
    pub identity: Option<VehicleIdentity>,
    /// All keys, revoked ones included.
    pub keys: Vec<StoredKey>,
    /// Custom profiles (built-ins are not stored).
    pub profiles: Vec<AccessProfile>,
    /// Where the audit log ends.
    pub audit_head: AuditHead,
    /// The pending owner pairing, if any.
    pub pairing: Option<PairingOffer>,
    /// Key-tracking events not yet delivered to the backend.
    pub tracking_pending: u64,
}

pub use crate::identity::VehicleIdentity;

/// One durable change.
#[derive(Debug, Clone)]
pub enum Change {
    /// Set the vehicle identity (once; a second one is refused).
    SetIdentity(VehicleIdentity),
    /// Insert or replace a key's public data.
    PutKey(DigitalKey),
    /// Set or clear a key's K_persistent. The key must exist.
    SetKPersistent(KeyId, Option<Secret32>),
    /// Set or clear a key's immobilizer token. The key must exist.
    SetImmobilizerToken(KeyId, Option<Secret32>),
    /// Insert or replace a custom profile.
    PutProfile(AccessProfile),
    /// Remove a custom profile.
    DeleteProfile(ProfileId),
    /// Append an audit entry; its `seq` must follow the stored head.
    AppendAudit(AuditEntry),
    /// Store the pending owner pairing, replacing any other.
    PutPairingOffer(PairingOffer),
    /// Record how many attempts the pending pairing has used. It must exist.
    SetPairingAttempts(u8),
    /// Remove the pending pairing (used, cancelled or expired).
    ClearPairingOffer,
    /// Queue a key-tracking event for the backend (the outbox).
    QueueTracking(TrackingEvent),
    /// Erase everything: identity, keys and their secrets, profiles, pairing, outbox and
    /// the audit log. Must be the first change of its commit; what follows in the same
    /// commit (a new identity, the first audit entry with `seq` 1) starts the new life.
    FactoryReset,
}

/// Why the store failed. The engine treats every variant as "nothing was written".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The storage medium or database failed.
    #[error("key store I/O: {0}")]
    Io(String),
    /// Stored data does not decode or decrypt.
    #[error("key store is corrupt: {0}")]
    Corrupt(String),
    /// The master key does not decrypt this store.
    #[error("the master key does not match this key store (wrong credential?); nothing was changed")]
    WrongMasterKey,
    /// The store was written by a newer carkey.
    #[error("key store schema version {found} is newer than this carkeyd supports ({supported})")]
    SchemaTooNew {
        /// Version on disk.
        found: u32,
        /// Newest this build knows.
        supported: u32,
    },
    /// A change contradicts what is stored (unknown key, identity already set, audit gap).
    #[error("rejected change: {0}")]
    Conflict(String),
}

/// The key store.
pub trait KeyStore: Send {
    /// Reads everything.
    fn load(&mut self) -> Result<Loaded, StoreError>;
    /// Applies all `changes` in one durable transaction, or none of them.
    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError>;
    /// Audit entries with `seq > after`, oldest first, at most `limit`.
    fn audit_after(&mut self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}
