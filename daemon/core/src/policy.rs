//! The access decision: one pure function, deny by default.

use core::fmt;

use carkey_protocol::reader::TransactionKind;
use serde::{Deserialize, Serialize};

use crate::key::{DigitalKey, KeyState};
use crate::profile::{AccessProfile, Action};
use crate::time::{UtcOffset, WallClockReading, WindowPosition};

/// Why a tap was refused. The spelling of each variant is stable (audit log, D-Bus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Denial {
    /// The phone proved a key this vehicle does not know.
    UnknownKey,
    /// The key was revoked.
    Revoked,
    /// The key is suspended.
    Suspended,
    /// The key's or profile's validity window has ended.
    Expired,
    /// The key's or profile's validity window has not begun.
    NotYetValid,
    /// The profile's weekly schedule does not include now.
    OutsideSchedule,
    /// The profile does not include the action.
    ActionNotAllowed,
    /// The action needs a standard (fresh ECDH) transaction; this one was fast.
    StandardTransactionRequired,
    /// The rule depends on the time, and the vehicle's clock is not trusted.
    ClockUntrusted,
    /// The key refers to a profile that no longer exists.
    ProfileMissing,
    /// The decision could not be recorded durably, so nothing was done.
    StoreUnavailable,
    /// The vehicle did not carry out the command.
    VehicleUnavailable,
}

impl Denial {
    /// Stable spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownKey => "UnknownKey",
            Self::Revoked => "Revoked",
            Self::Suspended => "Suspended",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::OutsideSchedule => "OutsideSchedule",
            Self::ActionNotAllowed => "ActionNotAllowed",
            Self::StandardTransactionRequired => "StandardTransactionRequired",
            Self::ClockUntrusted => "ClockUntrusted",
            Self::ProfileMissing => "ProfileMissing",
            Self::StoreUnavailable => "StoreUnavailable",
            Self::VehicleUnavailable => "VehicleUnavailable",
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an allowed tap may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    /// The action.
    pub action: Action,
    /// The speed limit to hand to the vehicle with an engine start.
    pub speed_limit_kmh: Option<u16>,
}

/// Decides whether `key` (under `profile`, `None` if it is missing) may perform
/// `action` now.
///
/// The checks run from the most to the least permanent reason, so the reported denial
/// is the one that matters most to whoever reads the audit log.
pub fn check(
    key: &DigitalKey,
    profile: Option<&AccessProfile>,
    action: Action,
    kind: TransactionKind,
    now: WallClockReading,
    offset: UtcOffset,
) -> Result<Permit, Denial> {
    match key.state {
        KeyState::Revoked(_) => return Err(Denial::Revoked),
        KeyState::Suspended(_) => return Err(Denial::Suspended),
        KeyState::Active => {}
    }
    let profile = profile.ok_or(Denial::ProfileMissing)?;
    if !profile.actions.contains(action) {
        return Err(Denial::ActionNotAllowed);
    }
    if action == Action::EngineStart && kind != TransactionKind::Standard {
        return Err(Denial::StandardTransactionRequired);
    }
    let time_bound = key.validity.is_bounded() || profile.validity.is_bounded() || profile.schedule.is_some();
    if time_bound && !now.trusted {
        return Err(Denial::ClockUntrusted);
    }
    for window in [key.validity, profile.validity] {
        match window.position(now.time) {
            WindowPosition::Early => return Err(Denial::NotYetValid),
            WindowPosition::Late => return Err(Denial::Expired),
            WindowPosition::Inside => {}
        }
    }
    if let Some(schedule) = &profile.schedule
        && !schedule.allows(now.time, offset)
    {
        return Err(Denial::OutsideSchedule);
    }
    Ok(Permit { action, speed_limit_kmh: profile.speed_limit_kmh })
}

#[cfg(test)]
mod tests {
    use carkey_protocol::crypto::SigningKeyPair;

    use super::*;
    use crate::ids::{KeyId, KeyName, ProfileId};
    use crate::key::{Role, Usage};
    use crate::profile::{ActionSet, builtin_profiles};
    use crate::time::{Validity, WallTime, WeeklySchedule};

    const MONDAY_NOON: WallTime = WallTime(1_795_392_000 + 12 * 3600);
    const TRUSTED: WallClockReading = WallClockReading { time: MONDAY_NOON, trusted: true };

    fn key(profile: &str) -> DigitalKey {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        DigitalKey {
            id: KeyId([1; 8]),
            name: KeyName::new("test").unwrap(),
            endpoint: SigningKeyPair::generate(&mut rng).public().clone(),
            role: Role::Friend,
            profile: ProfileId::new(profile).unwrap(),
            state: KeyState::Active,
            validity: Validity::ALWAYS,
            created_at: WallTime(0),
            last_used_at: None,
            usage: Usage::default(),
            recency: 0,
            shared_by: None,
        }
    }

