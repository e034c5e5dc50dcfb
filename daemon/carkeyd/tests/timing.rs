//! An unknown phone cannot tell from the vehicle's timing that it is unknown: its tap
//! takes as long as a known phone's refused standard tap. (Alone in its own test binary so
//! no other daemon competes for the CPU while it measures.)

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use car::Car;
use carkey_tests::report::{TapResult::Denied, Transaction::Standard};

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

#[test]
fn unknown_and_known_refused_phones_take_the_same_time() {
    let mut car = Car::new();
    let known = car.enroll("known", "driver");
    car.admin(&["keys", "suspend", &known.slot, "--reason", "test"]);
    let stranger = car.phone_with_key("stranger");
    car.start();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        a.push(known.expect(&car, "door-driver", Denied, Standard).elapsed_us.unwrap());
        b.push(stranger.expect(&car, "door-driver", Denied, Standard).elapsed_us.unwrap());
    }
    let (known_us, unknown_us) = (median(a), median(b));
    let ratio = unknown_us as f64 / known_us as f64;
    assert!((0.5..2.0).contains(&ratio), "known {known_us} µs, unknown {unknown_us} µs");
}
