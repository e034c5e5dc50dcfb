//! The C example of carkey-client (`dashboard-ui-bindings/examples/c/list_keys.c`),
//! compiled against the committed header and the library of this test build, run against
//! the real daemon: what a C dashboard developer sees when following the README.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bus;
mod car;
mod client_support;

use bus::PrivateBus;
use client_support::{Rig, run_c_example};
use serde_json::Value;

/// The JSON the example printed after `label: `.
fn printed(stdout: &str, label: &str) -> Value {
    let line = stdout.lines().find_map(|l| l.strip_prefix(label)).unwrap_or_else(|| panic!("no {label} in {stdout}"));
    serde_json::from_str(line).unwrap()
}

#[test]
fn the_example_lists_the_enrolled_keys() {
    let rig = Rig::start();
    let output = run_c_example(rig.address());
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "exit {:?}; stderr: {stderr}", output.status);
    assert!(stderr.is_empty(), "stderr: {stderr}");

    let keys = printed(&stdout, "keys: ");
    let mut listed: Vec<(&str, &str, &str)> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), k["id"].as_str().unwrap(), k["role"].as_str().unwrap()))
        .collect();
    listed.sort();
    assert_eq!(listed, [("friend", rig.friend.slot.as_str(), "friend"), ("owner", rig.owner.slot.as_str(), "owner")]);
    let status = printed(&stdout, "status: ");
    assert_eq!((&status["keys_in_use"], &status["vehicle"]["immobilizer"]), (&Value::from(2), &Value::from("armed")));
}

#[test]
fn the_example_reports_the_daemons_refusal_by_name() {
    let rig = Rig::start_with_roles(client_support::nobody());
    let output = run_c_example(rig.address());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("listing keys failed: ACCESS_DENIED (AccessDenied)"), "stderr: {stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn the_example_reports_a_bus_without_carkeyd() {
    let bus = client_support::bus_without_carkeyd();
    let output = run_c_example(&bus.address);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("listing keys failed: NOT_RUNNING (NotRunning)"), "stderr: {stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn the_example_reports_a_dead_address() {
    let bus = PrivateBus::start(&bus::open_policy());
    let address = bus.address.clone();
    drop(bus);
    let output = run_c_example(&address);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(&format!("cannot connect to {address}: BUS_UNAVAILABLE")), "stderr: {stderr}");
    assert!(output.stdout.is_empty());
}
