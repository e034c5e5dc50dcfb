//! carkeyctl against the real daemon on a private bus: every command a technician uses,
//! its output in both formats, and the exit codes a script branches on.
//!
//! carkeyctl runs in-process (`carkeyctl::run` on a parsed command line), exactly as the
//! binary runs it, with `--address` pointing at the private bus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bus;
mod car;

use std::time::{Duration, Instant};

use bus::PrivateBus;
use car::{Car, Phone};
use carkeyctl::{Cli, Exit};
use clap::Parser;
use serde_json::Value;

/// What one carkeyctl run printed, and how it ended.
struct Ran {
    exit: Exit,
    out: String,
    err: String,
}

impl Ran {
    /// Asserts success and returns stdout.
    fn ok(self) -> String {
        assert_eq!(self.exit, Exit::Success, "stderr: {}", self.err);
        assert!(self.err.is_empty(), "{}", self.err);
        self.out
    }

    /// Asserts success and parses stdout as one JSON document.
    fn json(self) -> Value {
        serde_json::from_str(&self.ok()).unwrap()
    }

    /// Asserts the failure's exit code and error name; returns the stderr line.
    fn fails(self, exit: Exit, name: &str) -> String {
        assert_eq!(self.exit, exit, "stdout: {}\nstderr: {}", self.out, self.err);
        assert!(self.err.starts_with("carkeyctl: "), "{}", self.err);
        assert!(self.err.ends_with(&format!(" ({name})\n")), "{}", self.err);
        assert!(self.out.is_empty(), "{}", self.out);
        self.err
    }
}

/// Runs `carkeyctl --address <bus> args..` and gives up after 60 s.
fn ctl(bus: &PrivateBus, args: &[&str]) -> Ran {
    let cli = Cli::try_parse_from(["carkeyctl", "--address", bus.address.as_str()].iter().chain(args)).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let exit = runtime
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(60), carkeyctl::run(cli, &mut out, &mut err)).await
        })
        .unwrap_or_else(|_| panic!("carkeyctl {args:?} did not finish"));
    Ran { exit, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() }
}

/// A running car with an owner key and a friend's key ("anna", profile valet).
fn running_car(bus: &PrivateBus) -> (Car, Phone, Phone) {
    let mut car = bus::car_on(bus, "");
    let owner = car.enroll("owner", "owner");
    let friend = car.enroll("anna", "valet");
    bus::start_on(&mut car, bus);
    (car, owner, friend)
}

/// The id of the key named `name`, as `keys --json` lists it.
fn key_id(bus: &PrivateBus, name: &str) -> String {
    let keys = ctl(bus, &["--json", "keys"]).json();
    let key = keys.as_array().unwrap().iter().find(|k| k["name"] == name).unwrap_or_else(|| panic!("no {name}"));
    key["id"].as_str().unwrap().to_owned()
}

fn key_json(bus: &PrivateBus, id: &str) -> Value {
    ctl(bus, &["key", "show", id, "--json"]).json()
}

#[test]
fn lists_and_shows_keys_in_both_formats() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (_car, _owner, _friend) = running_car(&bus);
    let (owner, anna) = (key_id(&bus, "owner"), key_id(&bus, "anna"));

    let table = ctl(&bus, &["keys"]).ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert_eq!(lines[0], "ID                NAME   ROLE    PROFILE  STATE   LAST USED", "{table}");
    assert!(lines.contains(&format!("{owner}  owner  owner   owner    active  never").as_str()), "{table}");
    assert!(lines.contains(&format!("{anna}  anna   friend  valet    active  never").as_str()), "{table}");

    let keys = ctl(&bus, &["keys", "--json"]).json();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let shown = key_json(&bus, &anna);
    assert_eq!(
        (shown["name"].as_str(), shown["role"].as_str(), shown["profile"].as_str()),
        (Some("anna"), Some("friend"), Some("valet"))
    );
    assert_eq!((shown["state"].as_str(), shown["last_used_at"].clone()), (Some("active"), Value::Null));
    assert_eq!(keys.as_array().unwrap().iter().find(|k| k["id"] == anna.as_str()), Some(&shown));

    let text = ctl(&bus, &["key", "show", &owner]).ok();
    assert!(text.starts_with(&format!("id          {owner}\nname        owner\nrole        owner\n")), "{text}");
    assert!(text.contains("\nlast used   never\n"), "{text}");

    ctl(&bus, &["key", "show", "00000000000000ff"]).fails(Exit::NotFound, "UnknownKey");
    ctl(&bus, &["key", "rename", "00000000000000ff", "x"]).fails(Exit::NotFound, "UnknownKey");
    ctl(&bus, &["key", "show", "00FF"]).fails(Exit::InvalidArgument, "InvalidArgument");
}

