//! The JSON the C API returns (and `carkeyctl --json` prints): one documented shape per
//! value, built here and nowhere else.
//!
//! JSON rather than C structs because a dashboard's UI layer (QML, Dart) consumes JSON
//! natively, and a new field in a newer version does not change the ABI. Field names are
//! snake_case; values the API calls "none" are `null`; enumerations are the daemon's strings.

use serde_json::{Value, json};

use crate::decision::DecisionEvent;
use crate::key::Key;
use crate::key_id::KeyId;
use crate::profile::Profile;
use crate::state::{Immobilizer, PairingState, Reader, Status};

/// A key id, or `null` for none.
pub fn id(id: Option<&KeyId>) -> Value {
    id.map_or(Value::Null, |id| Value::from(id.as_str()))
}

/// One key: `{"id", "object", "name", "role", "profile", "state", "state_reason",
/// "created_at", "last_used_at", "not_before", "not_after", "shared_by", "usage"}`.
pub fn key(key: &Key) -> Value {
    json!({
        "id": key.id.as_str(),
        "object": key.object.as_str(),
        "name": key.name,
        "role": key.role.as_str(),
        "profile": key.profile,
        "state": key.state.as_str(),
        "state_reason": key.state.reason(),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "not_before": key.not_before,
        "not_after": key.not_after,
        "shared_by": id(key.shared_by.as_ref()),
        "usage": key.usage,
    })
}

/// An array of [`key`]s.
pub fn keys(keys: &[Key]) -> Value {
    Value::Array(keys.iter().map(key).collect())
}

/// One profile: `{"name", "built_in", "actions", "speed_limit", "schedule", "not_before",
/// "not_after"}`.
pub fn profile(profile: &Profile) -> Value {
    json!({
        "name": profile.name,
        "built_in": profile.built_in,
        "actions": profile.actions.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "speed_limit": profile.speed_limit,
        "schedule": profile.schedule,
        "not_before": profile.not_before,
        "not_after": profile.not_after,
    })
}

/// One reader: `{"object", "name", "location", "state", "last_error"}`.
pub fn reader(reader: &Reader) -> Value {
    json!({
        "object": reader.object.as_str(),
        "name": reader.name,
        "location": reader.location.as_str(),
        "state": reader.state.as_str(),
        "last_error": reader.last_error,
    })
}

/// Owner pairing: `{"pending", "source", "attempts_left", "expires_at"}`.
pub fn pairing(pairing: &PairingState) -> Value {
    json!({
        "pending": pairing.pending,
        "source": pairing.source.as_ref().map(|s| s.as_str()),
        "attempts_left": pairing.attempts_left,
        "expires_at": pairing.expires_at,
    })
}

/// The status page: `{"version", "vehicle_group_id", "keys_in_use", "max_keys",
/// "owner_present_until", "pairing": {..}, "vehicle": {..}, "sync": {..}}`.
pub fn status(status: &Status) -> Value {
    let (immobilizer, started_by, speed_limit) = match &status.vehicle.immobilizer {
        Immobilizer::Armed => ("armed", Value::Null, None),
        Immobilizer::Released { by, speed_limit } => ("released", id(by.as_ref()), *speed_limit),
        Immobilizer::Other(other) => (other.as_str(), Value::Null, None),
    };
    json!({
        "version": status.version,
        "vehicle_group_id": status.vehicle_group_id,
        "keys_in_use": status.keys_in_use,
        "max_keys": status.max_keys,
        "owner_present_until": status.owner_present_until,
        "pairing": pairing(&status.pairing),
        "vehicle": {
            "locked": status.vehicle.locked,
            "immobilizer": immobilizer,
            "started_by": started_by,
            "speed_limit": speed_limit,
        },
        "sync": {
            "state": status.sync.phase.as_str(),
            "pending_events": status.sync.pending_events,
            "last_success_at": status.sync.last_success_at,
        },
    })
}

/// One decided tap: `{"reader", "key", "action", "transaction", "allowed", "reason", "time"}`.
pub fn decision(event: &DecisionEvent) -> Value {
    json!({
        "reader": event.reader,
        "key": id(event.key.as_ref()),
        "action": event.action.as_str(),
        "transaction": event.transaction.as_str(),
        "allowed": event.allowed,
        "reason": event.reason,
        "time": event.time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::{Action, SyncPhase, Transaction};
    use crate::state::{SyncState, VehicleState};

    #[test]
    fn keys_use_null_for_none() {
        let key = Key::try_from(crate::key::tests::record("0011223344556677")).unwrap();
        let value = keys(&[key]);
        assert_eq!(value[0]["id"], "0011223344556677");
        assert_eq!(value[0]["state"], "suspended");
        assert_eq!(value[0]["state_reason"], "lost phone");
        assert_eq!(value[0]["last_used_at"], Value::Null);
        assert_eq!(value[0]["not_after"], 1_800_000_000);
        assert_eq!(value[0]["shared_by"], "00000000000000aa");
        assert_eq!(value[0]["usage"]["unlock"], 3);
    }

    #[test]
    fn status_and_decision_shapes() {
        let status = Status {
            version: "0.1.0".into(),
            vehicle_group_id: "00".repeat(16),
            keys_in_use: 1,
            max_keys: 16,
            owner_present_until: None,
            pairing: PairingState { pending: false, source: None, attempts_left: 7, expires_at: None },
            vehicle: VehicleState {
                locked: true,
                immobilizer: Immobilizer::Released { by: "0011223344556677".parse().ok(), speed_limit: Some(80) },
            },
            sync: SyncState { phase: SyncPhase::Idle, pending_events: 0, last_success_at: Some(5) },
        };
        let value = status_json_roundtrip(&status);
        assert_eq!(value["vehicle"]["immobilizer"], "released");
        assert_eq!(value["vehicle"]["started_by"], "0011223344556677");
        assert_eq!(value["vehicle"]["speed_limit"], 80);
        assert_eq!(value["pairing"]["source"], Value::Null);
        assert_eq!(value["sync"]["state"], "idle");

        let event = DecisionEvent {
            reader: "door-driver".into(),
            key: None,
            action: Action::Unlock,
            transaction: Transaction::Fast,
            allowed: false,
            reason: Some("UnknownKey".into()),
            time: 9,
        };
        let value = decision(&event);
        assert_eq!((value["key"].clone(), value["reason"].clone()), (Value::Null, Value::from("UnknownKey")));
    }

    fn status_json_roundtrip(value: &Status) -> Value {
        // What the C side receives is the serialized text; read it back as a consumer would.
        serde_json::from_str(&status(value).to_string()).unwrap()
    }
}
