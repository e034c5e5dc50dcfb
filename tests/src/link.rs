//! The phone's end of the simulated field: blocking, framed, with a deadline per command.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use carkey_nfc::framing::{self, FrameDecoder, FrameError, FrameType};

/// What the reader did next.
#[derive(Debug)]
pub enum Incoming {
    /// A command APDU.
    Command(Vec<u8>),
    /// The reader closed the connection (turned the field off), possibly mid-frame.
    Closed,
    /// Nothing complete arrived before the deadline.
    TimedOut,
}

/// Why the link failed (as opposed to the reader closing it).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The reader sent bytes that are not a command frame.
    #[error("the reader sent a malformed frame: {0}")]
    Malformed(FrameError),
    /// A response could not be framed (longer than the frame limit).
    #[error("the response cannot be framed: {0}")]
    Unframeable(FrameError),
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
}

/// A connected phone.
#[derive(Debug)]
pub struct Link {
    stream: UnixStream,
    decoder: FrameDecoder,
}

impl Link {
    /// Enters the field of the reader listening at `path`.
    pub fn connect(path: &Path) -> io::Result<Self> {
        Ok(Self { stream: UnixStream::connect(path)?, decoder: FrameDecoder::new(FrameType::Command) })
    }

    /// Waits up to `timeout` for the next command.
    pub fn next_command(&mut self, timeout: Duration) -> Result<Incoming, LinkError> {
        let deadline = Instant::now().checked_add(timeout);
        let mut buffer = [0u8; 1024];
        loop {
            if let Some(command) = self.decoder.next_frame().map_err(LinkError::Malformed)? {
                return Ok(Incoming::Command(command));
            }
            let remaining = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            if remaining.is_zero() {
                return Ok(Incoming::TimedOut);
            }
            self.stream.set_read_timeout(Some(remaining))?;
            match self.stream.read(&mut buffer) {
                Ok(0) => return Ok(Incoming::Closed),
                Ok(read) => self.decoder.extend(buffer.get(..read).unwrap_or_default()),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Ok(Incoming::TimedOut);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_closed(&e) => return Ok(Incoming::Closed),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends one response. `Ok(false)` if the reader had already closed the connection.
    pub fn send_response(&mut self, response: &[u8]) -> Result<bool, LinkError> {
        let frame = framing::encode(FrameType::Response, response).map_err(LinkError::Unframeable)?;
        match self.stream.write_all(&frame) {
            Ok(()) => Ok(true),
            Err(e) if is_closed(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether a socket error means the reader went away.
fn is_closed(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}