#[test]
fn changes_a_friends_key_step_by_step() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (_car, _owner, _friend) = running_car(&bus);
    let (owner, anna) = (key_id(&bus, "owner"), key_id(&bus, "anna"));

    assert_eq!(
        ctl(&bus, &["key", "rename", &anna, "Anna's phone"]).ok(),
        format!("key {anna} renamed to \"Anna's phone\"\n")
    );
    ctl(&bus, &["key", "rename", &anna, ""]).fails(Exit::InvalidArgument, "InvalidArgument");
    let renamed = ctl(&bus, &["--json", "key", "rename", &anna, "Anna"]).json();
    assert_eq!(renamed["name"], "Anna", "--json prints the key as it is now");

    assert_eq!(ctl(&bus, &["key", "suspend", &anna, "--reason", "lost phone"]).ok(), format!("key {anna} suspended\n"));
    let suspended = key_json(&bus, &anna);
    assert_eq!(
        (suspended["state"].as_str(), suspended["state_reason"].as_str()),
        (Some("suspended"), Some("lost phone"))
    );
    assert!(ctl(&bus, &["key", "show", &anna]).ok().contains("\nstate       suspended (lost phone)\n"));
    ctl(&bus, &["key", "resume", &anna]).ok();
    assert_eq!(key_json(&bus, &anna)["state"], "active");
    ctl(&bus, &["key", "resume", &anna]).fails(Exit::Refused, "NotSuspended");

    ctl(&bus, &["profile", "set", &anna, "driver"]).ok();
    assert_eq!(key_json(&bus, &anna)["profile"], "driver");
    ctl(&bus, &["profile", "set", &anna, "gold"]).fails(Exit::NotFound, "UnknownProfile");

    let window =
        ctl(&bus, &["--json", "key", "validity", &anna, "--not-before", "2026-01-01", "--not-after", "@1893456000"])
            .json();
    assert_eq!(
        (window["not_before"].as_i64(), window["not_after"].as_i64()),
        (Some(1_767_225_600), Some(1_893_456_000))
    );
    assert!(ctl(&bus, &["key", "show", &anna]).ok().contains("\nnot after   2030-01-01T00:00:00Z\n"));
    ctl(&bus, &["key", "validity", &anna]).ok();
    assert_eq!(key_json(&bus, &anna)["not_after"], Value::Null, "a bound left out is unbounded");

    // Revocation is confirmed or nothing happens.
    ctl(&bus, &["key", "revoke", &anna]).fails(Exit::Usage, "NotConfirmed");
    assert_eq!(key_json(&bus, &anna)["state"], "active");
    assert_eq!(ctl(&bus, &["key", "revoke", &anna, "--reason", "sold", "--yes"]).ok(), format!("key {anna} revoked\n"));
    let revoked = key_json(&bus, &anna);
    assert_eq!((revoked["state"].as_str(), revoked["state_reason"].as_str()), (Some("revoked"), Some("sold")));
    ctl(&bus, &["key", "resume", &anna]).fails(Exit::Refused, "Revoked");

    // Owner power needs the owner in the car.
    let denied = ctl(&bus, &["key", "suspend", &owner]).fails(Exit::OwnerPresenceRequired, "OwnerPresenceRequired");
    assert!(!denied.contains("OwnerPresenceRequired: "), "the name is printed once: {denied}");
    ctl(&bus, &["factory-reset", "--yes"]).fails(Exit::OwnerPresenceRequired, "OwnerPresenceRequired");
}

