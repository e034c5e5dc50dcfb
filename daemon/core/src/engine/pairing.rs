//! Owner pairing in the engine: counting attempts before the vehicle answers, storing the
//! owner key once the phone proved it, and replacing the previous owner.

use std::sync::Arc;

use carkey_protocol::crypto::{EcPublicKey, Secret32};
use carkey_protocol::spake2plus::Verifier;
use serde::{Deserialize, Serialize};

use super::Engine;
use super::keys::revocation;
use crate::audit::AuditEvent;
use crate::ids::{KeyId, KeyName, ProfileId, ReaderName};
use crate::key::{DigitalKey, KeyState, Role};
use crate::pairing::MAX_ATTEMPTS;
use crate::ports::{Change, Clock, KeyStore, StoredKey, TrackingEvent, TrackingKind, VehicleBus};
use crate::profile::OWNER;
use crate::time::Validity;

/// Why the vehicle would not pair (nothing was created). Stable names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PairingRefusal {
    /// No pairing code or backend verifier is pending.
    #[error("no owner pairing is pending")]
    NotPending,
    /// The pending code expired; a new one is needed.
    #[error("the pairing code has expired")]
    Expired,
    /// Every attempt of this code was used; a new code is needed.
    #[error("pairing is locked after {MAX_ATTEMPTS} failed attempts; start a new pairing")]
    Locked,
    /// The phone's new key is already known here (revoked keys stay known for good).
    #[error("this phone key is already known to the vehicle as {0}")]
    EndpointKnown(KeyId),
    /// The slot the phone chose is taken.
    #[error("key slot {0} is taken")]
    SlotTaken(KeyId),
    /// Every key slot is in use.
    #[error("all {0} key slots are in use")]
    SlotsFull(usize),
    /// The store failed; nothing changed.
    #[error("the key store failed: {0}")]
    Store(String),
}

/// A phone that completed pairing and then a standard transaction with its new key.
#[derive(Debug)]
pub struct PairedPhone {
    /// The console reader it was paired on.
    pub reader: ReaderName,
    /// Its new key's slot.
    pub slot: KeyId,
    /// Its new key.
    pub endpoint: EcPublicKey,
    /// K_persistent from the standard transaction.
    pub k_persistent: Secret32,
    /// The immobilizer token written into its confidential mailbox.
    pub immobilizer_token: Secret32,
}

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    /// Counts one attempt (durably, before the vehicle reveals anything that depends on
    /// the verifier) and hands out the verifier.
    pub(super) fn count_pairing_attempt(&mut self, reader: ReaderName) -> Result<Arc<Verifier>, PairingRefusal> {
        let now = self.clock.wall();
        let offer = self.state.pairing.as_ref().ok_or(PairingRefusal::NotPending)?;
        if offer.is_expired(now.time) {
            return Err(PairingRefusal::Expired);
        }
        if offer.attempts_left() == 0 {
            return Err(PairingRefusal::Locked);
        }
        let used = offer.attempts_used.saturating_add(1);
        let verifier = Arc::clone(&offer.verifier);
        let event = AuditEvent::PairingAttempt { reader, attempt: used, of: MAX_ATTEMPTS };
        self.commit_with_audit(vec![Change::SetPairingAttempts(used)], event)
            .map_err(|e| PairingRefusal::Store(e.to_string()))?;
        if let Some(offer) = self.state.pairing.as_mut() {
            offer.attempts_used = used;
        }
        if used >= MAX_ATTEMPTS {
            // The last attempt: readers stop offering pairing after this one.
            self.publish();
        }
        Ok(verifier)
    }

    /// Stores the new owner key, revokes every other owner key ("replaced"; friends keep
    /// working), consumes the offer, and queues the key-tracking event: one commit.
    pub(super) fn store_paired_owner(&mut self, phone: PairedPhone) -> Result<KeyId, PairingRefusal> {
        let now = self.clock.wall();
        if self.state.pairing.is_none() {
            return Err(PairingRefusal::NotPending);
        }
        if let Some(known) = self.state.keys.values().find(|k| k.key.endpoint == phone.endpoint) {
            return Err(PairingRefusal::EndpointKnown(known.key.id));
        }
        if self.state.keys.contains_key(&phone.slot) {
            return Err(PairingRefusal::SlotTaken(phone.slot));
        }
        let replaced: Vec<StoredKey> = self
            .state
            .keys
            .values()
            .filter(|k| k.key.role == Role::Owner && !matches!(k.key.state, KeyState::Revoked(_)))
            .cloned()
            .collect();
        if self.slots_in_use() - replaced.len() >= self.config.max_keys {
            return Err(PairingRefusal::SlotsFull(self.config.max_keys));
        }
        let owner = ProfileId::new(OWNER).map_err(|e| PairingRefusal::Store(e.to_string()))?;
        let name = KeyName::new("Owner").map_err(|e| PairingRefusal::Store(e.to_string()))?;
        let key = DigitalKey {
            // Its pairing tap was its first standard transaction.
            last_used_at: Some(now.time),
            recency: self.state.next_recency,
            ..DigitalKey::enrolled(phone.slot, name, phone.endpoint, Role::Owner, owner, Validity::ALWAYS, now.time)
        };
        let id = key.id;
        let mut changes = vec![
            Change::PutKey(key.clone()),
            Change::SetKPersistent(id, Some(phone.k_persistent.clone())),
            Change::SetImmobilizerToken(id, Some(phone.immobilizer_token.clone())),
            Change::ClearPairingOffer,
            Change::QueueTracking(TrackingEvent { key: id, kind: TrackingKind::OwnerPaired, at: now.time }),
        ];
        let mut head = self.state.audit;
        let mut revoked = Vec::with_capacity(replaced.len());
        for old in replaced {
            let (old, revoke) = revocation(old, "replaced", TrackingKind::Revoked, now.time);
            let old_id = old.key.id;
            changes.extend(revoke);
            changes.push(Change::AppendAudit(head.append(
                now,
                AuditEvent::KeyChanged { key: old_id, change: format!("revoked: replaced by owner key {id}") },
            )));
            revoked.push(old);
        }
        let change = format!("owner key paired on {}", phone.reader);
        changes.push(Change::AppendAudit(head.append(now, AuditEvent::KeyChanged { key: id, change })));
        self.store.commit(&changes).map_err(|e| PairingRefusal::Store(e.to_string()))?;
        self.state.audit = head;
        self.state.next_recency = self.state.next_recency.saturating_add(1);
        self.state.pairing = None;
        self.state.tracking_pending =
            self.state.tracking_pending.saturating_add(1 + u64::try_from(revoked.len()).unwrap_or(u64::MAX));
        for old in revoked {
            self.state.keys.insert(old.key.id, old);
        }
        self.state.keys.insert(
            id,
            StoredKey { key, k_persistent: Some(phone.k_persistent), immobilizer_token: Some(phone.immobilizer_token) },
        );
        self.publish();
        tracing::info!(key = %id, "owner key paired");
        Ok(id)
    }
}
