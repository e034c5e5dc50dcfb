//! Crashes and restarts: what was acknowledged survives `kill -9`.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use car::Car;
use carkey_tests::report::{TapResult::*, Transaction::*};
use serde_json::json;

#[test]
fn k_persistent_and_keys_survive_kill_9_and_the_fast_path_still_works() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    let friend = car.enroll("friend", "driver");
    car.start();
    owner.expect(&car, "door-driver", Success, Standard);
    friend.expect(&car, "door-driver", Success, Standard);
    owner.expect(&car, "door-driver", Success, Fast);
    car.kill9();
    car.start();
    // Both K_persistent were committed before the phones were told "success".
    owner.expect(&car, "door-driver", Success, Fast);
    friend.expect(&car, "door-driver", Success, Fast);
    car.kill9();
    let verify = car.admin(&["audit", "--verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    let keys: serde_json::Value = serde_json::from_str(&car.admin(&["keys", "list", "--json"])).unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 2);
    // Most recently used first.
    assert_eq!(keys[0]["id"], json!(friend.slot));
    assert_eq!(keys[1]["usage"]["unlock"].as_u64().unwrap() + keys[1]["usage"]["lock"].as_u64().unwrap(), 3);
}

#[test]
fn kill_9_in_the_middle_of_taps_loses_nothing_acknowledged() {
    let mut car = Car::new();
    let phones = [car.enroll("a", "owner"), car.enroll("b", "driver")];
    car.start();
    let car = Arc::new(std::sync::Mutex::new(car));
    let stop = Arc::new(AtomicBool::new(false));
    let tappers: Vec<_> = phones
        .iter()
        .map(|phone| {
            let (car, stop, wallet) = (Arc::clone(&car), Arc::clone(&stop), phone.wallet.clone());
            let socket = car.lock().unwrap().socket("door-driver");
            std::thread::spawn(move || {
                let mut acknowledged = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let mut w = carkey_tests::wallet::Wallet::load(&wallet).unwrap();
                    let Ok(report) = carkey_tests::tap::tap(&socket, &mut w, &Default::default()) else { break };
                    w.save().unwrap();
                    if report.result == Success {
                        acknowledged += 1;
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    car.lock().unwrap().kill9();
    stop.store(true, Ordering::SeqCst);
    let acknowledged: Vec<u64> = tappers.into_iter().map(|t| t.join().unwrap()).collect();
    let mut car = Arc::into_inner(car).unwrap().into_inner().unwrap();
    assert!(acknowledged.iter().all(|n| *n > 0), "{acknowledged:?}");

    let verify = car.admin(&["audit", "--verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    let decisions = car.decisions();
    for (phone, acked) in phones.iter().zip(&acknowledged) {
        let recorded = decisions.iter().filter(|d| d.0 == json!(phone.slot) && d.3.is_null()).count() as u64;
        assert!(recorded >= *acked, "{}: {recorded} recorded < {acked} acknowledged", phone.slot);
    }
    // Every phone still gets in, and its next tap is fast again.
    car.start();
    for phone in &phones {
        assert_eq!(phone.tap(&car, "door-driver").result, Success);
        phone.expect(&car, "door-driver", Success, Fast);
    }
    assert!(car.stop().success());
}

#[test]
fn sigterm_stops_cleanly_and_removes_the_sockets() {
    let mut car = Car::new();
    car.start();
    assert!(car.socket("console").exists());
    assert_eq!(car.stop().code(), Some(0));
    for reader in car::READERS {
        assert!(!car.socket(reader).exists(), "{reader}");
    }
    let starts = car.audit().iter().filter(|e| e["event"]["event"] == "started").count();
    assert!(starts >= 1);
}

#[test]
fn a_second_daemon_on_the_same_state_refuses_to_start() {
    let mut car = Car::new();
    car.start();
    let (status, stderr) = car.start_failing();
    assert!(!status.success());
    assert!(stderr.contains("in use by another carkeyd"), "{stderr}");
    let busy = car.maintenance(&["keys", "list"]);
    assert!(!busy.status.success());
    car.stop();
}