#[test]
fn manages_custom_profiles() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (_car, _owner, _friend) = running_car(&bus);
    let anna = key_id(&bus, "anna");

    let list = ctl(&bus, &["profile", "list"]).ok();
    assert!(list.starts_with("NAME "), "{list}");
    assert!(list.lines().any(|l| l.starts_with("valet ") && l.contains(" 60 km/h ")), "{list}");

    let put = [
        "profile",
        "put",
        "weekend",
        "--action",
        "unlock,lock",
        "--speed-limit",
        "50",
        "--schedule",
        "sat-sun 08:00-20:00",
    ];
    assert_eq!(ctl(&bus, &put).ok(), "profile \"weekend\" saved\n");
    let profiles = ctl(&bus, &["--json", "profile", "list"]).json();
    let weekend = profiles.as_array().unwrap().iter().find(|p| p["name"] == "weekend").unwrap().clone();
    assert_eq!(weekend["actions"], serde_json::json!(["unlock", "lock"]));
    assert_eq!((weekend["speed_limit"].as_u64(), weekend["built_in"].as_bool()), (Some(50), Some(false)));
    // The daemon keeps its own spelling of the window ("sat,sun ..."): shown as it holds it.
    let schedule = weekend["schedule"].as_array().unwrap();
    assert!(schedule.len() == 1 && schedule[0].as_str().unwrap().ends_with(" 08:00-20:00"), "{weekend}");
    let replaced = ctl(
        &bus,
        &[
            "--json",
            "profile",
            "put",
            "weekend",
            "--action=unlock,lock",
            "--speed-limit=40",
            "--schedule",
            schedule[0].as_str().unwrap(),
        ],
    )
    .json();
    assert_eq!((replaced["name"].as_str(), replaced["speed_limit"].as_u64()), (Some("weekend"), Some(40)));
    assert_eq!(replaced["schedule"], weekend["schedule"], "--json prints the profile as the daemon holds it");
    ctl(&bus, &["profile", "put", "bad", "--action", "teleport"]).fails(Exit::InvalidArgument, "InvalidArgument");
    ctl(&bus, &["profile", "put", "valet", "--action", "unlock"]).fails(Exit::Refused, "BuiltinProfile");

    ctl(&bus, &["profile", "set", &anna, "weekend"]).ok();
    ctl(&bus, &["profile", "remove", "weekend"]).fails(Exit::Refused, "ProfileInUse");
    ctl(&bus, &["profile", "set", &anna, "valet"]).ok();
    assert_eq!(ctl(&bus, &["--json", "profile", "remove", "weekend"]).json(), serde_json::json!({"ok": true}));
    ctl(&bus, &["profile", "remove", "weekend"]).fails(Exit::NotFound, "UnknownProfile");
}

#[test]
fn pairing_needs_the_owner_in_the_car() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (car, owner, _friend) = running_car(&bus);

    ctl(&bus, &["pair", "start"]).fails(Exit::OwnerPresenceRequired, "OwnerPresenceRequired");
    assert!(ctl(&bus, &["pair", "status"]).ok().starts_with("pending        no\n"));
    assert!(ctl(&bus, &["status"]).ok().contains("\nowner present  no\n"));

    let report = owner.tap(&car, "console");
    assert_eq!(report.result, carkey_tests::report::TapResult::Success, "{report:?}");
    assert!(ctl(&bus, &["status"]).ok().contains("\nowner present  until "));

    let started = ctl(&bus, &["pair", "start"]).ok();
    let code = started.lines().next().and_then(|l| l.strip_prefix("code     ")).unwrap_or_else(|| panic!("{started}"));
    assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_alphanumeric()), "{started}");
    assert!(started.lines().nth(1).is_some_and(|l| l.starts_with("expires  20") && l.ends_with('Z')), "{started}");
    let status = ctl(&bus, &["--json", "pair", "status"]).json();
    assert_eq!((status["pending"].as_bool(), status["source"].as_str()), (Some(true), Some("dashboard")));

    // A second start replaces the first code.
    let again = ctl(&bus, &["--json", "pair", "start"]).json();
    assert!(again["code"].as_str().is_some_and(|c| !c.is_empty()) && again["expires_at"].as_i64().is_some(), "{again}");
    assert_eq!(ctl(&bus, &["pair", "cancel"]).ok(), "pairing cancelled\n");
    assert_eq!(ctl(&bus, &["--json", "pair", "status"]).json()["pending"], false);
    ctl(&bus, &["pair", "cancel"]).fails(Exit::NotFound, "NoPairing");
}

