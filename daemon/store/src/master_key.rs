//! Where the master key comes from.
//!
//! The master key never lives in the database: whoever copies `carkey.db` off the car
//! must not get the secrets with it. In production systemd hands it over as a credential
//! (`LoadCredentialEncrypted=carkey.master-key:…`, sealed to the TPM); a development or
//! bring-up system falls back to a `0600` file in the state directory, generated on the
//! very first start. An existing store is never silently re-keyed: if its key is gone,
//! starting fails with an error that says so.

use core::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use carkey_protocol::crypto::Secret32;
use zeroize::Zeroizing;

/// Name of the systemd credential holding the master key.
pub const CREDENTIAL_NAME: &str = "carkey.master-key";
/// Name of the fallback key file in the state directory.
pub const STATE_FILE_NAME: &str = "master.key";
/// Name of the database file in the state directory (its presence forbids generating a key).
pub const DATABASE_FILE_NAME: &str = "carkey.db";

/// The 32-byte key every secret in the store is sealed under (through a derived key).
///
/// Zeroized on drop; `Debug` prints `MasterKey(..)` so it cannot reach a log.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey(Secret32);

impl MasterKey {
    /// Wraps raw key bytes (tests, provisioning tools). The caller should zeroize its copy.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Secret32::new(bytes))
    }

    /// Parses a key file's content: exactly 32 raw bytes, or 64 hexadecimal digits
    /// optionally followed by one newline. `None` for anything else.
    pub fn parse(content: &[u8]) -> Option<Self> {
        if let Some(secret) = Secret32::from_slice(content) {
            return Some(Self(secret));
        }
        let digits = content.strip_suffix(b"\n").unwrap_or(content);
        let mut bytes = Zeroizing::new([0u8; 32]);
        (digits.len() == 64 && hex::decode_to_slice(digits, bytes.as_mut_slice()).is_ok())
            .then(|| Self(Secret32::new(*bytes)))
    }

    /// The key, for deriving the store key.
    pub(crate) const fn secret(&self) -> &Secret32 {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Where [`resolve`] found the master key, so the daemon can log it (and warn about
/// [`MasterKeySource::Generated`]). The paths follow from `resolve`'s arguments and the
/// file names [`CREDENTIAL_NAME`] and [`STATE_FILE_NAME`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterKeySource {
    /// A systemd credential (`$CREDENTIALS_DIRECTORY/carkey.master-key`).
    Credential,
    /// The fallback file `<state_dir>/master.key`.
    StateFile,
    /// Freshly generated into `<state_dir>/master.key`, because neither existed and there
    /// was no store yet. Anyone who can read that file can decrypt the store.
    Generated,
}

/// Why no master key could be obtained. Messages name files and fixes, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The key file exists but could not be read.
    #[error("cannot read master key file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The key file's content has the wrong shape.
    #[error(
        "master key file {} is malformed ({len} bytes): it must hold exactly 32 raw bytes, or 64 hexadecimal digits optionally followed by a newline",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Its length (capped at what was read), to tell truncation from a wrong format.
        len: usize,
    },
    /// The key file is not a regular file.
    #[error("master key file {} is not a regular file", path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
    },
    /// The fallback key file may be read by other users.
    #[error(
        "master key file {} is accessible to group or others (mode {mode:04o}); run `chmod 600 {}` and make sure only carkeyd's user owns it",
        path.display(),
        path.display()
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A store exists but its master key is gone.
    #[error(
        "key store {} exists but its master key is missing: provide the credential {CREDENTIAL_NAME} or restore {}; a new key would make every stored key unreadable, so none is generated",
        database.display(),
        key_file.display()
    )]
    MissingMasterKey {
        /// The existing database.
        database: PathBuf,
        /// Where the fallback key file was expected.
        key_file: PathBuf,
    },
    /// Generating the fallback key file failed.
    #[error("cannot create master key file {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("cannot generate a master key: the system random number generator failed")]
    Random,
}

/// Finds the master key: the systemd credential in `credentials_dir` if it holds one, else
/// `<state_dir>/master.key`, else a newly generated `<state_dir>/master.key`, unless a
/// store already exists, which must never be re-keyed.
pub fn resolve(
    credentials_dir: Option<&Path>,
    state_dir: &Path,
) -> Result<(MasterKey, MasterKeySource), MasterKeyError> {
    if let Some(dir) = credentials_dir {
        let path = dir.join(CREDENTIAL_NAME);
        if let Some(key) = read_key_file(&path, false)? {
            return Ok((key, MasterKeySource::Credential));
        }
    }
    let path = state_dir.join(STATE_FILE_NAME);
    if let Some(key) = read_key_file(&path, true)? {
        return Ok((key, MasterKeySource::StateFile));
    }
    let database = state_dir.join(DATABASE_FILE_NAME);
    match fs::symlink_metadata(&database) {
        Ok(_) => return Err(MasterKeyError::MissingMasterKey { database, key_file: path }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(MasterKeyError::Read { path: database, source }),
    }
    let key = generate(state_dir, &path)?;
    Ok((key, MasterKeySource::Generated))
}

/// Longest content worth reading: a hex key with a newline is 65 bytes.
const READ_LIMIT: u64 = 128;

/// Reads a key file; `Ok(None)` when it does not exist. With `private`, refuses a file
/// that group or others may access (a credential's directory is already private).
fn read_key_file(path: &Path, private: bool) -> Result<Option<MasterKey>, MasterKeyError> {
    let read_err = |source| MasterKeyError::Read { path: path.to_owned(), source };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    // Checked on the open handle, so the file cannot be swapped between check and read.
    let metadata = file.metadata().map_err(read_err)?;
    if !metadata.is_file() {
        return Err(MasterKeyError::NotAFile { path: path.to_owned() });
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if private && mode & 0o077 != 0 {
        return Err(MasterKeyError::InsecurePermissions { path: path.to_owned(), mode });
    }
    let mut content = Zeroizing::new(Vec::with_capacity(80));
    file.take(READ_LIMIT).read_to_end(&mut content).map_err(read_err)?;
    MasterKey::parse(&content).map(Some).ok_or(MasterKeyError::Malformed { path: path.to_owned(), len: content.len() })
}

/// Generates a key into `path` atomically: a `0600` temporary file (never readable by
/// anyone else, not even for a moment), fsynced, renamed into place, directory fsynced.
fn generate(state_dir: &Path, path: &Path) -> Result<MasterKey, MasterKeyError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| MasterKeyError::Random)?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| MasterKeyError::Random)?;
    let temp = state_dir.join(format!(".{STATE_FILE_NAME}.{}.tmp", hex::encode(suffix)));
    let create_err = |source| MasterKeyError::Create { path: path.to_owned(), source };
    let written = write_new_private(&temp, bytes.as_slice()).and_then(|()| fs::rename(&temp, path));
    if let Err(e) = written {
        // Best effort: the temporary file holds the key and must not linger.
        let _ = fs::remove_file(&temp);
        return Err(create_err(e));
    }
    File::open(state_dir).and_then(|dir| dir.sync_all()).map_err(create_err)?;
    Ok(MasterKey::from_bytes(*bytes))
}

fn write_new_private(path: &Path, content: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    // The mode given to open() is filtered by the umask; make sure it is exactly 0600.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests;
