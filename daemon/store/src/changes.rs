//! Applying the engine's [`Change`]s inside one transaction.
//!
//! The rules are those of the in-memory fake (`carkey_core::fakes::FakeStore`), checked
//! explicitly so each refusal is a [`StoreError::Conflict`] that says what was wrong; the
//! caller rolls the whole transaction back on the first error.

use carkey_core::ports::{Change, StoreError};
use rusqlite::Connection;

use crate::crypto::{Place, Sealer};
use crate::rows::{audit, key, profile, vehicle};

/// Applies one change.
pub(crate) fn apply(conn: &Connection, sealer: &Sealer, change: &Change) -> Result<(), StoreError> {
    match change {
        Change::SetIdentity(identity) => vehicle::insert(conn, sealer, identity),
        Change::PutKey(k) => key::put(conn, k),
        Change::SetKPersistent(id, secret) => key::set_secret(conn, sealer, Place::KPersistent, *id, secret.as_ref()),
        Change::SetImmobilizerToken(id, secret) => {
            key::set_secret(conn, sealer, Place::ImmobilizerToken, *id, secret.as_ref())
        }
        Change::PutProfile(p) => profile::put(conn, p),
        Change::DeleteProfile(id) => profile::delete(conn, id),
        Change::AppendAudit(entry) => audit::append(conn, entry),
    }
}
