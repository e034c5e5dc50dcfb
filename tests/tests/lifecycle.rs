//! Sharing and termination on the phone: the owner signs a share, the friend's phone
//! carries it to the vehicle; a deleted key carries its own termination. Through the
//! command line, in-process, and over the socket to the in-test vehicle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use carkey_protocol::attestation::{ShareAttestation, TerminationAttestation, private_mailbox};
use carkey_protocol::crypto::EcPublicKey;
use carkey_protocol::reader::{TransactionKind, TransactionPlan};
use carkey_tests::tap::{TapOptions, tap};
use carkey_tests::wallet::{NewKey, ShareRequest, Wallet, WalletError};
use serde_json::Value;
use support::{ReaderOutcome, Tap, Vehicle};

fn phone(wallet: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carkey-phone")).arg("--wallet").arg(wallet).args(args).output().unwrap()
}

fn json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

fn refused(output: &Output, expected: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(expected), "expected {expected:?} in {stderr:?}");
}

fn public_key(value: &Value) -> EcPublicKey {
    EcPublicKey::from_uncompressed(&hex::decode(value.as_str().unwrap()).unwrap()).unwrap()
}

/// A vehicle with an owner phone enrolled, and a friend phone with a key made from what
/// the owner's `list` shows (not enrolled).
struct Family {
    dir: tempfile::TempDir,
    owner: PathBuf,
    friend: PathBuf,
    vehicle: Vehicle,
    owner_key: Value,
    friend_key: Value,
}

fn family() -> Family {
    let dir = tempfile::tempdir().unwrap();
    let (owner, friend) = (dir.path().join("owner.json"), dir.path().join("friend.json"));
    let mut vehicle = Vehicle::new();
    let group = vehicle.group_id_hex();
    let vehicle_key = vehicle.public_key_hex();
    assert!(
        phone(&owner, &["new-key", "--vehicle-group-id", &group, "--vehicle-public-key", &vehicle_key])
            .status
            .success()
    );
    let owner_key = json(&phone(&owner, &["list", "--json"]))[0].clone();
    vehicle.enroll(
        hex::decode(owner_key["slot"].as_str().unwrap()).unwrap().try_into().unwrap(),
        &public_key(&owner_key["public_key"]),
    );

    // The friend learns the vehicle's identity from the owner's list.
    let (group, vehicle_key) =
        (owner_key["vehicle_group_id"].as_str().unwrap(), owner_key["vehicle_public_key"].as_str().unwrap());
    let made =
        phone(&friend, &["new-key", "--vehicle-group-id", group, "--vehicle-public-key", vehicle_key, "--name", "Bob"]);
    assert!(made.status.success(), "{made:?}");
    let friend_key = json(&phone(&friend, &["list", "--json"]))[0].clone();
    Family { dir, owner, friend, vehicle, owner_key, friend_key }
}

