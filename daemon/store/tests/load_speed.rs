//! Start-up cost: the engine loads everything once, before the first tap is served.
// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Instant;

use carkey_core::fakes::store_contract::sample_key;
use carkey_core::ids::KeyId;
use carkey_core::ports::{Change, KeyStore};
use carkey_protocol::crypto::Secret32;
use common::open;

#[test]
fn a_thousand_keys_open_and_load_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let template = sample_key(1);
    let mut changes = Vec::new();
    for i in 0..1000u32 {
        let mut key = template.clone();
        let mut id = [0u8; 8];
        id[4..].copy_from_slice(&i.to_be_bytes());
        key.id = KeyId(id);
        changes.push(Change::PutKey(key));
        changes.push(Change::SetKPersistent(KeyId(id), Some(Secret32::new([1; 32]))));
        changes.push(Change::SetImmobilizerToken(KeyId(id), Some(Secret32::new([2; 32]))));
    }
    open(dir.path()).commit(&changes).unwrap();

    let started = Instant::now();
    let mut store = open(dir.path());
    let loaded = store.load().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(loaded.keys.len(), 1000);
    assert!(loaded.keys.windows(2).all(|w| w[0].key.id < w[1].key.id), "keys load in id order");
    eprintln!("open + load of 1000 keys: {elapsed:?}");
    // A few milliseconds in an optimized build; generous here for unoptimized test builds
    // on a loaded CI machine.
    assert!(elapsed.as_millis() < 2000, "{elapsed:?}");
}
