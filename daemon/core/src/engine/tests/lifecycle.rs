//! The key lifecycle through the engine and reader tasks: owner pairing, offline sharing,
//! termination, owner replacement, slots, factory reset, and monotonic revocation.

use carkey_protocol::attestation::{ShareAttestation, TerminationAttestation, private_mailbox};
use carkey_protocol::mailbox::MailboxId;
use carkey_protocol::pairing::PairingOutcome;
use carkey_protocol::spake2plus::ScryptParams;

use super::*;
use crate::pairing::{MAX_ATTEMPTS, PairingCode, PairingOffer};
use crate::sharing::{ShareRejection, TerminationRejection};

/// Cheap scrypt for tests; the daemon uses the RFC's recommendation.
const TEST_SCRYPT: ScryptParams = ScryptParams { log_n: 10, r: 8, p: 1 };
const CONSOLE: ReaderLocation = ReaderLocation::Console;
const TRUNK: ReaderLocation = ReaderLocation::Trunk;

impl Car {
    /// Offers pairing; returns the code to type.
    async fn offer_pairing(&self) -> String {
        let code = PairingCode::generate().unwrap();
        let offer =
            PairingOffer::from_code(&code, &self.identity.group_id, TEST_SCRYPT, WallTime(MONDAY_NOON), Some(900))
                .unwrap();
        self.command(Command::OfferPairing(offer)).await.unwrap();
        code.as_str().to_owned()
    }

    /// A phone pairs as owner on the console; returns it and its key id.
    async fn pair_owner(&self) -> (Phone, KeyId) {
        let code = self.offer_pairing().await;
        let phone: Phone = Arc::new(Mutex::new(Endpoint::new()));
        phone.lock().unwrap().start_pairing(code.as_bytes());
        let (_, told) = self.tap(CONSOLE, &phone).await;
        assert_eq!(told, Some(ControlFlowStatus::Success));
        let slot = phone.lock().unwrap().credential(&self.identity.group_id).unwrap().key_slot;
        (phone, KeyId(slot))
    }

    /// A friend's phone with a fresh key for this car and the owner's share in its mailbox.
    fn friend_with_share(&self, slot: u8, share: impl FnOnce(&EcPublicKey) -> Vec<u8>) -> Phone {
        let (phone, public) = self.phone(slot);
        let signed = share(&public);
        let mut endpoint = phone.lock().unwrap();
        let credential = endpoint.credential_mut(&self.identity.group_id).unwrap();
        credential.mailboxes.apply(&private_mailbox::write(private_mailbox::SHARE, &signed).unwrap()).unwrap();
        credential.signaling |= private_mailbox::SHARE_PENDING;
        drop(endpoint);
        phone
    }

    fn share(&self, owner: KeyId, friend: &EcPublicKey, profile: &str, serial: u64) -> ShareAttestation {
        ShareAttestation {
            vehicle_group_id: self.identity.group_id,
            owner_slot: owner.0,
            friend_key: friend.clone(),
            profile: profile.into(),
            not_before: None,
            not_after: Some(MONDAY_NOON + 86_400),
            serial,
        }
    }

    fn last_share_rejection(&self) -> Option<ShareRejection> {
        self.store.audit().iter().rev().find_map(|e| match &e.event {
            AuditEvent::ShareRejected { reason, .. } => Some(*reason),
            _ => None,
        })
    }
}

fn signing_key(phone: &Phone, group: &[u8; 16]) -> SigningKeyPair {
    phone.lock().unwrap().credential(group).unwrap().endpoint_key.clone()
}

/// The phone deletes its key: termination attestation in the mailbox, signalled.
fn terminate(phone: &Phone, group: &[u8; 16], serial: u64) -> Vec<u8> {
    let mut endpoint = phone.lock().unwrap();
    let credential = endpoint.credential_mut(group).unwrap();
    let attestation = TerminationAttestation { vehicle_group_id: *group, key_slot: credential.key_slot, serial }
        .sign(&credential.endpoint_key);
    let write = private_mailbox::write(private_mailbox::TERMINATION, &attestation).unwrap();
    credential.mailboxes.apply(&write).unwrap();
    credential.signaling |= private_mailbox::TERMINATION_PENDING;
    attestation
}

