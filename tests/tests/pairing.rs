//! Owner pairing from the phone, against the in-test vehicle (`PairingSession` then a
//! standard `ReaderSession` on the same connection): in-process and through the command
//! line, with the right code, a wrong one, a vehicle that does not pair, a vehicle that
//! refuses the new key, and a wallet that already holds a key for the vehicle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use carkey_protocol::mailbox::MailboxId;
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::pairing::PairingError;
use carkey_protocol::reader::TransactionKind;
use carkey_tests::pair::{PairOptions, Pairing, PairingCode, pair};
use carkey_tests::report::{TapResult, Transaction};
use carkey_tests::tap::{TapOptions, tap};
use carkey_tests::wallet::{KeyName, NewKey, Wallet};
use serde_json::Value;
use support::{Offer, PairingOutcome, ReaderOutcome, Tap, Vehicle};

const CODE: &str = "31415926";

fn phone(wallet: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carkey-phone")).arg("--wallet").arg(wallet).args(args).output().unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

fn code(digits: &str) -> PairingCode {
    PairingCode::new(digits).unwrap()
}

#[test]
fn the_right_code_creates_a_key_the_vehicle_enrolls_and_the_next_tap_is_fast() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);
    let offer = Offer::new(CODE);
    let token = offer.token;
    let mut wallet = Wallet::create(&dir.path().join("owner.json"));

    let reader = support::serve_pairing(&listener, Vehicle::new(), offer);
    let options = PairOptions { name: Some(KeyName::new("Alice's phone").unwrap()), ..PairOptions::default() };
    let report = pair(&socket, &mut wallet, &code(CODE), &options).unwrap();
    let (vehicle, outcome) = reader.join().unwrap();

    let PairingOutcome::Paired { slot, endpoint } = outcome else { panic!("{outcome:?}") };
    let key = report.key().unwrap();
    assert_eq!((key.slot, &key.public_key), (slot, &endpoint));
    assert_eq!(key.vehicle_group_id, vehicle.group_id());
    assert_eq!(&key.vehicle_public, vehicle.config.vehicle_key.public());
    assert_eq!(key.name.as_str(), "Alice's phone");
    assert!(key.has_context, "the standard transaction of the same tap left a context");
    assert!(report.succeeded() && report.exit_code() == 0, "{report:?}");
    assert_eq!((report.tap.result, report.tap.transaction), (TapResult::Success, Transaction::Standard));
    let commands: Vec<String> = report.tap.commands.iter().map(ToString::to_string).collect();
    assert_eq!(
        commands,
        [
            "SELECT",
            "SPAKE2+ REQUEST",
            "SPAKE2+ VERIFY",
            "KEY CREATION",
            "SELECT",
            "AUTH0",
            "AUTH1",
            "EXCHANGE",
            "CONTROL FLOW"
        ]
    );
    let credential = wallet.endpoint().credential(&vehicle.group_id()).unwrap();
    assert_eq!(&credential.mailboxes.get(MailboxId::Confidential)[..32], &token, "immobilizer token");
    assert_eq!(wallet.endpoint().pairing_outcome(), None, "pairing is disarmed after the tap");

    // Saved and reloaded, the key opens the car with a fast transaction.
    wallet.save().unwrap();
    let mut wallet = Wallet::load(wallet.path()).unwrap();
    let reader = support::serve_one(&listener, vehicle, Tap::default());
    let report = tap(&socket, &mut wallet, &TapOptions::default()).unwrap();
    let (_, outcome) = reader.join().unwrap();
    assert_eq!(outcome, ReaderOutcome::Authenticated { kind: TransactionKind::Fast, mailbox_reads: vec![] });
    assert_eq!(report.result, TapResult::Success);
}

