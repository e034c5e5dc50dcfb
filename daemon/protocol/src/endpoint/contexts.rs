//! The endpoint's bounded store of K_persistent, one per vehicle.

use crate::crypto::Secret32;

/// How many vehicles a phone keeps fast-transaction context for (real phones keep a
/// small fixed number; beyond it the least recently used vehicle falls back to a
/// standard transaction, which re-creates the context).
pub const MAX_CONTEXTS: usize = 16;

/// K_persistent per reader group identifier, least recently used evicted first.
#[derive(Debug, Default, Clone)]
pub struct PersistentContexts {
    /// Most recently used last.
    entries: Vec<([u8; 16], Secret32)>,
}

impl PersistentContexts {
    /// The context for a vehicle, marking it most recently used.
    pub fn get(&mut self, group_id: &[u8; 16]) -> Option<&Secret32> {
        let index = self.entries.iter().position(|(g, _)| g == group_id)?;
        let entry = self.entries.remove(index);
        self.entries.push(entry);
        self.entries.last().map(|(_, k)| k)
    }

    /// Stores (or replaces) a vehicle's context, evicting the least recently used one
    /// when full.
    pub fn insert(&mut self, group_id: [u8; 16], k_persistent: Secret32) {
        self.entries.retain(|(g, _)| *g != group_id);
        if self.entries.len() >= MAX_CONTEXTS {
            self.entries.remove(0);
        }
        self.entries.push((group_id, k_persistent));
    }

    /// Every context, least recently used first (so re-inserting them in this order
    /// restores the same eviction order), e.g. to save a phone's state.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8; 16], &Secret32)> {
        self.entries.iter().map(|(g, k)| (g, k))
    }

    /// Forgets a vehicle's context.
    pub fn remove(&mut self, group_id: &[u8; 16]) {
        self.entries.retain(|(g, _)| g != group_id);
    }

    /// Number of stored contexts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no context is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_with_lru_eviction() {
        let mut c = PersistentContexts::default();
        for i in 0..MAX_CONTEXTS as u8 {
            c.insert([i; 16], Secret32::new([i; 32]));
        }
        assert!(c.get(&[0; 16]).is_some()); // 0 becomes most recently used
        c.insert([200; 16], Secret32::new([200; 32]));
        assert_eq!(c.len(), MAX_CONTEXTS);
        assert!(c.get(&[1; 16]).is_none(), "least recently used was evicted");
        assert!(c.get(&[0; 16]).is_some());
        assert!(c.get(&[200; 16]).is_some());
    }

    #[test]
    fn insert_replaces() {
        let mut c = PersistentContexts::default();
        c.insert([1; 16], Secret32::new([1; 32]));
        c.insert([1; 16], Secret32::new([2; 32]));
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(&[1; 16]), Some(&Secret32::new([2; 32])));
        c.remove(&[1; 16]);
        assert!(c.is_empty());
    }
}
