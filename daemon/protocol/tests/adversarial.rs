//! An attacker controls the radio: tampered, replayed and misdirected responses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use carkey_protocol::codec::ResponseApdu;
use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp};
use carkey_protocol::reader::{KeySlot, ReaderError, TransactionKind, TransactionPlan};
use support::{Vehicle, rng, transcript_of};

/// Standard transaction with a mailbox read long enough to need GET RESPONSE chaining,
/// so that every kind of response is on the wire.
fn full_plan() -> TransactionPlan {
    TransactionPlan::standard().with_exchange(ExchangeRequest {
        atomic: true,
        ops: vec![
            MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 600 },
            MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 32 },
        ],
    })
}

fn paired() -> (Vehicle, Endpoint) {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    (car, phone)
}

#[test]
fn every_flipped_byte_of_every_response_is_a_typed_failure() {
    let (car, mut phone) = paired();
    let clean = transcript_of(&car, &mut phone, full_plan());
    assert!(clean.len() >= 6, "SELECT, AUTH0, AUTH1, EXCHANGE and GET RESPONSE parts: {}", clean.len());
    let mut runs = 0;
    for (index, response) in clean.iter().enumerate() {
        for offset in 0..response.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let result = car.tap_tampered(&mut phone, full_plan(), |i, r| {
                    if i == index {
                        r[offset] ^= mask;
                    }
                });
                runs += 1;
                assert!(result.is_err(), "response {index} byte {offset} ^ {mask:#04x} was accepted");
            }
        }
    }
    assert!(runs > 2000, "{runs} tampered transactions");
}

#[test]
fn flipped_bytes_in_a_fast_transaction_never_pass_as_fast() {
    let (mut car, mut phone) = paired();
    car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    let plan = || {
        TransactionPlan::fast().with_exchange(ExchangeRequest {
            atomic: false,
            ops: vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 16 }],
        })
    };
    let clean = transcript_of(&car, &mut phone, plan());
    assert_eq!(clean.len(), 3, "SELECT, AUTH0 with cryptogram, EXCHANGE");
    let auth0 = ResponseApdu::decode(&clean[1]).unwrap();
    // 86 41 <65> 9D 40 <64>: the cryptogram value is the last 64 data bytes.
    let cryptogram_values = (auth0.data.len() - 64)..auth0.data.len();
    for (index, response) in clean.iter().enumerate() {
        for offset in 0..response.len() {
            for mask in [0x01u8, 0xFF] {
                let result = car.tap_tampered(&mut phone, plan(), |i, r| {
                    if i == index {
                        r[offset] ^= mask;
                    }
                });
                match result {
                    Err(_) => {}
                    // A cryptogram that does not open is what a phone without context
                    // sends; the reader then falls back to the full standard transaction,
                    // which authenticates the phone afresh. Nothing else may succeed.
                    Ok(outcome) => {
                        assert_eq!(index, 1, "response {index} byte {offset} accepted");
                        assert!(cryptogram_values.contains(&offset), "AUTH0 byte {offset} accepted");
                        assert_eq!(outcome.kind, TransactionKind::Standard);
                    }
                }
            }
        }
    }
}

#[test]
fn wrong_endpoint_key_is_unknown() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    let slot = car.pair(&mut phone, 1);
    // The vehicle enrolled a different key in that slot than the one the phone holds.
    car.directory.enroll(slot, SigningKeyPair::generate(&mut rng()).public().clone());
    let err = car.tap(&mut phone, TransactionPlan::standard()).unwrap_err();
    assert_eq!(err, ReaderError::UnknownEndpoint);
}

#[test]
fn wrong_vehicle_is_refused_by_the_phone() {
    let (_, mut phone) = paired();
    let mut impostor = Vehicle::new(1); // same group id, different vehicle key
    let victim_key = phone.credentials()[0].endpoint_key.public().clone();
    impostor.directory.enroll(KeySlot([1; 8]), victim_key);
    let err = impostor.tap(&mut phone, TransactionPlan::fast()).unwrap_err();
    assert!(matches!(err, ReaderError::Refused { .. }), "{err:?}");
}

#[test]
fn auth1_response_replayed_into_another_transaction_fails() {
    let (car, mut phone) = paired();
    let recorded = transcript_of(&car, &mut phone, TransactionPlan::standard());
    let auth1 = recorded[2].clone();
    let err = car
        .tap_tampered(&mut phone, TransactionPlan::standard(), |i, r| {
            if i == 2 {
                *r = auth1.clone();
            }
        })
        .unwrap_err();
    assert!(matches!(err, ReaderError::Channel(_)), "{err:?}");
}

