//! The authorization matrix, black box: carkeyd running as its service user on a private
//! dbus-daemon configured like a system bus with the project's policy file, every method
//! called by a member of carkey-dashboard, a member of carkey-observer and a user in
//! neither (each a real account, switched to with `setpriv`), and every outcome compared
//! with the authorization table written in `org.carkey.CarKey1.xml`.
//!
//! Needs root (to create the accounts and switch users); skipped with a message otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bus;
mod car;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use bus::PrivateBus;
use car::Car;
use carkey_dbus::{BUS_NAME, ROOT_PATH};

const DASHBOARD: &str = "carkey-test-dash";
const OBSERVER: &str = "carkey-test-obs";
const OTHER: &str = "carkey-test-other";

/// Who may call a method, as the table says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Required {
    Anyone,
    Observer,
    Manager,
}

/// One row of the written table.
#[derive(Debug)]
struct Row {
    /// `Interface.Member`, the interface without its `org.carkey.CarKey1.` or
    /// `org.freedesktop.DBus.` prefix.
    method: String,
    required: Required,
    /// Only the bus policy decides (the method is served by zbus, not by carkeyd).
    bus_policy_only: bool,
}

/// The table from the documentation comment of the introspection XML: the lines after
/// "Authorization table" up to the first blank line.
fn written_table() -> Vec<Row> {
    let mut lines = carkey_dbus::INTROSPECTION_XML.lines().skip_while(|l| l.trim() != "Authorization table").skip(1);
    let mut rows = Vec::new();
    for line in lines.by_ref().take_while(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let method = words.next().unwrap().to_owned();
        let required = match words.next().unwrap() {
            "anyone" => Required::Anyone,
            "observer" => Required::Observer,
            "manager" => Required::Manager,
            other => panic!("unknown role {other:?} in the authorization table"),
        };
        let rest: Vec<&str> = words.collect();
        rows.push(Row { method, required, bus_policy_only: rest == ["(bus", "policy", "only)"] });
    }
    assert!(rows.len() > 10, "the authorization table was not found in the XML");
    rows
}

/// The full interface name of a table entry.
fn interface(method: &str) -> String {
    let (iface, _) = method.split_once('.').unwrap();
    match iface {
        "Properties" | "ObjectManager" | "Introspectable" | "Peer" => format!("org.freedesktop.DBus.{iface}"),
        _ => format!("org.carkey.CarKey1.{iface}"),
    }
}

