//! Taps decided by the real daemon: access profiles, key states, unknown phones.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use car::Car;
use carkey_tests::report::{TapResult::*, Transaction::*};
use serde_json::{Value, json};

#[test]
fn owner_unlocks_fast_after_the_first_standard_and_starts_only_from_the_console() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    owner.expect(&car, "door-driver", Success, Standard);
    owner.expect(&car, "door-driver", Success, Fast);
    owner.expect(&car, "door-passenger", Success, Fast);
    // The console never accepts a fast transaction, even from a phone that has a context.
    owner.expect(&car, "console", Success, Standard);
    owner.expect(&car, "trunk", Success, Fast);
    assert!(car.stop().success());
    assert_eq!(car.vehicle_commands(), ["unlock", "lock", "unlock", "authorize-start", "open-trunk"]);
    let decisions = car.decisions();
    let owner_key = json!(owner.slot);
    assert_eq!(decisions[3], (owner_key, "engine-start".into(), "standard".into(), Value::Null));
}

#[test]
fn trunk_only_key_opens_the_trunk_but_cannot_unlock_or_start() {
    let mut car = Car::new();
    let courier = car.enroll("courier", "trunk-only");
    car.start();
    courier.expect(&car, "trunk", Success, Standard);
    courier.expect(&car, "door-driver", Denied, Fast);
    courier.expect(&car, "console", Denied, Standard);
    courier.expect(&car, "trunk", Success, Fast);
    car.stop();
    assert_eq!(car.vehicle_commands(), ["open-trunk", "open-trunk"]);
    let denials: Vec<_> = car.decisions().into_iter().map(|d| d.3).collect();
    assert_eq!(denials, [Value::Null, json!("ActionNotAllowed"), json!("ActionNotAllowed"), Value::Null]);
}

/// The weekday three days from now (UTC), as a schedule day name.
fn a_day_that_is_not_today() -> &'static str {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400;
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][usize::try_from((days + 3 + 3) % 7).unwrap()]
}

#[test]
fn valet_key_outside_its_schedule_is_denied() {
    let mut car = Car::new();
    let day = a_day_that_is_not_today();
    car.admin(&[
        "profiles",
        "put",
        "valet-later",
        "--actions",
        "unlock,lock,engine-start",
        "--speed-limit",
        "50",
        "--schedule",
        &format!("{day} 00:00-24:00"),
    ]);
    let valet = car.enroll("valet", "valet-later");
    let driver = car.enroll("driver", "valet");
    car.start();
    valet.expect(&car, "door-driver", Denied, Standard);
    valet.expect(&car, "console", Denied, Standard);
    // The same rules without a schedule work now, with the valet speed limit.
    driver.expect(&car, "console", Success, Standard);
    car.stop();
    let denials: Vec<_> = car.decisions().into_iter().map(|d| d.3).collect();
    assert_eq!(denials, [json!("OutsideSchedule"), json!("OutsideSchedule"), Value::Null]);
    let record = std::fs::read_to_string(&car.record).unwrap();
    assert!(record.contains("\"speed_limit_kmh\":60"), "{record}");
}

#[test]
fn suspended_and_revoked_keys_are_denied_and_resume_works() {
    let mut car = Car::new();
    let lost = car.enroll("lost", "driver");
    let sold = car.enroll("sold", "driver");
    car.start();
    lost.expect(&car, "door-driver", Success, Standard);
    sold.expect(&car, "door-driver", Success, Standard);
    car.stop();
    car.admin(&["keys", "suspend", &lost.slot, "--reason", "phone lost"]);
    car.admin(&["keys", "revoke", &sold.slot, "--reason", "car sold"]);
    car.start();
    // A suspended key keeps its context: the fast cryptogram opens, and the key is refused.
    lost.expect(&car, "door-driver", Denied, Fast);
    // Revocation erased the context: standard, refused.
    sold.expect(&car, "door-driver", Denied, Standard);
    sold.expect(&car, "console", Denied, Standard);
    car.stop();
    let revoked_resume = car.maintenance(&["keys", "resume", &sold.slot]);
    assert!(!revoked_resume.status.success());
    assert!(String::from_utf8_lossy(&revoked_resume.stderr).contains("revoked"));
    car.admin(&["keys", "resume", &lost.slot]);
    car.start();
    lost.expect(&car, "door-driver", Success, Fast);
    car.stop();
    let denials: Vec<_> = car.decisions().into_iter().skip(2).map(|d| d.3).collect();
    assert_eq!(denials, [json!("Suspended"), json!("Revoked"), json!("Revoked"), Value::Null]);
    let keys: Value = serde_json::from_str(&car.admin(&["keys", "list", "--json"])).unwrap();
    let sold_key = keys.as_array().unwrap().iter().find(|k| k["id"] == json!(sold.slot)).unwrap();
    assert_eq!((sold_key["state"].as_str(), sold_key["state_reason"].as_str()), (Some("revoked"), Some("car sold")));
}

#[test]
fn an_unknown_phone_is_denied_and_sees_exactly_what_a_refused_known_phone_sees() {
    let mut car = Car::new();
    let known = car.enroll("known", "trunk-only");
    let stranger = car.phone_with_key("stranger");
    car.start();
    let refused = known.expect(&car, "door-driver", Denied, Standard);
    let unknown = stranger.expect(&car, "door-driver", Denied, Standard);
    assert_eq!(unknown.commands, refused.commands);
    assert_eq!(unknown.response_lengths, refused.response_lengths);
    assert_eq!(unknown.reason, refused.reason);
    car.stop();
    assert!(car.vehicle_commands().is_empty());
    let decisions = car.decisions();
    assert_eq!(decisions[1], (Value::Null, "unlock".into(), "standard".into(), json!("UnknownKey")));
}

#[test]
fn keys_imported_in_bulk_work_and_a_bad_line_stops_the_import() {
    let mut car = Car::new();
    let phones = car.enroll_many(3, "driver");
    let bad = car.dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{{\"slot\":\"{}\",\"public_key\":\"04\",\"name\":\"x\"}}\n", "ab".repeat(8)))
        .unwrap();
    let out = car.maintenance(&["keys", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:1"), "{}", String::from_utf8_lossy(&out.stderr));
    car.start();
    for phone in &phones {
        phone.expect(&car, "door-driver", Success, Standard);
    }
    car.stop();
    let keys: Value = serde_json::from_str(&car.admin(&["keys", "list", "--json"])).unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 3);
}
