//! carkey-nfc: NFC readers for `carkeyd`, implementing [`carkey_core::ports::NfcReader`].
//!
//! - [`simulated`]: the simulated field, a Unix socket that phone simulators connect to
//!   (tests, development, demos without hardware).
//! - [`framing`]: its wire format, shared with the simulators so that both sides agree
//!   by construction.
//!
//! The libnfc reader for real hardware will live next to them.

pub mod framing;
pub mod simulated;

pub use simulated::{SimulatedReader, SimulatedTarget};
