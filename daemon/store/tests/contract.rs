//! The shared `KeyStore` contract (the same cases the in-memory fake passes), run against
//! the SQLite store: every `open` of the harness reopens the same database file.
// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use carkey_core::fakes::store_contract::{StoreHarness, run_all};
use carkey_store::{MasterKey, SqliteStore};

struct Harness {
    dir: tempfile::TempDir,
    master: MasterKey,
}

impl StoreHarness for Harness {
    type Store = SqliteStore;

    fn open(&mut self) -> SqliteStore {
        SqliteStore::open(self.dir.path(), &self.master).unwrap()
    }
}

#[test]
fn sqlite_store_passes_the_key_store_contract() {
    run_all(|| Harness { dir: tempfile::tempdir().unwrap(), master: MasterKey::from_bytes([0x11; 32]) });
}
