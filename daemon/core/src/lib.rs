//! carkey-core: the vehicle's digital-key domain, without I/O.
//!
//! - [`key`], [`profile`], [`time`]: what a key is, what it may do, and when.
//! - [`policy`]: the single decision function, deny by default, with precise reasons.
//! - [`engine`]: the one task that owns all state, writes through the store, and decides.
//! - [`reader`]: the per-reader task that runs the protocol over an NFC port.
//! - [`ports`]: the traits adapters implement (store, NFC, vehicle bus, backend, clock).
//! - [`audit`]: the hash-chained, append-only record of every decision and change.
//!
//! This crate never opens a socket, a database or a device, and never reads a clock; the
//! adapters and `carkeyd` do, which is what lets every rule here be tested with fakes.

pub mod audit;
pub mod directory;
pub mod engine;
#[cfg(feature = "fakes")]
pub mod fakes;
pub mod identity;
pub mod ids;
pub mod key;
pub mod pairing;
pub mod policy;
pub mod ports;
pub mod profile;
pub mod reader;
pub mod sharing;
pub mod time;
