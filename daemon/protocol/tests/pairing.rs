//! Owner pairing between an in-memory vehicle and phone: SPAKE2+ over the framework
//! commands, key creation, and the standard transaction that writes the immobilizer token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::Endpoint;
use carkey_protocol::loopback;
use carkey_protocol::mailbox::MailboxId;
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::pairing::{
    self, ID_PROVER, PairingError, PairingOutcome, PairingSession, PairingStep, SALT_LEN, id_verifier,
};
use carkey_protocol::reader::{
    MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, Step, TransactionKind, TransactionPlan,
};
use carkey_protocol::spake2plus::{ScryptParams, Verifier, registration_from_password};

/// Cheap scrypt for tests; the daemon uses [`ScryptParams::RECOMMENDED`].
const TEST_SCRYPT: ScryptParams = ScryptParams { log_n: 10, r: 8, p: 1 };
const GROUP: [u8; 16] = [7; 16];
const SALT: [u8; SALT_LEN] = [0x5A; SALT_LEN];

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn vehicle() -> ReaderConfig {
    let mut reader_id = [0xC0; 32];
    reader_id[..16].copy_from_slice(&GROUP);
    ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng()), reader_id, policy: 1 }
}

fn verifier_for(code: &str) -> Verifier {
    registration_from_password(code.as_bytes(), &SALT, ID_PROVER, &id_verifier(&GROUP), TEST_SCRYPT).unwrap().verifier()
}

#[test]
fn the_right_code_creates_a_key_the_vehicle_then_authenticates_and_gives_a_token() {
    let mut rng = rng();
    let config = vehicle();
    let verifier = verifier_for("31415926");
    let mut phone = Endpoint::new();
    phone.start_pairing(b"31415926");

    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    let paired = loopback::pair(&mut session, &mut phone, &verifier, &mut rng).unwrap().unwrap();
    assert_eq!(phone.pairing_outcome(), Some(&PairingOutcome::Paired(GROUP)));
    let credential = phone.credential(&GROUP).unwrap();
    assert_eq!(credential.endpoint_key.public(), &paired.endpoint);
    assert_eq!(credential.key_slot, paired.key_slot);
    assert_eq!(&credential.vehicle_public, config.vehicle_key.public());

    // Same tap: a standard transaction proves the new key; the token goes into the
    // confidential mailbox over the secure channel; nothing is enrolled before that.
    let directory = MemoryDirectory::new();
    let token = [0x7E; 32];
    let plan = TransactionPlan::standard().with_unknown_exchange(pairing::write_immobilizer_token(&token));
    let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), plan);
    let mut command = session.start().unwrap();
    let unenrolled = loop {
        let response = phone.process(&command, &mut rng);
        match session.handle_response(&response, &directory).unwrap() {
            Step::Transmit(next) => command = next,
            Step::Unenrolled(u) => break u,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(unenrolled.endpoint, paired.endpoint);
    assert_eq!(unenrolled.reported_key_slot, paired.key_slot);
    // A follow-up EXCHANGE on the same channel reads it back.
    let read = session.exchange(pairing::read_immobilizer_token()).unwrap();
    let response = phone.process(&read, &mut rng);
    let Step::MailboxData(reads) = session.handle_response(&response, &directory).unwrap() else { panic!() };
    assert_eq!(reads, vec![token.to_vec()]);
    let cf = session.control_flow(ControlFlowStatus::Success, 0).unwrap();
    assert!(matches!(session.handle_response(&phone.process(&cf, &mut rng), &directory), Ok(Step::Finished)));
    let stored = phone.credential(&GROUP).unwrap().mailboxes.get(MailboxId::Confidential);
    assert_eq!(&stored[..32], &token);

    // Once enrolled, the key works like any other.
    let mut directory = MemoryDirectory::new();
    directory.enroll(carkey_protocol::reader::KeySlot(paired.key_slot), paired.endpoint.clone());
    let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), TransactionPlan::standard());
    let auth = loopback::run(&mut session, &mut phone, &directory, &mut rng).unwrap();
    assert_eq!(auth.kind, TransactionKind::Standard);
}

#[test]
fn a_wrong_code_is_refused_by_the_phone_and_creates_nothing() {
    let mut rng = rng();
    let config = vehicle();
    let verifier = verifier_for("11111111");
    let mut phone = Endpoint::new();
    phone.start_pairing(b"11111112");
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    let error = loopback::pair(&mut session, &mut phone, &verifier, &mut rng).unwrap_err();
    assert_eq!(error, PairingError::WrongCode);
    assert_eq!(phone.pairing_outcome(), Some(&PairingOutcome::Failed(PairingError::WrongCode)));
    assert!(phone.credential(&GROUP).is_none());
    // The failed phone no longer answers the framework; the owner must type the code again.
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    assert_eq!(loopback::pair(&mut session, &mut phone, &verifier, &mut rng).unwrap(), None);
    phone.start_pairing(b"11111111");
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    assert!(loopback::pair(&mut session, &mut phone, &verifier, &mut rng).unwrap().is_some());
}

#[test]
fn a_phone_that_is_not_pairing_says_so_and_still_does_transactions() {
    let mut rng = rng();
    let config = vehicle();
    let mut phone = Endpoint::new();
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    let select = session.start().unwrap();
    let response = phone.process(&select, &mut rng);
    assert!(matches!(session.handle_response(&response), Ok(PairingStep::NotPairing)));
}

#[test]
fn the_vehicle_does_not_answer_the_share_until_the_attempt_is_counted() {
    let mut rng = rng();
    let config = vehicle();
    let mut phone = Endpoint::new();
    phone.start_pairing(b"12345678");
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    let mut command = session.start().unwrap();
    loop {
        let response = phone.process(&command, &mut rng);
        match session.handle_response(&response).unwrap() {
            PairingStep::Transmit(next) => command = next,
            PairingStep::AttemptPending => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The caller refuses (no attempt left): the session cannot be driven any further.
    drop(session);
    assert_eq!(phone.pairing_outcome(), Some(&PairingOutcome::Pending));
}

#[test]
fn every_flipped_byte_of_every_phone_response_ends_in_a_typed_error() {
    let mut rng = rng();
    let config = vehicle();
    let verifier = verifier_for("27182818");
    // Learn how many responses a clean run has.
    let mut count = 0;
    let mut phone = Endpoint::new();
    phone.start_pairing(b"27182818");
    let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
    loopback::pair_with(&mut session, &mut phone, &verifier, &mut rng, |_, _| count += 1).unwrap().unwrap();
    assert_eq!(count, 4);
    let mut tampered_runs = 0;
    for index in 0..count {
        let mut phone = Endpoint::new();
        phone.start_pairing(b"27182818");
        let mut lengths = Vec::new();
        let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
        loopback::pair_with(&mut session, &mut phone, &verifier, &mut rng, |i, r| {
            if i == index {
                lengths.push(r.len());
            }
        })
        .unwrap();
        for position in 0..lengths[0] {
            let mut phone = Endpoint::new();
            phone.start_pairing(b"27182818");
            let mut session = PairingSession::new(&config, SALT, TEST_SCRYPT);
            let result = loopback::pair_with(&mut session, &mut phone, &verifier, &mut rng, |i, r| {
                if i == index {
                    r[position] ^= 0x01;
                }
            });
            tampered_runs += 1;
            // A refusal or "not pairing" are both fine: only a key created from tampered
            // data would be a failure.
            assert!(!matches!(result, Ok(Some(_))), "tampered response {index} byte {position} still paired");
        }
    }
    assert!(tampered_runs > 200);
}
