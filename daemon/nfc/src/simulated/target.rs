//! A phone in the simulated field: one accepted connection.

use std::io;
use std::time::Duration;

use carkey_core::ports::{NfcError, NfcTarget};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::framing::{self, FrameDecoder, FrameType};

/// Bytes read from the socket at a time (one typical response fits).
const READ_CHUNK: usize = 1024;

/// One connected phone. Dropping it closes the connection: the field turns off.
///
/// After any failed exchange the connection is closed at once and every later exchange
/// reports [`NfcError::TargetLost`]: a phone that timed out or sent garbage is out of step,
/// and a late answer must never be taken for the answer to the next command.
#[derive(Debug)]
pub struct SimulatedTarget {
    stream: Option<UnixStream>,
    decoder: FrameDecoder,
    apdu_timeout: Duration,
}

impl SimulatedTarget {
    pub(super) const fn new(stream: UnixStream, apdu_timeout: Duration) -> Self {
        Self { stream: Some(stream), decoder: FrameDecoder::new(FrameType::Response), apdu_timeout }
    }

    /// Sends one command frame and reads exactly one response frame.
    async fn exchange(
        stream: &mut UnixStream,
        decoder: &mut FrameDecoder,
        command: &[u8],
    ) -> Result<Vec<u8>, NfcError> {
        let frame = framing::encode(FrameType::Command, command)
            .map_err(|e| NfcError::Malformed(format!("command APDU cannot be framed: {e}")))?;
        let mut buffer = [0u8; READ_CHUNK];
        // Anything waiting before the command is sent was not asked for.
        match stream.try_read(&mut buffer) {
            Ok(0) => return Err(NfcError::TargetLost),
            Ok(_) => return Err(NfcError::Malformed("the phone sent data before the command".into())),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(io_error(&error)),
        }
        stream.write_all(&frame).await.map_err(|e| io_error(&e))?;
        loop {
            if let Some(response) = decoder.next_frame().map_err(|e| NfcError::Malformed(e.to_string()))? {
                if decoder.buffered() > 0 {
                    return Err(NfcError::Malformed("more than one response to one command".into()));
                }
                return Ok(response);
            }
            let read = stream.read(&mut buffer).await.map_err(|e| io_error(&e))?;
            if read == 0 {
                return Err(NfcError::TargetLost);
            }
            decoder.extend(buffer.get(..read).unwrap_or_default());
        }
    }
}

impl SimulatedTarget {
    async fn transceive_within(&mut self, command: &[u8], timeout: Duration) -> Result<Vec<u8>, NfcError> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let Some(stream) = self.stream.as_mut() else { return Err(NfcError::TargetLost) };
        let exchange = Self::exchange(stream, &mut self.decoder, command);
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(NfcError::Timeout(timeout_ms)),
        };
        if let Err(error) = &result {
            tracing::debug!(%error, "simulated field: closing the connection");
            self.stream = None;
        }
        result
    }
}

impl NfcTarget for SimulatedTarget {
    async fn transceive(&mut self, command: &[u8]) -> Result<Vec<u8>, NfcError> {
        self.transceive_within(command, self.apdu_timeout).await
    }

    async fn transceive_patient(&mut self, command: &[u8], patience: Duration) -> Result<Vec<u8>, NfcError> {
        self.transceive_within(command, self.apdu_timeout.max(patience)).await
    }
}

/// Maps a socket error: the peer going away is the phone leaving the field.
fn io_error(error: &io::Error) -> NfcError {
    match error.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => NfcError::TargetLost,
        _ => NfcError::Io(error.to_string()),
    }
}
