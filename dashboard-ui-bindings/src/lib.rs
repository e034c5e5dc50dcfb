//! carkey-client: the dashboard's side of carkey's D-Bus API.
//!
//! A typed async API ([`Client`]) over the `org.carkey.CarKey1` interfaces, for dashboards
//! and tools written in Rust, and a blocking C ABI over it (`include/carkey_client.h`) for
//! dashboards written in C, C++ (Qt) or Dart (Flutter's FFI).
//!
//! The wire speaks strings and "0 means none"; this crate converts at the edge, once, to
//! domain values: a checked [`KeyId`], a [`KeyState`] that carries its reason, `Option`s for
//! times that may be unset, and enums with an `Other(String)` variant so that a value from a
//! newer daemon is shown, not refused. Errors keep the daemon's stable error name
//! ([`ClientError::name`]).
//!
//! It depends on the contract crate (`carkey-dbus`) and zbus only, never on the daemon.
//!
//! ```no_run
//! # async fn demo() -> Result<(), carkey_client::ClientError> {
//! use carkey_client::{Client, KeyState};
//!
//! let client = Client::system().await?;
//! for key in client.keys().await? {
//!     if let KeyState::Suspended(reason) = &key.state {
//!         println!("{} ({}) is suspended: {reason}", key.name, key.id);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod client;
mod decision;
mod enums;
mod error;
mod events;
mod key;
mod key_id;
mod profile;
mod props;
mod state;

pub mod ffi;
pub mod json;
mod status_code;

pub use client::Client;
pub use decision::DecisionEvent;
pub use enums::{Action, PairingSource, ReaderLocation, ReaderState, Role, SyncPhase, Transaction};
pub use error::ClientError;
pub use events::Change;
pub use key::{Key, KeyState};
pub use key_id::{KeyId, KeyIdError};
pub use profile::{Profile, ProfileSpec};
pub use state::{Immobilizer, PairingState, Reader, Status, SyncState, VehicleState};
pub use status_code::CarkeyStatus;
