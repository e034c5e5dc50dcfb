//! A key's life after enrolment, on the phone: the owner shares it with a friend, the
//! friend's phone takes the share along to its first tap, and a key deleted on the phone
//! carries its own termination to the vehicle.
//!
//! Everything here happens offline, as on a real phone: the vehicle learns of a share or
//! a termination only when a phone carrying it taps (or from the backend). So these
//! operations only sign statements and put them where the vehicle reads them: the key's
//! private mailbox, in carkey's [`private_mailbox`] layout, and its signaling bitmap.
//! The wallet changes in memory; call [`Wallet::save`] to keep it.

use carkey_protocol::attestation::{ShareAttestation, TerminationAttestation, private_mailbox};
use carkey_protocol::crypto::EcPublicKey;
use carkey_protocol::endpoint::Credential;
use carkey_protocol::mailbox::MailboxId;

use super::{Wallet, WalletError};

/// What an owner grants a friend, for [`Wallet::share`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareRequest {
    /// The vehicle whose key signs; `None` when the wallet holds exactly one key.
    pub vehicle_group_id: Option<[u8; 16]>,
    /// The friend's endpoint public key (from the friend's `new-key`).
    pub friend_key: EcPublicKey,
    /// The access profile granted (a name the vehicle knows, `a-z0-9-`, 1–32 bytes).
    pub profile: String,
    /// Valid from (Unix seconds).
    pub not_before: Option<i64>,
    /// Valid until (Unix seconds, exclusive).
    pub not_after: Option<i64>,
    /// The serial; `None` takes the wallet's next one. Either way the wallet's counter
    /// moves past it, so a later default never repeats it.
    pub serial: Option<u64>,
}

/// A share the owner's phone signed, with what the friend needs besides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedShare {
    /// The statement (vehicle group id, the owner's slot, serial, …).
    pub attestation: ShareAttestation,
    /// The encoded, signed attestation: what the friend's phone carries.
    pub bytes: Vec<u8>,
    /// The vehicle's public key: the friend's phone needs it to make its key.
    pub vehicle_public: EcPublicKey,
}

/// A termination the phone signed with the deleted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// The statement (vehicle group id, the key's slot, serial).
    pub attestation: TerminationAttestation,
    /// The encoded, signed attestation: in the private mailbox, and for the backend.
    pub bytes: Vec<u8>,
}

impl Wallet {
    /// The owner's phone signs a share of its key for `request.vehicle_group_id` with a
    /// friend's key. The owner's key stays as it is: a share is a statement the friend
    /// carries, not a change to the owner's key.
    ///
    /// Refused: no (or no unambiguous) key, a terminated key, an invalid profile name or
    /// empty window, an exhausted serial counter.
    pub fn share(&mut self, request: &ShareRequest) -> Result<IssuedShare, WalletError> {
        let credential = self.select(request.vehicle_group_id)?;
        refuse_terminated(credential)?;
        let serial = self.next_serial(request.serial)?;
        let attestation = ShareAttestation {
            vehicle_group_id: credential.vehicle_group_id,
            owner_slot: credential.key_slot,
            friend_key: request.friend_key.clone(),
            profile: request.profile.clone(),
            not_before: request.not_before,
            not_after: request.not_after,
            serial,
        };
        let bytes = attestation.sign(&credential.endpoint_key).map_err(WalletError::InvalidShare)?;
        let vehicle_public = credential.vehicle_public.clone();
        self.last_serial = self.last_serial.max(serial);
        Ok(IssuedShare { attestation, bytes, vehicle_public })
    }

    /// The friend's phone takes an owner's share along: it checks what it can (the bytes
    /// are a share attestation, for a vehicle it holds a key for, naming that key as the
    /// friend key) and writes it into the key's private mailbox share slot, where the
    /// vehicle reads it at the first tap. The owner's signature is the vehicle's to check:
    /// the phone does not know the owner's key.
    pub fn accept_share(&mut self, attestation: &[u8]) -> Result<ShareAttestation, WalletError> {
        let share = ShareAttestation::parse(attestation).map_err(WalletError::BadAttestation)?.attestation;
        let group = share.vehicle_group_id;
        let credential =
            self.endpoint.credential_mut(&group).ok_or_else(|| WalletError::NoKeyForVehicle(hex::encode(group)))?;
        refuse_terminated(credential)?;
        if share.friend_key != *credential.endpoint_key.public() {
            return Err(WalletError::NotForThisKey(hex::encode(group)));
        }
        write_slot(credential, private_mailbox::SHARE, attestation)?;
        // Tell the vehicle to read it: an unknown phone that does not signal a share is
        // refused without a mailbox read.
        credential.signaling |= private_mailbox::SHARE_PENDING;
        Ok(share)
    }

