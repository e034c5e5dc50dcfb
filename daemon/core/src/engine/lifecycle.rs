//! Lifecycle commands beyond single-key edits: offering and withdrawing owner pairing,
//! termination relayed by the backend, and the factory reset.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{CommandError, Engine, PairingStatus, Reply, State};
use crate::audit::{AuditEvent, AuditHead};
use crate::identity::VehicleIdentity;
use crate::ids::KeyId;
use crate::pairing::PairingOffer;
use crate::ports::{Change, Clock, KeyStore, TrackingKind, VehicleBus};
use crate::profile::builtin_profiles;
use crate::sharing;

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    pub(super) fn offer_pairing(&mut self, offer: PairingOffer) -> Result<Reply, CommandError> {
        let event = AuditEvent::PairingOffered { source: offer.source };
        self.commit_with_audit(vec![Change::PutPairingOffer(offer.clone())], event)?;
        self.state.pairing = Some(offer);
        self.publish();
        Ok(Reply::Done)
    }

    pub(super) fn cancel_pairing(&mut self) -> Result<Reply, CommandError> {
        if self.state.pairing.is_none() {
            return Err(CommandError::NoPairing);
        }
        self.commit_with_audit(vec![Change::ClearPairingOffer], AuditEvent::PairingCancelled)?;
        self.state.pairing = None;
        self.publish();
        Ok(Reply::Done)
    }

    pub(super) fn pairing_status(&self) -> Option<PairingStatus> {
        self.state.pairing.as_ref().map(|p| PairingStatus {
            source: p.source,
            attempts_left: p.attempts_left(),
            expires_at: p.expires_at,
        })
    }

    /// Applies a termination attestation: the named key is revoked for good. `carrier`
    /// is the key whose tap brought it (`None`: the backend). A termination of a key
    /// that is already revoked changes nothing and is not an error (a replay).
    pub(super) fn apply_termination(&mut self, bytes: &[u8], carrier: Option<KeyId>) -> Result<KeyId, CommandError> {
        let id = match sharing::check_termination(bytes, &self.identity.group_id, &self.state.keys, carrier) {
            Ok(id) => id,
            Err(reason) => {
                tracing::warn!(?carrier, %reason, "termination attestation refused");
                let event = AuditEvent::TerminationRejected { carrier, reason };
                self.commit_with_audit(Vec::new(), event)?;
                return Err(CommandError::Termination(reason));
            }
        };
        match self.revoke(id, "terminated on the phone", TrackingKind::Terminated) {
            Ok(_) | Err(CommandError::Revoked(_)) => Ok(id),
            Err(other) => Err(other),
        }
    }

    /// Erases everything and starts a new life under a new identity, in one commit.
    pub(super) fn factory_reset(&mut self) -> Result<Reply, CommandError> {
        let identity = VehicleIdentity::generate();
        let mut head = AuditHead::default();
        let changes = vec![
            Change::FactoryReset,
            Change::SetIdentity(identity.clone()),
            Change::AppendAudit(head.append(self.clock.wall(), AuditEvent::FactoryReset)),
        ];
        self.store.commit(&changes)?;
        self.identity = Arc::new(identity);
        self.state = State {
            keys: BTreeMap::new(),
            profiles: builtin_profiles().into_iter().map(|p| (p.id.clone(), p)).collect(),
            audit: head,
            next_recency: 1,
            pairing: None,
            tracking_pending: 0,
            owner_presence: None,
        };
        self.publish();
        tracing::warn!("factory reset: every key, secret and record was erased");
        Ok(Reply::Done)
    }
}
