//! `--json` output: one documented shape per value.
//!
//! The shapes are those of the dashboard C API's JSON (carkey-client), so a script and a
//! dashboard read the same field names: snake_case keys, `null` for what the D-Bus API
//! calls "none" (an unset time, no reason), enumerations as the daemon's strings, times as
//! Unix seconds. Objects are written with sorted keys, so the output is byte-stable.

use carkey_client::json::id;
pub(crate) use carkey_client::json::{key, keys, pairing, profile, status};
use carkey_client::{DecisionEvent, Profile, Reader};
use serde_json::{Value, json};

use super::ChangeEvent;

/// An array of profiles (the C API's shape of one).
pub(crate) fn profiles(profiles: &[Profile]) -> Value {
    profiles.iter().map(profile).collect()
}

/// An array of readers (the C API's shape of one).
pub(crate) fn readers(readers: &[Reader]) -> Value {
    readers.iter().map(carkey_client::json::reader).collect()
}

/// A new pairing: `{"code", "expires_at"}`.
pub(crate) fn pairing_code(code: &str, expires_at: Option<i64>) -> Value {
    json!({ "code": code, "expires_at": expires_at })
}

/// A command that changed something and has nothing else to say: `{"ok": true}`.
pub(crate) fn ok() -> Value {
    json!({ "ok": true })
}

/// A decided tap: the C API's decision with `"event": "decision"`, so that a monitor's
/// lines tell decisions from changes.
pub(crate) fn decision(event: &DecisionEvent) -> Value {
    let mut value = carkey_client::json::decision(event);
    if let Value::Object(fields) = &mut value {
        fields.insert("event".to_owned(), Value::from("decision"));
    }
    value
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

    use carkey_client::{Action, Key, KeyId, KeyState, Role, Transaction};

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
