//! Conversions at the edge: engine values to wire records, wire arguments to validated
//! domain values, engine errors to their stable D-Bus names.

use std::collections::HashMap;

use carkey_core::engine::{CommandError, DecisionEvent};
use carkey_core::ids::{KeyId, KeyName, ProfileId};
use carkey_core::key::{DigitalKey, KeyState, Usage};
use carkey_core::profile::{AccessProfile, Action, ActionSet, is_builtin};
use carkey_core::time::{Validity, WallTime, WeeklySchedule};
use carkey_dbus::{Error, KeyEntry, ProfileRecord, UsageCounts, paths};
use zbus::OwnedVariant;

/// The longest string argument accepted (reasons, names); longer ones are refused before
/// they reach the engine or the audit log.
pub const MAX_TEXT: usize = 256;

/// Every engine refusal has its own name; nothing is folded into a generic failure.
pub fn command_error(error: CommandError) -> Error {
    let message = error.to_string();
    match error {
        CommandError::UnknownKey(_) => Error::UnknownKey(message),
        CommandError::KeyExists(_) => Error::KeyExists(message),
        CommandError::EndpointAlreadyEnrolled(_) => Error::EndpointAlreadyEnrolled(message),
        CommandError::UnknownProfile(_) => Error::UnknownProfile(message),
        CommandError::BuiltinProfile(_) => Error::BuiltinProfile(message),
        CommandError::ProfileInUse { .. } => Error::ProfileInUse(message),
        CommandError::Revoked(_) => Error::Revoked(message),
        CommandError::EndpointRevoked(_) => Error::EndpointRevoked(message),
        CommandError::SlotsFull(_) => Error::SlotsFull(message),
        CommandError::NoPairing => Error::NoPairing(message),
        CommandError::Termination(_) => Error::TerminationRefused(message),
        CommandError::NotSuspended(_) => Error::NotSuspended(message),
        CommandError::OwnerPresenceRequired => Error::OwnerPresenceRequired(message),
        CommandError::Store(_) => Error::StoreFailed(message),
    }
}

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(what.to_string())
}

/// A key id argument.
pub fn key_id(text: &str) -> Result<KeyId, Error> {
    text.parse().map_err(|e| invalid(format!("key id {:?}: {e}", truncate(text))))
}

/// A display name argument.
pub fn key_name(text: &str) -> Result<KeyName, Error> {
    KeyName::new(text).map_err(|e| invalid(format!("name: {e}")))
}

/// A profile name argument.
pub fn profile_id(text: &str) -> Result<ProfileId, Error> {
    ProfileId::new(text).map_err(|e| invalid(format!("profile {:?}: {e}", truncate(text))))
}

/// A free-text reason (kept in the audit log): bounded, no control characters.
pub fn reason(text: &str) -> Result<String, Error> {
    if text.len() > MAX_TEXT || text.chars().any(char::is_control) {
        return Err(invalid(format!("reason must be at most {MAX_TEXT} bytes without control characters")));
    }
    Ok(text.to_owned())
}

/// A validity window from two Unix times, 0 meaning unbounded.
pub fn validity(not_before: i64, not_after: i64) -> Result<Validity, Error> {
    let bound = |t: i64| (t != 0).then_some(WallTime(t));
    let validity = Validity { not_before: bound(not_before), not_after: bound(not_after) };
    if let (Some(from), Some(until)) = (validity.not_before, validity.not_after)
        && until <= from
    {
        return Err(invalid("not_after must be later than not_before"));
    }
    if not_before < 0 || not_after < 0 {
        return Err(invalid("times are Unix seconds, 0 for unbounded"));
    }
    Ok(validity)
}

