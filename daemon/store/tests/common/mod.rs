//! Helpers shared by the black-box tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

use carkey_core::audit::{AuditEntry, AuditEvent, AuditHead};
use carkey_core::fakes::store_contract::{sample_key, sample_pairing_offer};
use carkey_core::identity::VehicleIdentity;
use carkey_core::ids::KeyId;
use carkey_core::key::ShareOrigin;
use carkey_core::pairing::PairingOffer;
use carkey_core::ports::{Change, KeyStore, TrackingEvent, TrackingKind};
use carkey_core::time::{WallClockReading, WallTime};
use carkey_protocol::crypto::Secret32;
use carkey_store::{MasterKey, SqliteStore};
use rusqlite::Connection;

pub const MASTER: [u8; 32] = [0x11; 32];
pub const K_PERSISTENT: [u8; 32] = [0xA5; 32];
pub const TOKEN: [u8; 32] = [0x5C; 32];

pub fn master() -> MasterKey {
    MasterKey::from_bytes(MASTER)
}

pub fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir, &master()).unwrap()
}

/// A second, independent connection, as a technician's `sqlite3` shell would have.
pub fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join("carkey.db")).unwrap()
}

/// Every file in the directory with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

pub fn audit_entries(n: usize) -> Vec<AuditEntry> {
    let mut head = AuditHead::default();
    (0..n)
        .map(|i| {
            let at = WallClockReading { time: WallTime(1_800_000_000 + i as i64), trusted: true };
            head.append(at, AuditEvent::KeyChanged { key: KeyId([1; 8]), change: format!("change {i}") })
        })
        .collect()
}

/// The pairing offer [`populate`] stores.
pub fn offer() -> PairingOffer {
    sample_pairing_offer(1)
}

/// An identity, keys 1 and 2 (1 with K_persistent, 2 with an immobilizer token, shared by
/// 1 with serial 7), a pairing offer ([`offer`]), a tracking event, and three audit
/// entries.
pub fn populate(store: &mut SqliteStore) -> VehicleIdentity {
    let identity = VehicleIdentity::generate();
    let mut friend = sample_key(2);
    friend.shared_by = Some(ShareOrigin { owner: KeyId([1; 8]), serial: 7 });
    let mut changes = vec![
        Change::SetIdentity(identity.clone()),
        Change::PutKey(sample_key(1)),
        Change::PutKey(friend),
        Change::SetKPersistent(KeyId([1; 8]), Some(Secret32::new(K_PERSISTENT))),
        Change::SetImmobilizerToken(KeyId([2; 8]), Some(Secret32::new(TOKEN))),
        Change::PutPairingOffer(offer()),
        Change::QueueTracking(TrackingEvent {
            key: KeyId([2; 8]),
            kind: TrackingKind::FriendFirstUse,
            at: WallTime(1_800_000_000),
        }),
    ];
    changes.extend(audit_entries(3).into_iter().map(Change::AppendAudit));
    store.commit(&changes).unwrap();
    identity
}
