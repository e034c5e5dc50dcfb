//! Object paths of keys and readers.
//!
//! Object path elements allow only `[A-Za-z0-9_]`: key ids are hex already, and reader
//! names (lowercase letters, digits and `-`) have their `-` written as `_`.

use zbus::OwnedObjectPath;

/// The parent of every key object.
pub const KEYS_PATH: &str = "/org/carkey/CarKey1/keys";

/// The parent of every reader object.
pub const READERS_PATH: &str = "/org/carkey/CarKey1/readers";

/// The object of the key with this id (16 hex digits). `None` if the id cannot be a key id.
pub fn key_path(id: &str) -> Option<OwnedObjectPath> {
    let valid = id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return None;
    }
    OwnedObjectPath::try_from(format!("{KEYS_PATH}/{id}")).ok()
}

/// The object of the reader with this name. `None` if the name cannot be a reader name.
pub fn reader_path(name: &str) -> Option<OwnedObjectPath> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return None;
    }
    OwnedObjectPath::try_from(format!("{READERS_PATH}/{}", name.replace('-', "_"))).ok()
}

/// The key id of a key object's path.
pub fn key_id_of(path: &str) -> Option<&str> {
    path.strip_prefix(KEYS_PATH)?.strip_prefix('/').filter(|id| key_path(id).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_and_refuse_what_is_not_an_id() {
        let path = key_path("0011223344556677").unwrap();
        assert_eq!(path.as_str(), "/org/carkey/CarKey1/keys/0011223344556677");
        assert_eq!(key_id_of(path.as_str()), Some("0011223344556677"));
        for bad in
            ["", "00112233445566", "00112233445566778", "001122334455667G", "0011223344556677/x", "AABBCCDDEEFF0011"]
        {
            assert_eq!(key_path(bad), None, "{bad:?}");
        }
        assert_eq!(key_id_of("/org/carkey/CarKey1/keys/zz"), None);
        assert_eq!(reader_path("door-driver").unwrap().as_str(), "/org/carkey/CarKey1/readers/door_driver");
        assert_eq!(reader_path("Door"), None);
        assert_eq!(reader_path("a/b"), None);
    }
}
