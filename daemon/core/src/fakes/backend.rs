use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use crate::ports::{Backend, BackendError, KeyTrackingReport, RemoteKeyChange};

#[derive(Debug, Default)]
struct Inner {
    changes: Vec<RemoteKeyChange>,
    received: Vec<KeyTrackingReport>,
    outages: VecDeque<()>,
}

/// A backend holding a list of changes; the cursor is an index into it. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct FakeBackend(Arc<Mutex<Inner>>);

impl FakeBackend {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a change for the vehicle.
    pub fn push_change(&self, change: RemoteKeyChange) {
        self.inner().changes.push(change);
    }

    /// Reports received so far.
    pub fn received(&self) -> Vec<KeyTrackingReport> {
        self.inner().received.clone()
    }

    /// Makes the next `n` syncs fail as if offline.
    pub fn go_offline_for(&self, n: usize) {
        self.inner().outages.extend(std::iter::repeat_n((), n));
    }
}

impl Backend for FakeBackend {
    async fn sync(
        &mut self,
        reports: &[KeyTrackingReport],
        cursor: u64,
    ) -> Result<(Vec<RemoteKeyChange>, u64), BackendError> {
        let mut inner = self.inner();
        if inner.outages.pop_front().is_some() {
            return Err(BackendError::Unreachable("fake outage".into()));
        }
        inner.received.extend_from_slice(reports);
        let start = usize::try_from(cursor).unwrap_or(usize::MAX).min(inner.changes.len());
        let changes = inner.changes.get(start..).unwrap_or_default().to_vec();
        Ok((changes, u64::try_from(inner.changes.len()).unwrap_or(u64::MAX)))
    }
}
