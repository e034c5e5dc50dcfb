//! The read-only view of enrolled keys that reader tasks search during a tap.
//!
//! The engine owns the keys; after every change it publishes a fresh immutable
//! [`Directory`] (copy on write) that readers pick up for their next tap. A tap never
//! waits for the engine to search, and a reader never sees a half-applied change. The
//! engine re-checks the key's live state when it decides, so a key revoked mid-tap is
//! still refused.

use std::collections::HashMap;

use carkey_protocol::crypto::{EcPublicKey, Secret32};
use carkey_protocol::reader::{EndpointLookup, FastCandidate, KeyDirectory, KeySlot};

use std::sync::Arc;

use carkey_protocol::spake2plus::ScryptParams;

use crate::identity::VehicleIdentity;
use crate::ids::KeyId;
use crate::key::KeyState;
use crate::pairing::PairingOffer;
use crate::ports::StoredKey;

#[derive(Debug)]
struct Candidate {
    slot: KeySlot,
    endpoint: EcPublicKey,
    k_persistent: Secret32,
}

/// What a console reader needs to offer owner pairing (the verifier stays with the
/// engine, which hands it out only after counting the attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairingAnnouncement {
    /// scrypt salt for the phone.
    pub salt: [u8; carkey_protocol::pairing::SALT_LEN],
    /// scrypt cost for the phone.
    pub scrypt: ScryptParams,
}

/// Enrolled keys: fast-path candidates most recently used first, and a lookup by
/// endpoint public key; plus the vehicle identity and whether pairing is offered.
#[derive(Debug)]
pub struct Directory {
    fast: Vec<Candidate>,
    by_endpoint: HashMap<[u8; 65], KeySlot>,
    identity: Arc<VehicleIdentity>,
    pairing: Option<PairingAnnouncement>,
}

impl Directory {
    /// Builds the view of `keys`. Every enrolled key can be looked up, so a revoked or
    /// suspended key's tap is recorded with the reason it failed; only active and
    /// suspended keys with a K_persistent are fast candidates (revocation erases it).
    pub fn build<'a>(
        keys: impl IntoIterator<Item = &'a StoredKey>,
        identity: Arc<VehicleIdentity>,
        pairing: Option<&PairingOffer>,
    ) -> Self {
        let mut all: Vec<&StoredKey> = keys.into_iter().collect();
        all.sort_by(|a, b| b.key.recency.cmp(&a.key.recency).then(a.key.id.cmp(&b.key.id)));
        let by_endpoint = all.iter().map(|k| (*k.key.endpoint.uncompressed(), k.key.id.slot())).collect();
        let fast = all
            .iter()
            .filter(|k| !matches!(k.key.state, KeyState::Revoked(_)))
            .filter_map(|k| {
                k.k_persistent.as_ref().map(|secret| Candidate {
                    slot: k.key.id.slot(),
                    endpoint: k.key.endpoint.clone(),
                    k_persistent: secret.clone(),
                })
            })
            .collect();
        let pairing =
            pairing.filter(|p| p.attempts_left() > 0).map(|p| PairingAnnouncement { salt: p.salt, scrypt: p.scrypt });
        Self { fast, by_endpoint, identity, pairing }
    }

    /// The vehicle's identity (new after a factory reset).
    pub const fn identity(&self) -> &Arc<VehicleIdentity> {
        &self.identity
    }

    /// Whether owner pairing is offered, and with which scrypt salt and cost.
    pub const fn pairing(&self) -> Option<&PairingAnnouncement> {
        self.pairing.as_ref()
    }

    /// Number of enrolled keys.
    pub fn len(&self) -> usize {
        self.by_endpoint.len()
    }

    /// Whether no key is enrolled.
    pub fn is_empty(&self) -> bool {
        self.by_endpoint.is_empty()
    }

    /// The fast-path search order (for tests and diagnostics).
    pub fn fast_order(&self) -> Vec<KeyId> {
        self.fast.iter().map(|c| KeyId::from(c.slot)).collect()
    }
}

impl KeyDirectory for Directory {
    fn fast_candidates(&self) -> impl Iterator<Item = FastCandidate<'_>> {
        self.fast.iter().map(|c| FastCandidate { slot: c.slot, endpoint: &c.endpoint, k_persistent: &c.k_persistent })
    }

    fn lookup(&self, endpoint: &EcPublicKey) -> EndpointLookup {
        self.by_endpoint
            .get(endpoint.uncompressed())
            .map_or(EndpointLookup::Unknown, |slot| EndpointLookup::Enrolled(*slot))
    }
}
