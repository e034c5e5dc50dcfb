//! The schema and its history.
//!
//! `PRAGMA user_version` records how many migrations a database has had. Migrations only
//! ever get appended to [`MIGRATIONS`]; a released one is never edited, because databases
//! in cars out there were built by exactly that text. Opening applies the missing ones in
//! order, inside one transaction, so a power cut mid-upgrade leaves the old version.

use rusqlite::{Connection, TransactionBehavior};

use crate::sql::sql_error;
use carkey_core::ports::StoreError;

/// One schema step: from version `n - 1` to `n`, where `n` is its position (from 1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// What the step is for, for humans.
    pub(crate) summary: &'static str,
    /// The SQL, run as one batch.
    pub(crate) sql: &'static str,
}

/// Version 1 (carkey 0.1): store metadata (the key check), the vehicle identity, keys with
/// their sealed secrets, and the hash-chained audit log. Profiles were built-in only.
const V1: &str = r"
CREATE TABLE meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE vehicle (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    group_id    BLOB NOT NULL CHECK (length(group_id) = 16),
    private_key BLOB NOT NULL
) STRICT;

CREATE TABLE keys (
    id                BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 8),
    name              TEXT NOT NULL,
    endpoint          BLOB NOT NULL,
    role              TEXT NOT NULL,
    profile           TEXT NOT NULL,
    state             TEXT NOT NULL,
    state_reason      TEXT,
    not_before        INTEGER,
    not_after         INTEGER,
    created_at        INTEGER NOT NULL,
    last_used_at      INTEGER,
    recency           INTEGER NOT NULL,
    k_persistent      BLOB,
    immobilizer_token BLOB
) STRICT, WITHOUT ROWID;

CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    at        INTEGER NOT NULL,
    trusted   INTEGER NOT NULL CHECK (trusted IN (0, 1)),
    event     TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
) STRICT;
";

/// Version 2 (carkey 0.2): custom access profiles, per-key usage counters, and triggers
/// that make the audit log append-only for every writer, not just for carkeyd.
const V2: &str = r"
CREATE TABLE profiles (
    id         TEXT PRIMARY KEY NOT NULL,
    definition TEXT NOT NULL
) STRICT, WITHOUT ROWID;

ALTER TABLE keys ADD COLUMN usage_unlock       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN usage_lock         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN usage_trunk        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN usage_engine_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN usage_denied       INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
";

/// Version 3 (carkey 0.3): where a shared key came from (an owner key and the share's
/// serial, enrolled at most once), the pending owner pairing with its SPAKE2+ verifier
/// sealed, and the outbox of key-tracking events for the automaker's backend.
const V3: &str = r"
ALTER TABLE keys ADD COLUMN shared_by_owner BLOB
    CHECK (shared_by_owner IS NULL OR length(shared_by_owner) = 8);
ALTER TABLE keys ADD COLUMN share_serial INTEGER
    CHECK ((share_serial IS NULL) = (shared_by_owner IS NULL));

CREATE UNIQUE INDEX keys_share_origin ON keys (shared_by_owner, share_serial)
    WHERE shared_by_owner IS NOT NULL;

CREATE TABLE pairing_offer (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    verifier      BLOB NOT NULL,
    salt          BLOB NOT NULL CHECK (length(salt) = 16),
    scrypt_log_n  INTEGER NOT NULL,
    scrypt_r      INTEGER NOT NULL,
    scrypt_p      INTEGER NOT NULL,
    source        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    attempts_used INTEGER NOT NULL CHECK (attempts_used BETWEEN 0 AND 255)
) STRICT;

CREATE TABLE tracking_outbox (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    key  BLOB NOT NULL CHECK (length(key) = 8),
    kind TEXT NOT NULL,
    at   INTEGER NOT NULL
) STRICT;
";

/// Every migration, oldest first. Entry `i` takes a database to version `i + 1`.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration { summary: "meta, vehicle identity, keys, audit log", sql: V1 },
    Migration { summary: "custom profiles, usage counters, append-only audit", sql: V2 },
    Migration { summary: "shared keys' origin, pending owner pairing, tracking outbox", sql: V3 },
];

/// Tables a factory reset empties: everything about the vehicle's life.
pub(crate) const LIFE_TABLES: &[&str] = &["vehicle", "keys", "profiles", "audit", "pairing_offer", "tracking_outbox"];
/// Tables a factory reset keeps: the store's own metadata (the key check belongs to the
/// master key, not to a vehicle's life) and SQLite's (`sqlite_sequence` keeps outbox
/// sequence numbers from ever being reused). Listed for the test that every table is one
/// or the other.
#[cfg(test)]
const STORE_TABLES: &[&str] = &["meta", "sqlite_sequence"];

