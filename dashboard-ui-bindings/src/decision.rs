//! [`DecisionEvent`]: one decided tap, from the `Manager.Decision` signal.

use crate::enums::{Action, Transaction};
use crate::key_id::KeyId;

/// One decided tap: which reader, which key, what was asked, and whether the vehicle did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEvent {
    /// The reader's name.
    pub reader: String,
    /// The key, or `None` when the phone proved no key this vehicle knows.
    pub key: Option<KeyId>,
    /// What the phone asked for.
    pub action: Action,
    /// How the tap authenticated.
    pub transaction: Transaction,
    /// Whether the vehicle carried it out.
    pub allowed: bool,
    /// Why not: a stable denial name (`Revoked`, `Expired`, `OutsideSchedule`, ...); `None`
    /// when allowed.
    pub reason: Option<String>,
    /// When (Unix seconds, the vehicle's clock).
    pub time: i64,
}

/// The signal's arguments in order: reader, key, action, transaction, allowed, reason, time.
pub(crate) type DecisionArgs = (String, String, String, String, bool, String, i64);

impl DecisionEvent {
    /// Converts the signal's arguments; `None` if the key is neither empty nor a key id.
    ///
    /// Such a signal breaks the contract, and showing it with the key left out would
    /// present a known key's tap as an unknown phone's, so it is dropped instead.
    pub(crate) fn from_args(args: DecisionArgs) -> Option<Self> {
        let (reader, key, action, transaction, allowed, reason, time) = args;
        let key = if key.is_empty() { None } else { Some(key.parse().ok()?) };
        Some(Self {
            reader,
            key,
            action: Action::from(action.as_str()),
            transaction: Transaction::from(transaction.as_str()),
            allowed,
            reason: (!reason.is_empty()).then_some(reason),
            time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(key: &str, action: &str, allowed: bool, reason: &str) -> DecisionArgs {
        ("console".into(), key.into(), action.into(), "standard".into(), allowed, reason.into(), 1_700_000_000)
    }

    #[test]
    fn allowed_and_denied_taps() {
        let allowed = DecisionEvent::from_args(args("0011223344556677", "engine-start", true, "")).unwrap();
        assert_eq!(allowed.key.as_ref().map(KeyId::as_str), Some("0011223344556677"));
        assert_eq!((allowed.action, allowed.transaction), (Action::EngineStart, Transaction::Standard));
        assert_eq!((allowed.allowed, allowed.reason, allowed.time), (true, None, 1_700_000_000));

        let unknown = DecisionEvent::from_args(args("", "unlock", false, "UnknownKey")).unwrap();
        assert_eq!((unknown.key, unknown.reason.as_deref()), (None, Some("UnknownKey")));

        let newer =
            DecisionEvent::from_args(args("0011223344556677", "window-down", false, "ActionNotAllowed")).unwrap();
        assert_eq!(newer.action, Action::Other("window-down".into()));
    }

    #[test]
    fn a_malformed_key_drops_the_event() {
        assert_eq!(DecisionEvent::from_args(args("not-a-key", "unlock", true, "")), None);
    }
}