#[test]
fn a_share_signed_by_the_owner_reaches_the_vehicle_from_the_friends_phone() {
    let f = family();
    let friend_public = f.friend_key["public_key"].as_str().unwrap();
    let share = json(&phone(
        &f.owner,
        &[
            "share",
            "--friend-public-key",
            friend_public,
            "--profile",
            "trunk-only",
            "--not-after",
            "2000000000",
            "--json",
        ],
    ));
    assert_eq!(share["vehicle_group_id"], f.owner_key["vehicle_group_id"]);
    assert_eq!(share["vehicle_public_key"], f.owner_key["vehicle_public_key"]);
    assert_eq!(share["owner_slot"], f.owner_key["slot"]);
    assert_eq!(share["friend_public_key"], friend_public);
    assert_eq!((share["profile"].as_str(), share["not_before"].as_i64()), (Some("trunk-only"), None));
    assert_eq!((share["not_after"].as_i64(), share["serial"].as_u64()), (Some(2_000_000_000), Some(1)));

    let accepted =
        json(&phone(&f.friend, &["accept-share", "--attestation", share["attestation"].as_str().unwrap(), "--json"]));
    assert_eq!(accepted["serial"], 1);
    assert_eq!(accepted["profile"], "trunk-only");
    let listed = json(&phone(&f.friend, &["list", "--json"]));
    assert_eq!(
        (listed[0]["has_share"].as_bool(), listed[0]["termination_pending"].as_bool()),
        (Some(true), Some(false))
    );
    let text = String::from_utf8(phone(&f.friend, &["list"]).stdout).unwrap();
    assert!(text.contains("  share attestation:   yes\n  termination pending: no\n"), "{text}");

    // The friend's first tap: the vehicle reads the share from the private mailbox, and
    // it verifies with the owner's key for the friend's key.
    let socket = f.dir.path().join("door.sock");
    let listener = support::listen(&socket);
    let plan = TransactionPlan::fast().with_unknown_exchange(private_mailbox::read_both());
    let reader = support::serve_one(&listener, f.vehicle, Tap { plan, ..Tap::default() });
    let output = phone(&f.friend, &["tap", "--socket", socket.to_str().unwrap(), "--json"]);
    let (_, outcome) = reader.join().unwrap();
    let ReaderOutcome::Unenrolled { endpoint, slot, mailbox_reads } = outcome else { panic!("{outcome:?}") };
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(endpoint, public_key(&f.friend_key["public_key"]));
    assert_eq!(hex::encode(slot), f.friend_key["slot"]);
    let carried = private_mailbox::decode_slot(&mailbox_reads[0]).unwrap();
    let verified = ShareAttestation::parse(carried).unwrap();
    let statement = verified.verify(&public_key(&f.owner_key["public_key"])).unwrap();
    assert_eq!((statement.friend_key.clone(), statement.serial), (endpoint, 1));
    assert!(private_mailbox::decode_slot(&mailbox_reads[1]).is_none(), "no termination");
}

#[test]
fn share_files_and_refusals() {
    let f = family();
    let friend_public = f.friend_key["public_key"].as_str().unwrap();
    let out = f.dir.path().join("share.txt");
    let args = ["share", "--friend-public-key", friend_public, "--profile", "valet", "--out", out.to_str().unwrap()];
    let written = phone(&f.owner, &args);
    assert!(written.status.success() && written.stdout.is_empty(), "{written:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("attestation: ") && text.contains("\nserial: 1\n"), "{text}");
    assert!(text.contains(&format!("vehicle-public-key: {}\n", f.owner_key["vehicle_public_key"].as_str().unwrap())));
    let accepted = phone(&f.friend, &["accept-share", "--file", out.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&accepted.stdout).contains("profile: valet\n"), "{accepted:?}");

    // A JSON share file works too, and so does a file with just the hex.
    let out_json = f.dir.path().join("share.json");
    let args = [&args[..3], &["--profile", "owner", "--json", "--out", out_json.to_str().unwrap()]].concat();
    assert!(phone(&f.owner, &args).status.success());
    assert!(phone(&f.friend, &["accept-share", "--file", out_json.to_str().unwrap()]).status.success());
    let hex_only = f.dir.path().join("share.hex");
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&out_json).unwrap()).unwrap();
    std::fs::write(&hex_only, format!("{}\n", document["attestation"].as_str().unwrap())).unwrap();
    assert!(phone(&f.friend, &["accept-share", "--file", hex_only.to_str().unwrap()]).status.success());

    // A share for someone else's key, for another vehicle, or garbage: refused, and the
    // friend's wallet keeps the share it had.
    let before = std::fs::read(&f.friend).unwrap();
    let stranger = Vehicle::new();
    let other_key = stranger.public_key_hex(); // any valid key that is not the friend's
    let for_other =
        json(&phone(&f.owner, &["share", "--friend-public-key", &other_key, "--profile", "valet", "--json"]));
    let other_attestation = for_other["attestation"].as_str().unwrap();
    refused(&phone(&f.friend, &["accept-share", "--attestation", other_attestation]), "names another friend key");
    let elsewhere = f.dir.path().join("elsewhere.json");
    let args = ["new-key", "--vehicle-group-id", &stranger.group_id_hex(), "--vehicle-public-key", &other_key];
    assert!(phone(&elsewhere, &args).status.success());
    let mine = json(&phone(&f.owner, &["share", "--friend-public-key", friend_public, "--profile", "valet", "--json"]));
    refused(
        &phone(&elsewhere, &["accept-share", "--attestation", mine["attestation"].as_str().unwrap()]),
        "no key for vehicle group",
    );
    refused(&phone(&f.friend, &["accept-share", "--attestation", "7100"]), "not a valid share attestation");
    refused(&phone(&f.friend, &["accept-share", "--attestation", "xyz"]), "hexadecimal");
    refused(&phone(&f.friend, &["accept-share"]), "--attestation");
    assert_eq!(std::fs::read(&f.friend).unwrap(), before);

    // Shares the owner cannot sign.
    refused(&phone(&f.owner, &["share", "--friend-public-key", friend_public, "--profile", "Owner!"]), "profile name");
    let window = ["--not-before", "20", "--not-after", "10"];
    refused(
        &phone(
            &f.owner,
            &[&["share", "--friend-public-key", friend_public, "--profile", "valet"][..], &window].concat(),
        ),
        "window is empty",
    );
    refused(&phone(&f.owner, &["share", "--friend-public-key", "04", "--profile", "valet"]), "hexadecimal");
    let group = stranger.group_id_hex();
    refused(
        &phone(
            &f.owner,
            &["share", "--friend-public-key", friend_public, "--profile", "valet", "--vehicle-group-id", &group],
        ),
        "no key for vehicle group",
    );
    // With two keys the owner must say which one shares.
    assert!(
        phone(&f.owner, &["new-key", "--vehicle-group-id", &group, "--vehicle-public-key", &other_key])
            .status
            .success()
    );
    refused(
        &phone(&f.owner, &["share", "--friend-public-key", friend_public, "--profile", "valet"]),
        "--vehicle-group-id",
    );
}

