//! [`Key`]: one enrolled key, converted from the wire record at the edge.
//!
//! The wire record is a dictionary of strings and integers with conventions ("0 means
//! never", "" means none, a reason that only makes sense for some states). A dashboard
//! should not have to know them: here a suspended key carries its reason, a key that was
//! never used has no last-use time, and the id is a checked [`KeyId`].

use std::collections::BTreeMap;

use carkey_dbus::KeyRecord;
use zbus::OwnedObjectPath;

use crate::enums::Role;
use crate::error::ClientError;
use crate::key_id::KeyId;
use crate::props::{nonempty, nonzero_i64};

/// Whether a key works, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// The key works within its profile.
    Active,
    /// Disabled until resumed (for example a lost phone), with the reason given.
    Suspended(String),
    /// Disabled for good, with the reason given. A revoked key never changes again.
    Revoked(String),
    /// A state this client does not know (from a newer daemon), with its reason.
    Other {
        /// The state as the daemon writes it.
        state: String,
        /// The daemon's reason ("" if none).
        reason: String,
    },
}

impl KeyState {
    /// Converts the wire pair (`State`, `StateReason`).
    pub fn from_wire(state: &str, reason: String) -> Self {
        match state {
            "active" => Self::Active,
            "suspended" => Self::Suspended(reason),
            "revoked" => Self::Revoked(reason),
            other => Self::Other { state: other.to_owned(), reason },
        }
    }

    /// The state as the daemon writes it: `active`, `suspended`, `revoked` or another word.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Suspended(_) => "suspended",
            Self::Revoked(_) => "revoked",
            Self::Other { state, .. } => state,
        }
    }

    /// Why the key is suspended or revoked; `None` when active or when no reason was given.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Active => None,
            Self::Suspended(reason) | Self::Revoked(reason) | Self::Other { reason, .. } => {
                (!reason.is_empty()).then_some(reason.as_str())
            }
        }
    }
}

/// One enrolled key, revoked ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key slot.
    pub id: KeyId,
    /// The key's D-Bus object, for callers that talk to it directly.
    pub object: OwnedObjectPath,
    /// Display name.
    pub name: String,
    /// Whose key it is.
    pub role: Role,
    /// The access profile's name.
    pub profile: String,
    /// Whether it works, and why not.
    pub state: KeyState,
    /// When it was enrolled (Unix seconds, the vehicle's clock).
    pub created_at: i64,
    /// The last authenticated tap; `None` if never used.
    pub last_used_at: Option<i64>,
    /// The key's own validity start, on top of its profile's; `None` if unbounded.
    pub not_before: Option<i64>,
    /// The key's own validity end, on top of its profile's; `None` if unbounded.
    pub not_after: Option<i64>,
    /// For a key shared offline, the owner key that signed the share.
    pub shared_by: Option<KeyId>,
    /// Allowed uses by action (`unlock`, `lock`, `trunk`, `engine-start`) and `denied`.
    /// Sorted, so that a list shows the same order every time.
    pub usage: BTreeMap<String, u64>,
}

impl TryFrom<KeyRecord> for Key {
    type Error = ClientError;

    /// Fails only on a malformed id (a daemon that breaks the contract): a key whose
    /// identity cannot be trusted must not be shown, or acted on, as some other key.
    fn try_from(record: KeyRecord) -> Result<Self, Self::Error> {
        let id: KeyId =
            record.id.parse().map_err(|e| ClientError::InvalidReply(format!("key id {:?}: {e}", record.id)))?;
        let shared_by = match nonempty(record.shared_by) {
            None => None,
            Some(owner) => Some(
                owner
                    .parse()
                    .map_err(|e| ClientError::InvalidReply(format!("SharedBy of key {id} ({owner:?}): {e}")))?,
            ),
        };
        Ok(Self {
            object: record.object.unwrap_or_else(|| id.object_path()),
            name: record.name,
            role: Role::from(record.role.as_str()),
            profile: record.profile,
            state: KeyState::from_wire(&record.state, record.state_reason),
            created_at: record.created_at,
            last_used_at: nonzero_i64(record.last_used_at),
            not_before: nonzero_i64(record.not_before),
            not_after: nonzero_i64(record.not_after),
            shared_by,
            usage: record.usage.into_iter().collect(),
            id,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    pub(crate) fn record(id: &str) -> KeyRecord {
        KeyRecord {
            object: None,
            id: id.into(),
            name: "Anna's phone".into(),
            role: "friend".into(),
            profile: "restricted".into(),
            state: "suspended".into(),
            state_reason: "lost phone".into(),
            created_at: 1_700_000_000,
            last_used_at: 0,
            not_before: 0,
            not_after: 1_800_000_000,
            shared_by: "00000000000000aa".into(),
            usage: HashMap::from([("unlock".into(), 3), ("denied".into(), 1)]),
        }
    }

    #[test]
    fn a_record_becomes_a_typed_key() {
        let key = Key::try_from(record("0011223344556677")).unwrap();
        assert_eq!(key.id.as_str(), "0011223344556677");
        assert_eq!(key.object.as_str(), "/org/carkey/CarKey1/keys/0011223344556677");
        assert_eq!(key.role, Role::Friend);
        assert_eq!(key.state, KeyState::Suspended("lost phone".into()));
        assert_eq!(key.state.reason(), Some("lost phone"));
        assert_eq!((key.last_used_at, key.not_before, key.not_after), (None, None, Some(1_800_000_000)));
        assert_eq!(key.shared_by.as_ref().map(KeyId::as_str), Some("00000000000000aa"));
        assert_eq!(key.usage.iter().map(|(k, v)| (k.as_str(), *v)).collect::<Vec<_>>(), [("denied", 1), ("unlock", 3)]);
    }

    #[test]
    fn an_owner_key_that_is_active_and_unshared() {
        let mut wire = record("00000000000000aa");
        (wire.role, wire.state, wire.state_reason, wire.shared_by) =
            ("owner".into(), "active".into(), String::new(), String::new());
        wire.last_used_at = 1_700_000_100;
        wire.object = Some(OwnedObjectPath::try_from("/org/carkey/CarKey1/keys/00000000000000aa").unwrap());
        let key = Key::try_from(wire).unwrap();
        assert_eq!((key.role, key.state.clone(), key.shared_by), (Role::Owner, KeyState::Active, None));
        assert_eq!(key.state.reason(), None);
        assert_eq!(key.last_used_at, Some(1_700_000_100));
    }

    #[test]
    fn unknown_role_and_state_are_kept() {
        let mut wire = record("0011223344556677");
        (wire.role, wire.state) = ("fleet".into(), "frozen".into());
        let key = Key::try_from(wire).unwrap();
        assert_eq!(key.role, Role::Other("fleet".into()));
        assert_eq!(key.state, KeyState::Other { state: "frozen".into(), reason: "lost phone".into() });
        assert_eq!(key.state.as_str(), "frozen");
        assert_eq!(KeyState::from_wire("revoked", String::new()).reason(), None);
    }

    #[test]
    fn malformed_ids_are_an_invalid_reply() {
        let error = Key::try_from(record("0011")).unwrap_err();
        assert_eq!(error.name(), "InvalidReply");
        let mut wire = record("0011223344556677");
        wire.shared_by = "owner".into();
        assert_eq!(Key::try_from(wire).unwrap_err().name(), "InvalidReply");
    }
}