/// The trigger that keeps the audit log append-only, exactly as version 2 created it. A
/// factory reset drops it to erase the log and creates it again in the same transaction.
const AUDIT_NO_DELETE: &str = "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;";

/// Deletes every row of every [`LIFE_TABLES`] table, the audit log included, keeping the
/// schema, its version and the key check. Run inside the caller's transaction.
pub(crate) fn erase_life(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("DROP TRIGGER IF EXISTS audit_no_delete").map_err(sql_error)?;
    for table in LIFE_TABLES {
        conn.execute(&format!("DELETE FROM {table}"), []).map_err(sql_error)?;
    }
    conn.execute_batch(AUDIT_NO_DELETE).map_err(sql_error)
}

/// The newest schema version this build reads and writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// The version recorded in the database (0 for a new, empty one).
pub(crate) fn version(conn: &Connection) -> Result<u32, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(sql_error)?;
    u32::try_from(version).map_err(|_| StoreError::Corrupt(format!("schema version {version} is invalid")))
}

/// Whether the database has no schema at all (a new file, or one whose creation was
/// rolled back), as opposed to a foreign database that merely lacks a version.
pub(crate) fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0)).map_err(sql_error)?;
    Ok(objects == 0)
}

/// Brings the database from its current version to `target`, one step at a time, all in
/// one transaction; `on_create` runs in the same transaction when the database was new,
/// so a store never exists without what it writes (the key check).
pub(crate) fn migrate(
    conn: &mut Connection,
    target: u32,
    on_create: impl FnOnce(&Connection) -> Result<(), StoreError>,
) -> Result<u32, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_error)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let from = version(&tx)?;
    if from > LATEST_VERSION {
        return Err(StoreError::SchemaTooNew { found: from, supported: LATEST_VERSION });
    }
    if from >= target {
        return Ok(from);
    }
    if from == 0 && !is_empty(&tx)? {
        return Err(StoreError::Corrupt("the database has tables but no schema version: not a carkey store".into()));
    }
    for version in from + 1..=target {
        let migration = usize::try_from(version - 1)
            .ok()
            .and_then(|index| MIGRATIONS.get(index))
            .ok_or_else(|| StoreError::Io(format!("this build has no migration to schema version {version}")))?;
        tracing::info!(version, summary = migration.summary, "migrating key store schema");
        tx.execute_batch(migration.sql).map_err(sql_error)?;
        tx.pragma_update(None, "user_version", version).map_err(sql_error)?;
    }
    if from == 0 {
        on_create(&tx)?;
    }
    tx.commit().map_err(sql_error)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated(target: u32) -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, target, |_| Ok(())).unwrap();
        conn
    }

    fn tables(conn: &Connection) -> Vec<(String, String, Option<String>)> {
        let mut stmt = conn.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").unwrap();
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_version_steps_to_the_latest_and_matches_a_fresh_database() {
        let fresh = migrated(LATEST_VERSION);
        assert_eq!(version(&fresh).unwrap(), LATEST_VERSION);
        for start in 0..=LATEST_VERSION {
            let mut conn = migrated(start);
            assert_eq!(version(&conn).unwrap(), start);
            assert_eq!(migrate(&mut conn, LATEST_VERSION, |_| Ok(())).unwrap(), LATEST_VERSION);
            assert_eq!(version(&conn).unwrap(), LATEST_VERSION);
            assert_eq!(tables(&conn), tables(&fresh), "from version {start}");
        }
    }

    #[test]
    fn a_factory_reset_empties_every_life_table_and_leaves_the_schema_as_it_was() {
        let fresh = migrated(LATEST_VERSION);
        let conn = migrated(LATEST_VERSION);
        let mut all: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        all.sort();
        let mut known: Vec<String> = LIFE_TABLES.iter().chain(STORE_TABLES).map(|t| (*t).to_owned()).collect();
        known.sort();
        assert_eq!(all, known, "every table must be either erased or kept by a factory reset");

        assert!(V2.contains(AUDIT_NO_DELETE), "the trigger is recreated as version 2 made it");
        conn.execute_batch(
            "INSERT INTO meta VALUES ('key_check', x'00');
             INSERT INTO profiles VALUES ('p', '{}');
             INSERT INTO audit VALUES (1, 0, 1, '{}', zeroblob(32), zeroblob(32));
             INSERT INTO tracking_outbox (key, kind, at) VALUES (zeroblob(8), 'revoked', 0);",
        )
        .unwrap();
        conn.execute_batch("BEGIN").unwrap();
        erase_life(&conn).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        for table in LIFE_TABLES {
            let rows: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap();
            assert_eq!(rows, 0, "{table}");
        }
        let meta: i64 = conn.query_row("SELECT count(*) FROM meta", [], |r| r.get(0)).unwrap();
        assert_eq!(meta, 1);
        assert_eq!(tables(&conn), tables(&fresh));
        assert_eq!(version(&conn).unwrap(), LATEST_VERSION);
        conn.execute("INSERT INTO audit VALUES (1, 0, 1, '{}', zeroblob(32), zeroblob(32))", []).unwrap();
        assert!(conn.execute("DELETE FROM audit", []).unwrap_err().to_string().contains("append-only"));
        // Outbox sequence numbers carry on.
        conn.execute("INSERT INTO tracking_outbox (key, kind, at) VALUES (zeroblob(8), 'revoked', 0)", []).unwrap();
        let seq: i64 = conn.query_row("SELECT seq FROM tracking_outbox", [], |r| r.get(0)).unwrap();
        assert_eq!(seq, 2);
    }

    #[test]
    fn version_3_constraints_hold_for_every_writer() {
        let conn = migrated(LATEST_VERSION);
        let key = |id: u8, owner: &str, serial: &str| {
            conn.execute(
                &format!(
                    "INSERT INTO keys (id, name, endpoint, role, profile, state, created_at, recency,
                                       shared_by_owner, share_serial)
                     VALUES (x'{id:02x}{id:02x}{id:02x}{id:02x}{id:02x}{id:02x}{id:02x}{id:02x}',
                             'k', x'04', 'friend', 'owner', 'active', 0, 0, {owner}, {serial})"
                ),
                [],
            )
        };
        key(1, "NULL", "NULL").unwrap();
        key(2, "NULL", "NULL").unwrap();
        key(3, "x'0101010101010101'", "-1").unwrap();
        key(4, "x'0101010101010101'", "5").unwrap();
        key(5, "x'0202020202020202'", "-1").unwrap();
        let duplicate = key(6, "x'0101010101010101'", "-1").unwrap_err();
        assert!(duplicate.to_string().contains("UNIQUE"), "{duplicate}");
        assert!(key(7, "x'01'", "1").is_err(), "owner id length");
        assert!(key(8, "x'0101010101010101'", "NULL").is_err(), "owner without serial");
        assert!(key(9, "NULL", "1").is_err(), "serial without owner");

        let offer = |id: i64, salt: &str, attempts: i64| {
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO pairing_offer VALUES
                     ({id}, x'00', {salt}, 15, 8, 1, 'dashboard', 0, NULL, {attempts})"
                ),
                [],
            )
        };
        offer(1, "zeroblob(16)", 0).unwrap();
        offer(1, "zeroblob(16)", 255).unwrap();
        assert!(offer(2, "zeroblob(16)", 0).is_err(), "a single offer");
        assert!(offer(1, "zeroblob(15)", 0).is_err(), "salt length");
        assert!(offer(1, "zeroblob(16)", 256).is_err(), "attempts above 255");
        assert!(offer(1, "zeroblob(16)", -1).is_err(), "negative attempts");
        assert!(
            conn.execute("INSERT INTO tracking_outbox (key, kind, at) VALUES (x'01', 'revoked', 0)", []).is_err(),
            "key id length"
        );
    }

    #[test]
    fn a_failed_step_rolls_everything_back() {
        let mut conn = Connection::open_in_memory().unwrap();
        let err = migrate(&mut conn, LATEST_VERSION, |_| Err(StoreError::Io("boom".into()))).unwrap_err();
        assert_eq!(err, StoreError::Io("boom".into()));
        assert_eq!(version(&conn).unwrap(), 0);
        assert!(is_empty(&conn).unwrap());
    }

    #[test]
    fn a_foreign_database_is_not_adopted() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x)").unwrap();
        assert!(matches!(migrate(&mut conn, LATEST_VERSION, |_| Ok(())), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1).unwrap();
        let err = migrate(&mut conn, LATEST_VERSION, |_| Ok(())).unwrap_err();
        assert_eq!(err, StoreError::SchemaTooNew { found: LATEST_VERSION + 1, supported: LATEST_VERSION });
    }
}
