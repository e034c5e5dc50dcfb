//! carkey-client's C ABI against the real daemon: status codes, error names, JSON shapes,
//! the decision feed and the ownership of returned strings, called by a C program
//! (`client_support/abi_driver.c`) built against the committed header. C is the ABI's
//! caller; calling it from Rust here would need unsafe code, which the workspace forbids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bus;
mod car;
mod client_support;

use bus::PrivateBus;
use car::now;
use carkey_tests::report::{TapResult, Transaction};
use client_support::{AbiDriver, Rig};
use serde_json::{Value, json};

/// The entry of `id` in a JSON array of keys.
fn find<'a>(keys: &'a Value, id: &str) -> &'a Value {
    keys.as_array().unwrap().iter().find(|k| k["id"] == id).unwrap_or_else(|| panic!("no key {id} in {keys}"))
}

#[test]
fn reads_commands_and_errors_through_the_c_abi() {
    let rig = Rig::start();
    let (owner, friend) = (rig.owner.slot.as_str(), rig.friend.slot.as_str());
    let mut abi = AbiDriver::start();
    abi.ok(&["connect", rig.address()]);

    let keys = abi.ok(&["keys"]).json();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let key = find(&keys, owner);
    assert_eq!(
        (&key["name"], &key["role"], &key["profile"], &key["state"]),
        (&json!("owner"), &json!("owner"), &json!("owner"), &json!("active"))
    );
    assert_eq!(key["object"], format!("/org/carkey/CarKey1/keys/{owner}"));
    for unset in ["state_reason", "last_used_at", "not_before", "not_after", "shared_by"] {
        assert_eq!(key[unset], Value::Null, "{unset} of {key}");
    }
    assert!(key["created_at"].as_i64().unwrap() > 0);
    assert_eq!(key["usage"]["unlock"], 0);
    assert_eq!(find(&keys, friend)["role"], "friend");

    let status = abi.ok(&["status"]).json();
    assert_eq!((&status["version"], &status["keys_in_use"]), (&json!(env!("CARGO_PKG_VERSION")), &json!(2)));
    assert_eq!(status["vehicle_group_id"].as_str().unwrap().len(), 32);
    assert_eq!(status["owner_present_until"], Value::Null);
    assert_eq!(
        status["vehicle"],
        json!({"locked": true, "immobilizer": "armed", "started_by": null, "speed_limit": null})
    );
    assert_eq!((&status["pairing"]["pending"], &status["pairing"]["source"]), (&json!(false), &Value::Null));
    assert!(status["pairing"]["attempts_left"].is_u64(), "{status}");
    assert_eq!(
        (&status["sync"]["state"], &status["sync"]["last_success_at"]),
        (&json!("not-configured"), &Value::Null)
    );

    let profiles = abi.ok(&["profiles"]).json();
    assert_eq!(
        profiles[0],
        json!({"name": "owner", "built_in": true, "actions": ["unlock", "lock", "trunk", "engine-start"],
               "speed_limit": null, "schedule": [], "not_before": null, "not_after": null})
    );
    assert_eq!((&profiles[3]["name"], &profiles[3]["speed_limit"]), (&json!("valet"), &json!(60)));
    let readers = abi.ok(&["readers"]).json();
    assert_eq!(
        readers[1],
        json!({"object": "/org/carkey/CarKey1/readers/door_driver", "name": "door-driver",
               "location": "door-driver", "state": "ready", "last_error": null})
    );
    assert_eq!(readers.as_array().unwrap().len(), 4);

    // Commands, each read back.
    let until = now() + 86_400;
    abi.ok(&["rename", friend, "Anna's phone"]);
    abi.ok(&["set_profile", friend, "restricted"]);
    abi.ok(&["set_validity", friend, "0", &until.to_string()]);
    abi.ok(&["suspend", friend, "lost phone"]);
    let key = find(&abi.ok(&["keys"]).json(), friend).clone();
    assert_eq!((&key["name"], &key["profile"]), (&json!("Anna's phone"), &json!("restricted")));
    assert_eq!((&key["not_before"], &key["not_after"]), (&Value::Null, &json!(until)));
    assert_eq!((&key["state"], &key["state_reason"]), (&json!("suspended"), &json!("lost phone")));
    abi.ok(&["resume", friend]);

    // Failures: a status code for the program's branch, the daemon's name for the detail.
    abi.call(&["revoke", owner, "sold"]).fails_with("OWNER_PRESENCE_REQUIRED", "OwnerPresenceRequired");
    abi.call(&["start_pairing"]).fails_with("OWNER_PRESENCE_REQUIRED", "OwnerPresenceRequired");
    let refused = abi.call(&["resume", friend]);
    refused.fails_with("REFUSED", "NotSuspended");
    assert!(refused.message.contains("NotSuspended") && refused.message.len() > "NotSuspended: ".len(), "{refused:?}");
    abi.call(&["cancel_pairing"]).fails_with("NOT_FOUND", "NoPairing");
    abi.call(&["set_profile", friend, "gold"]).fails_with("NOT_FOUND", "UnknownProfile");
    abi.call(&["rename", "ffffffffffffffff", "x"]).fails_with("NOT_FOUND", "UnknownKey");
    abi.call(&["rename", friend, ""]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    abi.call(&["rename", "ABC", "x"]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    abi.call(&["rename_not_utf8", friend]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    abi.call(&["rename_null", friend]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    assert_eq!(abi.ok(&["keys"]).message, "", "a success clears the last error");

    // The decision feed: the first call subscribes, later taps wait for the next calls.
    abi.call(&["next_decision", "0"]).fails_with("TIMEOUT", "Timeout");
    rig.owner.expect(&rig.car, "console", TapResult::Success, Transaction::Standard);
    let decision = abi.ok(&["next_decision", "5000"]).json();
    let time = decision["time"].as_i64().unwrap();
    assert!((now() - 30..=now()).contains(&time), "{decision}");
    assert_eq!(
        decision,
        json!({"reader": "console", "key": owner, "action": "engine-start", "transaction": "standard",
               "allowed": true, "reason": null, "time": time})
    );
    abi.call(&["next_decision", "20"]).fails_with("TIMEOUT", "Timeout");
    let status = abi.ok(&["status"]).json();
    assert_eq!(
        (&status["vehicle"]["immobilizer"], &status["vehicle"]["started_by"]),
        (&json!("released"), &json!(owner))
    );
    assert!(status["owner_present_until"].as_i64().unwrap() > now());

    // A negative timeout waits as long as it takes.
    let decision = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let report = rig.owner.tap(&rig.car, "door-driver");
            assert_eq!(report.result, TapResult::Success, "{report:?}");
        });
        abi.ok(&["next_decision", "-1"]).json()
    });
    assert_eq!(
        (&decision["reader"], &decision["key"], &decision["action"]),
        (&json!("door-driver"), &json!(owner), &json!("unlock"))
    );

    // With the owner present: pairing, with the code handed over as a string.
    let answer = abi.ok(&["start_pairing"]);
    let (code, expires_at) = answer.out.as_deref().unwrap().split_once(',').unwrap();
    assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_digit()), "{answer:?}");
    assert!(expires_at.parse::<i64>().unwrap() > now(), "{answer:?}");
    let refused = abi.call(&["start_pairing_without_expiry"]);
    assert_eq!((refused.status.as_str(), refused.out.as_deref()), ("INVALID_ARGUMENT", Some("code-null")));
    assert_eq!(abi.ok(&["status"]).json()["pairing"]["pending"], true);
    abi.ok(&["cancel_pairing"]);
    abi.ok(&["revoke", friend, "sold"]);
    assert_eq!(find(&abi.ok(&["keys"]).json(), friend)["state"], "revoked");

    assert_eq!(abi.call(&["free"]).status, "OK");
    assert!(abi.finish().success());
}

