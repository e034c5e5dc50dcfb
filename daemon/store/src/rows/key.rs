//! The `keys` table: a key's public data in plain columns, its two secrets sealed.
//!
//! Ids are the 8-byte slot as a blob (so `ORDER BY id` is the order of [`KeyId`]), the
//! endpoint is the 65-byte uncompressed SEC1 point, role and state are their stable
//! spellings (the state's reason in its own column), times are Unix seconds, counters are
//! integers (see [`u64_to_sql`] for values above `i64::MAX`). A shared key's origin is
//! the owner key's id and the share's serial, both NULL for a key that was not shared;
//! a unique index refuses the same origin on a second key.

use carkey_core::ids::{KeyId, KeyName, ProfileId};
use carkey_core::key::{DigitalKey, KeyState, Role, ShareOrigin, Usage};
use carkey_core::ports::{StoreError, StoredKey};
use carkey_core::time::{Validity, WallTime};
use carkey_protocol::crypto::{EcPublicKey, Secret32};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{column, fixed};
use crate::crypto::{Place, Sealer};
use crate::sql::{sql_error, u64_from_sql, u64_to_sql};

const COLUMNS: [&str; 21] = [
    "id",
    "name",
    "endpoint",
    "role",
    "profile",
    "state",
    "state_reason",
    "not_before",
    "not_after",
    "created_at",
    "last_used_at",
    "recency",
    "usage_unlock",
    "usage_lock",
    "usage_trunk",
    "usage_engine_start",
    "usage_denied",
    "k_persistent",
    "immobilizer_token",
    "shared_by_owner",
    "share_serial",
];

/// Every key with its sealed secrets, in id order.
pub(crate) const SELECT_ALL: &str = "SELECT id, name, endpoint, role, profile, state, state_reason, \
     not_before, not_after, created_at, last_used_at, recency, usage_unlock, usage_lock, \
     usage_trunk, usage_engine_start, usage_denied, k_persistent, immobilizer_token, \
     shared_by_owner, share_serial FROM keys ORDER BY id";

const UPSERT: &str = "INSERT INTO keys (id, name, endpoint, role, profile, state, state_reason, \
     not_before, not_after, created_at, last_used_at, recency, usage_unlock, usage_lock, \
     usage_trunk, usage_engine_start, usage_denied, shared_by_owner, share_serial) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, endpoint = excluded.endpoint, \
     role = excluded.role, profile = excluded.profile, state = excluded.state, \
     state_reason = excluded.state_reason, not_before = excluded.not_before, \
     not_after = excluded.not_after, created_at = excluded.created_at, \
     last_used_at = excluded.last_used_at, recency = excluded.recency, \
     usage_unlock = excluded.usage_unlock, usage_lock = excluded.usage_lock, \
     usage_trunk = excluded.usage_trunk, usage_engine_start = excluded.usage_engine_start, \
     usage_denied = excluded.usage_denied, shared_by_owner = excluded.shared_by_owner, \
     share_serial = excluded.share_serial";

const fn role_str(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Friend => "friend",
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "owner" => Ok(Role::Owner),
        "friend" => Ok(Role::Friend),
        other => Err(format!("column role: unknown role {other:?}")),
    }
}

const fn state_reason(state: &KeyState) -> Option<&String> {
    match state {
        KeyState::Active => None,
        KeyState::Suspended(reason) | KeyState::Revoked(reason) => Some(reason),
    }
}

fn parse_state(state: &str, reason: Option<String>) -> Result<KeyState, String> {
    match (state, reason) {
        ("active", None) => Ok(KeyState::Active),
        ("suspended", Some(reason)) => Ok(KeyState::Suspended(reason)),
        ("revoked", Some(reason)) => Ok(KeyState::Revoked(reason)),
        (state, reason) => Err(format!(
            "columns state/state_reason: {state:?} with{} a reason",
            if reason.is_some() { "" } else { "out" }
        )),
    }
}

fn shared_by(owner: Option<Vec<u8>>, serial: Option<i64>) -> Result<Option<ShareOrigin>, String> {
    match (owner, serial) {
        (None, None) => Ok(None),
        (Some(owner), Some(serial)) => {
            Ok(Some(ShareOrigin { owner: KeyId(fixed::<8>("shared_by_owner", &owner)?), serial: u64_from_sql(serial) }))
        }
        (owner, _) => Err(format!(
            "columns shared_by_owner/share_serial: {} without {}",
            if owner.is_some() { "an owner" } else { "a serial" },
            if owner.is_some() { "a serial" } else { "an owner" },
        )),
    }
}