#[test]
fn exchange_response_replayed_into_another_transaction_fails() {
    let (car, mut phone) = paired();
    let plan = || {
        TransactionPlan::standard().with_exchange(ExchangeRequest {
            atomic: false,
            ops: vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 32 }],
        })
    };
    let recorded = transcript_of(&car, &mut phone, plan());
    let exchange = recorded[3].clone();
    let err = car
        .tap_tampered(&mut phone, plan(), |i, r| {
            if i == 3 {
                *r = exchange.clone();
            }
        })
        .unwrap_err();
    assert!(matches!(err, ReaderError::Channel(_)), "{err:?}");
}

#[test]
fn cryptogram_for_another_vehicle_fails() {
    let mut car_a = Vehicle::new(0xA);
    let mut car_b = Vehicle::new(0xB);
    let mut phone = Endpoint::new();
    car_a.pair(&mut phone, 1);
    car_b.pair(&mut phone, 2);
    car_a.tap(&mut phone, TransactionPlan::standard()).unwrap();
    car_b.tap(&mut phone, TransactionPlan::standard()).unwrap();
    let from_a = transcript_of(&car_a, &mut phone, TransactionPlan::fast());
    assert_eq!(from_a.len(), 2, "A's fast transaction is SELECT + AUTH0");
    // B receives A's AUTH0 response (valid cryptogram for A) instead of its own.
    let err = car_b
        .tap_tampered(&mut phone, TransactionPlan::fast(), |i, r| {
            if i == 1 {
                *r = from_a[1].clone();
            }
        })
        .unwrap_err();
    // The cryptogram does not open at B; the standard fallback fails at the phone because
    // B signed over an ephemeral key that is not the phone's.
    assert!(matches!(err, ReaderError::Refused { .. }), "{err:?}");
}

#[test]
fn replayed_fast_transaction_fails() {
    let (mut car, mut phone) = paired();
    car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    let recorded = transcript_of(&car, &mut phone, TransactionPlan::fast());
    // Replaying a whole recorded fast conversation: the reader's new transaction id and
    // ephemeral key make the old cryptogram useless; it falls back and the phone (which
    // the attacker does not have) is not there to complete it.
    let mut attacker = Endpoint::new();
    let err = car
        .tap_tampered(&mut attacker, TransactionPlan::fast(), |i, r| {
            if let Some(old) = recorded.get(i) {
                *r = old.clone();
            }
        })
        .unwrap_err();
    assert!(matches!(err, ReaderError::Refused { .. }), "{err:?}");
}

#[test]
fn phone_without_credential_returns_random_cryptogram() {
    let car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    let a = transcript_of_failed(&car, &mut phone);
    let b = transcript_of_failed(&car, &mut phone);
    assert_ne!(a, b, "fresh random bytes each time");
    // A phone that does hold a context for a vehicle answers with the same shape.
    let (mut known_car, mut known_phone) = paired();
    known_car.tap(&mut known_phone, TransactionPlan::standard()).unwrap();
    let real = transcript_of(&known_car, &mut known_phone, TransactionPlan::fast());
    assert_eq!(a.len(), real[1].len());
    assert_eq!(b.len(), real[1].len());
    let (a, real) = (ResponseApdu::decode(&a).unwrap(), ResponseApdu::decode(&real[1]).unwrap());
    assert_eq!(
        (a.sw, a.data[..2].to_vec(), a.data[67..69].to_vec()),
        (real.sw, real.data[..2].to_vec(), real.data[67..69].to_vec())
    );
}

fn transcript_of_failed(car: &Vehicle, phone: &mut Endpoint) -> Vec<u8> {
    let mut auth0 = Vec::new();
    let _ = car.tap_tampered(phone, TransactionPlan::fast(), |i, r| {
        if i == 1 {
            auth0 = r.clone();
        }
    });
    auth0
}

#[test]
fn a_second_key_on_the_phone_does_not_confuse_the_vehicle() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    // A credential for another vehicle, with a key the car does not know.
    let other = Credential::new(
        [9; 16],
        SigningKeyPair::generate(&mut rng()).public().clone(),
        SigningKeyPair::generate(&mut rng()),
        [9; 8],
    );
    phone.add_credential(other);
    let outcome = car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    assert_eq!(outcome.slot, KeySlot([1; 8]));
}
