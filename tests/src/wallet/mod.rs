//! The phone's wallet: its digital keys and fast-transaction contexts, kept in a JSON file
//! between taps so a simulated phone behaves like a real one across runs (the second tap
//! is fast because the first one's K_persistent was saved).
//!
//! The file holds private keys: it is written atomically with mode 0600, never printed,
//! and [`Wallet`]'s `Debug` shows public data only.
//!
//! Format (version 1): `{"version": 1, "keys": [{"name", "vehicle_group_id" (32 hex),
//! "vehicle_public_key" (130 hex), "endpoint_private_key" (64 hex), "endpoint_public_key"
//! (130 hex, checked against the private key), "slot" (16 hex), "signaling",
//! "private_mailbox" (hex), "confidential_mailbox" (hex)}], "contexts":
//! [{"vehicle_group_id", "k_persistent" (64 hex)}], "last_serial"}`, contexts least
//! recently used first. Unknown fields are refused, so a typo in a hand-edited wallet is
//! caught; fields added later (`last_serial`) default when absent, so older files load.
//!
//! Shares, accepted shares and terminations live where a real phone keeps them: in the
//! key's private mailbox (carkey's [`private_mailbox`] layout) and its signaling bitmap,
//! so the file needs no field for them (see [`Wallet::share`], [`Wallet::accept_share`],
//! [`Wallet::terminate`]).
//!
//! [`private_mailbox`]: carkey_protocol::attestation::private_mailbox

mod file;
mod lifecycle;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use carkey_protocol::attestation::{AttestationError, ShareAttestation, private_mailbox};
use carkey_protocol::crypto::{EcPublicKey, SigningKeyPair};
use carkey_protocol::endpoint::{Credential, Endpoint};

use crate::private_file;
use file::{ContextRecord, KeyRecord, WalletFile};
pub use lifecycle::{IssuedShare, ShareRequest, Termination};

/// Refuse wallet files larger than this (a wallet with a hundred keys is ~300 KiB).
const MAX_FILE_LEN: u64 = 4 * 1024 * 1024;

/// Name given to a key created without one.
pub const DEFAULT_KEY_NAME: &str = "carkey-phone";

/// Why a wallet could not be read, written or changed.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// There is no file at the path.
    #[error("wallet {} does not exist (create it with `carkey-phone --wallet FILE new-key ...`)", .0.display())]
    NotFound(PathBuf),
    /// Reading or writing failed.
    #[error("wallet {}: {source}", path.display())]
    Io {
        /// The wallet file.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The file is implausibly large.
    #[error("wallet {} is larger than {MAX_FILE_LEN} bytes", .0.display())]
    TooLarge(PathBuf),
    /// The file is not JSON of the wallet's shape (with line and column).
    #[error("wallet {} is not a valid wallet file: {source}", path.display())]
    Syntax {
        /// The wallet file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A field's value is invalid; the message names the key and field.
    #[error("wallet {}: {what}", path.display())]
    Invalid {
        /// The wallet file.
        path: PathBuf,
        /// Which key or context, which field, and why.
        what: String,
    },
    /// A key's name is invalid.
    #[error("{0}")]
    InvalidName(#[from] InvalidKeyName),
    /// The wallet already holds a key for this vehicle (a phone holds one per vehicle).
    #[error("the wallet already holds a key for vehicle group {0}")]
    DuplicateVehicle(String),
    /// An operation needs a key and the wallet has none.
    #[error("the wallet holds no keys")]
    NoKeys,
    /// An operation needs one key and the wallet has several: the caller must say which.
    #[error("the wallet holds {0} keys: name the vehicle (--vehicle-group-id)")]
    AmbiguousKey(usize),
    /// The wallet holds no key for the vehicle named (hex group identifier).
    #[error("the wallet holds no key for vehicle group {0}")]
    NoKeyForVehicle(String),
    /// The key was terminated on this phone: it may carry its termination to the vehicle,
    /// but it no longer shares or accepts shares.
    #[error("the key for vehicle group {0} is terminated")]
    KeyTerminated(String),
    /// The share cannot be signed as asked (profile name, validity window).
    #[error("cannot sign this share: {0}")]
    InvalidShare(AttestationError),
    /// The bytes offered as a share attestation do not parse as one.
    #[error("not a valid share attestation: {0}")]
    BadAttestation(AttestationError),
    /// A share attestation for another phone's key: the vehicle would refuse it from this
    /// one, so the phone refuses to carry it.
    #[error("the share attestation names another friend key than this wallet's key for vehicle group {0}")]
    NotForThisKey(String),
    /// The attestation does not fit the key's private mailbox slot.
    #[error("the attestation does not fit the private mailbox of the key for vehicle group {0}")]
    MailboxFull(String),
    /// Every serial has been used.
    #[error("attestation serials are exhausted")]
    SerialsExhausted,
}

/// A key name is 1–64 characters, without control characters or surrounding spaces (the
/// same rule the vehicle applies to its key names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key name must be 1 to 64 characters without control characters or surrounding spaces")]
pub struct InvalidKeyName;

/// A validated key name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Self, InvalidKeyName> {
        let chars = name.chars().count();
        if chars == 0 || chars > 64 || name.trim() != name || name.chars().any(char::is_control) {
            return Err(InvalidKeyName);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn default_name() -> Self {
        Self(DEFAULT_KEY_NAME.to_owned())
    }
}

/// What a new key is for.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The vehicle's reader group identifier.
    pub vehicle_group_id: [u8; 16],
    /// The vehicle's long-term public key (verifies its AUTH1 signature).
    pub vehicle_public: EcPublicKey,
    /// The key slot; random when `None`.
    pub slot: Option<[u8; 8]>,
    /// A friendly name; [`DEFAULT_KEY_NAME`] when `None`.
    pub name: Option<KeyName>,
}

/// The public facts of one key: what a script needs to enroll it in a vehicle, or to give
/// a friend (who makes a key with the vehicle's group identifier and public key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Friendly name.
    pub name: KeyName,
    /// The vehicle's reader group identifier.
    pub vehicle_group_id: [u8; 16],
    /// The vehicle's long-term public key.
    pub vehicle_public: EcPublicKey,
    /// The key slot.
    pub slot: [u8; 8],
    /// The key's long-term public key.
    pub public_key: EcPublicKey,
    /// Whether the phone holds a fast-transaction context for the vehicle.
    pub has_context: bool,
    /// Whether the private mailbox's share slot holds a share attestation.
    pub has_share: bool,
    /// Whether the key is terminated and still carries its attestation to the vehicle
    /// ([`private_mailbox::TERMINATION_PENDING`] in its signaling bitmap).
    pub termination_pending: bool,
}

