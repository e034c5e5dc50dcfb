//! `--json` output: one documented shape per value.
//!
//! The shapes are those of the dashboard C API's JSON (carkey-client), so a script and a
//! dashboard read the same field names: snake_case keys, `null` for what the D-Bus API
//! calls "none" (an unset time, no reason), enumerations as the daemon's strings, times as
//! Unix seconds. Objects are written with sorted keys, so the output is byte-stable.

use carkey_client::{DecisionEvent, Immobilizer, Key, KeyId, PairingState, Profile, Reader, Status};
use serde_json::{Value, json};

use super::ChangeEvent;

fn id(id: Option<&KeyId>) -> Value {
    id.map_or(Value::Null, |id| Value::from(id.as_str()))
}

/// `{"id", "object", "name", "role", "profile", "state", "state_reason", "created_at",
/// "last_used_at", "not_before", "not_after", "shared_by", "usage"}`.
pub(crate) fn key(key: &Key) -> Value {
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
pub(crate) fn keys(keys: &[Key]) -> Value {
    keys.iter().map(key).collect()
}

/// `{"name", "built_in", "actions", "speed_limit", "schedule", "not_before", "not_after"}`.
pub(crate) fn profile(profile: &Profile) -> Value {
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

/// An array of [`profile`]s.
pub(crate) fn profiles(profiles: &[Profile]) -> Value {
    profiles.iter().map(profile).collect()
}

/// An array of `{"object", "name", "location", "state", "last_error"}`.
pub(crate) fn readers(readers: &[Reader]) -> Value {
    readers
        .iter()
        .map(|reader| {
            json!({
                "object": reader.object.as_str(),
                "name": reader.name,
                "location": reader.location.as_str(),
                "state": reader.state.as_str(),
                "last_error": reader.last_error,
            })
        })
        .collect()
}

/// `{"pending", "source", "attempts_left", "expires_at"}`.
pub(crate) fn pairing(pairing: &PairingState) -> Value {
    json!({
        "pending": pairing.pending,
        "source": pairing.source.as_ref().map(|s| s.as_str()),
        "attempts_left": pairing.attempts_left,
        "expires_at": pairing.expires_at,
    })
}

/// A new pairing: `{"code", "expires_at"}`.
pub(crate) fn pairing_code(code: &str, expires_at: Option<i64>) -> Value {
    json!({ "code": code, "expires_at": expires_at })
}

/// `{"version", "vehicle_group_id", "keys_in_use", "max_keys", "owner_present_until",
/// "pairing": {..}, "vehicle": {"locked", "immobilizer", "started_by", "speed_limit"},
/// "sync": {"state", "pending_events", "last_success_at"}}`.
pub(crate) fn status(status: &Status) -> Value {
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

/// A command that changed something and has nothing else to say: `{"ok": true}`.
pub(crate) fn ok() -> Value {
    json!({ "ok": true })
}

/// A decided tap: `{"event": "decision", "reader", "key", "action", "transaction",
/// "allowed", "reason", "time"}`.
pub(crate) fn decision(event: &DecisionEvent) -> Value {
    json!({
        "event": "decision",
        "reader": event.reader,
        "key": id(event.key.as_ref()),
        "action": event.action.as_str(),
        "transaction": event.transaction.as_str(),
        "allowed": event.allowed,
        "reason": event.reason,
        "time": event.time,
    })
}

/// A change: `{"event", "key", "reader", "time"}`, `key` and `reader` `null` unless it is
/// theirs.
pub(crate) fn change(change: &ChangeEvent<'_>) -> Value {
    json!({
        "event": change.event,
        "key": id(change.key),
        "reader": change.reader,
        "time": change.time,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::collections::BTreeMap;

    use carkey_client::{Action, KeyState, Role, Transaction};

    use super::*;

    pub(crate) fn sample_key() -> Key {
        let id: KeyId = "0011223344556677".parse().unwrap();
        Key {
            object: id.object_path(),
            id,
            name: "Anna's phone".into(),
            role: Role::Friend,
            profile: "valet".into(),
            state: KeyState::Suspended("lost phone".into()),
            created_at: 1_795_428_000,
            last_used_at: None,
            not_before: None,
            not_after: Some(1_800_000_000),
            shared_by: None,
            usage: BTreeMap::from([("unlock".into(), 3), ("denied".into(), 1)]),
        }
    }

    #[test]
    fn a_key_has_every_field_with_null_for_none() {
        let value = key(&sample_key());
        let fields: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "created_at",
                "id",
                "last_used_at",
                "name",
                "not_after",
                "not_before",
                "object",
                "profile",
                "role",
                "shared_by",
                "state",
                "state_reason",
                "usage"
            ]
        );
        assert_eq!(value["state"], "suspended");
        assert_eq!(value["state_reason"], "lost phone");
        assert_eq!((value["last_used_at"].clone(), value["shared_by"].clone()), (Value::Null, Value::Null));
        assert_eq!(value["not_after"], 1_800_000_000);
        assert_eq!(value["usage"], json!({"denied": 1, "unlock": 3}));
        assert_eq!(keys(&[sample_key()]).as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn stream_events_say_what_they_are() {
        let tap = DecisionEvent {
            reader: "door-driver".into(),
            key: None,
            action: Action::Unlock,
            transaction: Transaction::Fast,
            allowed: false,
            reason: Some("UnknownKey".into()),
            time: 9,
        };
        assert_eq!(
            decision(&tap),
            json!({"event": "decision", "reader": "door-driver", "key": null, "action": "unlock",
                   "transaction": "fast", "allowed": false, "reason": "UnknownKey", "time": 9})
        );
        let id = sample_key().id;
        let changed = ChangeEvent { time: 5, event: "key-changed", key: Some(&id), reader: None };
        assert_eq!(
            change(&changed),
            json!({"event": "key-changed", "key": "0011223344556677", "reader": null, "time": 5})
        );
        assert_eq!(pairing_code("123456", None), json!({"code": "123456", "expires_at": null}));
    }
}
