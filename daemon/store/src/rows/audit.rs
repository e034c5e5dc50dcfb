//! The `audit` table: the hash chain, one row per entry, `seq` as the primary key.
//!
//! `event` is the JSON of [`AuditEvent`] (the very bytes the entry hash covers), `at` is
//! Unix seconds with a separate `trusted` flag, the hashes are 32-byte blobs.

use carkey_core::audit::{AuditEntry, AuditEvent, AuditHead};
use carkey_core::ports::StoreError;
use carkey_core::time::{WallClockReading, WallTime};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{column, fixed};
use crate::sql::sql_error;

const COLUMNS: [&str; 6] = ["seq", "at", "trusted", "event", "prev_hash", "hash"];

/// Entries after a sequence number, oldest first.
pub(crate) const SELECT_AFTER: &str =
    "SELECT seq, at, trusted, event, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2";
/// Every entry, oldest first.
pub(crate) const SELECT_ALL: &str = "SELECT seq, at, trusted, event, prev_hash, hash FROM audit ORDER BY seq";

/// Decodes one row selected with the columns of [`SELECT_AFTER`] / [`SELECT_ALL`].
pub(crate) fn decode(row: &Row<'_>) -> Result<AuditEntry, StoreError> {
    let seq: i64 = column(row, &COLUMNS, 0).map_err(|e| StoreError::Corrupt(format!("audit row: {e}")))?;
    decode_rest(row, seq).map_err(|e| StoreError::Corrupt(format!("audit row {seq}: {e}")))
}

fn decode_rest(row: &Row<'_>, seq: i64) -> Result<AuditEntry, String> {
    let seq = u64::try_from(seq).ok().filter(|s| *s >= 1).ok_or("column seq: not a positive number")?;
    let time = WallTime(column(row, &COLUMNS, 1)?);
    let trusted = match column::<i64>(row, &COLUMNS, 2)? {
        0 => false,
        1 => true,
        other => return Err(format!("column trusted: {other} is not 0 or 1")),
    };
    let event: String = column(row, &COLUMNS, 3)?;
    let event: AuditEvent = serde_json::from_str(&event).map_err(|e| format!("column event: {e}"))?;
    let prev_hash = fixed::<32>("prev_hash", &column::<Vec<u8>>(row, &COLUMNS, 4)?)?;
    let hash = fixed::<32>("hash", &column::<Vec<u8>>(row, &COLUMNS, 5)?)?;
    Ok(AuditEntry { seq, at: WallClockReading { time, trusted }, event, prev_hash, hash })
}

/// Where the chain ends (the default head when the log is empty).
pub(crate) fn head(conn: &Connection) -> Result<AuditHead, StoreError> {
    let row = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut stmt| {
            stmt.query_row([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))).optional()
        })
        .map_err(sql_error)?;
    let Some((seq, hash)) = row else { return Ok(AuditHead::default()) };
    let corrupt = |e: String| StoreError::Corrupt(format!("audit row {seq}: {e}"));
    let seq_u64 = u64::try_from(seq).map_err(|_| corrupt("column seq: negative".into()))?;
    Ok(AuditHead { seq: seq_u64, hash: fixed::<32>("hash", &hash).map_err(corrupt)? })
}

/// Appends an entry, which must attach to the current head (same rule as the fake: the
/// next sequence number and the head's hash as `prev_hash`).
pub(crate) fn append(conn: &Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    let head = head(conn)?;
    if entry.seq != head.seq.saturating_add(1) || entry.prev_hash != head.hash {
        return Err(StoreError::Conflict(format!("audit entry {} does not follow {}", entry.seq, head.seq)));
    }
    let seq = i64::try_from(entry.seq)
        .map_err(|_| StoreError::Conflict(format!("audit sequence number {} is out of range", entry.seq)))?;
    let event =
        serde_json::to_string(&entry.event).map_err(|e| StoreError::Io(format!("encoding audit event: {e}")))?;
    conn.prepare_cached("INSERT INTO audit (seq, at, trusted, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .and_then(|mut stmt| {
            stmt.execute(params![
                seq,
                entry.at.time.0,
                i64::from(entry.at.trusted),
                event,
                entry.prev_hash.as_slice(),
                entry.hash.as_slice()
            ])
        })
        .map_err(sql_error)?;
    Ok(())
}
