use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::*;

const RAW: [u8; 32] = [0x5A; 32];
const HEX: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn write_mode(path: &Path, content: &[u8], mode: u32) {
    fs::write(path, content).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn dirs() -> (tempfile::TempDir, tempfile::TempDir) {
    (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap())
}

#[test]
fn parse_accepts_raw_bytes_and_hex_with_optional_newline() {
    assert_eq!(MasterKey::parse(&RAW), Some(MasterKey::from_bytes(RAW)));
    assert_eq!(MasterKey::parse(HEX.as_bytes()), Some(MasterKey::from_bytes(RAW)));
    assert_eq!(MasterKey::parse(format!("{HEX}\n").as_bytes()), Some(MasterKey::from_bytes(RAW)));
    assert_eq!(MasterKey::parse(HEX.to_uppercase().as_bytes()), Some(MasterKey::from_bytes(RAW)));
    let (two_newlines, crlf, leading_space) = (format!("{HEX}\n\n"), format!("{HEX}\r\n"), format!(" {HEX}"));
    let bad: [&[u8]; 7] =
        [b"", &RAW[..31], &[0x5A; 33], two_newlines.as_bytes(), crlf.as_bytes(), leading_space.as_bytes(), &[b'z'; 64]];
    for content in bad {
        assert!(MasterKey::parse(content).is_none(), "{content:?}");
    }
}

#[test]
fn debug_never_prints_the_key() {
    assert_eq!(format!("{:?}", MasterKey::from_bytes(RAW)), "MasterKey(..)");
}

#[test]
fn credential_wins_over_the_state_file() {
    let (creds, state) = dirs();
    write_mode(&creds.path().join(CREDENTIAL_NAME), &RAW, 0o400);
    write_mode(&state.path().join(STATE_FILE_NAME), &[1; 32], 0o600);
    let (key, source) = resolve(Some(creds.path()), state.path()).unwrap();
    assert_eq!(key, MasterKey::from_bytes(RAW));
    assert_eq!(source, MasterKeySource::Credential);
}

#[test]
fn credential_may_be_hex_and_its_mode_is_not_checked() {
    let (creds, state) = dirs();
    write_mode(&creds.path().join(CREDENTIAL_NAME), format!("{HEX}\n").as_bytes(), 0o644);
    let (key, source) = resolve(Some(creds.path()), state.path()).unwrap();
    assert_eq!(key, MasterKey::from_bytes(RAW));
    assert_eq!(source, MasterKeySource::Credential);
}

#[test]
fn malformed_credential_is_an_error_naming_the_file_not_the_content() {
    let (creds, state) = dirs();
    let path = creds.path().join(CREDENTIAL_NAME);
    write_mode(&path, b"correct horse battery staple", 0o400);
    write_mode(&state.path().join(STATE_FILE_NAME), &RAW, 0o600);
    let err = resolve(Some(creds.path()), state.path()).unwrap_err();
    assert!(matches!(&err, MasterKeyError::Malformed { path: p, len: 28 } if *p == path), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()) && message.contains("64 hexadecimal digits"), "{message}");
    assert!(!message.contains("horse"), "{message}");
}

#[test]
fn credential_that_is_not_a_file_is_refused() {
    let (creds, state) = dirs();
    fs::create_dir(creds.path().join(CREDENTIAL_NAME)).unwrap();
    let err = resolve(Some(creds.path()), state.path()).unwrap_err();
    assert!(matches!(err, MasterKeyError::NotAFile { .. }), "{err:?}");
}

#[test]
fn state_file_is_used_when_the_credential_is_absent() {
    let (creds, state) = dirs();
    let path = state.path().join(STATE_FILE_NAME);
    write_mode(&path, HEX.as_bytes(), 0o600);
    for credentials in [Some(creds.path()), None] {
        let (key, source) = resolve(credentials, state.path()).unwrap();
        assert_eq!(key, MasterKey::from_bytes(RAW));
        assert_eq!(source, MasterKeySource::StateFile);
    }
}

#[test]
fn state_file_readable_by_others_is_refused_with_a_fix() {
    let state = tempfile::tempdir().unwrap();
    let path = state.path().join(STATE_FILE_NAME);
    for mode in [0o644, 0o640, 0o604, 0o660] {
        write_mode(&path, &RAW, mode);
        let err = resolve(None, state.path()).unwrap_err();
        assert!(matches!(&err, MasterKeyError::InsecurePermissions { mode: m, .. } if *m == mode), "{err:?}");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
    write_mode(&path, &RAW, 0o400);
    assert!(resolve(None, state.path()).is_ok());
}

#[test]
fn malformed_state_file_is_an_error() {
    let state = tempfile::tempdir().unwrap();
    write_mode(&state.path().join(STATE_FILE_NAME), &[7; 40], 0o600);
    let err = resolve(None, state.path()).unwrap_err();
    assert!(matches!(err, MasterKeyError::Malformed { len: 40, .. }), "{err:?}");
}

#[test]
fn existing_store_without_key_is_never_rekeyed() {
    let state = tempfile::tempdir().unwrap();
    fs::write(state.path().join(DATABASE_FILE_NAME), b"").unwrap();
    let err = resolve(None, state.path()).unwrap_err();
    assert!(matches!(err, MasterKeyError::MissingMasterKey { .. }), "{err:?}");
    assert!(err.to_string().contains(CREDENTIAL_NAME), "{err}");
    assert!(!state.path().join(STATE_FILE_NAME).exists());
}

#[test]
fn first_start_generates_a_private_key_file_once() {
    let (creds, state) = dirs();
    let (key, source) = resolve(Some(creds.path()), state.path()).unwrap();
    let path = state.path().join(STATE_FILE_NAME);
    assert_eq!(source, MasterKeySource::Generated);
    let metadata = fs::metadata(&path).unwrap();
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    assert_eq!(MasterKey::parse(&fs::read(&path).unwrap()), Some(key.clone()));
    // Nothing else was left behind (no temporary file).
    assert_eq!(fs::read_dir(state.path()).unwrap().count(), 1);
    // The next start reads it back.
    let (again, source) = resolve(Some(creds.path()), state.path()).unwrap();
    assert_eq!((again, source), (key.clone(), MasterKeySource::StateFile));
    // A second fresh state dir gets a different key.
    let other = tempfile::tempdir().unwrap();
    assert_ne!(resolve(None, other.path()).unwrap().0, key);
}

#[test]
fn generation_into_a_missing_directory_fails_cleanly() {
    let state = tempfile::tempdir().unwrap();
    let missing = state.path().join("missing");
    let err = resolve(None, &missing).unwrap_err();
    assert!(matches!(err, MasterKeyError::Create { .. }), "{err:?}");
}