#[tokio::test]
async fn an_owner_pairs_with_the_code_and_gets_an_immobilizer_token() {
    let car = Car::start();
    let (phone, id) = car.pair_owner().await;
    let stored = car.store.key(id).unwrap();
    assert_eq!((stored.key.role, stored.key.profile.as_str()), (Role::Owner, "owner"));
    assert!(stored.k_persistent.is_some());
    let token = stored.immobilizer_token.unwrap();
    {
        let endpoint = phone.lock().unwrap();
        let mailbox = endpoint.credential(&car.identity.group_id).unwrap().mailboxes.get(MailboxId::Confidential);
        assert_eq!(&mailbox[..32], token.expose(), "the token the car keeps is the one in the phone's mailbox");
    }
    assert!(car.store.pairing().is_none(), "the offer is consumed");
    assert_eq!(car.store.tracking().last().map(|e| e.kind), Some(crate::ports::TrackingKind::OwnerPaired));
    // The new owner starts the car.
    let (event, _) = car.tap(CONSOLE, &phone).await;
    assert_eq!(verdict(&event), (Some(id), Action::EngineStart, Transaction::Standard, None));
}

#[tokio::test]
async fn seven_wrong_codes_lock_pairing_until_a_new_code() {
    let car = Car::start();
    let code = car.offer_pairing().await;
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for attempt in 1..=MAX_ATTEMPTS {
        let phone: Phone = Arc::new(Mutex::new(Endpoint::new()));
        phone.lock().unwrap().start_pairing(wrong.as_bytes());
        car.tap(CONSOLE, &phone).await;
        let outcome = phone.lock().unwrap().pairing_outcome().cloned();
        assert!(matches!(outcome, Some(PairingOutcome::Failed(_))), "attempt {attempt}: {outcome:?}");
        assert_eq!(car.store.pairing().unwrap().attempts_used, attempt);
    }
    // The right code now gets nowhere: the console no longer offers pairing.
    let phone: Phone = Arc::new(Mutex::new(Endpoint::new()));
    phone.lock().unwrap().start_pairing(code.as_bytes());
    car.tap(CONSOLE, &phone).await;
    assert_eq!(phone.lock().unwrap().pairing_outcome(), Some(&PairingOutcome::Pending));
    let Ok(Reply::Pairing(Some(status))) = car.command(Command::GetPairing).await else { panic!() };
    assert_eq!(status.attempts_left, 0);
    // A new code works at once.
    let (_, id) = car.pair_owner().await;
    assert_eq!(car.store.key(id).unwrap().key.role, Role::Owner);
}

#[tokio::test]
async fn the_attempt_counter_survives_a_restart() {
    let store = FakeStore::default();
    let car = Car::start_with(store.clone());
    car.offer_pairing().await;
    let phone: Phone = Arc::new(Mutex::new(Endpoint::new()));
    phone.lock().unwrap().start_pairing(b"99999999x");
    car.tap(CONSOLE, &phone).await;
    drop(car);
    let car = Car::start_with(store);
    let Ok(Reply::Pairing(Some(status))) = car.command(Command::GetPairing).await else { panic!() };
    assert_eq!(status.attempts_left, MAX_ATTEMPTS - 1);
}

