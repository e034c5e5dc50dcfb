use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::audit::{AuditEntry, AuditHead};
use crate::identity::VehicleIdentity;
use crate::ids::{KeyId, ProfileId};
use crate::pairing::PairingOffer;
use crate::ports::{Change, KeyStore, Loaded, StoreError, StoredKey, TrackingEvent};
use crate::profile::AccessProfile;

/// What a [`FakeStore`] holds; clones of the store share it, like reopening a database.
#[derive(Debug, Clone, Default)]
pub struct FakeStoreData {
    identity: Option<VehicleIdentity>,
    keys: BTreeMap<KeyId, StoredKey>,
    profiles: BTreeMap<ProfileId, AccessProfile>,
    audit: Vec<AuditEntry>,
    pairing: Option<PairingOffer>,
    tracking: Vec<TrackingEvent>,
    fail_commits: usize,
}

impl FakeStoreData {
    fn head(&self) -> AuditHead {
        self.audit.last().map_or_else(AuditHead::default, |e| AuditHead { seq: e.seq, hash: e.hash })
    }

    fn apply(&mut self, change: &Change) -> Result<(), StoreError> {
        match change {
            Change::SetIdentity(identity) => {
                if self.identity.is_some() {
                    return Err(StoreError::Conflict("vehicle identity already set".into()));
                }
                self.identity = Some(identity.clone());
            }
            Change::PutKey(key) => {
                if let Some(origin) = key.shared_by
                    && let Some(other) =
                        self.keys.values().find(|k| k.key.id != key.id && k.key.shared_by == Some(origin))
                {
                    return Err(StoreError::Conflict(format!(
                        "share serial {} of owner key {} is already enrolled as key {}",
                        origin.serial, origin.owner, other.key.id
                    )));
                }
                let entry = self.keys.entry(key.id).or_insert_with(|| StoredKey {
                    key: key.clone(),
                    k_persistent: None,
                    immobilizer_token: None,
                });
                entry.key = key.clone();
            }
            Change::SetKPersistent(id, secret) => {
                self.keys.get_mut(id).ok_or_else(|| unknown(*id))?.k_persistent.clone_from(secret);
            }
            Change::SetImmobilizerToken(id, secret) => {
                self.keys.get_mut(id).ok_or_else(|| unknown(*id))?.immobilizer_token.clone_from(secret);
            }
            Change::PutProfile(profile) => {
                self.profiles.insert(profile.id.clone(), profile.clone());
            }
            Change::DeleteProfile(id) => {
                self.profiles.remove(id).ok_or_else(|| StoreError::Conflict(format!("no profile {id}")))?;
            }
            Change::AppendAudit(entry) => {
                let head = self.head();
                if entry.seq != head.seq.saturating_add(1) || entry.prev_hash != head.hash {
                    return Err(StoreError::Conflict(format!(
                        "audit entry {} does not follow {}",
                        entry.seq, head.seq
                    )));
                }
                self.audit.push(entry.clone());
            }
            Change::PutPairingOffer(offer) => self.pairing = Some(offer.clone()),
            Change::SetPairingAttempts(attempts) => {
                self.pairing.as_mut().ok_or_else(|| StoreError::Conflict("no pairing offer".into()))?.attempts_used =
                    *attempts;
            }
            Change::ClearPairingOffer => self.pairing = None,
            Change::QueueTracking(event) => self.tracking.push(event.clone()),
            Change::FactoryReset => {
                let fail_commits = self.fail_commits;
                *self = Self { fail_commits, ..Self::default() };
            }
        }
        Ok(())
    }
}

fn unknown(id: KeyId) -> StoreError {
    StoreError::Conflict(format!("no key {id}"))
}

fn factory_reset_not_first() -> StoreError {
    StoreError::Conflict("a factory reset must be the first change of its commit".into())
}

/// An in-memory [`KeyStore`] with the same contract as the SQLite store, plus failure
/// injection.
#[derive(Debug, Clone, Default)]
pub struct FakeStore(Arc<Mutex<FakeStoreData>>);

impl FakeStore {
    fn data(&self) -> std::sync::MutexGuard<'_, FakeStoreData> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the next `n` commits fail with an I/O error.
    pub fn fail_next_commits(&self, n: usize) {
        self.data().fail_commits = n;
    }

    /// The stored audit log.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.data().audit.clone()
    }

    /// A stored key with its secrets.
    pub fn key(&self, id: KeyId) -> Option<StoredKey> {
        self.data().keys.get(&id).cloned()
    }

    /// The stored pairing offer.
    pub fn pairing(&self) -> Option<PairingOffer> {
        self.data().pairing.clone()
    }

    /// The tracking outbox, oldest first.
    pub fn tracking(&self) -> Vec<TrackingEvent> {
        self.data().tracking.clone()
    }
}

impl KeyStore for FakeStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let data = self.data();
        Ok(Loaded {
            identity: data.identity.clone(),
            keys: data.keys.values().cloned().collect(),
            profiles: data.profiles.values().cloned().collect(),
            audit_head: data.head(),
            pairing: data.pairing.clone(),
            tracking_pending: u64::try_from(data.tracking.len()).unwrap_or(u64::MAX),
        })
    }

    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        let mut data = self.data();
        if data.fail_commits > 0 {
            data.fail_commits -= 1;
            return Err(StoreError::Io("injected failure".into()));
        }
        let mut next = data.clone();
        for (index, change) in changes.iter().enumerate() {
            if index > 0 && matches!(change, Change::FactoryReset) {
                return Err(factory_reset_not_first());
            }
            next.apply(change)?;
        }
        *data = next;
        Ok(())
    }

    fn audit_after(&mut self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.data().audit.iter().filter(|e| e.seq > after).take(limit).cloned().collect())
    }
}
