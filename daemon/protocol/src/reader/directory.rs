//! An in-memory [`KeyDirectory`]: the reference implementation for tests, benchmarks and
//! simulators. The daemon's store-backed directory follows the same contract.

use super::{EndpointLookup, FastCandidate, KeyDirectory, KeySlot};
use crate::crypto::{EcPublicKey, Secret32};

#[derive(Debug, Clone)]
struct Entry {
    slot: KeySlot,
    endpoint: EcPublicKey,
    k_persistent: Option<Secret32>,
}

/// Enrolled keys in most-recently-used order.
#[derive(Debug, Clone, Default)]
pub struct MemoryDirectory {
    entries: Vec<Entry>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Enrolls (or re-enrolls) an endpoint key in `slot`, as most recently used.
    pub fn enroll(&mut self, slot: KeySlot, endpoint: EcPublicKey) {
        self.entries.retain(|e| e.slot != slot);
        self.entries.insert(0, Entry { slot, endpoint, k_persistent: None });
    }

    /// Removes a key.
    pub fn remove(&mut self, slot: KeySlot) {
        self.entries.retain(|e| e.slot != slot);
    }

    /// Records a transaction by `slot`: stores its new K_persistent (after a standard
    /// transaction) and moves it to the front of the fast-path search.
    pub fn record_use(&mut self, slot: KeySlot, new_k_persistent: Option<Secret32>) {
        if let Some(index) = self.entries.iter().position(|e| e.slot == slot) {
            let mut entry = self.entries.remove(index);
            if let Some(k) = new_k_persistent {
                entry.k_persistent = Some(k);
            }
            self.entries.insert(0, entry);
        }
    }

    /// Number of enrolled keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is enrolled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl KeyDirectory for MemoryDirectory {
    fn fast_candidates(&self) -> impl Iterator<Item = FastCandidate<'_>> {
        self.entries.iter().filter_map(|e| {
            e.k_persistent.as_ref().map(|k| FastCandidate { slot: e.slot, endpoint: &e.endpoint, k_persistent: k })
        })
    }

    fn lookup(&self, endpoint: &EcPublicKey) -> EndpointLookup {
        self.entries
            .iter()
            .find(|e| &e.endpoint == endpoint)
            .map_or(EndpointLookup::Unknown, |e| EndpointLookup::Enrolled(e.slot))
    }
}