/// A `PutProfile` argument, checked field by field.
pub fn profile(dict: &HashMap<String, OwnedVariant>) -> Result<AccessProfile, Error> {
    let record = ProfileRecord::from_put_argument(dict).map_err(invalid)?;
    let actions = record
        .actions
        .iter()
        .map(|a| {
            Action::ALL
                .into_iter()
                .find(|known| known.as_str() == a)
                .ok_or_else(|| invalid(format!("unknown action {:?}", truncate(a))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let schedule = if record.schedule.is_empty() {
        None
    } else {
        let windows = record
            .schedule
            .iter()
            .map(|w| w.parse().map_err(|e| invalid(format!("schedule {:?}: {e}", truncate(w)))))
            .collect::<Result<Vec<_>, _>>()?;
        Some(WeeklySchedule(windows))
    };
    Ok(AccessProfile {
        id: profile_id(&record.name)?,
        actions: ActionSet::of(&actions),
        speed_limit_kmh: (record.speed_limit != 0).then_some(record.speed_limit),
        validity: validity(record.not_before, record.not_after)?,
        schedule,
    })
}

fn truncate(text: &str) -> &str {
    let mut end = text.len().min(40);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

fn unix(time: Option<WallTime>) -> i64 {
    time.map_or(0, |t| t.0)
}

/// Why a key is suspended or revoked ("" when active).
pub fn state_reason(state: &KeyState) -> &str {
    match state {
        KeyState::Active => "",
        KeyState::Suspended(reason) | KeyState::Revoked(reason) => reason,
    }
}

/// Uses by action name, and "denied" (the Key object's `Usage` property).
pub fn usage(usage: &Usage) -> HashMap<String, u64> {
    usage_counts(usage).named().into_iter().map(|(name, count)| (name.to_owned(), count)).collect()
}

/// A key's usage counters for `ListKeys`.
pub fn usage_counts(usage: &Usage) -> UsageCounts {
    UsageCounts {
        unlock: usage.unlock,
        lock: usage.lock,
        trunk: usage.trunk,
        engine_start: usage.engine_start,
        denied: usage.denied,
    }
}

/// One key for `ListKeys`; `None` for an id that cannot name an object, which a key id
/// (16 hex digits) always can, and whose key has no object to list either.
pub fn key_entry(key: &DigitalKey) -> Option<KeyEntry> {
    let id = key.id.to_string();
    Some(KeyEntry {
        object: paths::key_path(&id)?,
        name: key.name.as_str().to_owned(),
        role: key.role.as_str().to_owned(),
        profile: key.profile.to_string(),
        state: key.state.as_str().to_owned(),
        state_reason: state_reason(&key.state).to_owned(),
        created_at: key.created_at.0,
        last_used_at: unix(key.last_used_at),
        not_before: unix(key.validity.not_before),
        not_after: unix(key.validity.not_after),
        shared_by: key.shared_by.map(|s| s.owner.to_string()).unwrap_or_default(),
        usage: usage_counts(&key.usage),
        id,
    })
}

/// One profile for `ListProfiles`.
pub fn profile_record(profile: &AccessProfile) -> ProfileRecord {
    ProfileRecord {
        name: profile.id.to_string(),
        built_in: Some(is_builtin(&profile.id)),
        actions: profile.actions.iter().map(|a| a.as_str().to_owned()).collect(),
        speed_limit: profile.speed_limit_kmh.unwrap_or(0),
        schedule: profile.schedule.as_ref().map(|s| s.0.iter().map(ToString::to_string).collect()).unwrap_or_default(),
        not_before: unix(profile.validity.not_before),
        not_after: unix(profile.validity.not_after),
    }
}

/// The `Decision` signal's arguments.
pub fn decision(event: &DecisionEvent) -> carkey_dbus::Decision {
    carkey_dbus::Decision {
        reader: event.reader.to_string(),
        key: event.key.map(|k| k.to_string()).unwrap_or_default(),
        action: event.action.as_str().to_owned(),
        transaction: match event.transaction {
            carkey_core::audit::Transaction::Fast => "fast".to_owned(),
            carkey_core::audit::Transaction::Standard => "standard".to_owned(),
        },
        allowed: event.denied.is_none(),
        reason: event.denied.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        time: event.at.0,
    }
}

#[cfg(test)]
mod tests {
    use zbus::Variant;

    use super::*;

    #[test]
    fn usage_is_named_by_the_actions_names() {
        let counts = usage(&Usage { unlock: 1, lock: 2, trunk: 3, engine_start: 4, denied: 5 });
        for (action, count) in [(Action::Unlock, 1), (Action::Lock, 2), (Action::Trunk, 3), (Action::EngineStart, 4)] {
            assert_eq!(counts.get(action.as_str()), Some(&count), "{action:?}");
        }
        assert_eq!((counts.get("denied"), counts.len()), (Some(&5), 5));
    }

    #[test]
    fn malformed_arguments_get_invalid_argument() {
        let name = |e: Error| e.short_name();
        assert_eq!(name(key_id("zz").unwrap_err()), "InvalidArgument");
        assert_eq!(name(key_id(&"0".repeat(100_000)).unwrap_err()), "InvalidArgument");
        assert_eq!(name(key_name("").unwrap_err()), "InvalidArgument");
        assert_eq!(name(key_name(&"x".repeat(1_000_000)).unwrap_err()), "InvalidArgument");
        assert_eq!(name(reason(&"r".repeat(MAX_TEXT + 1)).unwrap_err()), "InvalidArgument");
        assert_eq!(name(reason("a\nb").unwrap_err()), "InvalidArgument");
        assert_eq!(name(validity(200, 100).unwrap_err()), "InvalidArgument");
        assert_eq!(name(validity(-5, 0).unwrap_err()), "InvalidArgument");
        assert!(validity(0, 0).is_ok());
        let dict = |entries: Vec<(&str, Variant<'static>)>| -> HashMap<String, OwnedVariant> {
            entries.into_iter().map(|(k, v)| (k.to_owned(), OwnedVariant::try_from(v).unwrap())).collect()
        };
        let bad_action = dict(vec![("Name", Variant::from("x")), ("Actions", Variant::from(vec!["fly"]))]);
        assert_eq!(name(profile(&bad_action).unwrap_err()), "InvalidArgument");
        let bad_schedule = dict(vec![
            ("Name", Variant::from("x")),
            ("Actions", Variant::from(vec!["unlock"])),
            ("Schedule", Variant::from(vec!["someday"])),
        ]);
        assert_eq!(name(profile(&bad_schedule).unwrap_err()), "InvalidArgument");
        let good = dict(vec![
            ("Name", Variant::from("evenings")),
            ("Actions", Variant::from(vec!["unlock", "engine-start"])),
            ("SpeedLimit", Variant::from(90u16)),
            ("Schedule", Variant::from(vec!["mon-fri 18:00-23:00"])),
        ]);
        let p = profile(&good).unwrap();
        assert_eq!(p.speed_limit_kmh, Some(90));
        let back = profile_record(&p);
        // Written back in the canonical form, which reads as the same window.
        assert_eq!(back.schedule, ["mon,tue,wed,thu,fri 18:00-23:00"]);
        let again: carkey_core::time::ScheduleWindow = back.schedule[0].parse().unwrap();
        assert_eq!(Some(&again), p.schedule.as_ref().and_then(|s| s.0.first()));
        assert_eq!(back.actions, ["unlock", "engine-start"]);
        assert_eq!(back.built_in, Some(false));
    }
}
