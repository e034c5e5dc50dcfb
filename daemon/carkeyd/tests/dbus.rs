//! The dashboard's D-Bus API, black box: the real daemon on a private dbus-daemon
//! configured like a system bus, an independent client (busctl), and zbus proxies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod bus;
mod car;

use std::collections::HashMap;
use std::time::Duration;

use bus::PrivateBus;
use car::Car;
use carkey_dbus::proxies::{KeyProxy, ManagerProxy, PairingProxy, VehicleProxy};
use carkey_dbus::{BUS_NAME, ROOT_PATH, paths};
use futures_util::StreamExt;
use zbus::{OwnedVariant, Variant};

async fn running_car(bus: &PrivateBus) -> (Car, car::Phone, zbus::Connection, String) {
    let mut car = bus::car_on(bus, "");
    let owner = car.enroll("owner", "owner");
    let id = car.keys()[0]["id"].as_str().unwrap().to_owned();
    bus::start_on(&mut car, bus);
    (car, owner, bus::connect(bus).await, id)
}

async fn next<T>(stream: &mut (impl futures_util::Stream<Item = T> + Unpin)) -> T {
    tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("timed out").expect("stream ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busctl_introspects_and_lists_keys() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (_car, _owner, _conn, id) = running_car(&bus).await;

    let out = bus.busctl(&["introspect", BUS_NAME, ROOT_PATH]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for member in [".ListKeys", ".FactoryReset", ".Decision", ".Start", ".Locked", "org.freedesktop.DBus.ObjectManager"]
    {
        assert!(text.contains(member), "{member} missing from:\n{text}");
    }
    let out = bus.busctl(&["--json=short", "call", BUS_NAME, ROOT_PATH, "org.carkey.CarKey1.Manager", "ListKeys"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["type"], "a(ossssssxxxxs(ttttt))");
    // Object, Id, Name, Role, Profile, State, ...
    let key = &reply["data"][0][0];
    assert_eq!(key[0], format!("/org/carkey/CarKey1/keys/{id}"));
    assert_eq!(key[1], id.as_str());
    assert_eq!(key[2], "owner");
    assert_eq!(key[3], "owner");
    assert_eq!(key[5], "active");
    let out = bus.busctl(&[
        "get-property",
        BUS_NAME,
        &format!("/org/carkey/CarKey1/keys/{id}"),
        "org.carkey.CarKey1.Key",
        "Profile",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "s \"owner\"");
}

/// The daemon's introspection of every object matches the documented XML.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_matches_the_documented_xml() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (_car, _owner, conn, id) = running_car(&bus).await;
    let documented = zbus_xml::Node::from_reader(carkey_dbus::INTROSPECTION_XML.as_bytes()).unwrap();
    let documented: HashMap<String, &zbus_xml::Interface<'_>> =
        documented.interfaces().iter().map(|i| (i.name().to_string(), i)).collect();
    let objects = [
        ROOT_PATH.to_owned(),
        format!("/org/carkey/CarKey1/keys/{id}"),
        "/org/carkey/CarKey1/readers/door_driver".into(),
    ];
    let mut seen = Vec::new();
    for path in objects {
        let proxy = zbus::fdo::IntrospectableProxy::builder(&conn)
            .destination(BUS_NAME)
            .path(path.as_str())
            .build()
            .await
            .unwrap();
        let xml = proxy.introspect().await.unwrap();
        let node = zbus_xml::Node::from_reader(xml.as_bytes()).unwrap();
        for served in node.interfaces() {
            let name = served.name().to_string();
            if name.starts_with("org.freedesktop.DBus.") {
                continue;
            }
            let doc = documented.get(&name).unwrap_or_else(|| panic!("{name} is served but not documented"));
            assert_eq!(normalize(served), normalize(doc), "{name} on {path} differs from org.carkey.CarKey1.xml");
            seen.push(name);
        }
    }
    seen.sort();
    let mut all: Vec<String> = documented.keys().cloned().collect();
    all.sort();
    assert_eq!(seen, all, "every documented interface is served");
}

/// An interface's members as comparable text: names, argument names, types, directions,
/// property access and change-signal annotations (documentation comments aside).
fn normalize(iface: &zbus_xml::Interface<'_>) -> Vec<String> {
    let arg = |a: &zbus_xml::Arg| format!("{}:{}:{:?}", a.name().unwrap_or_default(), a.ty(), a.direction());
    let annotations = |list: &[zbus_xml::Annotation]| {
        let mut v: Vec<String> = list.iter().map(|a| format!("{}={}", a.name(), a.value())).collect();
        v.sort();
        v.join(",")
    };
    let mut items = Vec::new();
    for m in iface.methods() {
        items.push(format!("method {}({})", m.name(), m.args().iter().map(arg).collect::<Vec<_>>().join(", ")));
    }
    for s in iface.signals() {
        items.push(format!("signal {}({})", s.name(), s.args().iter().map(arg).collect::<Vec<_>>().join(", ")));
    }
    for p in iface.properties() {
        items.push(format!("property {} {} {:?} [{}]", p.name(), p.ty(), p.access(), annotations(p.annotations())));
    }
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_reaches_the_dashboard_as_signals() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (mut car, owner, conn, id) = running_car(&bus).await;
    let manager = ManagerProxy::new(&conn).await.unwrap();
    let key = KeyProxy::builder(&conn).path(paths::key_path(&id).unwrap()).build().await.unwrap();
    let vehicle = VehicleProxy::new(&conn).await.unwrap();
    assert_eq!(key.last_used_at().await.unwrap(), 0);
    assert!(vehicle.locked().await.unwrap());
    let mut decisions = manager.receive_decision().await.unwrap();
    let mut last_used = key.receive_last_used_at_changed().await;
    let mut locked = vehicle.receive_locked_changed().await;
    // Property streams yield the current value first.
    assert_eq!(next(&mut last_used).await.get().await.unwrap(), 0);
    assert!(next(&mut locked).await.get().await.unwrap());

    let report = tokio::task::block_in_place(|| owner.tap(&car, "door-driver"));
    assert_eq!(report.result, carkey_tests::report::TapResult::Success, "{report:?}");
    let signal = next(&mut decisions).await;
    let args = signal.args().unwrap();
    assert_eq!(
        (args.reader, args.key, args.action, args.allowed, args.reason),
        ("door-driver", id.as_str(), "unlock", true, "")
    );
    assert_eq!(args.transaction, "standard");
    assert!(next(&mut last_used).await.get().await.unwrap() > 0);
    assert!(!next(&mut locked).await.get().await.unwrap());
    assert_eq!(key.usage().await.unwrap()["unlock"], 1);

    // A dashboard change is a property change too.
    let mut name = key.receive_name_changed().await;
    next(&mut name).await;
    key.rename("Alex's phone").await.unwrap();
    assert_eq!(next(&mut name).await.get().await.unwrap(), "Alex's phone");
    car.stop();
    assert_eq!(car.key(&id)["name"], "Alex's phone", "the change is durable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_arguments_and_missing_proof_get_named_errors() {
    let bus = PrivateBus::start(&bus::open_policy());
    let (car, _owner, conn, id) = running_car(&bus).await;
    let manager = ManagerProxy::new(&conn).await.unwrap();
    let key = KeyProxy::builder(&conn).path(paths::key_path(&id).unwrap()).build().await.unwrap();
    let name = |e: carkey_dbus::Error| e.short_name();

    assert_eq!(name(key.rename("").await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(key.rename(&"x".repeat(100_000)).await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(key.suspend(&"r".repeat(10_000)).await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(key.set_profile("No Such Profile!").await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(key.set_profile("gold").await.unwrap_err()), "UnknownProfile");
    assert_eq!(name(key.set_validity(200, 100).await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(key.resume().await.unwrap_err()), "NotSuspended");
    let field = |k: &'static str, v: Variant<'static>| (k, OwnedVariant::try_from(v).unwrap());
    let unknown_field = HashMap::from([
        field("Name", Variant::from("x")),
        field("Actions", Variant::from(vec!["unlock"])),
        field("MaxSpeed", Variant::from(30u16)),
    ]);
    assert_eq!(name(manager.put_profile(unknown_field).await.unwrap_err()), "InvalidArgument");
    assert_eq!(name(manager.remove_profile("owner").await.unwrap_err()), "BuiltinProfile");
    // An object path that is no key.
    let ghost = KeyProxy::builder(&conn).path("/org/carkey/CarKey1/keys/0000000000000000").build().await.unwrap();
    assert!(ghost.rename("x").await.is_err());

    // Owner power needs the owner in the car; nothing changes without it.
    assert_eq!(name(key.revoke("stolen").await.unwrap_err()), "OwnerPresenceRequired");
    assert_eq!(name(manager.factory_reset().await.unwrap_err()), "OwnerPresenceRequired");
    assert_eq!(name(PairingProxy::new(&conn).await.unwrap().start().await.unwrap_err()), "OwnerPresenceRequired");
    assert_eq!(key.state().await.unwrap(), "active");
    assert!(!car.log().contains("panicked"));
}