impl KeyInfo {
    fn of(credential: &Credential, name: KeyName, has_context: bool) -> Self {
        let has_share = lifecycle::carried_in(credential, private_mailbox::SHARE)
            .is_some_and(|bytes| ShareAttestation::parse(bytes).is_ok());
        Self {
            name,
            vehicle_group_id: credential.vehicle_group_id,
            vehicle_public: credential.vehicle_public.clone(),
            slot: credential.key_slot,
            public_key: credential.endpoint_key.public().clone(),
            has_context,
            has_share,
            termination_pending: credential.signaling & private_mailbox::TERMINATION_PENDING != 0,
        }
    }
}

/// The `list --json` shape of a key (the `carkey-phone` output scripts read).
impl serde::Serialize for KeyInfo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "name": self.name.as_str(),
            "slot": hex::encode(self.slot),
            "vehicle_group_id": hex::encode(self.vehicle_group_id),
            "vehicle_public_key": hex::encode(self.vehicle_public.uncompressed()),
            "public_key": hex::encode(self.public_key.uncompressed()),
            "fast_context": self.has_context,
            "has_share": self.has_share,
            "termination_pending": self.termination_pending,
        })
        .serialize(serializer)
    }
}

/// A phone: an [`Endpoint`] with named keys, bound to a file.
pub struct Wallet {
    path: PathBuf,
    endpoint: Endpoint,
    names: HashMap<[u8; 16], KeyName>,
    /// The last serial this wallet put in an attestation (0: none yet).
    last_serial: u64,
}

impl core::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Wallet").field("path", &self.path).field("keys", &self.names.len()).finish_non_exhaustive()
    }
}

impl Wallet {
    /// An empty wallet for `path`; nothing is written until [`Wallet::save`].
    pub fn create(path: &Path) -> Self {
        Self { path: path.to_owned(), endpoint: Endpoint::new(), names: HashMap::new(), last_serial: 0 }
    }

