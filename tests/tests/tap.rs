//! `tap` in-process against the in-test vehicle: mailbox traffic with response chaining,
//! a silent reader, and a reader that is not there.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod support;

use std::time::{Duration, Instant};

use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp};
use carkey_protocol::reader::{TransactionKind, TransactionPlan};
use carkey_tests::report::{CommandName, TapEnd, TapResult, Transaction};
use carkey_tests::tap::{TapError, TapOptions, tap};
use carkey_tests::wallet::{NewKey, Wallet};
use support::{ReaderOutcome, Tap, Vehicle};

#[test]
fn mailbox_writes_and_chained_reads_are_answered_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let wallet_path = dir.path().join("phone.json");
    let socket = dir.path().join("console.sock");
    let listener = support::listen(&socket);
    let mut vehicle = Vehicle::new();
    let mut wallet = Wallet::create(&wallet_path);
    let key = wallet
        .new_key(NewKey {
            vehicle_group_id: vehicle.group_id(),
            vehicle_public: vehicle.config.vehicle_key.public().clone(),
            slot: None,
            name: None,
        })
        .unwrap();
    vehicle.enroll(key.slot, &key.public_key);

    // Pairing-style traffic: write the immobilizer token, read back a large private part
    // (longer than one short response, so it comes in GET RESPONSE parts).
    let exchange = ExchangeRequest {
        ops: vec![
            MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 0, data: vec![0x5A; 32] },
            MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 600 },
        ],
        atomic: true,
    };
    let plan = Tap { plan: TransactionPlan::standard().with_exchange(exchange), ..Tap::default() };
    let reader = support::serve_one(&listener, vehicle, plan);
    let report = tap(&socket, &mut wallet, &TapOptions::default()).unwrap();
    let (_, outcome) = reader.join().unwrap();
    assert_eq!(
        outcome,
        ReaderOutcome::Authenticated { kind: TransactionKind::Standard, mailbox_reads: vec![vec![0; 600]] }
    );
    assert_eq!(
        (report.result, report.transaction, report.end),
        (TapResult::Success, Transaction::Standard, TapEnd::ControlFlow)
    );
    assert!(report.commands.contains(&CommandName::Exchange), "{:?}", report.commands);
    assert!(report.commands.contains(&CommandName::GetResponse), "{:?}", report.commands);
    assert_eq!(report.commands.len(), report.response_lengths.len());
    assert!(report.elapsed_us.unwrap() <= report.total_us);

    wallet.save().unwrap();
    let mut reloaded = Wallet::load(&wallet_path).unwrap();
    let credential = reloaded.endpoint().credential(&key.vehicle_group_id).unwrap();
    assert_eq!(&credential.mailboxes.get(MailboxId::Confidential)[..32], &[0x5A; 32]);
    assert!(reloaded.keys()[0].has_context);
}

#[test]
fn a_silent_reader_ends_the_tap_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("door.sock");
    let _listener = support::listen(&socket); // never accepts, never speaks
    let mut wallet = Wallet::create(&dir.path().join("phone.json"));
    let start = Instant::now();
    let options = TapOptions { timeout: Duration::from_millis(100), ..TapOptions::default() };
    let report = tap(&socket, &mut wallet, &options).unwrap();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!((report.result, report.end), (TapResult::NoDecision, TapEnd::Timeout));
    assert!(report.commands.is_empty() && report.elapsed_us.is_none());
    assert!(report.total_us >= 100_000);
}

#[test]
fn no_reader_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut wallet = Wallet::create(&dir.path().join("phone.json"));
    let error = tap(&dir.path().join("nobody.sock"), &mut wallet, &TapOptions::default()).unwrap_err();
    assert!(matches!(error, TapError::Connect { .. }));
    assert!(error.to_string().contains("nobody.sock"), "{error}");
}