#[test]
fn readers_status_and_monitor() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (car, owner, _friend) = running_car(&bus);
    let id = key_id(&bus, "owner");

    let readers = ctl(&bus, &["readers"]).ok();
    assert_eq!(
        readers,
        "NAME            LOCATION        STATE  LAST ERROR\n\
         console         console         ready  -\n\
         door-driver     door-driver     ready  -\n\
         door-passenger  door-passenger  ready  -\n\
         trunk           trunk           ready  -\n"
    );
    let readers = ctl(&bus, &["--json", "readers"]).json();
    let mut names: Vec<&str> = readers.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    let mut expected = car::READERS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);

    let status = ctl(&bus, &["status"]).ok();
    for line in ["keys in use    2 of ", "pairing        none\n", "doors          locked\n", "immobilizer    armed\n"] {
        assert!(status.contains(line), "{line:?} missing from:\n{status}");
    }
    let status = ctl(&bus, &["--json", "status"]).json();
    assert_eq!((status["keys_in_use"].as_u64(), status["vehicle"]["locked"].as_bool()), (Some(2), Some(true)));
    assert_eq!(status["vehicle_group_id"].as_str().map(str::len), Some(32));

    // The tap's changes may come before its decision; the decision ends the run.
    let output = monitor_while_tapping(&bus, &car, &owner, &["--count", "1"]);
    let line = output.lines().last().unwrap_or_default();
    // A door tap unlocks a locked car and locks an unlocked one.
    let tapped = |action: &str| line.contains(&format!(" decision door-driver {id} {action} "));
    assert!(tapped("unlock") || tapped("lock"), "{output}");
    assert!(line.ends_with(" allowed"), "{output}");
    assert_eq!(output.lines().filter(|l| l.contains(" decision ")).count(), 1, "{output}");

    // Every tap changes the key's last use and the locks; before the third decision the
    // second tap's changes have certainly arrived, whenever the monitor subscribed.
    let output = monitor_while_tapping(&bus, &car, &owner, &["--count", "3"]);
    assert_eq!(output.lines().filter(|l| l.contains(" decision ")).count(), 3, "{output}");
    assert!(output.lines().any(|l| l.ends_with(&format!(" key-changed {id}"))), "{output}");
    assert!(output.lines().any(|l| l.ends_with(" vehicle-changed")), "{output}");

    let output = monitor_while_tapping(&bus, &car, &owner, &["--count", "1", "--json"]);
    let events: Vec<Value> = output.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.iter().filter(|e| e["event"] == "decision").count(), 1, "{output}");
    let decision = events.last().unwrap();
    assert_eq!(decision["event"], "decision");
    assert_eq!((decision["reader"].as_str(), decision["key"].as_str()), (Some("door-driver"), Some(id.as_str())));
    assert_eq!((decision["allowed"].as_bool(), decision["reason"].clone()), (Some(true), Value::Null));
    assert!(events.iter().all(|e| e["time"].is_i64()), "{output}");
}

/// Runs `monitor args..` while the phone taps the driver's door, until the monitor ends:
/// repeated taps make it independent of when the monitor has subscribed.
fn monitor_while_tapping(bus: &PrivateBus, car: &Car, phone: &Phone, args: &[&str]) -> String {
    let args: Vec<&str> = std::iter::once("monitor").chain(args.iter().copied()).collect();
    std::thread::scope(|scope| {
        let monitor = scope.spawn(|| ctl(bus, &args));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !monitor.is_finished() && Instant::now() < deadline {
            phone.tap(car, "door-driver");
            std::thread::sleep(Duration::from_millis(100));
        }
        monitor.join().unwrap().ok()
    })
}
