//! The key lifecycle against the real daemon, with the phone simulator: owner pairing with
//! a code, an offline share to a friend, suspend and resume, a new owner phone,
//! termination from the friend's phone, and durability across `kill -9`.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use car::Car;
use carkey_tests::pair::Pairing;
use carkey_tests::report::{TapResult::*, Transaction::*};
use carkey_tests::wallet::Wallet;
use serde_json::json;

#[test]
fn pair_share_suspend_replace_owner_and_terminate() {
    let mut car = Car::with_config("[vehicle]\nclock_trust = \"always\"\n");
    let code = car.pairing_code();
    assert_eq!(code.len(), 8);
    car.start();

    // The owner pairs on the console; the same tap proves the new key.
    let (owner, report) = car.pair("owner", &code);
    assert!(report.succeeded(), "{report:?}\n{}", car.log());
    // Acknowledged means durable: it survives kill -9.
    car.kill9();
    car.start();
    owner.expect(&car, "console", Success, Standard);
    owner.expect(&car, "door-driver", Success, Fast);

    // Offline share: trunk only. The friend's first tap enrolls it and opens the trunk.
    let friend = car.share_offline(&owner, "friend", "trunk-only");
    friend.expect(&car, "trunk", Success, Standard);
    friend.expect(&car, "trunk", Success, Fast);
    friend.expect(&car, "door-driver", Denied, Fast);
    friend.expect(&car, "console", Denied, Standard);
    car.kill9();
    let key = car.key(&friend.slot);
    assert_eq!(
        (key["role"].clone(), key["profile"].clone(), key["state"].clone()),
        (json!("friend"), json!("trunk-only"), json!("active"))
    );
    assert_eq!(key["shared_by"]["owner"], json!(owner.slot));

    // Lost phone: suspend, then resume.
    car.admin(&["keys", "suspend", &friend.slot, "--reason", "lost"]);
    car.start();
    friend.expect(&car, "trunk", Denied, Fast);
    car.stop();
    car.admin(&["keys", "resume", &friend.slot]);
    car.start();
    friend.expect(&car, "trunk", Success, Fast);

    // The owner changes phone: a new code, a new wallet. The old owner key is revoked as
    // replaced; the friend keeps working.
    car.stop();
    let code = car.pairing_code();
    car.start();
    let (new_owner, report) = car.pair("new-owner", &code);
    assert!(report.succeeded(), "{report:?}");
    owner.expect(&car, "door-driver", Denied, Standard);
    friend.expect(&car, "trunk", Success, Fast);
    new_owner.expect(&car, "console", Success, Standard);

    // The friend deletes the key on the phone: the next tap carries the termination.
    let mut wallet = Wallet::load(&friend.wallet).unwrap();
    wallet.terminate(None, None).unwrap();
    wallet.save().unwrap();
    friend.expect(&car, "trunk", Denied, Fast);
    car.kill9();
    let key = car.key(&friend.slot);
    assert_eq!(
        (key["state"].clone(), key["state_reason"].clone()),
        (json!("revoked"), json!("terminated on the phone"))
    );
    let key = car.key(&owner.slot);
    assert_eq!((key["state"].clone(), key["state_reason"].clone()), (json!("revoked"), json!("replaced")));
    // Replays: the same phone taps again, with its share still in the mailbox.
    car.start();
    friend.expect(&car, "trunk", Denied, Standard);
    car.stop();
    assert_eq!(car.key(&friend.slot)["state"], json!("revoked"));
    let verify = car.admin(&["audit", "--verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    // Only the trunk ever opened for the friend.
    let commands = car.vehicle_commands();
    assert!(commands.iter().any(|c| c.contains("open-trunk") || c.contains("OpenTrunk")), "{commands:?}");
}

#[test]
fn seven_wrong_codes_lock_pairing_until_a_new_code() {
    let mut car = Car::new();
    let code = car.pairing_code();
    let wrong = if code == "12345678" { "87654321" } else { "12345678" };
    car.start();
    for attempt in 1..=7 {
        let (_, report) = car.pair("thief", wrong);
        assert_eq!(report.pairing, Pairing::WrongCode, "attempt {attempt}: {report:?}");
    }
    // Locked: even the right code gets nowhere now, and a restart changes nothing.
    car.kill9();
    let status: serde_json::Value = serde_json::from_str(&car.admin(&["pairing", "status", "--json"])).unwrap();
    assert_eq!(status["attempts_left"], json!(0));
    car.start();
    let (_, report) = car.pair("owner", &code);
    assert_eq!(report.pairing, Pairing::NotPaired, "{report:?}");
    // A new code works.
    car.stop();
    let code = car.pairing_code();
    car.start();
    let (owner, report) = car.pair("owner", &code);
    assert!(report.succeeded(), "{report:?}");
    owner.expect(&car, "console", Success, Standard);
}

#[test]
fn factory_reset_forgets_every_phone() {
    let mut car = Car::new();
    let code = car.pairing_code();
    car.start();
    let (owner, report) = car.pair("owner", &code);
    assert!(report.succeeded());
    car.stop();
    let refused = car.maintenance(&["factory-reset"]);
    assert!(!refused.status.success(), "a factory reset needs --yes");
    car.admin(&["factory-reset", "--yes"]);
    assert!(car.keys().is_empty());
    car.start();
    let report = owner.tap(&car, "door-driver");
    assert_ne!(report.result, Success);
}
