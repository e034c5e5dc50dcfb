//! The dashboard's D-Bus service (`org.carkey.CarKey1`).
//!
//! Objects only authorize, convert and forward to the engine ([`shared::Shared`]); the
//! [`mirror`] task follows the engine's status snapshot and decision stream and turns
//! them into object additions, `PropertiesChanged` and `Decision` signals.

pub mod authz;
pub mod convert;
mod key;
mod mirror;
mod reader;
mod root;
pub mod shared;

pub use mirror::{Service, start};
pub use reader::{ReaderHealth, ReaderInfo};
