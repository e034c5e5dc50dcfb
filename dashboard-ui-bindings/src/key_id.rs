//! [`KeyId`]: a key slot, checked once where it enters the program.
//!
//! A dashboard gets ids from the daemon and from its own user (a text field, a command
//! line). Checking the format here means a typo is reported as "not a key id" before any
//! D-Bus call, and every function that takes a `KeyId` can build the key's object path
//! without another check.

use std::fmt;
use std::str::FromStr;

use zbus::OwnedObjectPath;

/// A key slot: exactly 16 lowercase hexadecimal digits, as the daemon writes it.
///
/// Uppercase digits are refused rather than folded: the daemon's object paths use the
/// lowercase form, and accepting two spellings of one id would let a dashboard show the
/// same key twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

/// Why a string is not a [`KeyId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdError {
    /// The id does not have 16 characters.
    #[error("a key id has 16 hex digits, not {0}")]
    Length(usize),
    /// A character is not one of `0-9a-f`.
    #[error("a key id has only lowercase hex digits (0-9, a-f); found {0:?}")]
    Character(char),
}

impl KeyId {
    /// The number of hex digits in an id.
    pub const LEN: usize = 16;

    /// The id as the daemon writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key's D-Bus object, `/org/carkey/CarKey1/keys/<id>`.
    pub fn object_path(&self) -> OwnedObjectPath {
        // Sixteen hex digits are a valid path element, so the unchecked constructor is
        // sound here and keeps the function free of a failure path it can never take.
        zbus::ObjectPath::from_string_unchecked(format!("{}/{}", carkey_dbus::paths::KEYS_PATH, self.0)).into()
    }

    /// The id of the key object at `path`, if `path` is one.
    pub fn from_object_path(path: &str) -> Option<Self> {
        carkey_dbus::paths::key_id_of(path).and_then(|id| id.parse().ok())
    }
}

impl FromStr for KeyId {
    type Err = KeyIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(bad) = s.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(KeyIdError::Character(bad));
        }
        if s.len() != Self::LEN {
            return Err(KeyIdError::Length(s.len()));
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_exactly_sixteen_lowercase_hex_digits() {
        let id: KeyId = "0011223344556677".parse().unwrap();
        assert_eq!(id.as_str(), "0011223344556677");
        assert_eq!(id.to_string(), "0011223344556677");
        assert_eq!(id.object_path().as_str(), "/org/carkey/CarKey1/keys/0011223344556677");
        assert_eq!(KeyId::from_object_path("/org/carkey/CarKey1/keys/0011223344556677"), Some(id));
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        assert_eq!("".parse::<KeyId>(), Err(KeyIdError::Length(0)));
        assert_eq!("00112233445566".parse::<KeyId>(), Err(KeyIdError::Length(14)));
        assert_eq!("00112233445566778".parse::<KeyId>(), Err(KeyIdError::Length(17)));
        assert_eq!("AABBCCDDEEFF0011".parse::<KeyId>(), Err(KeyIdError::Character('A')));
        assert_eq!("001122334455667g".parse::<KeyId>(), Err(KeyIdError::Character('g')));
        assert_eq!("0011223344556677/x".parse::<KeyId>(), Err(KeyIdError::Character('/')));
        assert_eq!("00112233445566é".parse::<KeyId>(), Err(KeyIdError::Character('é')));
        assert_eq!(KeyId::from_object_path("/org/carkey/CarKey1/readers/console"), None);
        assert!(KeyIdError::Length(3).to_string().contains("16 hex digits"));
    }
}
