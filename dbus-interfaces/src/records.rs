//! Wire types of method results, arguments and signals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use zbus::{DeserializeDict, OwnedObjectPath, OwnedVariant, SerializeDict, Type};

/// One key entry of `Manager.ListKeys`: the key's object and its Key properties, as a
/// struct (`(ossssssxxxxs(ttttt))`, fields in this order, fixed for version 1 of the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct KeyEntry {
    /// The key's object.
    pub object: OwnedObjectPath,
    /// The key slot, 16 hex digits.
    pub id: String,
    /// Display name.
    pub name: String,
    /// "owner" or "friend".
    pub role: String,
    /// The access profile's name.
    pub profile: String,
    /// "active", "suspended" or "revoked".
    pub state: String,
    /// Why suspended or revoked.
    pub state_reason: String,
    /// Enrolment time (Unix seconds).
    pub created_at: i64,
    /// Last authenticated tap (0: never).
    pub last_used_at: i64,
    /// Own validity start (0: unbounded).
    pub not_before: i64,
    /// Own validity end (0: unbounded).
    pub not_after: i64,
    /// The owner key that shared it ("" if not shared).
    pub shared_by: String,
    /// Uses by action, and denied taps.
    pub usage: UsageCounts,
}

/// A key's usage counters in [`KeyEntry`]: a fixed struct (`(ttttt)`), where the Key
/// object's `Usage` property is a dictionary by the same names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct UsageCounts {
    /// "unlock".
    pub unlock: u64,
    /// "lock".
    pub lock: u64,
    /// "trunk".
    pub trunk: u64,
    /// "engine-start".
    pub engine_start: u64,
    /// "denied".
    pub denied: u64,
}

impl UsageCounts {
    /// The counters by the names of the Key object's `Usage` property.
    pub fn named(self) -> [(&'static str, u64); 5] {
        [
            ("unlock", self.unlock),
            ("lock", self.lock),
            ("trunk", self.trunk),
            ("engine-start", self.engine_start),
            ("denied", self.denied),
        ]
    }
}

impl From<KeyEntry> for KeyRecord {
    fn from(entry: KeyEntry) -> Self {
        Self {
            object: Some(entry.object),
            id: entry.id,
            name: entry.name,
            role: entry.role,
            profile: entry.profile,
            state: entry.state,
            state_reason: entry.state_reason,
            created_at: entry.created_at,
            last_used_at: entry.last_used_at,
            not_before: entry.not_before,
            not_after: entry.not_after,
            shared_by: entry.shared_by,
            usage: entry.usage.named().into_iter().map(|(name, count)| (name.to_owned(), count)).collect(),
        }
    }
}

/// One key's Key properties by name, as `Properties.GetAll` returns them (`Object` is
/// set only when converted from a [`KeyEntry`]). Unknown properties from a newer daemon
/// are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, SerializeDict, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub struct KeyRecord {
    /// The key's object.
    pub object: Option<OwnedObjectPath>,
    /// The key slot, 16 hex digits.
    pub id: String,
    /// Display name.
    pub name: String,
    /// "owner" or "friend".
    pub role: String,
    /// The access profile's name.
    pub profile: String,
    /// "active", "suspended" or "revoked".
    pub state: String,
    /// Why suspended or revoked.
    pub state_reason: String,
    /// Enrolment time (Unix seconds).
    pub created_at: i64,
    /// Last authenticated tap (0: never).
    pub last_used_at: i64,
    /// Own validity start (0: unbounded).
    pub not_before: i64,
    /// Own validity end (0: unbounded).
    pub not_after: i64,
    /// The owner key that shared it ("" if not shared).
    pub shared_by: String,
    /// Uses by action and "denied".
    pub usage: HashMap<String, u64>,
}

/// An access profile, as `Manager.ListProfiles` returns it and `Manager.PutProfile` takes
/// it (without `BuiltIn`).
#[derive(Debug, Clone, Default, PartialEq, Eq, SerializeDict, DeserializeDict, Type)]
#[zbus(signature = "a{sv}", rename_all = "PascalCase")]
pub struct ProfileRecord {
    /// The profile's name.
    pub name: String,
    /// Whether it is built in (read only; never sent to the daemon).
    pub built_in: Option<bool>,
    /// Allowed actions: unlock, lock, trunk, engine-start.
    pub actions: Vec<String>,
    /// Speed limit at engine start, km/h (0: none).
    pub speed_limit: u16,
    /// Weekly windows, e.g. "mon-fri 18:00-23:00" (empty: any time).
    pub schedule: Vec<String>,
    /// Valid from (0: unbounded).
    pub not_before: i64,
    /// Valid until (0: unbounded).
    pub not_after: i64,
}

