//! The `profiles` table: custom access profiles as the JSON of
//! [`AccessProfile`], keyed by id.
//!
//! JSON rather than columns because a profile is read and written whole, and its nested
//! schedule would otherwise need a table of its own; the `AccessProfile` decoder is strict
//! (unknown fields, bad schedules and bad names are refused), so what loads is valid.

use carkey_core::ids::ProfileId;
use carkey_core::ports::StoreError;
use carkey_core::profile::AccessProfile;
use rusqlite::{Connection, params};

use crate::sql::sql_error;

/// Reads every custom profile, ordered by id.
pub(crate) fn load(conn: &Connection) -> Result<Vec<AccessProfile>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, definition FROM profiles ORDER BY id").map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let mut profiles = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error)? {
        let id: String = row.get(0).map_err(|e| StoreError::Corrupt(format!("profiles row: column id: {e}")))?;
        let definition: String =
            row.get(1).map_err(|e| StoreError::Corrupt(format!("profiles row {id:?}: column definition: {e}")))?;
        profiles.push(decode(&id, &definition).map_err(|e| StoreError::Corrupt(format!("profiles row {id:?}: {e}")))?);
    }
    Ok(profiles)
}

fn decode(id: &str, definition: &str) -> Result<AccessProfile, String> {
    let id = ProfileId::new(id).map_err(|e| format!("column id: {e}"))?;
    let profile: AccessProfile = serde_json::from_str(definition).map_err(|e| format!("column definition: {e}"))?;
    if profile.id != id {
        return Err(format!("column definition names profile {:?}", profile.id.as_str()));
    }
    Ok(profile)
}

/// Inserts or replaces a profile.
pub(crate) fn put(conn: &Connection, profile: &AccessProfile) -> Result<(), StoreError> {
    let definition = serde_json::to_string(profile).map_err(|e| StoreError::Io(format!("encoding profile: {e}")))?;
    conn.prepare_cached(
        "INSERT INTO profiles (id, definition) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET definition = excluded.definition",
    )
    .and_then(|mut stmt| stmt.execute(params![profile.id.as_str(), definition]))
    .map_err(sql_error)?;
    Ok(())
}

/// Removes a profile; removing one that does not exist is a conflict.
pub(crate) fn delete(conn: &Connection, id: &ProfileId) -> Result<(), StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM profiles WHERE id = ?1")
        .and_then(|mut stmt| stmt.execute([id.as_str()]))
        .map_err(sql_error)?;
    if removed == 0 {
        return Err(StoreError::Conflict(format!("no profile {id}")));
    }
    Ok(())
}
