//! Reader ↔ endpoint round trips through the real state machines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use carkey_protocol::endpoint::Endpoint;
use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp};
use carkey_protocol::messages::{ControlFlowStatus, VERSION_1_0};
use carkey_protocol::reader::{ReaderError, TransactionKind, TransactionPlan};
use support::Vehicle;

#[test]
fn standard_transaction_authenticates_and_yields_a_k_persistent() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    let slot = car.pair(&mut phone, 7);
    let outcome = car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    assert_eq!(outcome.slot, slot);
    assert_eq!(outcome.kind, TransactionKind::Standard);
    assert_eq!(outcome.reported_key_slot, Some(slot.0));
    assert!(outcome.new_k_persistent.is_some());
    assert_eq!(phone.contexts().len(), 1);
    assert_eq!(phone.last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Success));
}

#[test]
fn fast_with_no_context_falls_back_to_standard() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    let outcome = car.tap(&mut phone, TransactionPlan::fast()).unwrap();
    assert_eq!(outcome.kind, TransactionKind::Standard);
}

#[test]
fn fast_after_standard_reuses_k_persistent() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    let slot = car.pair(&mut phone, 1);
    let first = car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    let second = car.tap(&mut phone, TransactionPlan::fast()).unwrap();
    assert_eq!(second.kind, TransactionKind::Fast);
    assert_eq!(second.slot, slot);
    assert!(second.new_k_persistent.is_none());
    // Both sides derived a different URSK for each session.
    assert_ne!(first.ursk, second.ursk);
    let third = car.tap(&mut phone, TransactionPlan::fast()).unwrap();
    assert_eq!(third.kind, TransactionKind::Fast);
    assert_ne!(second.ursk, third.ursk);
}

#[test]
fn standard_transaction_rotates_k_persistent() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    let a = car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    let b = car.tap(&mut phone, TransactionPlan::standard()).unwrap();
    assert_ne!(a.new_k_persistent, b.new_k_persistent);
    assert_eq!(car.tap(&mut phone, TransactionPlan::fast()).unwrap().kind, TransactionKind::Fast);
}

#[test]
fn fast_search_finds_the_right_key_among_many() {
    let mut car = Vehicle::new(1);
    let mut phones: Vec<Endpoint> = (0..20).map(|_| Endpoint::new()).collect();
    for (i, phone) in phones.iter_mut().enumerate() {
        car.pair(phone, i as u8);
        car.tap(phone, TransactionPlan::standard()).unwrap();
    }
    for (i, phone) in phones.iter_mut().enumerate().rev() {
        let outcome = car.tap(phone, TransactionPlan::fast()).unwrap();
        assert_eq!(outcome.kind, TransactionKind::Fast);
        assert_eq!(outcome.slot.0, [i as u8; 8]);
    }
}

#[test]
fn mailbox_write_then_read_back_over_exchange() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    let token = vec![0x5A; 32];
    let write = ExchangeRequest {
        atomic: true,
        ops: vec![
            MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 0, data: token.clone() },
            MailboxOp::Write { mailbox: MailboxId::Private, offset: 100, data: vec![1, 2, 3] },
        ],
    };
    let outcome = car.tap(&mut phone, TransactionPlan::standard().with_exchange(write)).unwrap();
    assert!(outcome.mailbox_reads.is_empty());

    // Read back over a fast transaction (its own channel keys), with a large read that
    // needs GET RESPONSE chaining.
    let read = ExchangeRequest {
        atomic: false,
        ops: vec![
            MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 32 },
            MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 1024 },
        ],
    };
    let outcome = car.tap(&mut phone, TransactionPlan::fast().with_exchange(read.clone())).unwrap();
    assert_eq!(outcome.kind, TransactionKind::Fast);
    assert_eq!(outcome.mailbox_reads[0], token);
    assert_eq!(&outcome.mailbox_reads[1][100..103], &[1, 2, 3]);
    // The token is a secret: it never shows up in debug output.
    let shown = format!("{outcome:?} {:?}", phone.credentials());
    assert!(!shown.contains("90, 90, 90") && !shown.to_lowercase().contains("5a5a5a"), "{shown}");

    // And over a standard one (channel counters continue after the AUTH1 response).
    let outcome = car.tap(&mut phone, TransactionPlan::standard().with_exchange(read)).unwrap();
    assert_eq!(outcome.mailbox_reads[0], token);
}

#[test]
fn out_of_range_mailbox_access_is_refused() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    car.pair(&mut phone, 1);
    let read = ExchangeRequest {
        atomic: true,
        ops: vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 250, len: 10 }],
    };
    let err = car.tap(&mut phone, TransactionPlan::standard().with_exchange(read)).unwrap_err();
    assert!(matches!(err, ReaderError::Refused { .. }), "{err:?}");
}

#[test]
fn unknown_phone_is_rejected_after_proving_nothing() {
    let mut car = Vehicle::new(1);
    let mut other_car = Vehicle::new(2);
    let mut stranger = Endpoint::new();
    other_car.pair(&mut stranger, 1);
    // A phone with no key for this vehicle refuses AUTH1 (it cannot check the signature).
    let err = car.tap(&mut stranger, TransactionPlan::fast()).unwrap_err();
    assert!(matches!(err, ReaderError::Refused { .. }), "{err:?}");
}

#[test]
fn enrolled_elsewhere_but_not_here_is_unknown_endpoint() {
    // The phone holds a key that this vehicle signed for but then removed.
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::new();
    let slot = car.pair(&mut phone, 1);
    car.directory.remove(slot);
    let err = car.tap(&mut phone, TransactionPlan::standard()).unwrap_err();
    assert_eq!(err, ReaderError::UnknownEndpoint);
    assert_eq!(phone.last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Failure));
}

#[test]
fn no_common_version_fails_cleanly() {
    let mut car = Vehicle::new(1);
    let mut phone = Endpoint::with_versions(vec![[0x02, 0x00]]);
    car.pair(&mut phone, 1);
    let err = car.tap(&mut phone, TransactionPlan::standard()).unwrap_err();
    assert!(matches!(err, ReaderError::Message(_)), "{err:?}");
    let mut phone = Endpoint::with_versions(vec![[0x02, 0x00], VERSION_1_0]);
    car.pair(&mut phone, 2);
    car.tap(&mut phone, TransactionPlan::standard()).unwrap();
}