    /// The key for `vehicle_group_id` (`None`: the only key) is deleted on the phone: it
    /// signs its own termination, puts it in its private mailbox termination slot and
    /// sets [`private_mailbox::TERMINATION_PENDING`], so the next tap at the vehicle
    /// carries it (the phone would also send it to the backend). The key stays in the
    /// wallet for that tap. Terminating again signs a fresh attestation in its place.
    pub fn terminate(
        &mut self,
        vehicle_group_id: Option<[u8; 16]>,
        serial: Option<u64>,
    ) -> Result<Termination, WalletError> {
        let group = self.select(vehicle_group_id)?.vehicle_group_id;
        let serial = self.next_serial(serial)?;
        let credential =
            self.endpoint.credential_mut(&group).ok_or_else(|| WalletError::NoKeyForVehicle(hex::encode(group)))?;
        let attestation = TerminationAttestation { vehicle_group_id: group, key_slot: credential.key_slot, serial };
        let bytes = attestation.sign(&credential.endpoint_key);
        write_slot(credential, private_mailbox::TERMINATION, &bytes)?;
        credential.signaling |= private_mailbox::TERMINATION_PENDING;
        self.last_serial = self.last_serial.max(serial);
        Ok(Termination { attestation, bytes })
    }

    /// The share attestation the key for a vehicle carries in its private mailbox.
    pub fn carried_share(&self, vehicle_group_id: &[u8; 16]) -> Option<Vec<u8>> {
        self.carried(vehicle_group_id, private_mailbox::SHARE)
    }

    /// The termination attestation the key for a vehicle carries in its private mailbox.
    pub fn carried_termination(&self, vehicle_group_id: &[u8; 16]) -> Option<Vec<u8>> {
        self.carried(vehicle_group_id, private_mailbox::TERMINATION)
    }

    /// The last serial this wallet put in an attestation (0: none yet).
    pub const fn last_serial(&self) -> u64 {
        self.last_serial
    }

    fn carried(&self, vehicle_group_id: &[u8; 16], slot: (u16, u16)) -> Option<Vec<u8>> {
        carried_in(self.endpoint.credential(vehicle_group_id)?, slot).map(<[u8]>::to_vec)
    }

    /// The key for a vehicle, or the only key.
    fn select(&self, vehicle_group_id: Option<[u8; 16]>) -> Result<&Credential, WalletError> {
        match (vehicle_group_id, self.endpoint.credentials()) {
            (Some(group), _) => {
                self.endpoint.credential(&group).ok_or_else(|| WalletError::NoKeyForVehicle(hex::encode(group)))
            }
            (None, []) => Err(WalletError::NoKeys),
            (None, [only]) => Ok(only),
            (None, many) => Err(WalletError::AmbiguousKey(many.len())),
        }
    }

    /// The serial to use: the one asked for, or the one after the last used. The caller
    /// records it only once the attestation is made, so a refused one costs nothing.
    fn next_serial(&self, explicit: Option<u64>) -> Result<u64, WalletError> {
        match explicit {
            Some(serial) => Ok(serial),
            None => self.last_serial.checked_add(1).ok_or(WalletError::SerialsExhausted),
        }
    }
}

/// The attestation in one private mailbox slot of a key, if the slot holds one.
pub(super) fn carried_in(credential: &Credential, (offset, len): (u16, u16)) -> Option<&[u8]> {
    let private = credential.mailboxes.get(MailboxId::Private);
    private_mailbox::decode_slot(private.get(usize::from(offset)..usize::from(offset) + usize::from(len))?)
}

fn refuse_terminated(credential: &Credential) -> Result<(), WalletError> {
    if credential.signaling & private_mailbox::TERMINATION_PENDING != 0 {
        return Err(WalletError::KeyTerminated(hex::encode(credential.vehicle_group_id)));
    }
    Ok(())
}

/// Writes an attestation into a private mailbox slot, all or nothing.
fn write_slot(credential: &mut Credential, slot: (u16, u16), attestation: &[u8]) -> Result<(), WalletError> {
    let group = credential.vehicle_group_id;
    let full = || WalletError::MailboxFull(hex::encode(group));
    let request = private_mailbox::write(slot, attestation).ok_or_else(full)?;
    credential.mailboxes.apply(&request).map_err(|_| full())?;
    Ok(())
}