/// Inserts a key or replaces its public data; its sealed secrets are left as they are.
/// A share origin already enrolled as another key is a conflict.
pub(crate) fn put(conn: &Connection, key: &DigitalKey) -> Result<(), StoreError> {
    if let Some(origin) = key.shared_by {
        let other: Option<Vec<u8>> = conn
            .prepare_cached("SELECT id FROM keys WHERE shared_by_owner = ?1 AND share_serial = ?2 AND id <> ?3")
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![origin.owner.0.as_slice(), u64_to_sql(origin.serial), key.id.0.as_slice()],
                    |row| row.get(0),
                )
                .optional()
            })
            .map_err(sql_error)?;
        if let Some(other) = other {
            return Err(StoreError::Conflict(format!(
                "share serial {} of owner key {} is already enrolled as key {}",
                origin.serial,
                origin.owner,
                hex::encode(other)
            )));
        }
    }
    let mut stmt = conn.prepare_cached(UPSERT).map_err(sql_error)?;
    stmt.execute(params![
        key.id.0.as_slice(),
        key.name.as_str(),
        key.endpoint.uncompressed().as_slice(),
        role_str(key.role),
        key.profile.as_str(),
        key.state.as_str(),
        state_reason(&key.state),
        key.validity.not_before.map(|t| t.0),
        key.validity.not_after.map(|t| t.0),
        key.created_at.0,
        key.last_used_at.map(|t| t.0),
        u64_to_sql(key.recency),
        u64_to_sql(key.usage.unlock),
        u64_to_sql(key.usage.lock),
        u64_to_sql(key.usage.trunk),
        u64_to_sql(key.usage.engine_start),
        u64_to_sql(key.usage.denied),
        key.shared_by.map(|origin| origin.owner.0),
        key.shared_by.map(|origin| u64_to_sql(origin.serial)),
    ])
    .map_err(sql_error)?;
    Ok(())
}

/// Sets or clears one of a key's secrets; the key must exist.
pub(crate) fn set_secret(
    conn: &Connection,
    sealer: &Sealer,
    place: Place,
    id: KeyId,
    secret: Option<&Secret32>,
) -> Result<(), StoreError> {
    let sql = match place {
        Place::KPersistent => "UPDATE keys SET k_persistent = ?2 WHERE id = ?1",
        Place::ImmobilizerToken => "UPDATE keys SET immobilizer_token = ?2 WHERE id = ?1",
        Place::KeyCheck | Place::VehiclePrivateKey | Place::PairingVerifier => {
            return Err(StoreError::Io(format!("{} is not a key secret", place.label())));
        }
    };
    let sealed = secret
        .map(|secret| sealer.seal(place, &id.0, secret))
        .transpose()
        .map_err(|e| StoreError::Io(e.to_string()))?;
    let updated = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params![id.0.as_slice(), sealed]))
        .map_err(sql_error)?;
    if updated == 0 {
        return Err(StoreError::Conflict(format!("no key {id}")));
    }
    Ok(())
}

/// Decodes one row selected with [`SELECT_ALL`], opening its secrets.
pub(crate) fn decode(row: &Row<'_>, sealer: &Sealer) -> Result<StoredKey, StoreError> {
    let raw: Vec<u8> = column(row, &COLUMNS, 0).map_err(|e| StoreError::Corrupt(format!("keys row: {e}")))?;
    let id =
        KeyId(fixed::<8>("id", &raw).map_err(|e| StoreError::Corrupt(format!("keys row {}: {e}", hex::encode(&raw))))?);
    decode_rest(row, id, sealer).map_err(|e| StoreError::Corrupt(format!("keys row {id}: {e}")))
}

fn decode_rest(row: &Row<'_>, id: KeyId, sealer: &Sealer) -> Result<StoredKey, String> {
    let time = |index| column::<Option<i64>>(row, &COLUMNS, index).map(|t| t.map(WallTime));
    let counter = |index| column::<i64>(row, &COLUMNS, index).map(u64_from_sql);
    let secret = |index, place| -> Result<Option<Secret32>, String> {
        let sealed: Option<Vec<u8>> = column(row, &COLUMNS, index)?;
        sealed
            .map(|sealed| sealer.open(place, &id.0, &sealed))
            .transpose()
            .map_err(|e| format!("column {}: {e}", place.label()))
    };
    let name: String = column(row, &COLUMNS, 1)?;
    let endpoint: Vec<u8> = column(row, &COLUMNS, 2)?;
    let role: String = column(row, &COLUMNS, 3)?;
    let profile: String = column(row, &COLUMNS, 4)?;
    let state: String = column(row, &COLUMNS, 5)?;
    let key = DigitalKey {
        id,
        name: KeyName::new(&name).map_err(|e| format!("column name: {e}"))?,
        endpoint: EcPublicKey::from_uncompressed(&endpoint).map_err(|e| format!("column endpoint: {e}"))?,
        role: parse_role(&role)?,
        profile: ProfileId::new(&profile).map_err(|e| format!("column profile: {e}"))?,
        state: parse_state(&state, column(row, &COLUMNS, 6)?)?,
        validity: Validity { not_before: time(7)?, not_after: time(8)? },
        created_at: WallTime(column(row, &COLUMNS, 9)?),
        last_used_at: time(10)?,
        recency: counter(11)?,
        usage: Usage {
            unlock: counter(12)?,
            lock: counter(13)?,
            trunk: counter(14)?,
            engine_start: counter(15)?,
            denied: counter(16)?,
        },
        shared_by: shared_by(column(row, &COLUMNS, 19)?, column(row, &COLUMNS, 20)?)?,
    };
    Ok(StoredKey {
        key,
        k_persistent: secret(17, Place::KPersistent)?,
        immobilizer_token: secret(18, Place::ImmobilizerToken)?,
    })
}
