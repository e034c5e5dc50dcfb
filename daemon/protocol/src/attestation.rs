//! Attestations: signed statements a phone carries to the vehicle in its private mailbox
//! (or the backend relays), so that keys can be shared and removed while the car is
//! offline. These are carkey's own definitions in the style of the rest of the protocol;
//! the crate README documents the byte layout.
//!
//! - A **share** attestation is signed by the owner's endpoint key: "the phone holding
//!   this friend key may use this vehicle with this profile, in this window".
//! - A **termination** attestation is signed by the key being removed: "this key was
//!   deleted on its phone".
//!
//! This module only encodes, parses and checks signatures. Whether the signer is a
//! currently valid owner, whether the profile narrows the owner's, and whether a serial
//! was seen before are the vehicle's decisions (carkey-core).

use crate::codec::{Fields, Tag, TlvError, TlvWriter};
use crate::crypto::{EcPublicKey, KeyError, SigningKeyPair};

/// The only format version.
pub const VERSION: u8 = 1;

mod tags {
    use crate::codec::Tag;

    pub const SHARE: Tag = Tag::new(0x71);
    pub const TERMINATION: Tag = Tag::new(0x72);
    pub const VERSION: Tag = Tag::new(0x80);
    pub const VEHICLE: Tag = Tag::new(0x81);
    pub const OWNER_SLOT: Tag = Tag::new(0x82);
    pub const FRIEND_KEY: Tag = Tag::new(0x83);
    pub const PROFILE: Tag = Tag::new(0x84);
    pub const NOT_BEFORE: Tag = Tag::new(0x85);
    pub const NOT_AFTER: Tag = Tag::new(0x86);
    pub const SERIAL: Tag = Tag::new(0x87);
    pub const KEY_SLOT: Tag = Tag::new(0x88);
    pub const SIGNATURE: Tag = Tag::new(0x9E);
}

/// Domain separation: a signature over one kind of statement never verifies as another,
/// nor as an AUTH1 signature.
const SHARE_DOMAIN: &[u8] = b"carkey share attestation v1\0";
const TERMINATION_DOMAIN: &[u8] = b"carkey termination attestation v1\0";

/// Why an attestation was refused. Stable names: the vehicle records them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    /// Not a well-formed TLV structure of the expected kind.
    #[error("malformed attestation: {0}")]
    Malformed(#[from] TlvError),
    /// The container is not the kind expected (share vs termination).
    #[error("not a {expected} attestation")]
    WrongKind {
        /// What was expected.
        expected: &'static str,
    },
    /// A version this vehicle does not know.
    #[error("unsupported attestation version {0}")]
    UnsupportedVersion(u8),
    /// A field this version does not define (rejected so that two parties never read the
    /// same bytes differently).
    #[error("unknown attestation field {0:?}")]
    UnknownField(Tag),
    /// The profile name is empty, too long or not `a-z0-9-`.
    #[error("invalid profile name in attestation")]
    BadProfileName,
    /// The friend's public key is not a valid P-256 point.
    #[error("invalid friend public key: {0}")]
    BadPublicKey(KeyError),
    /// The validity window ends before it starts.
    #[error("attestation validity window is empty")]
    EmptyWindow,
    /// The signature is malformed or not by the claimed signer.
    #[error("attestation signature: {0}")]
    Signature(KeyError),
}

/// What the owner grants a friend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareAttestation {
    /// The vehicle's reader group identifier.
    pub vehicle_group_id: [u8; 16],
    /// The signing owner key's slot (so the vehicle knows which key to check).
    pub owner_slot: [u8; 8],
    /// The friend's endpoint public key for this vehicle.
    pub friend_key: EcPublicKey,
    /// The access profile granted (a name the vehicle knows).
    pub profile: String,
    /// Valid from (Unix seconds).
    pub not_before: Option<i64>,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: Option<i64>,
    /// Chosen by the owner's phone, unique per owner key: lets the vehicle refuse a replay.
    pub serial: u64,
}

