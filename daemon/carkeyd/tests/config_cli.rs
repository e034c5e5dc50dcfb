//! `carkeyd --check-config` and configuration errors.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::process::Command;

fn carkeyd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_carkeyd")).args(args).output().unwrap()
}

#[test]
fn check_config_prints_the_effective_configuration() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../../systemd/carkeyd.toml");
    let dir = tempfile::tempdir().unwrap();
    let drop_in = dir.path().join("90-local.toml");
    std::fs::write(&drop_in, "[nfc]\napdu_timeout_ms = 120\n").unwrap();
    let out = carkeyd(&["--config", shipped, "--config", drop_in.to_str().unwrap(), "--check-config"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let effective: toml::Table = toml::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert_eq!(effective["nfc"]["apdu_timeout_ms"].as_integer(), Some(120));
    assert_eq!(effective["nfc"]["readers"].as_table().unwrap().len(), 4);
}

#[test]
fn a_bad_configuration_names_the_file_and_exits_with_ex_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("typo.toml");
    std::fs::write(&bad, "[nfc]\napdu_timeout = 100\n").unwrap();
    let out = carkeyd(&["--config", bad.to_str().unwrap(), "--check-config"]);
    assert_eq!(out.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("typo.toml") && stderr.contains("apdu_timeout"), "{stderr}");
    // The daemon itself refuses to start the same way.
    let out = carkeyd(&["--config", bad.to_str().unwrap(), "--state-dir", dir.path().join("s").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
}
