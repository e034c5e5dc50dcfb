//! carkeyd: configuration, wiring and lifecycle of the carkey vehicle daemon.
//!
//! The decisions live in `carkey-core`; this crate reads the configuration, opens the
//! state directory and the key store, binds the readers, connects the vehicle bus,
//! starts the engine and stops it cleanly.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dbus;
pub mod logging;
pub mod recorder;
pub mod state;