/// A parsed share attestation with the signature still to check.
#[derive(Debug, Clone)]
pub struct SignedShare {
    /// The statement.
    pub attestation: ShareAttestation,
    signature: [u8; 64],
}

/// "This key was deleted on its phone."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminationAttestation {
    /// The vehicle's reader group identifier.
    pub vehicle_group_id: [u8; 16],
    /// The terminated key's slot.
    pub key_slot: [u8; 8],
    /// Unique per key.
    pub serial: u64,
}

/// A parsed termination attestation with the signature still to check.
#[derive(Debug, Clone)]
pub struct SignedTermination {
    /// The statement.
    pub attestation: TerminationAttestation,
    signature: [u8; 64],
}

fn valid_profile_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=32).contains(&b.len()) && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

impl ShareAttestation {
    fn body(&self) -> Result<TlvWriter, AttestationError> {
        if !valid_profile_name(&self.profile) {
            return Err(AttestationError::BadProfileName);
        }
        if let (Some(start), Some(end)) = (self.not_before, self.not_after)
            && end <= start
        {
            return Err(AttestationError::EmptyWindow);
        }
        let mut w = TlvWriter::new();
        w.put_u8(tags::VERSION, VERSION)
            .put(tags::VEHICLE, &self.vehicle_group_id)
            .put(tags::OWNER_SLOT, &self.owner_slot)
            .put(tags::FRIEND_KEY, self.friend_key.uncompressed())
            .put(tags::PROFILE, self.profile.as_bytes());
        if let Some(t) = self.not_before {
            w.put(tags::NOT_BEFORE, &t.to_be_bytes());
        }
        if let Some(t) = self.not_after {
            w.put(tags::NOT_AFTER, &t.to_be_bytes());
        }
        w.put(tags::SERIAL, &self.serial.to_be_bytes());
        Ok(w)
    }

    /// Signs with the owner's endpoint key and encodes (container `71`).
    pub fn sign(&self, owner: &SigningKeyPair) -> Result<Vec<u8>, AttestationError> {
        let body = self.body()?;
        let signature = owner.sign(&[SHARE_DOMAIN, body.as_bytes()]);
        Ok(seal(tags::SHARE, body, &signature))
    }

    /// Parses a share attestation (the signature is checked by [`SignedShare::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<SignedShare, AttestationError> {
        let (fields, signature) = open(bytes, tags::SHARE, "share")?;
        check_fields(
            &fields,
            &[
                tags::VERSION,
                tags::VEHICLE,
                tags::OWNER_SLOT,
                tags::FRIEND_KEY,
                tags::PROFILE,
                tags::NOT_BEFORE,
                tags::NOT_AFTER,
                tags::SERIAL,
                tags::SIGNATURE,
            ],
        )?;
        let profile = std::str::from_utf8(fields.require(tags::PROFILE)?)
            .ok()
            .filter(|p| valid_profile_name(p))
            .ok_or(AttestationError::BadProfileName)?
            .to_owned();
        let friend_key = EcPublicKey::from_uncompressed(fields.require_array::<65>(tags::FRIEND_KEY)?)
            .map_err(AttestationError::BadPublicKey)?;
        let attestation = Self {
            vehicle_group_id: *fields.require_array::<16>(tags::VEHICLE)?,
            owner_slot: *fields.require_array::<8>(tags::OWNER_SLOT)?,
            friend_key,
            profile,
            not_before: fields.optional_array::<8>(tags::NOT_BEFORE)?.map(|b| i64::from_be_bytes(*b)),
            not_after: fields.optional_array::<8>(tags::NOT_AFTER)?.map(|b| i64::from_be_bytes(*b)),
            serial: u64::from_be_bytes(*fields.require_array::<8>(tags::SERIAL)?),
        };
        // Re-validates the window, the name and the canonical field order.
        attestation.body()?;
        Ok(SignedShare { attestation, signature })
    }
}

