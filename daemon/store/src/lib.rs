//! carkey-store: the SQLite implementation of carkey's [`KeyStore`] port.
//!
//! - [`SqliteStore`]: `<state_dir>/carkey.db`, WAL with `synchronous=FULL` (an
//!   acknowledged change survives a power cut), one transaction per
//!   [`KeyStore::commit`], the same conflict rules as the in-memory fake.
//! - The schema is versioned with `PRAGMA user_version` (now [`LATEST_VERSION`]) and
//!   migrated in one transaction at open; a newer database is refused untouched.
//! - Secrets (the vehicle's private key, every K_persistent and immobilizer token, the
//!   pending pairing's SPAKE2+ verifier) are sealed with AES-256-GCM under a key derived
//!   from the [`MasterKey`], each bound to its table, column and row.
//! - `secure_delete` is on: erased rows (a factory reset's above all) are overwritten in
//!   the file, not left in its free space.
//! - [`master_key`]: where the master key comes from (systemd credential, `0600` file,
//!   or generated on first start).
//!
//! See `README.md` in this crate for the schema of each version and the exact labels.
//!
//! [`KeyStore`]: carkey_core::ports::KeyStore
//! [`KeyStore::commit`]: carkey_core::ports::KeyStore::commit

mod changes;
mod crypto;
pub mod master_key;
mod rows;
mod schema;
mod sql;
mod store;

pub use master_key::{MasterKey, MasterKeyError, MasterKeySource};
pub use schema::LATEST_VERSION;
pub use store::SqliteStore;

#[cfg(test)]
mod upgrade_tests;
