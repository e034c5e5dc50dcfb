//! Commands to the engine from the dashboard, the technician's tools and (later) the
//! backend sync: the only way keys and profiles change.

use carkey_protocol::crypto::EcPublicKey;

use super::PairingStatus;
use crate::audit::AuditEntry;
use crate::ids::{KeyId, KeyName, ProfileId};
use crate::key::{DigitalKey, Role};
use crate::pairing::PairingOffer;
use crate::ports::StoreError;
use crate::profile::AccessProfile;
use crate::sharing::TerminationRejection;
use crate::time::Validity;

/// A request to read or change keys and profiles.
#[derive(Debug, Clone)]
pub enum Command {
    /// Enroll a key.
    EnrollKey {
        /// The slot the phone chose.
        id: KeyId,
        /// Display name.
        name: KeyName,
        /// The phone's long-term public key for this vehicle.
        endpoint: EcPublicKey,
        /// Owner or friend.
        role: Role,
        /// Its access profile.
        profile: ProfileId,
        /// Its own validity window.
        validity: Validity,
    },
    /// Rename a key.
    Rename(KeyId, KeyName),
    /// Give a key another profile.
    SetProfile(KeyId, ProfileId),
    /// Change a key's own validity window.
    SetValidity(KeyId, Validity),
    /// Suspend a key, with a reason.
    Suspend(KeyId, String),
    /// Resume a suspended key.
    Resume(KeyId),
    /// Revoke a key for good, with a reason; its secrets are erased.
    Revoke(KeyId, String),
    /// Create or replace a custom profile.
    PutProfile(AccessProfile),
    /// Remove a custom profile no key uses.
    DeleteProfile(ProfileId),
    /// All keys.
    ListKeys,
    /// One key.
    GetKey(KeyId),
    /// All profiles, built-in first.
    ListProfiles,
    /// Offer owner pairing with this verifier (from a dashboard code or the backend),
    /// replacing any pending offer.
    OfferPairing(PairingOffer),
    /// Withdraw the pending pairing.
    CancelPairing,
    /// The pending pairing, if any.
    GetPairing,
    /// Apply a termination attestation relayed by the backend.
    ApplyTermination(Vec<u8>),
    /// Erase every key, secret, profile, pending pairing and the audit log, and start
    /// again with a new vehicle identity (phones paired before no longer match).
    FactoryReset,
    /// Audit entries after `seq`, at most `limit`.
    AuditAfter {
        /// Last sequence number already seen.
        after: u64,
        /// How many at most.
        limit: usize,
    },
}

/// Who asks for a command, which decides the proof it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    /// A trusted channel: the technician's tool on the stopped daemon's state directory,
    /// or the automaker's backend. Nothing beyond the command's own checks.
    Trusted,
    /// The dashboard (D-Bus), already authorized by the caller's identity. Commands that
    /// add or remove owner power also need the owner in the car (see
    /// [`super::OWNER_PRESENCE_WINDOW`]).
    Dashboard,
}

/// The answer to a [`Command`].
#[derive(Debug, Clone)]
pub enum Reply {
    /// The change is durable.
    Done,
    /// One key.
    Key(Box<DigitalKey>),
    /// Keys, most recently used first.
    Keys(Vec<DigitalKey>),
    /// Profiles.
    Profiles(Vec<AccessProfile>),
    /// Audit entries.
    Audit(Vec<AuditEntry>),
    /// The pending pairing.
    Pairing(Option<PairingStatus>),
}

/// Why a command was refused; nothing changed. Names are stable (D-Bus error names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// No such key.
    #[error("no key {0}")]
    UnknownKey(KeyId),
    /// The slot is taken.
    #[error("key {0} already exists")]
    KeyExists(KeyId),
    /// The phone's public key is already enrolled in another slot.
    #[error("this phone key is already enrolled as {0}")]
    EndpointAlreadyEnrolled(KeyId),
    /// No such profile.
    #[error("no profile {0}")]
    UnknownProfile(ProfileId),
    /// Built-in profiles cannot be changed or removed.
    #[error("profile {0} is built in and cannot be changed")]
    BuiltinProfile(ProfileId),
    /// The profile is still assigned.
    #[error("profile {profile} is used by {keys} key(s)")]
    ProfileInUse {
        /// The profile.
        profile: ProfileId,
        /// How many keys use it.
        keys: usize,
    },
    /// A revoked key never changes again.
    #[error("key {0} is revoked")]
    Revoked(KeyId),
    /// A revoked key's phone key can never be enrolled again.
    #[error("this phone key belongs to revoked key {0} and can never be enrolled again")]
    EndpointRevoked(KeyId),
    /// Every key slot is in use.
    #[error("all {0} key slots are in use; revoke a key first")]
    SlotsFull(usize),
    /// No pairing is pending.
    #[error("no owner pairing is pending")]
    NoPairing,
    /// A termination attestation was refused.
    #[error("termination refused: {0}")]
    Termination(TerminationRejection),
    /// Resume of a key that is not suspended.
    #[error("key {0} is not suspended")]
    NotSuspended(KeyId),
    /// A dashboard command that adds or removes owner power needs an owner key's standard
    /// transaction on the console reader within the last minute.
    #[error("tap an owner key on the console reader to confirm, then try again within 60 s")]
    OwnerPresenceRequired,
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