impl SignedShare {
    /// Checks the signature against the owner key the vehicle has for `owner_slot`.
    pub fn verify(&self, owner: &EcPublicKey) -> Result<&ShareAttestation, AttestationError> {
        let body = self.attestation.body()?;
        owner.verify(&[SHARE_DOMAIN, body.as_bytes()], &self.signature).map_err(AttestationError::Signature)?;
        Ok(&self.attestation)
    }
}

impl TerminationAttestation {
    fn body(&self) -> TlvWriter {
        let mut w = TlvWriter::new();
        w.put_u8(tags::VERSION, VERSION)
            .put(tags::VEHICLE, &self.vehicle_group_id)
            .put(tags::KEY_SLOT, &self.key_slot)
            .put(tags::SERIAL, &self.serial.to_be_bytes());
        w
    }

    /// Signs with the terminated key itself and encodes (container `72`).
    pub fn sign(&self, key: &SigningKeyPair) -> Vec<u8> {
        let body = self.body();
        let signature = key.sign(&[TERMINATION_DOMAIN, body.as_bytes()]);
        seal(tags::TERMINATION, body, &signature)
    }

    /// Parses a termination attestation (the signature is checked by
    /// [`SignedTermination::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<SignedTermination, AttestationError> {
        let (fields, signature) = open(bytes, tags::TERMINATION, "termination")?;
        check_fields(&fields, &[tags::VERSION, tags::VEHICLE, tags::KEY_SLOT, tags::SERIAL, tags::SIGNATURE])?;
        let attestation = Self {
            vehicle_group_id: *fields.require_array::<16>(tags::VEHICLE)?,
            key_slot: *fields.require_array::<8>(tags::KEY_SLOT)?,
            serial: u64::from_be_bytes(*fields.require_array::<8>(tags::SERIAL)?),
        };
        Ok(SignedTermination { attestation, signature })
    }
}

impl SignedTermination {
    /// Checks the signature against the terminated key's own public key.
    pub fn verify(&self, key: &EcPublicKey) -> Result<&TerminationAttestation, AttestationError> {
        let body = self.attestation.body();
        key.verify(&[TERMINATION_DOMAIN, body.as_bytes()], &self.signature).map_err(AttestationError::Signature)?;
        Ok(&self.attestation)
    }
}

fn seal(container: Tag, mut body: TlvWriter, signature: &[u8; 64]) -> Vec<u8> {
    body.put(tags::SIGNATURE, signature);
    let mut out = TlvWriter::new();
    out.put(container, body.as_bytes());
    out.into_bytes()
}

/// Parses the container, checks the version, returns its fields and the signature.
fn open<'a>(bytes: &'a [u8], container: Tag, kind: &'static str) -> Result<(Fields<'a>, [u8; 64]), AttestationError> {
    let outer = Fields::parse(bytes)?;
    if outer.tags().count() != 1 {
        return Err(AttestationError::WrongKind { expected: kind });
    }
    let inner = outer.get(container).ok_or(AttestationError::WrongKind { expected: kind })?;
    let fields = Fields::parse(inner)?;
    let version = fields.require_array::<1>(tags::VERSION)?[0];
    if version != VERSION {
        return Err(AttestationError::UnsupportedVersion(version));
    }
    let signature = *fields.require_array::<64>(tags::SIGNATURE)?;
    Ok((fields, signature))
}

fn check_fields(fields: &Fields<'_>, known: &[Tag]) -> Result<(), AttestationError> {
    match fields.tags().find(|t| !known.contains(t)) {
        Some(unknown) => Err(AttestationError::UnknownField(unknown)),
        None => Ok(()),
    }
}

/// Where attestations live in the phone's private mailbox (carkey's layout). Each slot
/// holds a 2-byte big-endian length, the attestation, and padding; length 0 means empty.
pub mod private_mailbox {
    use crate::mailbox::{ExchangeRequest, MailboxId, MailboxOp};

