//! Applying the engine's [`Change`]s inside one transaction.
//!
//! The rules are those of the in-memory fake (`carkey_core::fakes::FakeStore`), checked
//! explicitly so each refusal is a [`StoreError::Conflict`] that says what was wrong; the
//! caller rolls the whole transaction back on the first error.

use carkey_core::ports::{Change, StoreError};
use rusqlite::Connection;

use crate::crypto::{Place, Sealer};
use crate::rows::{audit, key, pairing, profile, tracking, vehicle};
use crate::schema;

/// Applies a commit's changes in order. A factory reset is accepted only as the first.
pub(crate) fn apply_all(conn: &Connection, sealer: &Sealer, changes: &[Change]) -> Result<(), StoreError> {
    for (index, change) in changes.iter().enumerate() {
        if index > 0 && matches!(change, Change::FactoryReset) {
            return Err(StoreError::Conflict("a factory reset must be the first change of its commit".into()));
        }
        apply(conn, sealer, change)?;
    }
    Ok(())
}

/// Applies one change.
fn apply(conn: &Connection, sealer: &Sealer, change: &Change) -> Result<(), StoreError> {
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
        Change::PutPairingOffer(offer) => pairing::put(conn, sealer, offer),
        Change::SetPairingAttempts(attempts) => pairing::set_attempts(conn, *attempts),
        Change::ClearPairingOffer => pairing::clear(conn),
        Change::QueueTracking(event) => tracking::queue(conn, event),
        Change::FactoryReset => schema::erase_life(conn),
    }
}