#[test]
fn pair_on_the_command_line_saves_the_key_only_when_the_vehicle_confirms_it() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("owner.json");
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);

    // The vehicle refuses the new key at the end: exit 4, nothing saved.
    let refusing = Offer { verdict: ControlFlowStatus::Failure, ..Offer::new(CODE) };
    let reader = support::serve_pairing(&listener, Vehicle::new(), refusing);
    let output = phone(&wallet, &["pair", "--code", CODE, "--socket", socket.to_str().unwrap(), "--json"]);
    let (vehicle, outcome) = reader.join().unwrap();
    assert!(matches!(outcome, PairingOutcome::Paired { .. }), "{outcome:?}");
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let report = json(&output);
    assert_eq!((report["pairing"].as_str(), report["result"].as_str()), (Some("paired"), Some("failure")));
    assert!(!wallet.exists(), "a key the vehicle did not store is not saved");

    // The vehicle confirms: exit 0, the key is in the wallet as reported.
    let reader = support::serve_pairing(&listener, vehicle, Offer::new(CODE));
    let output = Command::new(env!("CARGO_BIN_EXE_carkey-phone"))
        .env("CARKEY_FIELD_DIR", dir.path())
        .args(["--wallet", wallet.to_str().unwrap(), "pair", "--code", CODE, "--reader", "console", "--json"])
        .args(["--name", "Alice's phone", "--timeout-ms", "10000"])
        .output()
        .unwrap();
    let (vehicle, outcome) = reader.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json(&output);
    let PairingOutcome::Paired { slot, endpoint } = outcome else { panic!("{outcome:?}") };
    assert_eq!(report["pairing"], "paired");
    assert_eq!(report["pairing_error"], Value::Null);
    assert_eq!(report["result"], "success");
    assert_eq!(report["key"]["slot"], hex::encode(slot));
    assert_eq!(report["key"]["public_key"], hex::encode(endpoint.uncompressed()));
    assert_eq!(report["key"]["vehicle_group_id"], vehicle.group_id_hex());
    assert_eq!(report["key"]["vehicle_public_key"], vehicle.public_key_hex());
    let listed = json(&phone(&wallet, &["list", "--json"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0], report["key"]);
    assert_eq!(listed[0]["name"], "Alice's phone");

    // The text form carries the lines a script picks out, as `new-key` prints them.
    let reader = support::serve_pairing(&listener, vehicle, Offer::new(CODE));
    let output =
        phone(&dir.path().join("second.json"), &["pair", "--code", CODE, "--socket", socket.to_str().unwrap()]);
    let (_, outcome) = reader.join().unwrap();
    let PairingOutcome::Paired { slot, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("pairing: paired\nvehicle-group-id: "), "{text}");
    assert!(text.contains(&format!("\nslot: {}\npublic-key: ", hex::encode(slot))), "{text}");
    assert!(text.contains("\nresult: success\ntransaction: standard\n"), "{text}");
}

#[test]
fn a_wrong_code_exits_with_3_and_leaves_the_wallet_alone() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);
    let wallet = dir.path().join("owner.json");

    let reader = support::serve_pairing(&listener, Vehicle::new(), Offer::new(CODE));
    let output = phone(&wallet, &["pair", "--code", "31415927", "--socket", socket.to_str().unwrap(), "--json"]);
    let (vehicle, outcome) = reader.join().unwrap();
    assert_eq!(outcome, PairingOutcome::Failed(PairingError::WrongCode));
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let report = json(&output);
    assert_eq!(report["pairing"], "wrong-code");
    assert!(report["pairing_error"].as_str().unwrap().contains("wrong pairing code"), "{report}");
    assert_eq!(report["key"], Value::Null);
    assert_eq!((report["result"].as_str(), report["end"].as_str()), (Some("no-decision"), Some("reader-closed")));
    assert!(!wallet.exists());

    // In-process, the same.
    let reader = support::serve_pairing(&listener, vehicle, Offer::new(CODE));
    let mut phone = Wallet::create(&wallet);
    let report = pair(&socket, &mut phone, &code("1"), &PairOptions::default()).unwrap();
    reader.join().unwrap();
    assert_eq!((report.pairing.clone(), report.exit_code()), (Pairing::WrongCode, 3));
    assert!(phone.keys().is_empty());
}