    /// The share attestation slot: offset and size.
    pub const SHARE: (u16, u16) = (0, 384);
    /// The termination attestation slot: offset and size.
    pub const TERMINATION: (u16, u16) = (384, 192);

    /// The slot's bytes for `attestation`, or `None` if it does not fit.
    pub fn encode_slot(slot: (u16, u16), attestation: &[u8]) -> Option<Vec<u8>> {
        let len = u16::try_from(attestation.len()).ok().filter(|l| usize::from(*l) + 2 <= usize::from(slot.1))?;
        let mut out = Vec::with_capacity(usize::from(slot.1));
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(attestation);
        out.resize(usize::from(slot.1), 0);
        Some(out)
    }

    /// The attestation in a slot's bytes; `None` for an empty or inconsistent slot.
    pub fn decode_slot(bytes: &[u8]) -> Option<&[u8]> {
        let (len, rest) = bytes.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        if len == 0 {
            return None;
        }
        rest.get(..len)
    }

    /// A write of `attestation` into `slot` (for the phone side).
    pub fn write(slot: (u16, u16), attestation: &[u8]) -> Option<ExchangeRequest> {
        let data = encode_slot(slot, attestation)?;
        Some(ExchangeRequest {
            ops: vec![MailboxOp::Write { mailbox: MailboxId::Private, offset: slot.0, data }],
            atomic: true,
        })
    }

    /// Set by a phone in its signaling bitmap (cryptogram and AUTH1 response) while its
    /// termination slot holds an attestation the vehicle has not acted on: the vehicle
    /// then reads the slot in the same tap, and no other tap pays for the read.
    pub const TERMINATION_PENDING: u16 = 0x0100;

    /// Set by a friend's phone in its signaling bitmap while it carries a share the
    /// vehicle may not have seen: a vehicle that does not know the phone's key then reads
    /// the private mailbox in the same tap. Without it, an unknown phone's tap looks
    /// exactly like a refused known phone's.
    pub const SHARE_PENDING: u16 = 0x0200;

    /// What the vehicle reads when a phone signals [`TERMINATION_PENDING`].
    pub fn read_termination() -> ExchangeRequest {
        let (offset, len) = TERMINATION;
        ExchangeRequest { ops: vec![MailboxOp::Read { mailbox: MailboxId::Private, offset, len }], atomic: false }
    }

    /// What the vehicle reads from a phone it does not know yet, or at any tap: both
    /// slots, in this order.
    pub fn read_both() -> ExchangeRequest {
        let read = |(offset, len)| MailboxOp::Read { mailbox: MailboxId::Private, offset, len };
        ExchangeRequest { ops: vec![read(SHARE), read(TERMINATION)], atomic: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKeyPair {
        SigningKeyPair::generate(&mut rand_core::UnwrapErr(getrandom::SysRng))
    }

    fn share(friend: &SigningKeyPair) -> ShareAttestation {
        ShareAttestation {
            vehicle_group_id: [7; 16],
            owner_slot: [1; 8],
            friend_key: friend.public().clone(),
            profile: "trunk-only".into(),
            not_before: Some(1_795_392_000),
            not_after: Some(1_795_392_000 + 86_400),
            serial: 42,
        }
    }

    #[test]
    fn share_round_trip_and_signature() {
        let (owner, friend) = (key(), key());
        let bytes = share(&friend).sign(&owner).unwrap();
        assert!(bytes.len() < 256, "fits the private mailbox easily: {}", bytes.len());
        let signed = ShareAttestation::parse(&bytes).unwrap();
        assert_eq!(signed.verify(owner.public()).unwrap(), &share(&friend));
        // Signed by anyone else (the friend itself, another owner): refused.
        assert!(matches!(signed.verify(friend.public()), Err(AttestationError::Signature(KeyError::BadSignature))));
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let (owner, friend) = (key(), key());
        let bytes = share(&friend).sign(&owner).unwrap();
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut tampered = bytes.clone();
                tampered[i] ^= bit;
                let verdict = ShareAttestation::parse(&tampered).and_then(|s| s.verify(owner.public()).map(|_| ()));
                assert!(verdict.is_err(), "byte {i} bit {bit:#x} accepted");
            }
        }
    }

