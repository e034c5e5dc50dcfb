use std::sync::{Arc, Mutex, PoisonError};

use carkey_protocol::endpoint::Endpoint;
use tokio::sync::mpsc;

use crate::ports::{NfcError, NfcReader, NfcTarget};

/// The test's side of a fake reader: bring phones into its field.
#[derive(Debug, Clone)]
pub struct FakeField(mpsc::UnboundedSender<FakeTarget>);

/// A phone in a fake field. It answers until `fail_after` exchanges, then times out.
pub struct FakeTarget {
    phone: Arc<Mutex<Endpoint>>,
    fail_after: Option<usize>,
    exchanges: usize,
}

impl core::fmt::Debug for FakeTarget {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FakeTarget").field("exchanges", &self.exchanges).finish_non_exhaustive()
    }
}

/// A reader fed by a [`FakeField`].
#[derive(Debug)]
pub struct FakeReader(mpsc::UnboundedReceiver<FakeTarget>);

impl FakeReader {
    /// A reader and the handle to bring phones to it.
    pub fn new() -> (Self, FakeField) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(rx), FakeField(tx))
    }
}

impl FakeField {
    /// A phone taps; it answers every command.
    pub fn tap(&self, phone: &Arc<Mutex<Endpoint>>) {
        let _ = self.0.send(FakeTarget { phone: Arc::clone(phone), fail_after: None, exchanges: 0 });
    }

    /// A phone taps and stops answering after `n` exchanges.
    pub fn tap_and_hang_after(&self, phone: &Arc<Mutex<Endpoint>>, n: usize) {
        let _ = self.0.send(FakeTarget { phone: Arc::clone(phone), fail_after: Some(n), exchanges: 0 });
    }
}

impl NfcTarget for FakeTarget {
    async fn transceive(&mut self, command: &[u8]) -> Result<Vec<u8>, NfcError> {
        if self.fail_after.is_some_and(|n| self.exchanges >= n) {
            return Err(NfcError::Timeout(0));
        }
        self.exchanges += 1;
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        Ok(self.phone.lock().unwrap_or_else(PoisonError::into_inner).process(command, &mut rng))
    }
}

impl Drop for FakeTarget {
    fn drop(&mut self) {
        self.phone.lock().unwrap_or_else(PoisonError::into_inner).field_off();
    }
}

impl NfcReader for FakeReader {
    type Target = FakeTarget;

    async fn wait_for_target(&mut self) -> Result<FakeTarget, NfcError> {
        self.0.recv().await.ok_or_else(|| NfcError::Io("fake field closed".into()))
    }
}