#[tokio::test]
async fn a_friend_shared_offline_enrolls_at_its_first_tap_and_opens_only_the_trunk() {
    let car = Car::start();
    let (owner, owner_id) = car.pair_owner().await;
    let owner_key = signing_key(&owner, &car.identity.group_id);
    let friend = car.friend_with_share(9, |f| car.share(owner_id, f, "trunk-only", 1).sign(&owner_key).unwrap());
    let (event, told) = car.tap(TRUNK, &friend).await;
    let friend_id = KeyId([9; 8]);
    assert_eq!(verdict(&event), (Some(friend_id), Action::Trunk, Transaction::Standard, None));
    assert_eq!(told, Some(ControlFlowStatus::Success));
    let stored = car.store.key(friend_id).unwrap();
    assert_eq!((stored.key.role, stored.key.profile.as_str()), (Role::Friend, "trunk-only"));
    assert_eq!(stored.key.shared_by, Some(crate::key::ShareOrigin { owner: owner_id, serial: 1 }));
    assert_eq!(stored.key.validity.not_after, Some(WallTime(MONDAY_NOON + 86_400)));
    assert_eq!(car.store.tracking().last().map(|e| e.kind), Some(crate::ports::TrackingKind::FriendFirstUse));
    // Fast from now on, and still the trunk only.
    let (event, _) = car.tap(TRUNK, &friend).await;
    assert_eq!(verdict(&event), (Some(friend_id), Action::Trunk, Transaction::Fast, None));
    for location in [DOOR, CONSOLE] {
        assert_eq!(verdict(&car.tap(location, &friend).await.0).3, Some(Denial::ActionNotAllowed));
    }
    // Suspend and resume (lost phone found again).
    car.command(Command::Suspend(friend_id, "lost".into())).await.unwrap();
    assert_eq!(verdict(&car.tap(TRUNK, &friend).await.0).3, Some(Denial::Suspended));
    car.command(Command::Resume(friend_id)).await.unwrap();
    assert_eq!(verdict(&car.tap(TRUNK, &friend).await.0).3, None);
}

#[tokio::test]
async fn bad_shares_are_refused_with_their_reason_and_enroll_nothing() {
    let car = Car::start();
    let (owner, owner_id) = car.pair_owner().await;
    let owner_key = signing_key(&owner, &car.identity.group_id);
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let stranger = SigningKeyPair::generate(&mut rng);

    // A friend key (enrolled, trunk-only) tries to share further.
    let first = car.friend_with_share(20, |f| car.share(owner_id, f, "trunk-only", 1).sign(&owner_key).unwrap());
    car.tap(TRUNK, &first).await;
    let first_key = signing_key(&first, &car.identity.group_id);

    type MakeShare<'a> = Box<dyn Fn(&EcPublicKey) -> Vec<u8> + 'a>;
    let cases: Vec<(u8, ShareRejection, MakeShare<'_>)> = vec![
        (
            21,
            ShareRejection::SignerNotOwner,
            Box::new(|f| car.share(KeyId([20; 8]), f, "trunk-only", 2).sign(&first_key).unwrap()),
        ),
        (
            22,
            ShareRejection::BadSignature,
            Box::new(|f| car.share(owner_id, f, "trunk-only", 3).sign(&stranger).unwrap()),
        ),
        (
            23,
            ShareRejection::WrongVehicle,
            Box::new(|f| {
                let mut share = car.share(owner_id, f, "trunk-only", 4);
                share.vehicle_group_id[0] ^= 1;
                share.sign(&owner_key).unwrap()
            }),
        ),
        (24, ShareRejection::Widened, Box::new(|f| car.share(owner_id, f, "owner", 5).sign(&owner_key).unwrap())),
        (
            25,
            ShareRejection::Expired,
            Box::new(|f| {
                let mut share = car.share(owner_id, f, "trunk-only", 6);
                share.not_before = Some(MONDAY_NOON - 7200);
                share.not_after = Some(MONDAY_NOON - 3600);
                share.sign(&owner_key).unwrap()
            }),
        ),
        (
            26,
            ShareRejection::WrongFriendKey,
            Box::new(|_| car.share(owner_id, stranger.public(), "trunk-only", 7).sign(&owner_key).unwrap()),
        ),
        (
            27,
            ShareRejection::SerialReused,
            Box::new(|f| car.share(owner_id, f, "trunk-only", 1).sign(&owner_key).unwrap()),
        ),
        (
            28,
            ShareRejection::UnknownProfile,
            Box::new(|f| car.share(owner_id, f, "no-such", 8).sign(&owner_key).unwrap()),
        ),
    ];
    for (slot, expected, make) in cases {
        let friend = car.friend_with_share(slot, |f| make(f));
        let (event, told) = car.tap(TRUNK, &friend).await;
        assert_eq!(verdict(&event).3, Some(Denial::UnknownKey), "slot {slot}");
        assert_eq!(told, Some(ControlFlowStatus::Denied));
        assert_eq!(car.last_share_rejection(), Some(expected), "slot {slot}");
        assert!(car.store.key(KeyId([slot; 8])).is_none(), "slot {slot} enrolled");
    }

    // Every flipped byte of a good attestation is refused (malformed or bad signature).
    let good = |f: &EcPublicKey| car.share(owner_id, f, "trunk-only", 100).sign(&owner_key).unwrap();
    let len = good(stranger.public()).len();
    for position in 0..len {
        let friend = car.friend_with_share(40, |f| {
            let mut bytes = good(f);
            bytes[position] ^= 0x01;
            bytes
        });
        car.tap(TRUNK, &friend).await;
        assert!(car.store.key(KeyId([40; 8])).is_none(), "flipped byte {position} enrolled a key");
        assert!(
            matches!(
                car.last_share_rejection(),
                Some(
                    ShareRejection::Malformed
                        | ShareRejection::BadSignature
                        | ShareRejection::WrongVehicle
                        | ShareRejection::WrongFriendKey
                        | ShareRejection::UnknownSigner
                        | ShareRejection::Missing
                        | ShareRejection::UnknownProfile
                        | ShareRejection::Widened
                )
            ),
            "byte {position}: {:?}",
            car.last_share_rejection()
        );
    }

    // A revoked owner's share is refused, even one signed while it was valid.
    let (second_owner, _) = car.pair_owner().await; // replaces the first owner
    drop(second_owner);
    let friend = car.friend_with_share(30, |f| car.share(owner_id, f, "trunk-only", 9).sign(&owner_key).unwrap());
    car.tap(TRUNK, &friend).await;
    assert_eq!(car.last_share_rejection(), Some(ShareRejection::SignerNotActive));
}