    fn profile(name: &str) -> AccessProfile {
        builtin_profiles().into_iter().find(|p| p.id.as_str() == name).unwrap()
    }

    fn decide(
        key: &DigitalKey,
        profile: &AccessProfile,
        action: Action,
        kind: TransactionKind,
    ) -> Result<Permit, Denial> {
        check(key, Some(profile), action, kind, TRUSTED, UtcOffset(0))
    }

    #[test]
    fn owner_may_do_everything_but_start_needs_standard() {
        let (k, p) = (key("owner"), profile("owner"));
        for action in [Action::Unlock, Action::Lock, Action::Trunk] {
            assert!(decide(&k, &p, action, TransactionKind::Fast).is_ok());
        }
        assert_eq!(
            decide(&k, &p, Action::EngineStart, TransactionKind::Fast),
            Err(Denial::StandardTransactionRequired)
        );
        assert_eq!(
            decide(&k, &p, Action::EngineStart, TransactionKind::Standard),
            Ok(Permit { action: Action::EngineStart, speed_limit_kmh: None })
        );
    }

    #[test]
    fn trunk_only_opens_only_the_trunk() {
        let (k, p) = (key("trunk-only"), profile("trunk-only"));
        assert!(decide(&k, &p, Action::Trunk, TransactionKind::Fast).is_ok());
        for action in [Action::Unlock, Action::Lock, Action::EngineStart] {
            assert_eq!(decide(&k, &p, action, TransactionKind::Standard), Err(Denial::ActionNotAllowed));
        }
    }

    #[test]
    fn state_outranks_everything() {
        let p = profile("owner");
        let mut k = key("owner");
        k.state = KeyState::Suspended("lost".into());
        assert_eq!(decide(&k, &p, Action::Unlock, TransactionKind::Standard), Err(Denial::Suspended));
        k.state = KeyState::Revoked("sold".into());
        assert_eq!(decide(&k, &p, Action::Unlock, TransactionKind::Standard), Err(Denial::Revoked));
        assert_eq!(
            check(&k, None, Action::Unlock, TransactionKind::Standard, TRUSTED, UtcOffset(0)),
            Err(Denial::Revoked)
        );
        k.state = KeyState::Active;
        assert_eq!(
            check(&k, None, Action::Unlock, TransactionKind::Standard, TRUSTED, UtcOffset(0)),
            Err(Denial::ProfileMissing)
        );
    }

    #[test]
    fn validity_windows_of_key_and_profile_both_apply() {
        let p = profile("driver");
        let mut k = key("driver");
        k.validity = Validity { not_before: Some(WallTime(MONDAY_NOON.0 + 1)), not_after: None };
        assert_eq!(decide(&k, &p, Action::Unlock, TransactionKind::Fast), Err(Denial::NotYetValid));
        k.validity = Validity { not_before: None, not_after: Some(MONDAY_NOON) };
        assert_eq!(decide(&k, &p, Action::Unlock, TransactionKind::Fast), Err(Denial::Expired));
        let mut p2 = p.clone();
        p2.validity = Validity { not_before: None, not_after: Some(MONDAY_NOON) };
        assert_eq!(decide(&key("driver"), &p2, Action::Unlock, TransactionKind::Fast), Err(Denial::Expired));
    }

    #[test]
    fn schedule_is_checked_in_local_time() {
        let mut p = profile("valet");
        p.schedule = Some(WeeklySchedule(vec!["mon 13:00-14:00".parse().unwrap()]));
        let k = key("valet");
        assert_eq!(decide(&k, &p, Action::Unlock, TransactionKind::Fast), Err(Denial::OutsideSchedule));
        assert!(check(&k, Some(&p), Action::Unlock, TransactionKind::Fast, TRUSTED, UtcOffset(90)).is_ok());
    }

    #[test]
    fn an_untrusted_clock_never_opens_a_time_bound_key() {
        let mut p = profile("valet");
        p.schedule = Some(WeeklySchedule(vec!["mon 11:00-13:00".parse().unwrap()]));
        let untrusted = WallClockReading { time: MONDAY_NOON, trusted: false };
        let k = key("valet");
        assert_eq!(
            check(&k, Some(&p), Action::Unlock, TransactionKind::Fast, untrusted, UtcOffset(0)),
            Err(Denial::ClockUntrusted)
        );
        // A key with no time rules does not care about the clock.
        let owner = profile("owner");
        assert!(
            check(&key("owner"), Some(&owner), Action::Unlock, TransactionKind::Fast, untrusted, UtcOffset(0)).is_ok()
        );
    }

    #[test]
    fn an_empty_profile_allows_nothing() {
        let mut p = profile("owner");
        p.actions = ActionSet::NONE;
        for action in Action::ALL {
            assert_eq!(decide(&key("owner"), &p, action, TransactionKind::Standard), Err(Denial::ActionNotAllowed));
        }
    }
}
