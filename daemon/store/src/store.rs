//! [`SqliteStore`]: opening (checks, durability settings, migrations) and the
//! [`KeyStore`] port.

use core::fmt;
use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use carkey_core::audit::{AuditEntry, AuditHead, verify_chain};
use carkey_core::ports::{Change, KeyStore, Loaded, StoreError};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::changes;
use crate::crypto::Sealer;
use crate::master_key::{DATABASE_FILE_NAME, MasterKey};
use crate::rows::{audit, key, pairing, profile, tracking, vehicle};
use crate::schema::{self, LATEST_VERSION};
use crate::sql::sql_error;

/// How long a statement waits for another connection's lock (a technician's `sqlite3`
/// shell, a backup) before failing with an I/O error.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The durable key store: one SQLite database, secrets sealed under the master key.
pub struct SqliteStore {
    conn: Connection,
    sealer: Sealer,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens `<state_dir>/carkey.db`, creating it (mode `0600`) if needed; `state_dir`
    /// itself must exist (systemd's `StateDirectory=` creates it with the right owner).
    ///
    /// Before anything is written, a newer schema is refused ([`StoreError::SchemaTooNew`])
    /// and an existing store's key check must open with `master`
    /// ([`StoreError::WrongMasterKey`]), so a wrong credential changes nothing. Then WAL
    /// and `synchronous=FULL` are set and missing migrations are applied.
    pub fn open(state_dir: &Path, master: &MasterKey) -> Result<Self, StoreError> {
        if !state_dir.is_dir() {
            return Err(StoreError::Io(format!("state directory {} does not exist", state_dir.display())));
        }
        let path = state_dir.join(DATABASE_FILE_NAME);
        create_private(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(&path, flags).map_err(sql_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
        let sealer = Sealer::new(master);

        let found = schema::version(&conn)?;
        if found > LATEST_VERSION {
            return Err(StoreError::SchemaTooNew { found, supported: LATEST_VERSION });
        }
        if found == 0 {
            if !schema::is_empty(&conn)? {
                return Err(StoreError::Corrupt(format!("{} is not a carkey key store", path.display())));
            }
        } else {
            check_master_key(&conn, &sealer)?;
        }

        // WAL: readers never block the engine's commits, and a commit is one append.
        // FULL: in WAL mode, NORMAL may lose the last commits on power loss; FULL fsyncs
        // the WAL at every commit, so an acknowledged change (a revocation) is durable.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0)).map_err(sql_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Io(format!("cannot enable write-ahead logging (journal mode is {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql_error)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(sql_error)?;
        // Deleted and overwritten content (replaced sealed secrets, everything a factory
        // reset erases) is overwritten with zeros in the file rather than left in free
        // space, where a dump of the flash would find it.
        conn.pragma_update(None, "secure_delete", true).map_err(sql_error)?;
        // Everything is read once at start and then held by the engine; steady state only
        // appends. A small page cache keeps the daemon's idle memory low (the head unit's
        // budget), at no cost to the tap path.
        conn.pragma_update(None, "cache_size", -256).map_err(sql_error)?;

        schema::migrate(&mut conn, LATEST_VERSION, |tx| {
            let check = sealer.key_check().map_err(|e| StoreError::Io(e.to_string()))?;
            tx.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?1)", [check]).map_err(sql_error)?;
            Ok(())
        })?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(Self { conn, sealer, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version on disk (after [`open`](Self::open), always [`LATEST_VERSION`]).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::version(&self.conn)
    }

    /// Runs SQLite's `PRAGMA integrity_check` (every page and index): for a technician's
    /// diagnosis or a periodic health check, since it reads the whole file.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check").map_err(sql_error)?;
        let problems =
            stmt.query_map([], |row| row.get::<_, String>(0)).and_then(Iterator::collect::<Result<Vec<_>, _>>);
        let problems = problems.map_err(sql_error)?;
        match problems.as_slice() {
            [ok] if ok == "ok" => Ok(()),
            _ => Err(StoreError::Corrupt(format!("integrity check failed: {}", problems.join("; ")))),
        }
    }

    /// Re-verifies the whole audit hash chain, streaming it row by row so memory stays
    /// flat however long the log is. A broken chain is [`StoreError::Corrupt`].
    pub fn verify_audit(&mut self) -> Result<AuditHead, StoreError> {
        let tx = self.conn.transaction().map_err(sql_error)?;
        let mut head = AuditHead::default();
        {
            let mut stmt = tx.prepare(audit::SELECT_ALL).map_err(sql_error)?;
            let mut rows = stmt.query([]).map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                let entry = audit::decode(row)?;
                head = verify_chain(head, [&entry]).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            }
        }
        tx.commit().map_err(sql_error)?;
        Ok(head)
    }

    /// After a factory reset, copies the WAL into the database and truncates it, so the
    /// erased rows' older versions do not linger in the log (secure_delete has zeroed
    /// them in the database's pages). Best effort: the reset is already durable, so a
    /// reader holding the log back only delays this to a later checkpoint.
    fn checkpoint_after_reset(&self) {
        let result = self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get::<_, i64>(0));
        match result {
            Ok(0) => {}
            Ok(_) => tracing::warn!("key store: the log could not be checkpointed after a factory reset (busy)"),
            Err(error) => tracing::warn!(%error, "key store: checkpoint after a factory reset failed"),
        }
    }
}