    #[test]
    fn kinds_do_not_mix() {
        let k = key();
        let termination = TerminationAttestation { vehicle_group_id: [7; 16], key_slot: [2; 8], serial: 1 }.sign(&k);
        assert_eq!(
            ShareAttestation::parse(&termination).unwrap_err(),
            AttestationError::WrongKind { expected: "share" }
        );
        let share = share(&key()).sign(&k).unwrap();
        assert!(matches!(TerminationAttestation::parse(&share), Err(AttestationError::WrongKind { .. })));
    }

    #[test]
    fn termination_round_trip() {
        let k = key();
        let t = TerminationAttestation { vehicle_group_id: [7; 16], key_slot: [2; 8], serial: 9 };
        let signed = TerminationAttestation::parse(&t.sign(&k)).unwrap();
        assert_eq!(signed.verify(k.public()).unwrap(), &t);
        assert!(signed.verify(key().public()).is_err());
    }

    #[test]
    fn invalid_statements_cannot_be_made() {
        let (owner, friend) = (key(), key());
        let mut s = share(&friend);
        s.profile = "Owner!".into();
        assert_eq!(s.sign(&owner).unwrap_err(), AttestationError::BadProfileName);
        let mut s = share(&friend);
        s.not_after = s.not_before;
        assert_eq!(s.sign(&owner).unwrap_err(), AttestationError::EmptyWindow);
    }

    #[test]
    fn mailbox_slots_round_trip_and_reject_garbage() {
        let bytes = share(&key()).sign(&key()).unwrap();
        let slot = private_mailbox::encode_slot(private_mailbox::SHARE, &bytes).unwrap();
        assert_eq!(slot.len(), 384);
        assert_eq!(private_mailbox::decode_slot(&slot), Some(&bytes[..]));
        assert_eq!(private_mailbox::decode_slot(&[0; 384]), None);
        assert_eq!(private_mailbox::decode_slot(&[0xFF, 0xFF, 1, 2]), None);
        assert_eq!(private_mailbox::decode_slot(&[1]), None);
        assert!(private_mailbox::encode_slot(private_mailbox::TERMINATION, &[0; 191]).is_none());
    }

    #[test]
    fn unknown_fields_versions_and_garbage_are_refused() {
        let owner = key();
        let body = share(&key()).body().unwrap();
        let mut extra = TlvWriter::new();
        extra.put_raw(body.as_bytes()).put(Tag::new(0x8F), &[1]).put(tags::SIGNATURE, &[0; 64]);
        let mut wrapped = TlvWriter::new();
        wrapped.put(tags::SHARE, extra.as_bytes());
        assert_eq!(
            ShareAttestation::parse(wrapped.as_bytes()).unwrap_err(),
            AttestationError::UnknownField(Tag::new(0x8F))
        );
        let mut bytes = share(&key()).sign(&owner).unwrap();
        // The version byte is the first field's value: 71 len 80 01 <version>.
        let at = bytes.iter().position(|b| *b == 0x80).unwrap() + 2;
        bytes[at] = 2;
        assert_eq!(ShareAttestation::parse(&bytes).unwrap_err(), AttestationError::UnsupportedVersion(2));
        for garbage in [&[][..], &[0x71], &[0x71, 0x00], &[0x72, 0x00], &[0xFF; 40]] {
            assert!(ShareAttestation::parse(garbage).is_err());
            assert!(TerminationAttestation::parse(garbage).is_err());
        }
    }
}