#[test]
fn serials_increase_across_invocations_and_never_repeat() {
    let f = family();
    let friend_public = f.friend_key["public_key"].as_str().unwrap();
    let share = |extra: &[&str]| {
        let args =
            [&["share", "--friend-public-key", friend_public, "--profile", "valet", "--json"][..], extra].concat();
        json(&phone(&f.owner, &args))["serial"].as_u64().unwrap()
    };
    assert_eq!((share(&[]), share(&[])), (1, 2));
    assert_eq!(share(&["--serial", "10"]), 10);
    assert_eq!(share(&[]), 11, "the default moves past an explicit serial");
    assert_eq!(share(&["--serial", "5"]), 5);
    assert_eq!(share(&[]), 12, "an explicit lower serial does not move the counter back");
    // A refused share does not use a serial.
    refused(&phone(&f.owner, &["share", "--friend-public-key", friend_public, "--profile", "BAD"]), "profile");
    assert_eq!(share(&[]), 13);
    // Terminations draw from the same counter.
    let terminated = json(&phone(&f.owner, &["terminate", "--json"]));
    assert_eq!(terminated["serial"], 14);
    assert_eq!(Wallet::load(&f.owner).unwrap().last_serial(), 14);
}

#[test]
fn a_terminated_key_carries_its_termination_to_the_next_tap() {
    let f = family();
    let terminated = json(&phone(&f.owner, &["terminate", "--json"]));
    assert_eq!(terminated["vehicle_group_id"], f.owner_key["vehicle_group_id"]);
    assert_eq!(terminated["slot"], f.owner_key["slot"]);
    let bytes = hex::decode(terminated["attestation"].as_str().unwrap()).unwrap();
    let owner_public = public_key(&f.owner_key["public_key"]);
    let statement = *TerminationAttestation::parse(&bytes).unwrap().verify(&owner_public).unwrap();
    assert_eq!(statement.serial, terminated["serial"].as_u64().unwrap());

    let listed = json(&phone(&f.owner, &["list", "--json"]));
    assert_eq!(listed[0]["termination_pending"], true, "the key stays, marked");
    let mut wallet = Wallet::load(&f.owner).unwrap();
    let group = wallet.keys()[0].vehicle_group_id;
    let credential = wallet.endpoint().credential(&group).unwrap();
    assert_ne!(credential.signaling & private_mailbox::TERMINATION_PENDING, 0);
    assert_eq!(wallet.carried_termination(&group), Some(bytes.clone()));

    // A terminated key neither shares nor accepts shares.
    let friend_public = f.friend_key["public_key"].as_str().unwrap();
    refused(&phone(&f.owner, &["share", "--friend-public-key", friend_public, "--profile", "valet"]), "terminated");

    // The next tap signals it (in AUTH1, or in a fast cryptogram), and the vehicle reads it.
    let socket = f.dir.path().join("door.sock");
    let listener = support::listen(&socket);
    let reader = support::serve_one(&listener, f.vehicle, Tap::default());
    let output = phone(&f.owner, &["tap", "--socket", socket.to_str().unwrap()]);
    let (vehicle, outcome) = reader.join().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let ReaderOutcome::Terminated { kind: TransactionKind::Standard, slot } = outcome else { panic!("{outcome:?}") };
    assert_eq!(private_mailbox::decode_slot(&slot), Some(&bytes[..]));
    let reader = support::serve_one(&listener, vehicle, Tap::default());
    let report = tap(&socket, &mut Wallet::load(&f.owner).unwrap(), &TapOptions::default()).unwrap();
    let (_, outcome) = reader.join().unwrap();
    assert!(matches!(outcome, ReaderOutcome::Terminated { kind: TransactionKind::Fast, .. }), "{outcome:?}");
    assert_eq!(report.result, carkey_tests::report::TapResult::Success);

    // Terminating again signs a fresh attestation in its place (a text output this time).
    let again = String::from_utf8(phone(&f.owner, &["terminate", "--serial", "7"]).stdout).unwrap();
    assert!(again.starts_with("attestation: ") && again.ends_with("serial: 7\n"), "{again}");
    let fresh = hex::decode(again.lines().next().unwrap().strip_prefix("attestation: ").unwrap()).unwrap();
    assert_eq!(Wallet::load(&f.owner).unwrap().carried_termination(&group), Some(fresh));
}

