//! Access profiles: what a key may do, when, and how fast the car may then go.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ProfileId;
use crate::time::{Validity, WeeklySchedule};

/// Something a tap can ask the vehicle to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Unlock the doors.
    Unlock,
    /// Lock the doors.
    Lock,
    /// Open the trunk.
    Trunk,
    /// Release the immobilizer so the engine may start.
    EngineStart,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 4] = [Self::Unlock, Self::Lock, Self::Trunk, Self::EngineStart];

    /// Stable spelling for logs, audit and D-Bus.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unlock => "unlock",
            Self::Lock => "lock",
            Self::Trunk => "trunk",
            Self::EngineStart => "engine-start",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of actions (serialized as a list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u8);

impl ActionSet {
    /// No action at all.
    pub const NONE: Self = Self(0);

    /// The set of the given actions.
    pub const fn of(actions: &[Action]) -> Self {
        let mut bits = 0;
        let mut rest = actions;
        while let [first, tail @ ..] = rest {
            bits |= first.bit();
            rest = tail;
        }
        Self(bits)
    }

    /// Whether `action` is in the set.
    pub const fn contains(self, action: Action) -> bool {
        self.0 & action.bit() != 0
    }

    /// The actions, in [`Action::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Action> {
        Action::ALL.into_iter().filter(move |a| self.contains(*a))
    }
}

impl Serialize for ActionSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ActionSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let actions = Vec::<Action>::deserialize(deserializer)?;
        Ok(Self::of(&actions))
    }
}

/// What a key may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessProfile {
    /// The profile's name.
    pub id: ProfileId,
    /// Allowed actions; anything else is denied.
    pub actions: ActionSet,
    /// Speed limit handed to the vehicle at engine start, km/h.
    #[serde(default)]
    pub speed_limit_kmh: Option<u16>,
    /// When the profile is valid at all.
    #[serde(default)]
    pub validity: Validity,
    /// When in the week it may be used; `None` means at any time.
    #[serde(default)]
    pub schedule: Option<WeeklySchedule>,
}

/// The built-in profiles every vehicle has; they cannot be changed or removed.
pub fn builtin_profiles() -> Vec<AccessProfile> {
    use Action::{EngineStart, Lock, Trunk, Unlock};
    let profile = |name: &str, actions: &[Action], speed_limit_kmh| AccessProfile {
        id: ProfileId::new(name).unwrap_or_else(|_| unreachable_name()),
        actions: ActionSet::of(actions),
        speed_limit_kmh,
        validity: Validity::ALWAYS,
        schedule: None,
    };
    vec![
        profile(OWNER, &[Unlock, Lock, Trunk, EngineStart], None),
        profile("driver", &[Unlock, Lock, Trunk, EngineStart], None),
        profile("restricted", &[Unlock, Lock, EngineStart], Some(100)),
        profile("valet", &[Unlock, Lock, EngineStart], Some(60)),
        profile("trunk-only", &[Trunk], None),
    ]
}

/// The owner's profile name.
pub const OWNER: &str = "owner";

#[allow(clippy::panic)]
fn unreachable_name() -> ProfileId {
    // The built-in names above are literals that satisfy the name rules (tested below).
    panic!("built-in profile name is invalid")
}

/// Whether `id` names a built-in profile.
pub fn is_builtin(id: &ProfileId) -> bool {
    builtin_profiles().iter().any(|p| &p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_exist_with_their_rules() {
        let all = builtin_profiles();
        let get = |n: &str| all.iter().find(|p| p.id.as_str() == n).unwrap();
        assert!(Action::ALL.iter().all(|a| get("owner").actions.contains(*a)));
        assert_eq!(get("trunk-only").actions.iter().collect::<Vec<_>>(), vec![Action::Trunk]);
        assert!(!get("valet").actions.contains(Action::Trunk));
        assert_eq!(get("restricted").speed_limit_kmh, Some(100));
        assert!(is_builtin(&ProfileId::new("valet").unwrap()));
        assert!(!is_builtin(&ProfileId::new("valet-evenings").unwrap()));
    }

    #[test]
    fn profiles_deserialize_strictly() {
        let p: AccessProfile = serde_json::from_str(
            r#"{"id":"valet-evenings","actions":["unlock","engine-start"],"schedule":["mon-fri 18:00-23:00"]}"#,
        )
        .unwrap();
        assert!(p.actions.contains(Action::EngineStart) && !p.actions.contains(Action::Lock));
        assert!(serde_json::from_str::<AccessProfile>(r#"{"id":"x","actions":[],"colour":"red"}"#).is_err());
        assert!(serde_json::from_str::<AccessProfile>(r#"{"id":"x","actions":["fly"]}"#).is_err());
    }
}
