//! The `carkey-phone` command against the in-test vehicle: enrolment output, standard
//! then fast taps with the saved context, decisions and exit codes, failure injection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use carkey_protocol::crypto::EcPublicKey;
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::reader::TransactionKind;
use serde_json::Value;
use support::{ReaderOutcome, Tap, Vehicle};

fn phone(wallet: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_carkey-phone")).arg("--wallet").arg(wallet).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"))
}

fn commands(report: &Value) -> Vec<&str> {
    report["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

/// A vehicle and a phone holding a key it has enrolled (through the command line).
struct Setup {
    dir: tempfile::TempDir,
    wallet: PathBuf,
    socket: PathBuf,
    vehicle: Vehicle,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("phone.json");
    let socket = dir.path().join("door-driver.sock");
    let mut vehicle = Vehicle::new();
    let output = phone(
        &wallet,
        &[
            "new-key",
            "--vehicle-group-id",
            &vehicle.group_id_hex(),
            "--vehicle-public-key",
            &vehicle.public_key_hex(),
            "--name",
            "Alice's phone",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let slot = lines[0].strip_prefix("slot: ").unwrap();
    let public_key = lines[1].strip_prefix("public-key: ").unwrap();
    assert_eq!((slot.len(), public_key.len()), (16, 130));
    let public_key = EcPublicKey::from_uncompressed(&hex::decode(public_key).unwrap()).unwrap();
    vehicle.enroll(hex::decode(slot).unwrap().try_into().unwrap(), &public_key);
    Setup { dir, wallet, socket, vehicle }
}

#[test]
fn new_key_prints_enrolment_data_and_list_hides_secrets() {
    let s = setup();
    let file: Value = serde_json::from_slice(&std::fs::read(&s.wallet).unwrap()).unwrap();
    let private_key = file["keys"][0]["endpoint_private_key"].as_str().unwrap();

    let human = phone(&s.wallet, &["list"]);
    assert!(human.status.success());
    let text = stdout(&human);
    assert!(text.contains("Alice's phone") && text.contains(&s.vehicle.group_id_hex()), "{text}");
    assert!(text.contains("fast context:        no"), "{text}");
    assert!(text.contains(&format!("  vehicle public key:  {}\n", s.vehicle.public_key_hex())), "{text}");
    assert!(text.contains("  share attestation:   no\n  termination pending: no\n"), "{text}");
    let listed = json(&phone(&s.wallet, &["list", "--json"]));
    assert_eq!(listed[0]["vehicle_group_id"], s.vehicle.group_id_hex());
    assert_eq!(listed[0]["vehicle_public_key"], s.vehicle.public_key_hex());
    assert_eq!(listed[0]["fast_context"], false);
    assert_eq!(
        (listed[0]["has_share"].as_bool(), listed[0]["termination_pending"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(listed[0]["public_key"], file["keys"][0]["endpoint_public_key"]);
    assert!(!text.contains(private_key) && !listed.to_string().contains(private_key));

    // An explicit slot is kept; a second key for the same vehicle is refused.
    let other = Vehicle::new();
    let args =
        ["new-key", "--vehicle-group-id", &other.group_id_hex(), "--vehicle-public-key", &other.public_key_hex()];
    let output = phone(&s.wallet, &[&args[..], &["--slot", "0102030405060708"]].concat());
    assert!(stdout(&output).starts_with("slot: 0102030405060708\n"), "{output:?}");
    let again = phone(&s.wallet, &args);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a key"), "{again:?}");
}

#[test]
fn usage_and_io_errors_exit_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = dir.path().join("phone.json");
    let bad_hex = phone(&wallet, &["new-key", "--vehicle-group-id", "xyz", "--vehicle-public-key", "00"]);
    assert_eq!(bad_hex.status.code(), Some(1), "{bad_hex:?}");
    assert!(String::from_utf8_lossy(&bad_hex.stderr).contains("hexadecimal"));
    assert_eq!(phone(&wallet, &["tap"]).status.code(), Some(1), "--reader or --socket is required");
    let both = phone(&wallet, &["tap", "--reader", "a", "--socket", "/x", "--hang-after", "1"]);
    assert_eq!(both.status.code(), Some(1));
    let missing = phone(&wallet, &["list"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"), "{missing:?}");
    assert_eq!(phone(&wallet, &["--help"]).status.code(), Some(0));

    let s = setup();
    let nobody = phone(&s.wallet, &["tap", "--socket", s.dir.path().join("nobody.sock").to_str().unwrap()]);
    assert_eq!(nobody.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("cannot reach the reader"), "{nobody:?}");
}

#[test]
fn standard_then_fast_with_the_saved_context() {
    let s = setup();
    let listener = support::listen(&s.socket);

    let reader = support::serve_one(&listener, s.vehicle, Tap::default());
    let first = phone(&s.wallet, &["tap", "--socket", s.socket.to_str().unwrap(), "--json"]);
    let (vehicle, outcome) = reader.join().unwrap();
    assert_eq!(outcome, ReaderOutcome::Authenticated { kind: TransactionKind::Standard, mailbox_reads: vec![] });
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let report = json(&first);
    assert_eq!((report["result"].as_str(), report["transaction"].as_str()), (Some("success"), Some("standard")));
    assert_eq!(commands(&report), ["SELECT", "AUTH0", "AUTH1", "CONTROL FLOW"]);
    assert_eq!(report["response_lengths"].as_array().unwrap().len(), 4);
    assert!(report["elapsed_us"].as_u64().unwrap() > 0);
    assert!(stdout(&phone(&s.wallet, &["list"])).contains("fast context:        yes"));

    // The second tap finds the reader by name in $CARKEY_FIELD_DIR, and is fast.
    let reader = support::serve_one(&listener, vehicle, Tap::default());
    let second = Command::new(env!("CARGO_BIN_EXE_carkey-phone"))
        .env("CARKEY_FIELD_DIR", s.dir.path())
        .args(["--wallet", s.wallet.to_str().unwrap(), "tap", "--reader", "door-driver"])
        .output()
        .unwrap();
    let (_, outcome) = reader.join().unwrap();
    assert_eq!(outcome, ReaderOutcome::Authenticated { kind: TransactionKind::Fast, mailbox_reads: vec![] });
    assert_eq!(second.status.code(), Some(0), "{second:?}");
    let text = stdout(&second);
    assert!(text.contains("result: success\ntransaction: fast\n"), "{text}");
    assert!(text.contains("commands: SELECT, AUTH0, CONTROL FLOW\n"), "{text}");
}

#[test]
fn denied_and_failed_taps_have_their_exit_codes() {
    let s = setup();
    let listener = support::listen(&s.socket);
    let socket = s.socket.to_str().unwrap();

    let denied = Tap { verdict: ControlFlowStatus::Denied, ..Tap::default() };
    let reader = support::serve_one(&listener, s.vehicle, denied);
    let output = phone(&s.wallet, &["tap", "--socket", socket, "--json"]);
    let (mut vehicle, _) = reader.join().unwrap();
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    assert_eq!(json(&output)["result"], "denied");

    // A vehicle that has forgotten the key: the phone is told "failure".
    vehicle.directory = carkey_protocol::reader::MemoryDirectory::new();
    let reader = support::serve_one(&listener, vehicle, Tap::default());
    let output = phone(&s.wallet, &["tap", "--socket", socket, "--json"]);
    let (_, outcome) = reader.join().unwrap();
    assert!(matches!(outcome, ReaderOutcome::Protocol(_)), "{outcome:?}");
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let report = json(&output);
    assert_eq!((report["result"].as_str(), report["end"].as_str()), (Some("failure"), Some("control-flow")));
}

#[test]
fn hang_after_stays_in_the_field_until_the_reader_gives_up() {
    let s = setup();
    let listener = support::listen(&s.socket);
    let tap = Tap { apdu_timeout: Duration::from_millis(200), ..Tap::default() };
    let reader = support::serve_one(&listener, s.vehicle, tap);
    let output = phone(&s.wallet, &["tap", "--socket", s.socket.to_str().unwrap(), "--json", "--hang-after", "1"]);
    let (_, outcome) = reader.join().unwrap();
    assert_eq!(outcome, ReaderOutcome::TimedOut);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let report = json(&output);
    assert_eq!((report["result"].as_str(), report["end"].as_str()), (Some("no-decision"), Some("reader-closed")));
    assert_eq!(commands(&report), ["SELECT", "AUTH0"]);
    assert_eq!(report["response_lengths"].as_array().unwrap().len(), 1);
    assert!(report["total_us"].as_u64().unwrap() >= 200_000);
}

#[test]
fn disconnect_after_leaves_the_field() {
    let s = setup();
    let listener = support::listen(&s.socket);
    let reader = support::serve_one(&listener, s.vehicle, Tap::default());
    let output =
        phone(&s.wallet, &["tap", "--socket", s.socket.to_str().unwrap(), "--json", "--disconnect-after", "2"]);
    let (_, outcome) = reader.join().unwrap();
    assert_eq!(outcome, ReaderOutcome::Lost);
    assert_eq!(output.status.code(), Some(4), "{output:?}");
    let report = json(&output);
    assert_eq!((report["result"].as_str(), report["end"].as_str()), (Some("no-decision"), Some("disconnected")));
    assert_eq!(commands(&report), ["SELECT", "AUTH0"]);
    assert_eq!(report["response_lengths"].as_array().unwrap().len(), 2);
}
