//! The master key: from a systemd credential; a wrong or missing one stops the start with
//! a clear error and destroys nothing.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use std::path::Path;

use car::Car;
use carkey_tests::report::{TapResult::*, Transaction::*};

fn write_credential(dir: &Path, byte: u8) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("carkey.master-key"), hex::encode([byte; 32]) + "\n").unwrap();
}

fn snapshot(state: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "carkeyd.lock")
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_wrong_credential_is_refused_and_the_store_survives() {
    let mut car = Car::new();
    let credentials = car.dir.path().join("credentials");
    write_credential(&credentials, 1);
    car.set_env("CREDENTIALS_DIRECTORY", credentials.clone());
    let owner = car.enroll("owner", "owner");
    car.start();
    owner.expect(&car, "door-driver", Success, Standard);
    car.stop();
    assert!(!car.state.join("master.key").exists(), "the credential is used, no key file generated");
    let before = snapshot(&car.state);

    write_credential(&credentials, 2);
    let (status, stderr) = car.start_failing();
    assert!(!status.success());
    assert!(stderr.contains("master key does not match"), "{stderr}");
    assert_eq!(snapshot(&car.state), before, "nothing on disk changed");

    write_credential(&credentials, 1);
    car.start();
    owner.expect(&car, "door-driver", Success, Fast);
    car.stop();
}

#[test]
fn a_missing_master_key_is_refused_and_never_replaced() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    owner.expect(&car, "door-driver", Success, Standard);
    car.stop();
    let key_file = car.state.join("master.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let key = std::fs::read(&key_file).unwrap();
    std::fs::rename(&key_file, car.dir.path().join("master.key.aside")).unwrap();
    let before = snapshot(&car.state);
    let (status, stderr) = car.start_failing();
    assert!(!status.success());
    assert!(stderr.contains("master key"), "{stderr}");
    assert_eq!(snapshot(&car.state), before);
    assert!(!key_file.exists(), "no new key was generated over an existing store");
    std::fs::write(&key_file, key).unwrap();
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    car.start();
    owner.expect(&car, "door-driver", Success, Fast);
    car.stop();
}
