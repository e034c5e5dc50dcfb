//! The vehicle's rules for attestations carried by phones: a friend's share, signed by
//! the owner, and a termination, signed by the key that was deleted.
//!
//! The protocol crate parses and checks signatures; this module decides whether the
//! vehicle accepts: the signer must be an owner key that is active and valid now, the
//! share may only narrow what that owner holds, and every rejection has a stable name
//! for the audit log.

use std::collections::BTreeMap;

use carkey_protocol::attestation::{AttestationError, ShareAttestation, TerminationAttestation};
use carkey_protocol::crypto::EcPublicKey;
use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, ProfileId};
use crate::key::{KeyState, Role, ShareOrigin};
use crate::ports::StoredKey;
use crate::profile::{AccessProfile, OWNER};
use crate::time::{Validity, WallClockReading, WallTime, WindowPosition};

/// Why a share attestation was refused. Stable names: they appear in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ShareRejection {
    /// The private mailbox holds no share attestation.
    #[error("no share attestation")]
    Missing,
    /// It does not parse (or a field is out of range).
    #[error("malformed share attestation")]
    Malformed,
    /// It is for another vehicle.
    #[error("share attestation is for another vehicle")]
    WrongVehicle,
    /// It names a friend key other than the one that just authenticated.
    #[error("share attestation names another friend key")]
    WrongFriendKey,
    /// The signing slot is not a key of this vehicle.
    #[error("share attestation signed by an unknown key")]
    UnknownSigner,
    /// The signer is not an owner key.
    #[error("share attestation signed by a key that is not an owner")]
    SignerNotOwner,
    /// The signing owner key is revoked or suspended.
    #[error("share attestation signed by an owner key that is not active")]
    SignerNotActive,
    /// The signing owner key is outside its own validity window.
    #[error("share attestation signed by an owner key that is not valid now")]
    SignerNotValid,
    /// The signature does not verify under the owner key.
    #[error("share attestation signature does not verify")]
    BadSignature,
    /// It grants a profile this vehicle does not have.
    #[error("share attestation names an unknown profile")]
    UnknownProfile,
    /// It grants more than the owner holds (the owner profile itself, more actions, a
    /// higher speed, more hours, or a longer window).
    #[error("share attestation grants more than the owner may")]
    Widened,
    /// Its window has ended.
    #[error("share attestation has expired")]
    Expired,
    /// Its window has not begun.
    #[error("share attestation is not valid yet")]
    NotYetValid,
    /// It has a window and the vehicle's clock is not trusted.
    #[error("share attestation has a validity window and the clock is not trusted")]
    ClockUntrusted,
    /// The owner already used this serial.
    #[error("share attestation serial was already used")]
    SerialReused,
    /// The friend's key is already known to the vehicle (revoked keys stay known).
    #[error("the friend key is already known to this vehicle")]
    EndpointKnown,
    /// The key slot the friend's phone chose is taken.
    #[error("the friend's key slot is taken")]
    SlotTaken,
    /// Every key slot is in use.
    #[error("no free key slot")]
    SlotsFull,
}

/// What an accepted share grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareGrant {
    /// Who signed it, and its serial.
    pub origin: ShareOrigin,
    /// The profile granted.
    pub profile: ProfileId,
    /// The key's own validity window.
    pub validity: Validity,
}

/// What the vehicle knows when it checks a share.
pub struct ShareContext<'a> {
    /// The vehicle's reader group identifier.
    pub vehicle_group_id: &'a [u8; 16],
    /// Every key, revoked ones included.
    pub keys: &'a BTreeMap<KeyId, StoredKey>,
    /// Every profile.
    pub profiles: &'a BTreeMap<ProfileId, AccessProfile>,
    /// Now, by the vehicle's clock.
    pub now: WallClockReading,
}

