//! Schema versions, durability settings and the guards other writers run into.
// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;

use carkey_core::ports::{KeyStore, StoreError};
use carkey_store::{LATEST_VERSION, SqliteStore};
use common::{audit_entries, open, populate, raw, snapshot};

#[test]
fn a_new_store_is_created_at_the_latest_version_private_and_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    assert_eq!(store.path(), dir.path().join("carkey.db"));
    let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let conn = raw(dir.path());
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, LATEST_VERSION);
    store.integrity_check().unwrap();
}

#[test]
fn reopening_a_current_store_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let before = snapshot(dir.path());
    drop(open(dir.path()));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_store_from_a_newer_carkey_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = raw(dir.path());
        conn.execute_batch("CREATE TABLE future (x BLOB); INSERT INTO future VALUES (x'00');").unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1).unwrap();
    }
    let before = snapshot(dir.path());
    let err = SqliteStore::open(dir.path(), &common::master()).unwrap_err();
    assert_eq!(err, StoreError::SchemaTooNew { found: LATEST_VERSION + 1, supported: LATEST_VERSION });
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_foreign_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    raw(dir.path()).execute_batch("CREATE TABLE photos (x BLOB);").unwrap();
    let before = snapshot(dir.path());
    let err = SqliteStore::open(dir.path(), &common::master()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("carkey.db"), vec![0x5A; 4096]).unwrap();
    let err = SqliteStore::open(dir.path(), &common::master()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[test]
fn a_missing_state_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("nope"), &common::master()).unwrap_err();
    assert!(matches!(&err, StoreError::Io(m) if m.contains("nope")), "{err:?}");
}

#[test]
fn the_audit_log_is_append_only_for_every_writer() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    for sql in ["UPDATE audit SET event = '{}' WHERE seq = 2", "DELETE FROM audit WHERE seq = 3", "DELETE FROM audit"] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let mut store = open(dir.path());
    assert_eq!(store.audit_after(0, 10).unwrap(), audit_entries(3));
    assert_eq!(store.verify_audit().unwrap().seq, 3);
}

#[test]
fn an_edit_behind_the_triggers_back_is_caught_by_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    let conn = raw(dir.path());
    conn.execute_batch(
        "DROP TRIGGER audit_no_update;
         UPDATE audit SET event = '{\"event\":\"started\",\"version\":\"forged\"}' WHERE seq = 2;",
    )
    .unwrap();
    let err = open(dir.path()).verify_audit().unwrap_err();
    assert_eq!(err, StoreError::Corrupt("audit entry 2 was altered".into()));
}

#[test]
fn verify_audit_of_an_empty_log_is_the_empty_head() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(open(dir.path()).verify_audit().unwrap(), Default::default());
}