#[test]
fn the_daemons_refusal_is_access_denied() {
    let rig = Rig::start_with_roles(&client_support::observer_only());
    let mut abi = AbiDriver::start();
    abi.ok(&["connect", rig.address()]);
    assert_eq!(abi.ok(&["keys"]).json().as_array().unwrap().len(), 2);
    let denied = abi.call(&["suspend", &rig.friend.slot, "lost"]);
    denied.fails_with("ACCESS_DENIED", "AccessDenied");
    assert!(!denied.message.is_empty());
    abi.call(&["start_pairing"]).fails_with("ACCESS_DENIED", "AccessDenied");
    assert!(abi.finish().success());
}

#[test]
fn a_bus_without_carkeyd_is_not_running() {
    let bus = client_support::bus_without_carkeyd();
    let mut abi = AbiDriver::start();
    abi.ok(&["connect", &bus.address]);
    abi.call(&["status"]).fails_with("NOT_RUNNING", "NotRunning");
    abi.call(&["keys"]).fails_with("NOT_RUNNING", "NotRunning");
    // The decision feed needs only the bus: a dashboard may subscribe before the daemon runs.
    abi.call(&["next_decision", "0"]).fails_with("TIMEOUT", "Timeout");
    assert!(abi.finish().success());
}

#[test]
fn no_bus_at_the_address_is_bus_unavailable() {
    let bus = PrivateBus::start(&bus::open_policy());
    let address = bus.address.clone();
    drop(bus);
    let mut abi = AbiDriver::start();
    let answer = abi.call(&["connect", &address]);
    assert_eq!(answer.status, "BUS_UNAVAILABLE", "{answer:?}");
    // Without a handle there is no last error of its own to read.
    abi.call(&["keys"]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    abi.call(&["connect", "not an address"]).fails_with("INVALID_ARGUMENT", "InvalidArgument");
    assert!(abi.finish().success());
}

#[test]
fn a_zero_timeout_returns_decisions_that_arrived_between_calls() {
    let rig = Rig::start();
    let mut abi = AbiDriver::start();
    abi.ok(&["connect", rig.address()]);
    abi.call(&["next_decision", "0"]).fails_with("TIMEOUT", "Timeout");
    rig.owner.expect(&rig.car, "door-driver", TapResult::Success, Transaction::Standard);
    // A dashboard that polls without waiting (a UI timer) sees the tap within a few polls,
    // although the handle was idle when the signal arrived.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let decision = loop {
        let answer = abi.call(&["next_decision", "0"]);
        if answer.status == "OK" {
            break answer.json();
        }
        answer.fails_with("TIMEOUT", "Timeout");
        assert!(std::time::Instant::now() < deadline, "the decision never arrived");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!((&decision["key"], &decision["action"]), (&json!(rig.owner.slot), &json!("unlock")));
    abi.call(&["next_decision", "0"]).fails_with("TIMEOUT", "Timeout");
    assert!(abi.finish().success());
}