#[test]
fn a_vehicle_that_does_not_pair_is_not_a_pairing() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);
    let path = dir.path().join("owner.json");
    let mut vehicle = Vehicle::new();
    let mut wallet = Wallet::create(&path);
    let key = wallet
        .new_key(NewKey {
            vehicle_group_id: vehicle.group_id(),
            vehicle_public: vehicle.config.vehicle_key.public().clone(),
            slot: None,
            name: None,
        })
        .unwrap();
    vehicle.enroll(key.slot, &key.public_key);
    wallet.save().unwrap();
    let before = std::fs::read(&path).unwrap();

    // An ordinary transaction (no framework SELECT): the tap succeeds, pairing did not happen.
    let reader = support::serve_one(&listener, vehicle, Tap::default());
    let output = phone(&path, &["pair", "--code", CODE, "--socket", socket.to_str().unwrap(), "--json"]);
    let (vehicle, outcome) = reader.join().unwrap();
    assert!(matches!(outcome, ReaderOutcome::Authenticated { .. }), "{outcome:?}");
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let report = json(&output);
    assert_eq!((report["pairing"].as_str(), report["result"].as_str()), (Some("not-paired"), Some("success")));
    assert_eq!(std::fs::read(&path).unwrap(), before, "not saved");

    // A vehicle that tries to pair a phone that is not pairing falls back to a transaction.
    let reader = support::serve_pairing(&listener, vehicle, Offer::new(CODE));
    let report = tap(&socket, &mut wallet, &TapOptions::default()).unwrap();
    let (_, outcome) = reader.join().unwrap();
    assert!(matches!(outcome, PairingOutcome::NotPairing(ReaderOutcome::Authenticated { .. })), "{outcome:?}");
    assert_eq!(report.result, TapResult::Success);
    assert_eq!(report.commands[0].to_string(), "SELECT");
    assert_eq!(report.commands[1].to_string(), "SELECT", "the phone refused the framework");

    assert_eq!(phone(&path, &["pair", "--code", "12ab", "--socket", "/nowhere"]).status.code(), Some(1));
    assert_eq!(phone(&path, &["pair", "--code", CODE]).status.code(), Some(1), "--reader or --socket is required");
}

#[test]
fn pairing_again_replaces_the_key_for_that_vehicle_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);
    let path = dir.path().join("owner.json");
    let vehicle = Vehicle::new();
    let other = Vehicle::new();
    let mut wallet = Wallet::create(&path);
    let new_key = |v: &Vehicle, name: &str| NewKey {
        vehicle_group_id: v.group_id(),
        vehicle_public: v.config.vehicle_key.public().clone(),
        slot: None,
        name: Some(KeyName::new(name).unwrap()),
    };
    let old = wallet.new_key(new_key(&vehicle, "old phone key")).unwrap();
    let kept = wallet.new_key(new_key(&other, "work car")).unwrap();
    wallet.save().unwrap();

    let reader = support::serve_pairing(&listener, vehicle, Offer::new(CODE));
    let output = phone(&path, &["pair", "--code", CODE, "--socket", socket.to_str().unwrap(), "--json"]);
    let (vehicle, _) = reader.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    let mut wallet = Wallet::load(&path).unwrap();
    let keys = wallet.keys();
    assert_eq!(keys.len(), 2);
    let paired = wallet.key(&vehicle.group_id()).unwrap();
    assert_ne!(paired.public_key, old.public_key);
    assert_eq!(paired.name.as_str(), "old phone key", "the replaced key's name is kept");
    assert!(paired.has_context);
    assert_eq!(wallet.key(&other.group_id()).unwrap(), kept);
}
