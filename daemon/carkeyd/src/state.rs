//! The state directory: where it is, who holds it, and opening the key store in it.

use std::fs::File;
use std::path::{Path, PathBuf};

use carkey_store::SqliteStore;
use carkey_store::master_key::{self, MasterKeySource};

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The directory cannot be created or read.
    #[error("state directory {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another carkeyd (daemon or maintenance command) holds it.
    #[error("state directory {0} is in use by another carkeyd (stop the service for offline maintenance)")]
    Busy(PathBuf),
    /// No usable master key.
    #[error(transparent)]
    MasterKey(#[from] master_key::MasterKeyError),
    /// The store does not open (wrong key, newer schema, corruption, I/O).
    #[error(transparent)]
    Store(#[from] carkey_core::ports::StoreError),
}

/// An exclusively held state directory.
#[derive(Debug)]
pub struct StateDir {
    path: PathBuf,
    _lock: File,
}

impl StateDir {
    /// The directory: the command line wins, then systemd's `$STATE_DIRECTORY` (its first
    /// entry), then the configuration.
    pub fn choose(cli: Option<&Path>, configured: &Path) -> PathBuf {
        if let Some(path) = cli {
            return path.to_owned();
        }
        if let Some(dirs) = std::env::var_os("STATE_DIRECTORY")
            && let Some(first) = dirs.to_string_lossy().split(':').find(|s| !s.is_empty())
        {
            return PathBuf::from(first);
        }
        configured.to_owned()
    }

    /// Creates the directory if needed (mode 0700) and takes its lock.
    pub fn acquire(path: &Path) -> Result<Self, StateError> {
        use std::os::unix::fs::DirBuilderExt;
        let io = |source| StateError::Directory { path: path.to_owned(), source };
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).map_err(io)?;
        let lock =
            File::options().create(true).truncate(false).write(true).open(path.join("carkeyd.lock")).map_err(io)?;
        match lock.try_lock() {
            Ok(()) => Ok(Self { path: path.to_owned(), _lock: lock }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StateError::Busy(path.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolves the master key (systemd credential, else the state directory's own) and
    /// opens the store with it.
    pub fn open_store(&self) -> Result<SqliteStore, StateError> {
        let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        let (key, source) = master_key::resolve(credentials.as_deref(), &self.path)?;
        match source {
            MasterKeySource::Generated => tracing::warn!(
                "no master key credential (carkey.master-key) was given: generated one in the state \
                 directory; secrets at rest are only as safe as this file system"
            ),
            other => tracing::debug!(source = ?other, "master key"),
        }
        Ok(SqliteStore::open(&self.path, &key)?)
    }
}
