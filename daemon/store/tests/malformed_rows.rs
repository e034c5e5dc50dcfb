//! Rows another writer damaged: every one loads as `StoreError::Corrupt` naming the row,
//! never as a panic or a silently wrong value.
// Tests fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use carkey_core::ports::{KeyStore, StoreError};
use common::{open, populate, raw};

fn corrupt_message(result: Result<impl std::fmt::Debug, StoreError>) -> String {
    match result {
        Err(StoreError::Corrupt(message)) => message,
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn malformed_key_rows_are_corrupt() {
    let cases = [
        ("UPDATE keys SET endpoint = zeroblob(65) WHERE id = x'0101010101010101'", "column endpoint"),
        ("UPDATE keys SET endpoint = x'04' WHERE id = x'0101010101010101'", "column endpoint"),
        ("UPDATE keys SET role = 'admin' WHERE id = x'0101010101010101'", "column role"),
        ("UPDATE keys SET name = '' WHERE id = x'0101010101010101'", "column name"),
        ("UPDATE keys SET profile = 'Not A Slug' WHERE id = x'0101010101010101'", "column profile"),
        ("UPDATE keys SET state = 'lost' WHERE id = x'0101010101010101'", "state"),
        ("UPDATE keys SET state_reason = 'why' WHERE id = x'0101010101010101'", "state_reason"),
        ("UPDATE keys SET state = 'revoked' WHERE id = x'0101010101010101'", "state_reason"),
    ];
    for (sql, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        populate(&mut open(dir.path()));
        raw(dir.path()).execute(sql, []).unwrap();
        let message = corrupt_message(open(dir.path()).load());
        assert!(message.contains("keys row 0101010101010101") && message.contains(expected), "{sql}: {message}");
    }
}

#[test]
fn malformed_share_origins_are_corrupt() {
    // The schema's CHECKs refuse these; a writer that turns them off still cannot make
    // the store load a wrong value.
    let cases = [
        ("UPDATE keys SET shared_by_owner = x'01' WHERE id = x'0202020202020202'", "column shared_by_owner"),
        ("UPDATE keys SET share_serial = NULL WHERE id = x'0202020202020202'", "an owner without a serial"),
        ("UPDATE keys SET share_serial = 1 WHERE id = x'0101010101010101'", "a serial without an owner"),
    ];
    for (sql, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        populate(&mut open(dir.path()));
        let conn = raw(dir.path());
        assert!(conn.execute(sql, []).is_err(), "the schema refuses {sql}");
        conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
        conn.execute(sql, []).unwrap();
        let message = corrupt_message(open(dir.path()).load());
        assert!(message.contains("keys row") && message.contains(expected), "{sql}: {message}");
    }
}

#[test]
fn malformed_pairing_offers_are_corrupt() {
    let cases = [
        ("UPDATE pairing_offer SET source = 'phone'", false, "column source"),
        ("UPDATE pairing_offer SET scrypt_log_n = 30", false, "unacceptable cost"),
        ("UPDATE pairing_offer SET scrypt_log_n = 256", false, "column scrypt_log_n"),
        ("UPDATE pairing_offer SET scrypt_r = -1", false, "column scrypt_r"),
        ("UPDATE pairing_offer SET scrypt_p = 0", false, "unacceptable cost"),
        ("UPDATE pairing_offer SET verifier = zeroblob(125)", false, "column verifier"),
        ("UPDATE pairing_offer SET verifier = substr(verifier, 1, 124)", false, "column verifier"),
        ("UPDATE pairing_offer SET attempts_used = 256", true, "column attempts_used"),
        ("UPDATE pairing_offer SET salt = x'00'", true, "column salt"),
    ];
    for (sql, behind_checks, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        populate(&mut open(dir.path()));
        let conn = raw(dir.path());
        if behind_checks {
            assert!(conn.execute(sql, []).is_err(), "the schema refuses {sql}");
            conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
        }
        conn.execute(sql, []).unwrap();
        let message = corrupt_message(open(dir.path()).load());
        assert!(message.contains("pairing offer") && message.contains(expected), "{sql}: {message}");
    }
}

#[test]
fn malformed_tracking_events_are_corrupt() {
    let cases = [
        ("UPDATE tracking_outbox SET kind = 'lost'", false, "column kind"),
        ("UPDATE tracking_outbox SET key = x'01'", true, "column key"),
    ];
    for (sql, behind_checks, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        populate(&mut open(dir.path()));
        let conn = raw(dir.path());
        if behind_checks {
            assert!(conn.execute(sql, []).is_err(), "the schema refuses {sql}");
            conn.pragma_update(None, "ignore_check_constraints", true).unwrap();
        }
        conn.execute(sql, []).unwrap();
        let message = corrupt_message(open(dir.path()).load());
        assert!(message.contains("tracking_outbox row 1") && message.contains(expected), "{sql}: {message}");
    }
}

#[test]
fn malformed_profile_rows_are_corrupt() {
    let cases = [
        ("INSERT INTO profiles VALUES ('valet-2', '{')", "column definition"),
        ("INSERT INTO profiles VALUES ('valet-2', '{\"id\":\"valet-3\",\"actions\":[]}')", "names profile"),
        ("INSERT INTO profiles VALUES ('valet-2', '{\"id\":\"valet-2\",\"actions\":[\"fly\"]}')", "column definition"),
        ("INSERT INTO profiles VALUES ('Valet 2', '{\"id\":\"valet-2\",\"actions\":[]}')", "column id"),
    ];
    for (sql, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()));
        raw(dir.path()).execute(sql, []).unwrap();
        let message = corrupt_message(open(dir.path()).load());
        assert!(message.contains("profiles row") && message.contains(expected), "{sql}: {message}");
    }
}

#[test]
fn malformed_audit_rows_are_corrupt() {
    let zero = "x'0000000000000000000000000000000000000000000000000000000000000000'";
    let cases = [
        (format!("INSERT INTO audit VALUES (4, 0, 1, 'not json', {zero}, {zero})"), "column event"),
        (
            format!("INSERT INTO audit VALUES (4, 0, 1, '{{\"event\":\"started\",\"version\":\"x\"}}', {zero}, x'00')"),
            "column hash",
        ),
    ];
    for (sql, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        populate(&mut open(dir.path()));
        raw(dir.path()).execute(&sql, []).unwrap();
        let mut store = open(dir.path());
        let message = corrupt_message(store.audit_after(3, 10));
        assert!(message.contains("audit row 4") && message.contains(expected), "{sql}: {message}");
        assert!(corrupt_message(store.verify_audit()).contains("audit row 4"));
        if expected == "column hash" {
            assert!(corrupt_message(store.load()).contains("audit row 4"));
        }
    }
}

#[test]
fn a_malformed_vehicle_row_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    populate(&mut open(dir.path()));
    raw(dir.path()).execute("UPDATE vehicle SET private_key = zeroblob(60)", []).unwrap();
    assert!(corrupt_message(open(dir.path()).load()).contains("vehicle identity: private_key"));
}
