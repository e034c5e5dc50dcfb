//! Misbehaving phones: malformed frames, hangs, disconnects. The reader recovers every
//! time, within the per-APDU timeout, and the next tap works.

// Test helpers fail loudly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod car;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use car::{APDU_TIMEOUT_MS, Car};
use carkey_tests::report::{TapEnd, TapResult::*, Transaction::*};

use carkey_tests::tap::TapOptions;

/// Connects as a raw phone, reads the SELECT frame, sends `reply`, and returns how long
/// the reader took to close the connection.
fn raw_phone(car: &Car, reply: &[u8]) -> Duration {
    let mut stream = UnixStream::connect(car.socket("door-driver")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut header = [0u8; 3];
    stream.read_exact(&mut header).unwrap();
    assert_eq!(header[0], 0x01, "the reader speaks first, with a command");
    let mut select = vec![0u8; usize::from(u16::from_be_bytes([header[1], header[2]]))];
    stream.read_exact(&mut select).unwrap();
    let sent = Instant::now();
    let _ = stream.write_all(reply);
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    sent.elapsed()
}

#[test]
fn malformed_frames_are_refused_and_the_next_tap_works() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    for garbage in [
        &[0x07, 0x00, 0x01, 0x00][..],               // unknown frame type
        &[0x01, 0x00, 0x02, 0x90, 0x00],             // a command from the phone
        &[0x02, 0x00, 0x00],                         // empty response
        &[0x02, 0xFF, 0xFF, 0x00],                   // longer than any APDU
        &[0x02, 0x00, 0x02, 0x90],                   // truncated, then silence
        &[0x02, 0x00, 0x03, 0x6F, 0x00, 0x90, 0x00], // a frame, but not an APDU the reader accepts
    ] {
        let closed = raw_phone(&car, garbage);
        assert!(closed < Duration::from_secs(1), "{garbage:02x?}: reader kept the phone {closed:?}");
        assert_eq!(owner.tap(&car, "door-driver").result, Success);
    }
    assert!(car.stop().success());
    let failures = car.audit().iter().filter(|e| e["event"]["event"] == "transaction-failed").count();
    assert_eq!(failures, 6);
}

#[test]
fn a_phone_that_hangs_is_dropped_after_the_apdu_timeout() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    for after in [0, 1, 2] {
        let report =
            owner.tap_with(&car, "door-driver", &TapOptions { hang_after: Some(after), ..TapOptions::default() });
        assert_eq!(report.end, TapEnd::ReaderClosed, "{report:?}");
        let held_ms = report.total_us / 1000;
        assert!((APDU_TIMEOUT_MS..1000).contains(&held_ms), "reader held a hung phone {held_ms} ms");
        owner.expect(&car, "console", Success, Standard);
    }
    car.stop();
}

#[test]
fn a_phone_that_leaves_mid_transaction_does_not_block_the_reader() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    for after in [0, 1, 2] {
        let report =
            owner.tap_with(&car, "door-driver", &TapOptions { disconnect_after: Some(after), ..TapOptions::default() });
        assert_eq!(report.result, NoDecision, "{report:?}");
        assert_eq!(owner.tap(&car, "door-driver").result, Success);
        owner.expect(&car, "door-driver", Success, Fast);
    }
    car.stop();
}

#[test]
fn a_silent_connection_times_out() {
    let mut car = Car::new();
    let owner = car.enroll("owner", "owner");
    car.start();
    let closed = raw_phone(&car, &[]);
    assert!(closed >= Duration::from_millis(APDU_TIMEOUT_MS) && closed < Duration::from_secs(1), "{closed:?}");
    owner.expect(&car, "door-driver", Success, Standard);
    car.stop();
}
