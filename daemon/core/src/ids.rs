//! Validated identifiers. Every id that crosses a boundary (store, socket, D-Bus, config)
//! is parsed into one of these once, so the rest of the code never re-checks strings.

use core::fmt;
use core::str::FromStr;

use carkey_protocol::reader::KeySlot;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string or byte string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A key id is 16 hexadecimal digits (8 bytes).
    #[error("key id must be 16 hexadecimal digits, got {0:?}")]
    KeyId(String),
    /// A key name is 1–64 printable characters.
    #[error("key name must be 1 to 64 printable characters without surrounding spaces")]
    KeyName,
    /// A short name (profile, reader) is 1–32 characters of `a-z`, `0-9` and `-`.
    #[error("{kind} must be 1 to 32 characters of a-z, 0-9 and '-', starting with a letter or digit, got {value:?}")]
    ShortName {
        /// What was being named.
        kind: &'static str,
        /// The rejected value.
        value: String,
    },
}

/// A digital key's identifier: the 8-byte key slot the phone chose at enrolment.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

/// Hex, like everywhere else the id is shown (logs, audit, D-Bus).
impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl KeyId {
    /// The protocol's view of the same identifier.
    pub const fn slot(self) -> KeySlot {
        KeySlot(self.0)
    }
}

impl From<KeySlot> for KeyId {
    fn from(slot: KeySlot) -> Self {
        Self(slot.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for KeyId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 8];
        if s.len() != 16 || hex::decode_to_slice(s, &mut bytes).is_err() {
            return Err(IdError::KeyId(s.to_owned()));
        }
        Ok(Self(bytes))
    }
}

/// A human-readable key name ("Alice's phone").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyName(String);

impl KeyName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Validates a name: 1–64 characters, no control characters, no surrounding spaces.
    pub fn new(name: &str) -> Result<Self, IdError> {
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS || name.trim() != name || name.chars().any(char::is_control) {
            return Err(IdError::KeyName);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn validate_short_name(kind: &'static str, value: &str) -> Result<(), IdError> {
    let bytes = value.as_bytes();
    let ok = (1..=32).contains(&bytes.len())
        && bytes.first().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if ok { Ok(()) } else { Err(IdError::ShortName { kind, value: value.to_owned() }) }
}

macro_rules! short_name {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validates the name.
            pub fn new(value: &str) -> Result<Self, IdError> {
                validate_short_name($kind, value)?;
                Ok(Self(value.to_owned()))
            }

            /// The name.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

short_name!(
    /// An access profile's name (`owner`, `valet`, `valet-evenings`).
    ProfileId,
    "profile name"
);
short_name!(
    /// A reader's name from the configuration (`door-driver`, `console-rear`).
    ReaderName,
    "reader name"
);

macro_rules! serde_via_str {
    ($($name:ident),*) => {$(
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

impl FromStr for KeyName {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

serde_via_str!(KeyId, KeyName, ProfileId, ReaderName);

/// Where a reader sits, which decides what a tap on it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderLocation {
    /// Driver's door handle: lock or unlock.
    DoorDriver,
    /// Passenger's door handle: lock or unlock.
    DoorPassenger,
    /// Trunk lid: open the trunk.
    Trunk,
    /// Centre console: authorize engine start.
    Console,
}

impl ReaderLocation {
    /// The configuration spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DoorDriver => "door-driver",
            Self::DoorPassenger => "door-passenger",
            Self::Trunk => "trunk",
            Self::Console => "console",
        }
    }
}

impl fmt::Display for ReaderLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_round_trips_through_hex() {
        let id: KeyId = "0011223344556677".parse().unwrap();
        assert_eq!(id.0, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]);
        assert_eq!(id.to_string(), "0011223344556677");
        for bad in ["", "00112233445566", "001122334455667788", "zz11223344556677", "0011223344556677\n"] {
            assert!(bad.parse::<KeyId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_names_reject_control_characters_and_padding() {
        assert!(KeyName::new("Alice's phone").is_ok());
        assert!(KeyName::new(&"é".repeat(64)).is_ok());
        for bad in ["", " x", "x ", "a\nb", "a\u{7}b", &"x".repeat(65)] {
            assert_eq!(KeyName::new(bad), Err(IdError::KeyName), "{bad:?}");
        }
    }

    #[test]
    fn short_names_are_lowercase_slugs() {
        assert!(ProfileId::new("valet-evenings").is_ok());
        assert!(ReaderName::new("door-driver").is_ok());
        for bad in ["", "-x", "Valet", "a b", "a_b", &"a".repeat(33)] {
            assert!(ProfileId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_deserialize_with_validation() {
        let id: KeyId = serde_json::from_str("\"0011223344556677\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0011223344556677\"");
        assert!(serde_json::from_str::<ProfileId>("\"Bad Name\"").is_err());
        let loc: ReaderLocation = serde_json::from_str("\"door-driver\"").unwrap();
        assert_eq!(loc, ReaderLocation::DoorDriver);
    }
}