#[tokio::test]
async fn a_new_owner_phone_replaces_the_old_owner_and_friends_keep_working() {
    let car = Car::start();
    let (old_owner, old_id) = car.pair_owner().await;
    let owner_key = signing_key(&old_owner, &car.identity.group_id);
    let friend = car.friend_with_share(9, |f| car.share(old_id, f, "driver", 1).sign(&owner_key).unwrap());
    assert_eq!(verdict(&car.tap(DOOR, &friend).await.0).3, None);

    let (new_owner, new_id) = car.pair_owner().await;
    assert_ne!(new_id, old_id);
    assert_eq!(car.store.key(old_id).unwrap().key.state, KeyState::Revoked("replaced".into()));
    assert_eq!(verdict(&car.tap(DOOR, &old_owner).await.0).3, Some(Denial::Revoked));
    assert_eq!(verdict(&car.tap(DOOR, &friend).await.0).3, None, "the friend keeps working");
    assert_eq!(verdict(&car.tap(CONSOLE, &new_owner).await.0).3, None);
}

#[tokio::test]
async fn termination_from_the_phone_revokes_at_the_next_tap_for_good() {
    let car = Car::start();
    let (owner, owner_id) = car.pair_owner().await;
    let owner_key = signing_key(&owner, &car.identity.group_id);
    let share = std::cell::RefCell::new(Vec::new());
    let friend = car.friend_with_share(9, |f| {
        let signed = car.share(owner_id, f, "driver", 1).sign(&owner_key).unwrap();
        share.replace(signed.clone());
        signed
    });
    let friend_id = KeyId([9; 8]);
    car.tap(DOOR, &friend).await; // enrolled, fast context from now on
    let termination = terminate(&friend, &car.identity.group_id, 1);
    let (event, told) = car.tap(DOOR, &friend).await;
    assert_eq!(verdict(&event).3, Some(Denial::Revoked));
    assert_eq!(told, Some(ControlFlowStatus::Denied));
    let stored = car.store.key(friend_id).unwrap();
    assert_eq!(stored.key.state, KeyState::Revoked("terminated on the phone".into()));
    assert!(stored.k_persistent.is_none());
    assert_eq!(car.store.tracking().last().map(|e| e.kind), Some(crate::ports::TrackingKind::Terminated));

    // Replays change nothing: the termination again (by tap or backend), the share again.
    car.command(Command::ApplyTermination(termination)).await.unwrap();
    // The phone still carries the owner's share: without the termination signal it is a
    // plain tap by a revoked key.
    assert!(!share.borrow().is_empty());
    friend.lock().unwrap().credential_mut(&car.identity.group_id).unwrap().signaling = 0;
    assert_eq!(verdict(&car.tap(TRUNK, &friend).await.0).3, Some(Denial::Revoked));
    assert!(matches!(car.store.key(friend_id).unwrap().key.state, KeyState::Revoked(_)));
    // The revoked phone key can never be enrolled again, not even by hand.
    let endpoint = friend.lock().unwrap().credential(&car.identity.group_id).unwrap().endpoint_key.public().clone();
    let again = Command::EnrollKey {
        id: KeyId([77; 8]),
        name: KeyName::new("again").unwrap(),
        endpoint,
        role: Role::Friend,
        profile: ProfileId::new("driver").unwrap(),
        validity: Validity::ALWAYS,
    };
    assert_eq!(car.command(again).await.unwrap_err(), CommandError::EndpointRevoked(friend_id));
    assert_eq!(car.command(Command::Resume(friend_id)).await.unwrap_err(), CommandError::Revoked(friend_id));
}

