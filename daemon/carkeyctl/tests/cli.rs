//! The binary as a script sees it, without a daemon: help, usage errors, argument checks
//! that come before any connection, completions, and an unreachable bus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::process::{Command, Output};

/// Runs carkeyctl with `args`, pointed at a bus that does not exist unless `args` say
/// otherwise, so that nothing here can reach a real carkeyd.
fn carkeyctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carkeyctl"))
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/carkeyctl-test/system_bus_socket")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn help_lists_the_exit_codes() {
    let out = carkeyctl(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    assert!(help.contains("Exit codes:"), "{help}");
    for line in ["  0  success", "  5  the owner must tap the console reader first", "  8  carkeyd not running"] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
    for command in ["keys", "key", "profile", "pair", "readers", "status", "monitor", "factory-reset", "completions"] {
        assert!(help.contains(&format!("\n  {command} ")), "{command} missing from:\n{help}");
    }
}

#[test]
fn a_malformed_command_line_exits_2() {
    for args in [&["frobnicate"][..], &[], &["key", "rename", "0011223344556677"], &["keys", "--colour"]] {
        let out = carkeyctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
}

#[test]
fn an_unreachable_bus_exits_8_and_names_the_address() {
    let out = carkeyctl(&["--address", "unix:path=/nonexistent/x", "keys"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(message.starts_with("carkeyctl: cannot connect to the bus: "), "{message}");
    assert!(message.contains("unix:path=/nonexistent/x"), "{message}");
    assert!(message.trim_end().ends_with("(ConnectFailed)"), "{message}");
    assert!(stdout(&out).is_empty());
    // Without --address, the system bus from the environment.
    let out = carkeyctl(&["status"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("unix:path=/nonexistent/carkeyctl-test"), "{}", stderr(&out));
}

#[test]
fn a_malformed_bus_address_is_an_invalid_argument() {
    let out = carkeyctl(&["--address", "no such transport", "keys"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn completions_are_scripts() {
    let out = carkeyctl(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains("_carkeyctl()"), "{script}");
    assert!(script.contains("complete -F _carkeyctl"), "{script}");
    assert!(script.contains("factory-reset"), "{script}");
    let out = carkeyctl(&["completions", "zsh"]);
    assert!(stdout(&out).starts_with("#compdef carkeyctl"), "{}", stdout(&out));
}

#[test]
fn a_malformed_key_id_exits_3_before_connecting() {
    let out = carkeyctl(&["key", "show", "not-an-id"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("carkeyctl: \"not-an-id\" is not a key id"), "{}", stderr(&out));
    assert!(stderr(&out).trim_end().ends_with("(InvalidArgument)"), "{}", stderr(&out));
    let out = carkeyctl(&["key", "validity", "0011223344556677", "--not-after", "next week"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("YYYY-MM-DDTHH:MM:SSZ"), "{}", stderr(&out));
}

#[test]
fn destructive_commands_need_yes() {
    let out = carkeyctl(&["key", "revoke", "0011223344556677"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    assert!(stderr(&out).trim_end().ends_with("(NotConfirmed)"), "{}", stderr(&out));
    let out = carkeyctl(&["factory-reset"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pass --yes"), "{}", stderr(&out));
    // Confirmed, it goes on to connect (and finds no bus here).
    assert_eq!(carkeyctl(&["key", "revoke", "0011223344556677", "--yes"]).status.code(), Some(8));
}
