//! The `tracking_outbox` table: key-tracking events waiting for the automaker's backend,
//! in the order they happened (`seq`, never reused).

use carkey_core::ids::KeyId;
use carkey_core::ports::{StoreError, TrackingEvent, TrackingKind};
use carkey_core::time::WallTime;
use rusqlite::{Connection, Row, params};

use super::{column, fixed};
use crate::sql::sql_error;

const COLUMNS: [&str; 4] = ["seq", "key", "kind", "at"];

/// Every queued event, oldest first.
const SELECT_ALL: &str = "SELECT seq, key, kind, at FROM tracking_outbox ORDER BY seq";

/// Every kind, each spelled by [`TrackingKind::as_str`].
const KINDS: [TrackingKind; 4] =
    [TrackingKind::OwnerPaired, TrackingKind::FriendFirstUse, TrackingKind::Revoked, TrackingKind::Terminated];

// A new kind must be added to `KINDS`, or the store could not read its own rows.
const _: fn(TrackingKind) = |kind| match kind {
    TrackingKind::OwnerPaired | TrackingKind::FriendFirstUse | TrackingKind::Revoked | TrackingKind::Terminated => {}
};

fn parse_kind(s: &str) -> Result<TrackingKind, String> {
    KINDS.into_iter().find(|kind| kind.as_str() == s).ok_or_else(|| format!("column kind: unknown kind {s:?}"))
}

/// Appends an event to the outbox.
pub(crate) fn queue(conn: &Connection, event: &TrackingEvent) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO tracking_outbox (key, kind, at) VALUES (?1, ?2, ?3)")
        .and_then(|mut stmt| stmt.execute(params![event.key.0.as_slice(), event.kind.as_str(), event.at.0]))
        .map_err(sql_error)?;
    Ok(())
}

/// How many events wait, each row decoded (a malformed one is
/// [`StoreError::Corrupt`]).
pub(crate) fn pending(conn: &Connection) -> Result<u64, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT_ALL).map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let mut count = 0u64;
    while let Some(row) = rows.next().map_err(sql_error)? {
        decode(row)?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// Decodes one row selected with the columns of `SELECT_ALL`, with its sequence number.
fn decode(row: &Row<'_>) -> Result<(i64, TrackingEvent), StoreError> {
    let seq: i64 = column(row, &COLUMNS, 0).map_err(|e| StoreError::Corrupt(format!("tracking_outbox row: {e}")))?;
    decode_rest(row)
        .map(|event| (seq, event))
        .map_err(|e| StoreError::Corrupt(format!("tracking_outbox row {seq}: {e}")))
}

fn decode_rest(row: &Row<'_>) -> Result<TrackingEvent, String> {
    let key = KeyId(fixed::<8>("key", &column::<Vec<u8>>(row, &COLUMNS, 1)?)?);
    let kind: String = column(row, &COLUMNS, 2)?;
    Ok(TrackingEvent { key, kind: parse_kind(&kind)?, at: WallTime(column(row, &COLUMNS, 3)?) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_written() {
        for kind in KINDS {
            assert_eq!(parse_kind(kind.as_str()), Ok(kind));
        }
        assert!(parse_kind("lost").is_err());
    }
}
