//! The ports: what the engine needs from the world, as traits. Adapters (SQLite, the
//! simulated NFC field, libnfc, SocketCAN, the backend client) implement them; the fakes
//! in [`crate::fakes`] implement them in memory for unit tests.
//!
//! Async ports return `Send` futures so the daemon may run them on any runtime flavour.

mod backend;
mod clock;
mod nfc;
mod store;
mod vehicle;

pub use backend::{Backend, BackendError, KeyTrackingReport, RemoteKeyChange, TrackingEvent, TrackingKind};
pub use clock::Clock;
pub use nfc::{NfcError, NfcReader, NfcTarget};
pub use store::{Change, KeyStore, Loaded, StoreError, StoredKey};
pub use vehicle::{BusError, Immobilizer, VehicleBus, VehicleCommand, VehicleState};