#[test]
fn every_documented_method_has_a_row_in_the_table() {
    let table: BTreeSet<String> = written_table().into_iter().map(|r| r.method).collect();
    let node = zbus_xml::Node::from_reader(carkey_dbus::INTROSPECTION_XML.as_bytes()).unwrap();
    for iface in node.interfaces() {
        let short = iface.name().as_str().trim_start_matches("org.carkey.CarKey1.").to_owned();
        for method in iface.methods() {
            let entry = format!("{short}.{}", method.name());
            assert!(table.contains(&entry), "{entry} is not in the authorization table");
        }
    }
    for method in &table {
        interface(method);
    }
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Creates the service user and groups from the project's sysusers file, and one test
/// account per role, once per test process.
fn accounts() -> (u32, u32) {
    static SERVICE: OnceLock<(u32, u32)> = OnceLock::new();
    *SERVICE.get_or_init(|| {
        let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../systemd/carkey.sysusers.conf");
        sysusers(&project);
        let dir = tempfile::tempdir().unwrap();
        let test = dir.path().join("carkey-test.conf");
        std::fs::write(
            &test,
            format!(
                "u {DASHBOARD} - \"carkey test dashboard\"\nm {DASHBOARD} carkey-dashboard\n\
                 u {OBSERVER} - \"carkey test observer\"\nm {OBSERVER} carkey-observer\n\
                 u {OTHER} - \"carkey test other user\"\n"
            ),
        )
        .unwrap();
        sysusers(&test);
        let service = nix::unistd::User::from_name("carkey").unwrap().expect("sysusers created carkey");
        (service.uid.as_raw(), service.gid.as_raw())
    })
}

fn sysusers(file: &Path) {
    let out = Command::new("systemd-sysusers")
        .arg(file)
        .output()
        .expect("systemd-sysusers (package systemd) must be installed");
    assert!(out.status.success(), "systemd-sysusers {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
}

/// A car with an owner and a friend key whose daemon runs as the service user and serves
/// the bus with carkeyd's default authorization (no `[dbus]` lists in its configuration).
struct Scene {
    bus: PrivateBus,
    _car: Car,
    friend_path: String,
}

fn scene(policy: &str) -> Scene {
    let (uid, gid) = accounts();
    let bus = PrivateBus::start(policy);
    let mut car = Car::with_config("[dbus]\nbus = \"system\"\n");
    car.set_env("DBUS_SYSTEM_BUS_ADDRESS", bus.env_value());
    car.run_as(uid, gid);
    car.enroll("owner", "owner");
    car.enroll("friend", "valet");
    let friend = car.keys().into_iter().find(|k| k["name"] == "friend").unwrap();
    let friend_path = format!("/org/carkey/CarKey1/keys/{}", friend["id"].as_str().unwrap());
    bus::start_on(&mut car, &bus);
    Scene { bus, _car: car, friend_path }
}

/// The call a table entry stands for: object path, `interface.Member` and GVariant text
/// arguments for gdbus. Arguments are valid, so that an allowed call reaches the engine.
fn call_for(row: &Row, friend_path: &str) -> (String, String, Vec<String>) {
    let root = ROOT_PATH.to_owned();
    let key = friend_path.to_owned();
    let text = |s: &str| format!("'{s}'");
    let (path, args) = match row.method.as_str() {
        "Manager.PutProfile" => (
            root,
            vec![
                "{'Name': <'courier'>, 'Actions': <['trunk']>, 'SpeedLimit': <uint16 0>, 'Schedule': <@as []>, \
                 'NotBefore': <int64 0>, 'NotAfter': <int64 0>}"
                    .to_owned(),
            ],
        ),
        "Manager.RemoveProfile" => (root, vec![text("courier")]),
        "Key.Rename" => (key, vec![text("buddy")]),
        "Key.SetProfile" => (key, vec![text("restricted")]),
        "Key.SetValidity" => (key, vec!["int64 0".into(), "int64 0".into()]),
        "Key.Suspend" => (key, vec![text("lost phone")]),
        "Key.Revoke" => (key, vec![text("sold")]),
        "Key.Resume" => (key, vec![]),
        "Properties.Get" => (root, vec![text("org.carkey.CarKey1.Manager"), text("KeysInUse")]),
        "Properties.GetAll" => (key, vec![text("org.carkey.CarKey1.Key")]),
        "Manager.ListKeys"
        | "Manager.ListProfiles"
        | "Manager.FactoryReset"
        | "Pairing.Start"
        | "Pairing.Cancel"
        | "ObjectManager.GetManagedObjects"
        | "Introspectable.Introspect"
        | "Peer.Ping" => (root, vec![]),
        other => panic!("the test does not know how to call {other}: add it to call_for"),
    };
    let (_, member) = row.method.split_once('.').unwrap();
    (path, format!("{}.{member}", interface(&row.method)), args)
}

/// `Ok` or the D-Bus error name of a gdbus call.
fn outcome(out: &Output) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = stderr
        .split("GDBus.Error:")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("gdbus failed without a D-Bus error: {stderr}"));
    Err(name.to_owned())
}

fn call(scene: &Scene, user: Option<&str>, row: &Row) -> Result<(), String> {
    let (path, method, args) = call_for(row, &scene.friend_path);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    outcome(&scene.bus.gdbus_call(user, &path, &method, &args))
}

