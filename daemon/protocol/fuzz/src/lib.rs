//! Fuzz targets for `carkey-protocol`; see `harness` and the README.

pub mod harness;
