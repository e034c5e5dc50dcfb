//! carkey-dbus: the contract between `carkeyd` and its D-Bus clients.
//!
//! - [`INTROSPECTION_XML`]: the documented interfaces, the source of truth. The daemon's
//!   introspection is checked against it by a golden test.
//! - [`Error`]: every error the daemon returns, named `org.carkey.CarKey1.Error.*`.
//! - [`KeyEntry`], [`KeyRecord`], [`ProfileRecord`], [`Decision`]: the wire types of methods,
//!   properties and signals.
//! - [`proxies`]: typed async client proxies, one per interface.
//! - [`paths`]: object paths of keys and readers.
//!
//! It depends on zbus and serde only, so dashboards and tools can use it without pulling
//! in the daemon.

mod errors;
pub mod paths;
pub mod proxies;
mod records;

pub use errors::Error;
pub use records::{Decision, FieldError, KeyEntry, KeyRecord, ProfileRecord, UsageCounts};

/// The well-known bus name.
pub const BUS_NAME: &str = "org.carkey.CarKey1";

/// The root object: Manager, Pairing, Vehicle, Sync and the ObjectManager.
pub const ROOT_PATH: &str = "/org/carkey/CarKey1";

/// Interface names.
pub mod interfaces {
    /// Keys and profiles.
    pub const MANAGER: &str = "org.carkey.CarKey1.Manager";
    /// One key.
    pub const KEY: &str = "org.carkey.CarKey1.Key";
    /// One reader.
    pub const READER: &str = "org.carkey.CarKey1.Reader";
    /// Owner pairing.
    pub const PAIRING: &str = "org.carkey.CarKey1.Pairing";
    /// Locks and immobilizer.
    pub const VEHICLE: &str = "org.carkey.CarKey1.Vehicle";
    /// Backend exchange.
    pub const SYNC: &str = "org.carkey.CarKey1.Sync";
}

/// The documented introspection data of every carkey interface.
pub const INTROSPECTION_XML: &str = include_str!("../org.carkey.CarKey1.xml");
