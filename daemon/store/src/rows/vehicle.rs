//! The `vehicle` table: one row holding the vehicle identity, its private key sealed.

use carkey_core::identity::VehicleIdentity;
use carkey_core::ports::StoreError;
use carkey_protocol::crypto::SigningKeyPair;
use rusqlite::{Connection, OptionalExtension, params};

use super::fixed;
use crate::crypto::{Place, Sealer};
use crate::sql::sql_error;

/// Reads the identity, if one was set.
pub(crate) fn load(conn: &Connection, sealer: &Sealer) -> Result<Option<VehicleIdentity>, StoreError> {
    let row = conn
        .prepare_cached("SELECT group_id, private_key FROM vehicle WHERE id = 1")
        .and_then(|mut stmt| {
            stmt.query_row([], |row| Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))).optional()
        })
        .map_err(sql_error)?;
    let Some((group_id, sealed)) = row else { return Ok(None) };
    decode(&group_id, &sealed, sealer).map(Some).map_err(|e| StoreError::Corrupt(format!("vehicle identity: {e}")))
}

fn decode(group_id: &[u8], sealed: &[u8], sealer: &Sealer) -> Result<VehicleIdentity, String> {
    let group_id = fixed::<16>("group_id", group_id)?;
    let private = sealer.open(Place::VehiclePrivateKey, &group_id, sealed).map_err(|e| format!("private_key: {e}"))?;
    let key = SigningKeyPair::from_private_bytes(private.expose()).map_err(|e| format!("private_key: {e}"))?;
    Ok(VehicleIdentity { group_id, key })
}

/// Stores the identity; a second one is a conflict (the vehicle's identity is forever).
pub(crate) fn insert(conn: &Connection, sealer: &Sealer, identity: &VehicleIdentity) -> Result<(), StoreError> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM vehicle)")
        .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)))
        .map_err(sql_error)?;
    if exists {
        return Err(StoreError::Conflict("vehicle identity already set".into()));
    }
    let sealed = sealer
        .seal(Place::VehiclePrivateKey, &identity.group_id, &identity.key.private_bytes())
        .map_err(|e| StoreError::Io(e.to_string()))?;
    conn.prepare_cached("INSERT INTO vehicle (id, group_id, private_key) VALUES (1, ?1, ?2)")
        .and_then(|mut stmt| stmt.execute(params![identity.group_id.as_slice(), sealed]))
        .map_err(sql_error)?;
    Ok(())
}
