//! The fake store honours the same contract as the SQLite store.

use carkey_core::fakes::FakeStore;
use carkey_core::fakes::store_contract::{StoreHarness, run_all};

struct Harness(FakeStore);

impl StoreHarness for Harness {
    type Store = FakeStore;

    fn open(&mut self) -> FakeStore {
        self.0.clone()
    }
}

#[test]
fn fake_store_meets_the_contract() {
    run_all(|| Harness(FakeStore::default()));
}