impl ShareContext<'_> {
    /// Checks the share `bytes` carried by the phone that proved `friend`. Does not check
    /// slots (the caller knows its limits).
    pub fn check(&self, bytes: &[u8], friend: &EcPublicKey) -> Result<ShareGrant, ShareRejection> {
        let signed = ShareAttestation::parse(bytes).map_err(|_| ShareRejection::Malformed)?;
        let claimed = &signed.attestation;
        if &claimed.vehicle_group_id != self.vehicle_group_id {
            return Err(ShareRejection::WrongVehicle);
        }
        if &claimed.friend_key != friend {
            return Err(ShareRejection::WrongFriendKey);
        }
        let owner_id = KeyId(claimed.owner_slot);
        let owner = self.keys.get(&owner_id).ok_or(ShareRejection::UnknownSigner)?;
        if owner.key.role != Role::Owner {
            return Err(ShareRejection::SignerNotOwner);
        }
        let share = signed.verify(&owner.key.endpoint).map_err(|e| match e {
            AttestationError::Signature(_) => ShareRejection::BadSignature,
            _ => ShareRejection::Malformed,
        })?;
        if owner.key.state != KeyState::Active {
            return Err(ShareRejection::SignerNotActive);
        }
        if owner.key.validity.position(self.now.time) != WindowPosition::Inside {
            return Err(ShareRejection::SignerNotValid);
        }
        let profile_id = ProfileId::new(&share.profile).map_err(|_| ShareRejection::Malformed)?;
        let granted = self.profiles.get(&profile_id).ok_or(ShareRejection::UnknownProfile)?;
        let owner_profile = self.profiles.get(&owner.key.profile).ok_or(ShareRejection::SignerNotValid)?;
        let validity =
            Validity { not_before: share.not_before.map(WallTime), not_after: share.not_after.map(WallTime) };
        if profile_id.as_str() == OWNER
            || !narrows(granted, owner_profile)
            || !window_within(&validity, &owner.key.validity)
        {
            return Err(ShareRejection::Widened);
        }
        if validity.is_bounded() {
            if !self.now.trusted {
                return Err(ShareRejection::ClockUntrusted);
            }
            match validity.position(self.now.time) {
                WindowPosition::Inside => {}
                WindowPosition::Early => return Err(ShareRejection::NotYetValid),
                WindowPosition::Late => return Err(ShareRejection::Expired),
            }
        }
        let origin = ShareOrigin { owner: owner_id, serial: share.serial };
        if self.keys.values().any(|k| k.key.shared_by == Some(origin)) {
            return Err(ShareRejection::SerialReused);
        }
        if self.keys.values().any(|k| &k.key.endpoint == friend) {
            return Err(ShareRejection::EndpointKnown);
        }
        Ok(ShareGrant { origin, profile: profile_id, validity })
    }
}

/// Whether `granted` allows nothing that `owner` does not.
fn narrows(granted: &AccessProfile, owner: &AccessProfile) -> bool {
    let actions = granted.actions.iter().all(|a| owner.actions.contains(a));
    let speed = match (owner.speed_limit_kmh, granted.speed_limit_kmh) {
        (None, _) => true,
        (Some(limit), Some(granted)) => granted <= limit,
        (Some(_), None) => false,
    };
    let schedule = match (&owner.schedule, &granted.schedule) {
        (None, _) => true,
        (Some(owner), Some(granted)) => granted.is_within(owner),
        (Some(_), None) => false,
    };
    actions && speed && schedule && window_within(&granted.validity, &owner.validity)
}

/// Whether `inner` starts no earlier and ends no later than `outer`.
fn window_within(inner: &Validity, outer: &Validity) -> bool {
    let starts = match (outer.not_before, inner.not_before) {
        (None, _) => true,
        (Some(o), Some(i)) => i >= o,
        (Some(_), None) => false,
    };
    let ends = match (outer.not_after, inner.not_after) {
        (None, _) => true,
        (Some(o), Some(i)) => i <= o,
        (Some(_), None) => false,
    };
    starts && ends
}

/// Why a termination attestation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum TerminationRejection {
    /// It does not parse.
    #[error("malformed termination attestation")]
    Malformed,
    /// It is for another vehicle.
    #[error("termination attestation is for another vehicle")]
    WrongVehicle,
    /// It names a key this vehicle does not have.
    #[error("termination attestation names an unknown key")]
    UnknownKey,
    /// It names another key than the one that carried it.
    #[error("termination attestation names another key")]
    WrongKey,
    /// The signature does not verify under the named key.
    #[error("termination attestation signature does not verify")]
    BadSignature,
}

/// Checks termination `bytes`: returns the key it removes. `carrier` is the key that
/// authenticated the tap that brought it (`None` when the backend relays it).
pub fn check_termination(
    bytes: &[u8],
    vehicle_group_id: &[u8; 16],
    keys: &BTreeMap<KeyId, StoredKey>,
    carrier: Option<KeyId>,
) -> Result<KeyId, TerminationRejection> {
    let signed = TerminationAttestation::parse(bytes).map_err(|_| TerminationRejection::Malformed)?;
    let claimed = signed.attestation;
    if &claimed.vehicle_group_id != vehicle_group_id {
        return Err(TerminationRejection::WrongVehicle);
    }
    let id = KeyId(claimed.key_slot);
    if carrier.is_some_and(|c| c != id) {
        return Err(TerminationRejection::WrongKey);
    }
    let key = keys.get(&id).ok_or(TerminationRejection::UnknownKey)?;
    signed.verify(&key.key.endpoint).map_err(|_| TerminationRejection::BadSignature)?;
    Ok(id)
}
