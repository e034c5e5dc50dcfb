//! An NFC reader as the engine needs it: wait for a phone, then exchange APDUs with it.

use core::future::Future;
use core::time::Duration;

/// Why a reader or an exchange failed. Every variant ends the current transaction; none
/// stops the reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NfcError {
    /// The phone did not answer within the per-APDU timeout.
    #[error("no response within {0} ms")]
    Timeout(u64),
    /// The phone left the field.
    #[error("the phone left the field")]
    TargetLost,
    /// The link carried something that is not a valid frame.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The reader hardware or socket failed.
    #[error("reader I/O: {0}")]
    Io(String),
}

/// A phone in the field.
pub trait NfcTarget: Send {
    /// Sends one command APDU and returns the response APDU, within the reader's
    /// per-APDU timeout.
    fn transceive(&mut self, command: &[u8]) -> impl Future<Output = Result<Vec<u8>, NfcError>> + Send;

    /// Like [`NfcTarget::transceive`], but the phone may take up to `patience` for this
    /// one answer (it is hashing a pairing code; ISO 14443-4 cards ask for waiting-time
    /// extensions for exactly this). Readers without such a notion use their timeout.
    fn transceive_patient(
        &mut self,
        command: &[u8],
        patience: Duration,
    ) -> impl Future<Output = Result<Vec<u8>, NfcError>> + Send {
        let _ = patience;
        self.transceive(command)
    }
}

/// One reader. Dropping the target turns the field off for that phone.
pub trait NfcReader: Send {
    /// The phone type this reader yields.
    type Target: NfcTarget;
    /// Waits until a phone enters the field.
    fn wait_for_target(&mut self) -> impl Future<Output = Result<Self::Target, NfcError>> + Send;
}