#[test]
fn the_library_api_without_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let vehicle = Vehicle::new();
    let new_key = || NewKey {
        vehicle_group_id: vehicle.group_id(),
        vehicle_public: vehicle.config.vehicle_key.public().clone(),
        slot: None,
        name: None,
    };
    let mut owner = Wallet::create(&dir.path().join("owner.json"));
    let mut friend = Wallet::create(&dir.path().join("friend.json"));
    let request = |friend_key: EcPublicKey| ShareRequest {
        vehicle_group_id: None,
        friend_key,
        profile: "trunk-only".into(),
        not_before: Some(1_800_000_000),
        not_after: None,
        serial: None,
    };
    assert!(matches!(owner.share(&request(vehicle.config.vehicle_key.public().clone())), Err(WalletError::NoKeys)));
    let owner_key = owner.new_key(new_key()).unwrap();
    let friend_key = friend.new_key(new_key()).unwrap();

    let issued = owner.share(&request(friend_key.public_key.clone())).unwrap();
    assert_eq!((issued.attestation.serial, owner.last_serial()), (1, 1));
    assert_eq!(issued.attestation.owner_slot, owner_key.slot);
    assert_eq!(&issued.vehicle_public, vehicle.config.vehicle_key.public());
    let accepted = friend.accept_share(&issued.bytes).unwrap();
    assert_eq!(accepted, issued.attestation);
    let carried = friend.carried_share(&vehicle.group_id()).unwrap();
    assert_eq!(ShareAttestation::parse(&carried).unwrap().verify(&owner_key.public_key).unwrap(), &issued.attestation);
    assert!(friend.keys()[0].has_share && !owner.keys()[0].has_share);
    // The owner cannot carry a share made for the friend.
    assert!(matches!(owner.accept_share(&issued.bytes), Err(WalletError::NotForThisKey(_))));

    let termination = friend.terminate(None, None).unwrap();
    assert_eq!((termination.attestation.key_slot, termination.attestation.serial), (friend_key.slot, 1));
    termination_verifies(&termination.bytes, &friend_key.public_key);
    assert!(friend.keys()[0].termination_pending && friend.keys()[0].has_share);
    assert!(matches!(friend.accept_share(&issued.bytes), Err(WalletError::KeyTerminated(_))));
}

fn termination_verifies(bytes: &[u8], key: &EcPublicKey) {
    TerminationAttestation::parse(bytes).unwrap().verify(key).unwrap();
}