#[tokio::test]
async fn a_termination_relayed_by_the_backend_must_be_signed_by_the_key_itself() {
    let car = Car::start();
    let (owner, owner_id) = car.pair_owner().await;
    let phone = car.enrolled_phone(5, "driver").await;
    let forged = TerminationAttestation { vehicle_group_id: car.identity.group_id, key_slot: [5; 8], serial: 1 }
        .sign(&signing_key(&owner, &car.identity.group_id));
    assert_eq!(
        car.command(Command::ApplyTermination(forged)).await.unwrap_err(),
        CommandError::Termination(TerminationRejection::BadSignature)
    );
    let genuine = TerminationAttestation { vehicle_group_id: car.identity.group_id, key_slot: [5; 8], serial: 1 }
        .sign(&signing_key(&phone, &car.identity.group_id));
    car.command(Command::ApplyTermination(genuine)).await.unwrap();
    assert!(matches!(car.store.key(KeyId([5; 8])).unwrap().key.state, KeyState::Revoked(_)));
    assert_eq!(car.store.key(owner_id).unwrap().key.state, KeyState::Active);
}

#[tokio::test]
async fn key_slots_are_bounded_with_a_clear_error() {
    let car = Car::start_limited(FakeStore::default(), 2);
    let (owner, owner_id) = car.pair_owner().await;
    car.enrolled_phone(2, "driver").await;
    let (_, endpoint) = car.phone(3);
    let third = Command::EnrollKey {
        id: KeyId([3; 8]),
        name: KeyName::new("third").unwrap(),
        endpoint,
        role: Role::Friend,
        profile: ProfileId::new("driver").unwrap(),
        validity: Validity::ALWAYS,
    };
    assert_eq!(car.command(third.clone()).await.unwrap_err(), CommandError::SlotsFull(2));
    let owner_key = signing_key(&owner, &car.identity.group_id);
    let friend = car.friend_with_share(9, |f| car.share(owner_id, f, "trunk-only", 1).sign(&owner_key).unwrap());
    car.tap(TRUNK, &friend).await;
    assert_eq!(car.last_share_rejection(), Some(ShareRejection::SlotsFull));
    // A revoked key frees its slot (and stays recorded).
    car.command(Command::Revoke(KeyId([2; 8]), "sold".into())).await.unwrap();
    car.command(third).await.unwrap();
}

#[tokio::test]
async fn a_factory_reset_erases_everything_and_old_phones_stop_working() {
    let car = Car::start();
    let (owner, owner_id) = car.pair_owner().await;
    car.offer_pairing().await;
    car.command(Command::FactoryReset).await.unwrap();
    assert!(car.store.key(owner_id).is_none());
    assert!(car.store.pairing().is_none());
    assert_eq!(car.store.audit().len(), 1, "a new audit chain starts with the reset");
    assert!(matches!(car.store.audit()[0].event, AuditEvent::FactoryReset));
    // The phone has no key for the new identity: it refuses to authenticate at all.
    let (event, _) = car.tap(DOOR, &owner).await;
    assert!(matches!(event, AuditEvent::TransactionFailed { .. }), "{event:?}");
    assert!(car.bus.commands().is_empty());
    let Ok(Reply::Keys(keys)) = car.command(Command::ListKeys).await else { panic!() };
    assert!(keys.is_empty());
}
