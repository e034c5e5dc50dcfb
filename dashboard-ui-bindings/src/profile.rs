//! Access profiles: [`Profile`] as the daemon lists it, [`ProfileSpec`] as a dashboard
//! writes it.
//!
//! Two types because a built-in flag can be read but never written: `PutProfile` refuses
//! any field it does not know, `BuiltIn` included, so the type that is sent cannot have it.

use std::collections::HashMap;

use carkey_dbus::ProfileRecord;
use zbus::{OwnedVariant, Variant};

use crate::enums::Action;
use crate::error::ClientError;
use crate::props::nonzero_i64;

/// An access profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The profile's name, as keys refer to it.
    pub name: String,
    /// Built-in profiles cannot be replaced or removed.
    pub built_in: bool,
    /// What keys with this profile may do.
    pub actions: Vec<Action>,
    /// Speed limit at engine start, km/h; `None` if none.
    pub speed_limit: Option<u16>,
    /// Weekly windows such as `"mon-fri 18:00-23:00"`; empty means any time.
    pub schedule: Vec<String>,
    /// Valid from (Unix seconds); `None` if unbounded.
    pub not_before: Option<i64>,
    /// Valid until (Unix seconds); `None` if unbounded.
    pub not_after: Option<i64>,
}

impl From<ProfileRecord> for Profile {
    fn from(record: ProfileRecord) -> Self {
        Self {
            name: record.name,
            built_in: record.built_in.unwrap_or(false),
            actions: record.actions.iter().map(|a| Action::from(a.as_str())).collect(),
            speed_limit: (record.speed_limit != 0).then_some(record.speed_limit),
            schedule: record.schedule,
            not_before: nonzero_i64(record.not_before),
            not_after: nonzero_i64(record.not_after),
        }
    }
}

impl Profile {
    /// The profile as a [`ProfileSpec`], to change a field and put it back.
    pub fn to_spec(&self) -> ProfileSpec {
        ProfileSpec {
            name: self.name.clone(),
            actions: self.actions.clone(),
            speed_limit: self.speed_limit,
            schedule: self.schedule.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
        }
    }
}

/// A custom profile to create or replace with [`crate::Client::put_profile`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileSpec {
    /// The profile's name.
    pub name: String,
    /// What keys with this profile may do.
    pub actions: Vec<Action>,
    /// Speed limit at engine start, km/h; `None` for none.
    pub speed_limit: Option<u16>,
    /// Weekly windows such as `"sat-sun 08:00-20:00"`; empty for any time.
    pub schedule: Vec<String>,
    /// Valid from (Unix seconds); `None` for unbounded.
    pub not_before: Option<i64>,
    /// Valid until (Unix seconds); `None` for unbounded.
    pub not_after: Option<i64>,
}

impl ProfileSpec {
    /// The `PutProfile` argument. Every field is sent, unset ones as the API's "none"
    /// value, so that replacing a profile clears what the new spec leaves out.
    pub(crate) fn to_wire(&self) -> Result<HashMap<&'static str, OwnedVariant>, ClientError> {
        let actions: Vec<String> = self.actions.iter().map(|a| a.as_str().to_owned()).collect();
        let owned = |value: Variant<'static>| {
            OwnedVariant::try_from(value).map_err(|e| ClientError::InvalidArgument(format!("profile field: {e}")))
        };
        Ok(HashMap::from([
            ("Name", owned(Variant::from(self.name.clone()))?),
            ("Actions", owned(Variant::from(actions))?),
            ("SpeedLimit", OwnedVariant::from(self.speed_limit.unwrap_or(0))),
            ("Schedule", owned(Variant::from(self.schedule.clone()))?),
            ("NotBefore", OwnedVariant::from(self.not_before.unwrap_or(0))),
            ("NotAfter", OwnedVariant::from(self.not_after.unwrap_or(0))),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_becomes_a_profile() {
        let record = ProfileRecord {
            name: "valet".into(),
            built_in: Some(true),
            actions: vec!["unlock".into(), "engine-start".into(), "teleport".into()],
            speed_limit: 50,
            schedule: vec![],
            not_before: 0,
            not_after: 1_900_000_000,
        };
        let profile = Profile::from(record);
        assert!(profile.built_in);
        assert_eq!(profile.actions, [Action::Unlock, Action::EngineStart, Action::Other("teleport".into())]);
        assert_eq!((profile.speed_limit, profile.not_before, profile.not_after), (Some(50), None, Some(1_900_000_000)));
        let unlimited = Profile::from(ProfileRecord { name: "owner".into(), ..ProfileRecord::default() });
        assert_eq!((unlimited.speed_limit, unlimited.built_in), (None, false));
    }

    #[test]
    fn a_spec_is_the_strict_put_argument_the_daemon_accepts() {
        let spec = ProfileSpec {
            name: "weekend".into(),
            actions: vec![Action::Unlock, Action::Lock],
            speed_limit: Some(80),
            schedule: vec!["sat-sun 08:00-20:00".into()],
            not_before: None,
            not_after: Some(1_900_000_000),
        };
        let wire: HashMap<String, OwnedVariant> =
            spec.to_wire().unwrap().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        // The daemon's own strict parser is the judge of the argument's shape.
        let parsed = ProfileRecord::from_put_argument(&wire).unwrap();
        assert_eq!(parsed.name, "weekend");
        assert_eq!(parsed.actions, ["unlock", "lock"]);
        assert_eq!((parsed.speed_limit, parsed.not_before, parsed.not_after), (80, 0, 1_900_000_000));
        assert_eq!(parsed.schedule, ["sat-sun 08:00-20:00"]);
        assert_eq!(Profile::from(parsed).to_spec(), spec);
    }
}
