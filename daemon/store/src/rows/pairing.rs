//! The `pairing_offer` table: at most one row (`id = 1`), the pending owner pairing.
//!
//! The SPAKE2+ verifier is sealed, bound to the offer's scrypt salt (so a verifier moved
//! next to another salt no longer opens); the salt, the scrypt cost, the source and the
//! times are plain columns, as they are sent to the phone anyway.

use std::sync::Arc;

use carkey_core::pairing::{PairingOffer, PairingSource};
use carkey_core::ports::StoreError;
use carkey_core::time::WallTime;
use carkey_protocol::spake2plus::{ScryptParams, VERIFIER_LEN, Verifier};
use rusqlite::{Connection, Row, params};

use super::{column, fixed};
use crate::crypto::{Place, Sealer};
use crate::sql::sql_error;

const COLUMNS: [&str; 9] =
    ["verifier", "salt", "scrypt_log_n", "scrypt_r", "scrypt_p", "source", "created_at", "expires_at", "attempts_used"];

const SELECT: &str = "SELECT verifier, salt, scrypt_log_n, scrypt_r, scrypt_p, source, created_at, \
     expires_at, attempts_used FROM pairing_offer WHERE id = 1";

const UPSERT: &str = "INSERT INTO pairing_offer (id, verifier, salt, scrypt_log_n, scrypt_r, scrypt_p, \
     source, created_at, expires_at, attempts_used) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
     ON CONFLICT (id) DO UPDATE SET verifier = excluded.verifier, salt = excluded.salt, \
     scrypt_log_n = excluded.scrypt_log_n, scrypt_r = excluded.scrypt_r, scrypt_p = excluded.scrypt_p, \
     source = excluded.source, created_at = excluded.created_at, expires_at = excluded.expires_at, \
     attempts_used = excluded.attempts_used";

/// Every source, each spelled by [`PairingSource::as_str`].
const SOURCES: [PairingSource; 2] = [PairingSource::Dashboard, PairingSource::Backend];

// A new source must be added to `SOURCES`, or the store could not read its own rows.
const _: fn(PairingSource) = |source| match source {
    PairingSource::Dashboard | PairingSource::Backend => {}
};

fn parse_source(s: &str) -> Result<PairingSource, String> {
    SOURCES
        .into_iter()
        .find(|source| source.as_str() == s)
        .ok_or_else(|| format!("column source: unknown source {s:?}"))
}

/// Reads the pending offer, if any.
pub(crate) fn load(conn: &Connection, sealer: &Sealer) -> Result<Option<PairingOffer>, StoreError> {
    let mut stmt = conn.prepare_cached(SELECT).map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let Some(row) = rows.next().map_err(sql_error)? else { return Ok(None) };
    decode(row, sealer).map(Some).map_err(|e| StoreError::Corrupt(format!("pairing offer: {e}")))
}

fn decode(row: &Row<'_>, sealer: &Sealer) -> Result<PairingOffer, String> {
    let salt = fixed::<16>("salt", &column::<Vec<u8>>(row, &COLUMNS, 1)?)?;
    let sealed: Vec<u8> = column(row, &COLUMNS, 0)?;
    let verifier = sealer
        .open_bytes::<VERIFIER_LEN>(Place::PairingVerifier, &salt, &sealed)
        .map_err(|e| format!("column verifier: {e}"))?;
    let verifier = Verifier::from_bytes(&verifier[..]).map_err(|e| format!("column verifier: {e}"))?;
    let number = |index| {
        let value: i64 = column(row, &COLUMNS, index)?;
        Ok::<_, String>((value, COLUMNS.get(index).copied().unwrap_or("?")))
    };
    let (log_n, name) = number(2)?;
    let log_n = u8::try_from(log_n).map_err(|_| format!("column {name}: {log_n} is out of range"))?;
    let (r, name) = number(3)?;
    let r = u32::try_from(r).map_err(|_| format!("column {name}: {r} is out of range"))?;
    let (p, name) = number(4)?;
    let p = u32::try_from(p).map_err(|_| format!("column {name}: {p} is out of range"))?;
    let scrypt = ScryptParams { log_n, r, p };
    if !scrypt.is_acceptable() {
        return Err(format!("columns scrypt_log_n/scrypt_r/scrypt_p: unacceptable cost {scrypt:?}"));
    }
    let source: String = column(row, &COLUMNS, 5)?;
    let (attempts, name) = number(8)?;
    Ok(PairingOffer {
        verifier: Arc::new(verifier),
        salt,
        scrypt,
        source: parse_source(&source)?,
        created_at: WallTime(column(row, &COLUMNS, 6)?),
        expires_at: column::<Option<i64>>(row, &COLUMNS, 7)?.map(WallTime),
        attempts_used: u8::try_from(attempts).map_err(|_| format!("column {name}: {attempts} is out of range"))?,
    })
}

/// Stores the offer, replacing any other.
pub(crate) fn put(conn: &Connection, sealer: &Sealer, offer: &PairingOffer) -> Result<(), StoreError> {
    let sealed = sealer
        .seal_bytes(Place::PairingVerifier, &offer.salt, &offer.verifier.to_bytes())
        .map_err(|e| StoreError::Io(e.to_string()))?;
    conn.prepare_cached(UPSERT)
        .and_then(|mut stmt| {
            stmt.execute(params![
                sealed,
                offer.salt.as_slice(),
                offer.scrypt.log_n,
                offer.scrypt.r,
                offer.scrypt.p,
                offer.source.as_str(),
                offer.created_at.0,
                offer.expires_at.map(|t| t.0),
                offer.attempts_used,
            ])
        })
        .map_err(sql_error)?;
    Ok(())
}

/// Records the attempts used; the offer must exist.
pub(crate) fn set_attempts(conn: &Connection, attempts: u8) -> Result<(), StoreError> {
    let updated = conn
        .prepare_cached("UPDATE pairing_offer SET attempts_used = ?1 WHERE id = 1")
        .and_then(|mut stmt| stmt.execute([attempts]))
        .map_err(sql_error)?;
    if updated == 0 {
        return Err(StoreError::Conflict("no pairing offer".into()));
    }
    Ok(())
}

/// Removes the offer, if there is one.
pub(crate) fn clear(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM pairing_offer").and_then(|mut stmt| stmt.execute([])).map_err(sql_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_reads_back_as_written() {
        for source in SOURCES {
            assert_eq!(parse_source(source.as_str()), Ok(source));
        }
        assert!(parse_source("phone").is_err());
    }
}
