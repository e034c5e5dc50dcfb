//! A friend's first tap: the phone proves a key the vehicle has not enrolled, and the
//! vehicle reads the owner's share attestation from its private mailbox.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use carkey_protocol::attestation::{ShareAttestation, TerminationAttestation, private_mailbox};
use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::loopback;
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::reader::{
    KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderError, ReaderSession, TransactionPlan,
};

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

#[test]
fn a_friend_carries_the_owner_signed_share_to_its_first_tap() {
    let mut rng = rng();
    let group = [7u8; 16];
    let mut reader_id = [0xC0; 32];
    reader_id[..16].copy_from_slice(&group);
    let config = ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng), reader_id, policy: 1 };
    let owner = SigningKeyPair::generate(&mut rng);
    let mut directory = MemoryDirectory::new();
    directory.enroll(KeySlot([1; 8]), owner.public().clone());

    // Offline: the owner's phone signs a share for the friend's new key.
    let friend_key = SigningKeyPair::generate(&mut rng);
    let share = ShareAttestation {
        vehicle_group_id: group,
        owner_slot: [1; 8],
        friend_key: friend_key.public().clone(),
        profile: "trunk-only".into(),
        not_before: None,
        not_after: Some(2_000_000_000),
        serial: 1,
    };
    let signed = share.sign(&owner).unwrap();
    let mut friend = Endpoint::new();
    let mut credential = Credential::new(group, config.vehicle_key.public().clone(), friend_key, [2; 8]);
    credential.mailboxes.apply(&private_mailbox::write(private_mailbox::SHARE, &signed).unwrap()).unwrap();
    friend.add_credential(credential);

    // Without `on_unknown` the friend is just unknown.
    let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), TransactionPlan::fast());
    let error = loopback::run(&mut session, &mut friend, &directory, &mut rng).unwrap_err();
    assert_eq!(error, ReaderError::UnknownEndpoint);

    // With it, the vehicle reads the attestation over the secure channel.
    let plan = TransactionPlan::fast().with_unknown_exchange(private_mailbox::read_both());
    let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), plan);
    let outcome =
        loopback::run_unenrolled(&mut session, &mut friend, &directory, &mut rng, ControlFlowStatus::Success).unwrap();
    assert_eq!(outcome.endpoint, share.friend_key);
    assert_eq!(outcome.reported_key_slot, [2; 8]);
    let carried = private_mailbox::decode_slot(&outcome.mailbox_reads[0]).unwrap();
    let parsed = ShareAttestation::parse(carried).unwrap();
    assert_eq!(parsed.verify(owner.public()).unwrap(), &share);
    assert!(private_mailbox::decode_slot(&outcome.mailbox_reads[1]).is_none(), "no termination");

    // Enrolled with the K_persistent of that very transaction, the friend's next tap is fast.
    directory.enroll(KeySlot([2; 8]), outcome.endpoint.clone());
    directory.record_use(KeySlot([2; 8]), Some(outcome.new_k_persistent.clone()));
    let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), TransactionPlan::fast());
    let next = loopback::run(&mut session, &mut friend, &directory, &mut rng).unwrap();
    assert_eq!((next.slot, next.kind), (KeySlot([2; 8]), carkey_protocol::reader::TransactionKind::Fast));
}

#[test]
fn a_termination_rides_in_the_same_read() {
    let mut rng = rng();
    let key = SigningKeyPair::generate(&mut rng);
    let t = TerminationAttestation { vehicle_group_id: [7; 16], key_slot: [3; 8], serial: 5 }.sign(&key);
    let slot = private_mailbox::encode_slot(private_mailbox::TERMINATION, &t).unwrap();
    let parsed = TerminationAttestation::parse(private_mailbox::decode_slot(&slot).unwrap()).unwrap();
    assert_eq!(parsed.verify(key.public()).unwrap().key_slot, [3; 8]);
}
