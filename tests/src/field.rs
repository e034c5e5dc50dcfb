//! Where readers' sockets live: one directory (the "field"), one `NAME.sock` per reader.

use std::path::{Path, PathBuf};

/// Environment variable naming the field directory (tests point it at a temporary one).
pub const FIELD_DIR_ENV: &str = "CARKEY_FIELD_DIR";

/// Where `carkeyd` puts its simulated readers by default.
pub const DEFAULT_FIELD_DIR: &str = "/run/carkey/nfc";

/// A reader name that cannot be a socket file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reader name {0:?}: it must be a plain file name (no '/', not '.' or '..')")]
pub struct InvalidReaderName(pub String);

/// The socket of reader `name`: `DIR/NAME.sock`, with `DIR` = `field_dir`, else
/// `$CARKEY_FIELD_DIR`, else [`DEFAULT_FIELD_DIR`].
pub fn reader_socket(field_dir: Option<&Path>, name: &str) -> Result<PathBuf, InvalidReaderName> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(InvalidReaderName(name.to_owned()));
    }
    let dir = match field_dir {
        Some(dir) => dir.to_owned(),
        None => std::env::var_os(FIELD_DIR_ENV).map_or_else(|| PathBuf::from(DEFAULT_FIELD_DIR), PathBuf::from),
    };
    Ok(dir.join(format!("{name}.sock")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_path_from_the_given_directory() {
        assert_eq!(
            reader_socket(Some(Path::new("/tmp/f")), "door-driver").unwrap(),
            Path::new("/tmp/f/door-driver.sock")
        );
        for bad in ["", ".", "..", "a/b", "../x"] {
            assert!(reader_socket(Some(Path::new("/tmp/f")), bad).is_err(), "{bad:?}");
        }
    }
}