    /// Loads and validates the wallet at `path`.
    pub fn load(path: &Path) -> Result<Self, WalletError> {
        let io_error = |source| WalletError::Io { path: path.to_owned(), source };
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => WalletError::NotFound(path.to_owned()),
            _ => io_error(source),
        })?;
        if meta.len() > MAX_FILE_LEN {
            return Err(WalletError::TooLarge(path.to_owned()));
        }
        let text = std::fs::read(path).map_err(io_error)?;
        let parsed: WalletFile =
            serde_json::from_slice(&text).map_err(|source| WalletError::Syntax { path: path.to_owned(), source })?;
        Self::from_file(path, &parsed).map_err(|what| WalletError::Invalid { path: path.to_owned(), what })
    }

    /// Loads the wallet at `path`, or starts an empty one if there is no file yet.
    pub fn load_or_create(path: &Path) -> Result<Self, WalletError> {
        match Self::load(path) {
            Err(WalletError::NotFound(_)) => Ok(Self::create(path)),
            other => other,
        }
    }

    fn from_file(path: &Path, file: &WalletFile) -> Result<Self, String> {
        if file.version != file::FORMAT_VERSION {
            return Err(format!(
                "format version {} is not supported (expected {})",
                file.version,
                file::FORMAT_VERSION
            ));
        }
        let mut keys = Vec::with_capacity(file.keys.len());
        for (index, record) in file.keys.iter().enumerate() {
            let key = record.parse().map_err(|e| format!("key {}: {e}", index + 1))?;
            if keys.iter().any(|k: &file::ParsedKey| k.credential.vehicle_group_id == key.credential.vehicle_group_id) {
                return Err(format!("key {}: a second key for the same vehicle group", index + 1));
            }
            keys.push(key);
        }
        let contexts = file
            .contexts
            .iter()
            .enumerate()
            .map(|(index, c)| c.parse().map_err(|e| format!("context {}: {e}", index + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        file::check_contexts(&contexts, &keys)?;

        let mut wallet = Self::create(path);
        wallet.last_serial = file.last_serial;
        for key in keys {
            wallet.names.insert(key.credential.vehicle_group_id, key.name);
            wallet.endpoint.add_credential(key.credential);
        }
        // Least recently used first: inserting in order restores the same order.
        for (group, k_persistent) in contexts {
            wallet.endpoint.contexts().insert(group, k_persistent);
        }
        Ok(wallet)
    }

    /// Writes the wallet to its file atomically, with mode 0600.
    pub fn save(&mut self) -> Result<(), WalletError> {
        let keys = self
            .endpoint
            .credentials()
            .iter()
            .map(|c| KeyRecord::from_credential(&self.name_of(&c.vehicle_group_id), c))
            .collect();
        let contexts = self.endpoint.contexts().iter().map(|(g, k)| ContextRecord::new(g, k)).collect();
        let file = WalletFile { version: file::FORMAT_VERSION, keys, contexts, last_serial: self.last_serial };
        let mut text = serde_json::to_vec_pretty(&file).map_err(|e| self.io_error(io::Error::other(e)))?;
        text.push(b'\n');
        private_file::write_atomically(&self.path, &text).map_err(|e| self.io_error(e))
    }

    fn io_error(&self, source: io::Error) -> WalletError {
        WalletError::Io { path: self.path.clone(), source }
    }

    /// The wallet's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates a key pair (and a random slot unless given) for a vehicle. The wallet is
    /// changed in memory; call [`Wallet::save`] to keep it.
    pub fn new_key(&mut self, request: NewKey) -> Result<KeyInfo, WalletError> {
        let group = request.vehicle_group_id;
        if self.endpoint.credential(&group).is_some() {
            return Err(WalletError::DuplicateVehicle(hex::encode(group)));
        }
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let slot = request.slot.unwrap_or_else(|| {
            let mut slot = [0u8; 8];
            rand_core::Rng::fill_bytes(&mut rng, &mut slot);
            slot
        });
        let key = SigningKeyPair::generate(&mut rng);
        let name = request.name.unwrap_or_else(KeyName::default_name);
        let credential = Credential::new(group, request.vehicle_public, key, slot);
        let info = KeyInfo::of(&credential, name.clone(), false);
        self.endpoint.add_credential(credential);
        self.names.insert(group, name);
        Ok(info)
    }

    /// The public facts of every key, in the order they were added.
    pub fn keys(&mut self) -> Vec<KeyInfo> {
        let with_context: Vec<[u8; 16]> = self.endpoint.contexts().iter().map(|(g, _)| *g).collect();
        self.endpoint
            .credentials()
            .iter()
            .map(|c| KeyInfo::of(c, self.name_of(&c.vehicle_group_id), with_context.contains(&c.vehicle_group_id)))
            .collect()
    }

    /// The public facts of the key for one vehicle.
    pub fn key(&mut self, vehicle_group_id: &[u8; 16]) -> Option<KeyInfo> {
        self.keys().into_iter().find(|k| &k.vehicle_group_id == vehicle_group_id)
    }

    /// Names the key for a vehicle (e.g. one the phone created at pairing).
    pub(crate) fn set_name(&mut self, vehicle_group_id: [u8; 16], name: KeyName) {
        self.names.insert(vehicle_group_id, name);
    }

    fn name_of(&self, vehicle_group_id: &[u8; 16]) -> KeyName {
        self.names.get(vehicle_group_id).cloned().unwrap_or_else(KeyName::default_name)
    }

    /// The phone itself, to answer commands or to prepare mailboxes and contexts.
    pub fn endpoint(&mut self) -> &mut Endpoint {
        &mut self.endpoint
    }
}
