//! In-memory fakes of every port, for unit tests of the core and of anything built on it.
//! They are deliberately simple and observable; none of them is used by `carkeyd`.

mod backend;
mod bus;
mod clock;
mod nfc;
mod store;
pub mod store_contract;

pub use backend::FakeBackend;
pub use bus::FakeBus;
pub use clock::FakeClock;
pub use nfc::{FakeField, FakeReader, FakeTarget};
pub use store::{FakeStore, FakeStoreData};