/// Why a dictionary argument was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// A field this version does not know.
    Unknown(String),
    /// A required field is missing.
    Missing(&'static str),
    /// A field has the wrong D-Bus type.
    WrongType {
        /// The field.
        field: String,
        /// The signature it needs.
        expected: &'static str,
    },
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unknown(field) => write!(f, "unknown field {field:?}"),
            Self::Missing(field) => write!(f, "missing field {field:?}"),
            Self::WrongType { field, expected } => write!(f, "field {field:?} must have type {expected}"),
        }
    }
}

impl std::error::Error for FieldError {}

impl ProfileRecord {
    /// The fields `PutProfile` accepts.
    pub const FIELDS: [&'static str; 6] = ["Name", "Actions", "SpeedLimit", "Schedule", "NotBefore", "NotAfter"];

    /// Reads a `PutProfile` argument strictly: every field known and of its type, `Name`
    /// and `Actions` present. (Deserializing leniently would silently drop a misspelt
    /// field, and a dashboard would believe a restriction it never set.)
    pub fn from_put_argument(dict: &HashMap<String, OwnedVariant>) -> Result<Self, FieldError> {
        let mut profile = Self::default();
        let (mut name, mut actions) = (false, false);
        for (field, value) in dict {
            let wrong = |expected| FieldError::WrongType { field: field.clone(), expected };
            match field.as_str() {
                "Name" => {
                    profile.name =
                        String::try_from(value.try_clone().map_err(|_| wrong("s"))?).map_err(|_| wrong("s"))?;
                    name = true;
                }
                "Actions" => {
                    profile.actions = Vec::<String>::try_from(value.try_clone().map_err(|_| wrong("as"))?)
                        .map_err(|_| wrong("as"))?;
                    actions = true;
                }
                "SpeedLimit" => profile.speed_limit = u16::try_from(value).map_err(|_| wrong("q"))?,
                "Schedule" => {
                    profile.schedule = Vec::<String>::try_from(value.try_clone().map_err(|_| wrong("as"))?)
                        .map_err(|_| wrong("as"))?;
                }
                "NotBefore" => profile.not_before = i64::try_from(value).map_err(|_| wrong("x"))?,
                "NotAfter" => profile.not_after = i64::try_from(value).map_err(|_| wrong("x"))?,
                _ => return Err(FieldError::Unknown(field.clone())),
            }
        }
        if !name {
            return Err(FieldError::Missing("Name"));
        }
        if !actions {
            return Err(FieldError::Missing("Actions"));
        }
        Ok(profile)
    }
}

/// The `Manager.Decision` signal's arguments: one decided tap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Decision {
    /// The reader's name.
    pub reader: String,
    /// The key's id, "" when the phone proved no key the vehicle knows.
    pub key: String,
    /// unlock, lock, trunk or engine-start.
    pub action: String,
    /// fast or standard.
    pub transaction: String,
    /// Whether the vehicle carried it out.
    pub allowed: bool,
    /// "" when allowed, else the denial's stable name.
    pub reason: String,
    /// When (Unix seconds).
    pub time: i64,
}

#[cfg(test)]
mod tests {
    use zbus::Variant;

    use super::*;

    fn dict(entries: Vec<(&str, Variant<'static>)>) -> HashMap<String, OwnedVariant> {
        entries.into_iter().map(|(k, v)| (k.to_owned(), OwnedVariant::try_from(v).unwrap())).collect()
    }

    #[test]
    fn put_profile_arguments_are_read_strictly() {
        let good = dict(vec![
            ("Name", Variant::from("weekend")),
            ("Actions", Variant::from(vec!["unlock", "lock"])),
            ("SpeedLimit", Variant::from(80u16)),
            ("Schedule", Variant::from(vec!["sat-sun 08:00-20:00"])),
            ("NotAfter", Variant::from(1_900_000_000i64)),
        ]);
        let profile = ProfileRecord::from_put_argument(&good).unwrap();
        assert_eq!(profile.name, "weekend");
        assert_eq!(profile.actions, ["unlock", "lock"]);
        assert_eq!((profile.speed_limit, profile.not_before, profile.not_after), (80, 0, 1_900_000_000));

        let mut misspelt = good.clone();
        misspelt.insert("SpeedLimt".into(), OwnedVariant::try_from(Variant::from(30u16)).unwrap());
        assert_eq!(ProfileRecord::from_put_argument(&misspelt), Err(FieldError::Unknown("SpeedLimt".into())));
        let mut wrong = good.clone();
        wrong.insert("SpeedLimit".into(), OwnedVariant::try_from(Variant::from(30u32)).unwrap());
        assert_eq!(
            ProfileRecord::from_put_argument(&wrong),
            Err(FieldError::WrongType { field: "SpeedLimit".into(), expected: "q" })
        );
        let mut nameless = good;
        nameless.remove("Name");
        assert_eq!(ProfileRecord::from_put_argument(&nameless), Err(FieldError::Missing("Name")));
        let built_in = dict(vec![("Name", Variant::from("x")), ("BuiltIn", Variant::from(true))]);
        assert_eq!(ProfileRecord::from_put_argument(&built_in), Err(FieldError::Unknown("BuiltIn".into())));
    }
}
