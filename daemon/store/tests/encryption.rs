//! Secrets at rest: nothing readable in the file, every ciphertext bound to its place,
//! and a wrong master key detected before anything is written.
// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use carkey_core::ports::{KeyStore, StoreError};
use carkey_store::{MasterKey, SqliteStore};
use common::{K_PERSISTENT, TOKEN, offer, open, populate, raw, snapshot};
use rusqlite::params;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn load_err(dir: &std::path::Path) -> String {
    match open(dir).load() {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn secrets_never_reach_the_file_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let identity = populate(&mut store);
    let files = snapshot(dir.path());
    drop(store);
    let files_after_close = snapshot(dir.path());
    let private = identity.key.private_bytes();
    let verifier = offer().verifier.to_bytes();
    let w0 = &verifier[..32];
    for (name, bytes) in files.iter().chain(&files_after_close) {
        for secret in [K_PERSISTENT.as_slice(), TOKEN.as_slice(), private.expose(), w0] {
            assert!(!contains(bytes, secret), "a secret is readable in {name}");
        }
    }
    let sealed: Vec<u8> =
        raw(dir.path()).query_row("SELECT k_persistent FROM keys WHERE id = ?1", [[1u8; 8]], |r| r.get(0)).unwrap();
    assert_eq!(sealed.len(), 12 + 32 + 16, "nonce ‖ ciphertext ‖ tag");
    let sealed: Vec<u8> = raw(dir.path()).query_row("SELECT verifier FROM pairing_offer", [], |r| r.get(0)).unwrap();
    assert_eq!(sealed.len(), 12 + 97 + 16, "nonce ‖ ciphertext ‖ tag");
}

#[test]
fn a_tampered_ciphertext_is_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    let mut sealed: Vec<u8> =
        conn.query_row("SELECT k_persistent FROM keys WHERE id = ?1", [[1u8; 8]], |r| r.get(0)).unwrap();
    sealed[20] ^= 0x80;
    conn.execute("UPDATE keys SET k_persistent = ?2 WHERE id = ?1", params![[1u8; 8], sealed]).unwrap();
    let message = load_err(dir.path());
    assert!(message.contains("keys row 0101010101010101") && message.contains("k_persistent"), "{message}");
    // A truncated value too.
    conn.execute("UPDATE keys SET k_persistent = x'00' WHERE id = ?1", [[1u8; 8]]).unwrap();
    assert!(load_err(dir.path()).contains("length 1"));
}

#[test]
fn ciphertexts_swapped_between_rows_do_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    // Give key 2 key 1's K_persistent: same column, other row.
    conn.execute(
        "UPDATE keys SET k_persistent = (SELECT k_persistent FROM keys WHERE id = ?1) WHERE id = ?2",
        params![[1u8; 8], [2u8; 8]],
    )
    .unwrap();
    assert!(load_err(dir.path()).contains("keys row 0202020202020202"));
}

#[test]
fn ciphertexts_moved_between_columns_do_not_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    // Key 1's K_persistent presented as its immobilizer token: same row, other column.
    conn.execute("UPDATE keys SET immobilizer_token = k_persistent WHERE id = ?1", [[1u8; 8]]).unwrap();
    assert!(load_err(dir.path()).contains("immobilizer_token"));
}

#[test]
fn the_vehicle_private_key_is_bound_to_its_group_id() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    raw(dir.path()).execute("UPDATE vehicle SET group_id = zeroblob(16)", []).unwrap();
    assert!(load_err(dir.path()).contains("vehicle identity"));
}

#[test]
fn the_pairing_verifier_is_bound_to_its_salt_and_column() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    // The same verifier next to another salt (as if the salt had been replaced).
    conn.execute("UPDATE pairing_offer SET salt = zeroblob(16)", []).unwrap();
    let message = load_err(dir.path());
    assert!(message.contains("pairing offer") && message.contains("verifier"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    // A key's sealed K_persistent is 32 bytes, not a verifier; and a verifier is not a K_persistent.
    conn.execute("UPDATE pairing_offer SET verifier = (SELECT k_persistent FROM keys WHERE id = ?1)", [[1u8; 8]])
        .unwrap();
    assert!(load_err(dir.path()).contains("length 60, expected 125"));
}

#[test]
fn a_wrong_master_key_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let identity = {
        let mut store = open(dir.path());
        populate(&mut store)
    };
    let before = snapshot(dir.path());
    assert_eq!(before.keys().collect::<Vec<_>>(), ["carkey.db"], "a clean close leaves no WAL behind");
    let err = SqliteStore::open(dir.path(), &MasterKey::from_bytes([0x12; 32])).unwrap_err();
    assert_eq!(err, StoreError::WrongMasterKey);
    assert!(!err.to_string().contains("11"), "{err}");
    assert_eq!(snapshot(dir.path()), before, "the database file was modified");

    let loaded = open(dir.path()).load().unwrap();
    assert_eq!(loaded.identity.unwrap().key.private_bytes(), identity.key.private_bytes());
    assert_eq!(loaded.keys.len(), 2);
    assert_eq!(loaded.keys[0].k_persistent.as_ref().unwrap().expose(), &K_PERSISTENT);
    assert_eq!(loaded.keys[1].immobilizer_token.as_ref().unwrap().expose(), &TOKEN);
    assert_eq!(loaded.audit_head.seq, 3);
}

#[test]
fn a_store_without_its_key_check_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    raw(dir.path()).execute("DELETE FROM meta WHERE name = 'key_check'", []).unwrap();
    let err = SqliteStore::open(dir.path(), &common::master()).unwrap_err();
    assert!(matches!(&err, StoreError::Corrupt(m) if m.contains("key_check")), "{err:?}");
}

#[test]
fn debug_output_shows_no_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(format!("{:?}", common::master()), "MasterKey(..)");
    assert_eq!(format!("{store:?}"), format!("SqliteStore {{ path: {:?}, .. }}", dir.path().join("carkey.db")));
}