/// Creates the database file with mode `0600` if it does not exist yet; SQLite gives its
/// `-wal` and `-shm` files the same mode.
fn create_private(path: &Path) -> Result<(), StoreError> {
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Io(format!("cannot create {}: {e}", path.display()))),
    }
}

/// Compares the stored key check with the master key, reading only.
fn check_master_key(conn: &Connection, sealer: &Sealer) -> Result<(), StoreError> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |row| row.get(0))
        .optional()
        .map_err(sql_error)?;
    let stored = stored.ok_or_else(|| StoreError::Corrupt("meta has no key_check row".into()))?;
    if sealer.verify_key_check(&stored) { Ok(()) } else { Err(StoreError::WrongMasterKey) }
}

impl KeyStore for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        // One read transaction: a consistent snapshot even if another connection writes.
        let tx = self.conn.transaction().map_err(sql_error)?;
        let identity = vehicle::load(&tx, &self.sealer)?;
        let mut keys = Vec::new();
        {
            let mut stmt = tx.prepare_cached(key::SELECT_ALL).map_err(sql_error)?;
            let mut rows = stmt.query([]).map_err(sql_error)?;
            while let Some(row) = rows.next().map_err(sql_error)? {
                keys.push(key::decode(row, &self.sealer)?);
            }
        }
        let profiles = profile::load(&tx)?;
        let audit_head = audit::head(&tx)?;
        let pairing = pairing::load(&tx, &self.sealer)?;
        let tracking_pending = tracking::pending(&tx)?;
        tx.commit().map_err(sql_error)?;
        Ok(Loaded { identity, keys, profiles, audit_head, pairing, tracking_pending })
    }

    fn commit(&mut self, changes: &[Change]) -> Result<(), StoreError> {
        // IMMEDIATE takes the write lock up front, so the batch cannot fail half-way on a
        // lock upgrade; dropping the transaction on an error rolls everything back.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql_error)?;
        changes::apply_all(&tx, &self.sealer, changes)?;
        tx.commit().map_err(sql_error)?;
        if matches!(changes.first(), Some(Change::FactoryReset)) {
            self.checkpoint_after_reset();
        }
        Ok(())
    }

    fn audit_after(&mut self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        // No stored sequence number exceeds i64::MAX, so a larger `after` has nothing after it.
        let Ok(after) = i64::try_from(after) else { return Ok(Vec::new()) };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(audit::SELECT_AFTER).map_err(sql_error)?;
        let mut rows = stmt.query([after, limit]).map_err(sql_error)?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next().map_err(sql_error)? {
            entries.push(audit::decode(row)?);
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_is_durable_and_waits_for_locks() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), &MasterKey::from_bytes([1; 32])).unwrap();
        let pragma = |name: &str| -> i64 { store.conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap() };
        assert_eq!(pragma("synchronous"), 2, "FULL");
        assert_eq!(pragma("foreign_keys"), 1);
        assert_eq!(pragma("busy_timeout"), 5000);
        assert_eq!(pragma("secure_delete"), 1);
    }

    #[test]
    fn a_factory_reset_leaves_no_secret_in_the_files() {
        use carkey_core::fakes::store_contract::{sample_key, sample_pairing_offer};
        use carkey_core::identity::VehicleIdentity;
        use carkey_core::ids::KeyId;
        use carkey_protocol::crypto::Secret32;

        let dir = tempfile::tempdir().unwrap();
        let master = MasterKey::from_bytes([1; 32]);
        let mut store = SqliteStore::open(dir.path(), &master).unwrap();
        let offer = sample_pairing_offer(2);
        store
            .commit(&[
                Change::SetIdentity(VehicleIdentity::generate()),
                Change::PutKey(sample_key(1)),
                Change::SetKPersistent(KeyId([1; 8]), Some(Secret32::new([0xA5; 32]))),
                Change::PutPairingOffer(offer.clone()),
            ])
            .unwrap();
        // Ciphertexts as they are now in the file (the WAL, then the database).
        let sealed: Vec<Vec<u8>> =
            ["SELECT private_key FROM vehicle", "SELECT k_persistent FROM keys", "SELECT verifier FROM pairing_offer"]
                .iter()
                .map(|sql| store.conn.query_row(sql, [], |r| r.get(0)).unwrap())
                .collect();
        store.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0)).unwrap();
        let files = || -> Vec<u8> {
            std::fs::read_dir(dir.path()).unwrap().flat_map(|e| std::fs::read(e.unwrap().path()).unwrap()).collect()
        };
        let contains = |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
        let before = files();
        assert!(sealed.iter().all(|s| contains(&before, s)), "the ciphertexts were written");

        store.commit(&[Change::FactoryReset]).unwrap();
        let after = files();
        for (i, s) in sealed.iter().enumerate() {
            assert!(!contains(&after, s), "ciphertext {i} is still in the files after a factory reset");
        }
        let wal = std::fs::metadata(dir.path().join("carkey.db-wal")).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal, 0, "the log was truncated");
    }
}
