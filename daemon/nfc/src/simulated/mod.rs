//! The simulated field: an NFC reader that is a Unix stream socket.
//!
//! A phone simulator connecting is a phone entering the field; closing the connection is
//! leaving it. Frames are defined in [`crate::framing`]. The reader accepts one phone at
//! a time (the next ones wait in the listen backlog, as a second phone would wait for the
//! first to be pulled away) and speaks first: the engine's reader task sends SELECT as
//! soon as a target is returned.
//!
//! This lets every layer above the radio (protocol, engine, D-Bus, black-box tests) run
//! on a machine without NFC hardware, with phones written in any language.

mod target;

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use carkey_core::ports::{NfcError, NfcReader};
use tokio::net::UnixListener;

pub use target::SimulatedTarget;

/// Mode of the socket file: the daemon's user and the group of trusted simulators.
const SOCKET_MODE: u32 = 0o660;

/// Pause before retrying an accept that failed for lack of resources (file descriptors,
/// memory), so a resource shortage does not turn into a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The listener before and after it is registered with the tokio runtime. Binding is
/// synchronous (configuration time, possibly outside a runtime); registration happens on
/// first use, inside the runtime that drives the reader.
#[derive(Debug)]
enum Listener {
    Bound(std::os::unix::net::UnixListener),
    Registered(UnixListener),
    /// Registration failed; the reader cannot accept any more.
    Lost,
}

/// A simulated NFC reader listening on a Unix socket.
///
/// Binding needs no runtime; [`NfcReader::wait_for_target`] must run inside a tokio
/// runtime with I/O enabled, like any tokio socket.
#[derive(Debug)]
pub struct SimulatedReader {
    listener: Listener,
    path: PathBuf,
    /// Device and inode of the socket file we created, so that drop never removes a
    /// socket another process bound at the same path since.
    file_id: Option<(u64, u64)>,
    apdu_timeout: Duration,
}

impl SimulatedReader {
    /// Listens on `path` (whose directory must exist), with `apdu_timeout` as the longest
    /// a phone may take to answer one command.
    ///
    /// A socket file left at `path` by a previous run is replaced; any other kind of file
    /// there is an error (`AlreadyExists`), never deleted. The socket gets mode 0660.
    pub fn bind(path: &Path, apdu_timeout: Duration) -> io::Result<Self> {
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let listener = std::os::unix::net::UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))?;
        let file_id = std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()));
        tracing::debug!(path = %path.display(), "simulated NFC reader listening");
        Ok(Self { listener: Listener::Bound(listener), path: path.to_owned(), file_id, apdu_timeout })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The per-APDU timeout.
    pub const fn apdu_timeout(&self) -> Duration {
        self.apdu_timeout
    }

    /// The listener, registered with the current runtime.
    fn registered(&mut self) -> Result<&UnixListener, NfcError> {
        if let Listener::Bound(_) = self.listener {
            let Listener::Bound(std) = core::mem::replace(&mut self.listener, Listener::Lost) else {
                return Err(lost());
            };
            self.listener = Listener::Registered(UnixListener::from_std(std).map_err(|e| NfcError::Io(e.to_string()))?);
        }
        match &self.listener {
            Listener::Registered(listener) => Ok(listener),
            Listener::Bound(_) | Listener::Lost => Err(lost()),
        }
    }
}

fn lost() -> NfcError {
    NfcError::Io("the reader's socket could not be registered with the runtime".into())
}

impl NfcReader for SimulatedReader {
    type Target = SimulatedTarget;

    /// Accepts the next phone. Accept failures on a listening socket are transient (a
    /// connection aborted before it was accepted, descriptors exhausted): they are logged
    /// and retried, because an error here would stop the reader for good.
    async fn wait_for_target(&mut self) -> Result<SimulatedTarget, NfcError> {
        let timeout = self.apdu_timeout;
        let path = self.path.clone();
        let listener = self.registered()?;
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tracing::debug!(path = %path.display(), "phone entered the simulated field");
                    return Ok(SimulatedTarget::new(stream, timeout));
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "accept on the simulated field failed; retrying");
                    if !matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
                    ) {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                }
            }
        }
    }
}

impl Drop for SimulatedReader {
    /// Removes the socket file, if it is still the one this reader created.
    fn drop(&mut self) {
        let current = std::fs::symlink_metadata(&self.path).ok().map(|m| (m.dev(), m.ino()));
        if current.is_none() || current != self.file_id {
            return;
        }
        if let Err(error) = std::fs::remove_file(&self.path) {
            tracing::debug!(path = %self.path.display(), %error, "could not remove the reader socket");
        }
    }
}