/// What the vehicle holds, read as root with busctl: keys, profiles and pairing, as JSON
/// values (whose dictionaries compare regardless of order).
fn snapshot(scene: &Scene) -> Vec<serde_json::Value> {
    let read = |args: &[&str]| {
        let out = scene.bus.busctl(&[&["--json=short", "call", BUS_NAME, ROOT_PATH], args].concat());
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    vec![
        read(&["org.carkey.CarKey1.Manager", "ListKeys"]),
        read(&["org.carkey.CarKey1.Manager", "ListProfiles"]),
        read(&["org.freedesktop.DBus.Properties", "GetAll", "s", "org.carkey.CarKey1.Pairing"]),
    ]
}

fn is_access_denied(name: &str) -> bool {
    name == "org.carkey.CarKey1.Error.AccessDenied" || name == "org.freedesktop.DBus.Error.AccessDenied"
}

/// What a manager's allowed call returns: success, or the engine's answer when the call
/// passed authorization and was refused for another reason (the owner is not in the car;
/// there is no pairing to cancel).
fn expected_for_manager(method: &str) -> Result<(), String> {
    match method {
        "Manager.FactoryReset" | "Pairing.Start" => Err("org.carkey.CarKey1.Error.OwnerPresenceRequired".into()),
        "Pairing.Cancel" => Err("org.carkey.CarKey1.Error.NoPairing".into()),
        _ => Ok(()),
    }
}

/// Manager calls in an order in which each one is valid: the profile exists before it is
/// removed, the key is suspended before it is resumed and revoked last.
fn manager_order(rows: &[Row]) -> Vec<&Row> {
    let rank = |m: &str| match m {
        "Manager.RemoveProfile" => 1,
        "Key.Resume" => 1,
        "Key.Revoke" => 2,
        _ => 0,
    };
    let mut ordered: Vec<&Row> = rows.iter().collect();
    ordered.sort_by_key(|r| rank(&r.method));
    ordered
}

#[test]
fn the_project_policy_and_carkeyd_together_follow_the_written_table() {
    if !is_root() {
        eprintln!("skipped: creating test accounts and switching users needs root");
        return;
    }
    let table = written_table();
    let scene = scene(&bus::project_policy());
    let before = snapshot(&scene);

    // Denied callers first, so that they meet the state every allowed call would change.
    let mut report = Vec::new();
    for row in &table {
        for (user, allowed) in
            [(OBSERVER, row.required != Required::Manager), (OTHER, row.required == Required::Anyone)]
        {
            let got = call(&scene, Some(user), row);
            match (&got, allowed) {
                (Ok(()), true) => {}
                (Err(name), false) if is_access_denied(name) => {}
                _ => report.push(format!("{} as {user}: {got:?}, table says allowed={allowed}", row.method)),
            }
        }
    }
    assert!(report.is_empty(), "outcomes differ from the table:\n{}", report.join("\n"));
    assert_eq!(snapshot(&scene), before, "a denied or read-only call changed the vehicle's state");

    for row in manager_order(&table) {
        let got = call(&scene, Some(DASHBOARD), row);
        let want = expected_for_manager(&row.method);
        if got != want {
            report.push(format!("{} as {DASHBOARD}: {got:?}, expected {want:?}", row.method));
        }
    }
    assert!(report.is_empty(), "outcomes differ from the table:\n{}", report.join("\n"));
    let after = serde_json::to_string(&snapshot(&scene)).unwrap();
    assert!(
        after.contains("\"buddy\"") && after.contains("\"revoked\""),
        "the dashboard's calls took no effect: {after}"
    );
    assert!(!after.contains("courier"), "the profile was put and removed: {after}");
}

/// The daemon's own check, with a bus that lets everyone send everything: the table still
/// holds for every method carkeyd serves (those marked "bus policy only" are zbus's).
#[test]
fn carkeyd_alone_denies_what_the_table_denies() {
    if !is_root() {
        eprintln!("skipped: creating test accounts and switching users needs root");
        return;
    }
    let table = written_table();
    let open = format!(
        r#"<policy user="carkey"><allow own="{BUS_NAME}"/></policy>
           <policy context="default"><allow send_destination="{BUS_NAME}"/></policy>"#
    );
    let scene = scene(&open);
    let before = snapshot(&scene);
    let mut report = Vec::new();
    for row in table.iter().filter(|r| !r.bus_policy_only) {
        for (user, allowed) in
            [(OBSERVER, row.required != Required::Manager), (OTHER, row.required == Required::Anyone)]
        {
            if !allowed && row.method == "Properties.GetAll" {
                // zbus answers GetAll itself and leaves out every property whose getter
                // failed, so carkeyd cannot turn a denied GetAll into an error: the caller
                // gets an empty dictionary. The bus policy denies it outright (above).
                let (path, method, args) = call_for(row, &scene.friend_path);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = scene.bus.gdbus_call(Some(user), &path, &method, &args);
                let stdout = String::from_utf8_lossy(&out.stdout);
                if !out.status.success() || stdout.trim() != "(@a{sv} {},)" {
                    report.push(format!("{} as {user} disclosed: {stdout}", row.method));
                }
                continue;
            }
            let got = call(&scene, Some(user), row);
            let want_denied = if row.method.starts_with("Properties.") {
                "org.freedesktop.DBus.Error.AccessDenied"
            } else {
                "org.carkey.CarKey1.Error.AccessDenied"
            };
            match (&got, allowed) {
                (Ok(()), true) => {}
                (Err(name), false) if name == want_denied => {}
                _ => report.push(format!("{} as {user}: {got:?}, table says allowed={allowed}", row.method)),
            }
        }
    }
    assert!(report.is_empty(), "carkeyd's own check differs from the table:\n{}", report.join("\n"));
    assert_eq!(snapshot(&scene), before, "a denied call changed the vehicle's state");
}
