//! The [`KeyStore`] contract, as tests any implementation must pass. The fake runs it in
//! this crate; the SQLite store runs the very same functions.

// This module is test code compiled into the `fakes` feature: failing loudly is its job.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::sync::Arc;

use carkey_protocol::crypto::{Secret32, SigningKeyPair};
use carkey_protocol::spake2plus::{Registration, ScryptParams};

use crate::audit::{AuditEvent, AuditHead};
use crate::identity::VehicleIdentity;
use crate::ids::{KeyId, KeyName, ProfileId};
use crate::key::{DigitalKey, KeyState, Role, ShareOrigin, Usage};
use crate::pairing::{PairingOffer, PairingSource};
use crate::ports::{Change, KeyStore, Loaded, StoreError, StoredKey, TrackingEvent, TrackingKind};
use crate::profile::{AccessProfile, Action, ActionSet};
use crate::time::{Validity, WallClockReading, WallTime, WeeklySchedule};

/// Opens stores over one durable location: every `open` sees what earlier ones committed.
pub trait StoreHarness {
    /// The store type.
    type Store: KeyStore;
    /// Opens (or reopens) the store.
    fn open(&mut self) -> Self::Store;
}

/// Runs every contract case, each on a fresh harness from `fresh`.
pub fn run_all<H: StoreHarness>(mut fresh: impl FnMut() -> H) {
    type Case<H> = (&'static str, fn(&mut H));
    let cases: [Case<H>; 14] = [
        ("empty store loads empty", empty_store_loads_empty),
        ("identity round trips and is set once", identity_is_set_once),
        ("keys round trip with their secrets", keys_round_trip),
        ("put key keeps secrets", put_key_keeps_secrets),
        ("a failed batch changes nothing", failed_batch_changes_nothing),
        ("profiles put, replace, delete", profiles_round_trip),
        ("audit appends and reads in order", audit_round_trip),
        ("audit rejects gaps and forks", audit_rejects_gaps),
        ("shared keys round trip and a share is enrolled once", shared_by_round_trip),
        ("pairing offer put, attempts, replace, clear", pairing_offer_round_trip),
        ("tracking events are queued and counted", tracking_is_queued_and_counted),
        ("factory reset erases everything and starts a new life", factory_reset_erases_everything),
        ("a failed factory reset changes nothing", failed_factory_reset_changes_nothing),
        ("a factory reset must come first", factory_reset_must_come_first),
    ];
    for (name, case) in cases {
        eprintln!("store contract: {name}");
        case(&mut fresh());
    }
}

/// A sample key (public data only).
pub fn sample_key(n: u8) -> DigitalKey {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    DigitalKey {
        id: KeyId([n; 8]),
        name: KeyName::new(&format!("phone {n}")).unwrap(),
        endpoint: SigningKeyPair::generate(&mut rng).public().clone(),
        role: if n == 1 { Role::Owner } else { Role::Friend },
        profile: profile_id("owner"),
        state: KeyState::Active,
        validity: Validity { not_before: Some(WallTime(100)), not_after: None },
        created_at: WallTime(1_700_000_000),
        last_used_at: Some(WallTime(1_700_000_100)),
        usage: Usage { unlock: 3, lock: 2, trunk: 1, engine_start: 4, denied: 5 },
        recency: u64::from(n) * 10,
        shared_by: None,
    }
}

/// A sample pairing offer; `n` varies the verifier and the salt. The verifier comes
/// straight from fixed PBKDF output, so no scrypt runs.
pub fn sample_pairing_offer(n: u8) -> PairingOffer {
    let registration = Registration::from_pbkdf_output(&[n.max(1); 80]).expect("registration");
    PairingOffer {
        verifier: Arc::new(registration.verifier()),
        salt: [n; 16],
        scrypt: ScryptParams { log_n: 10 + n % 5, r: 8, p: 1 },
        source: if n.is_multiple_of(2) { PairingSource::Dashboard } else { PairingSource::Backend },
        created_at: WallTime(1_700_000_000 + i64::from(n)),
        expires_at: (!n.is_multiple_of(3)).then_some(WallTime(1_700_000_600 + i64::from(n))),
        attempts_used: n % 4,
    }
}

fn profile_id(name: &str) -> ProfileId {
    ProfileId::new(name).unwrap()
}

fn at(t: i64) -> WallClockReading {
    WallClockReading { time: WallTime(t), trusted: t % 2 == 0 }
}

#[allow(clippy::expect_used)]
fn commit<S: KeyStore>(store: &mut S, changes: &[Change]) {
    store.commit(changes).expect("commit");
}

/// An offer's fields, the verifier as its bytes, for comparing offers.
type OfferParts = (Vec<u8>, [u8; 16], ScryptParams, PairingSource, WallTime, Option<WallTime>, u8);

fn offer_parts(offer: &PairingOffer) -> OfferParts {
    (
        offer.verifier.to_bytes().to_vec(),
        offer.salt,
        offer.scrypt,
        offer.source,
        offer.created_at,
        offer.expires_at,
        offer.attempts_used,
    )
}

fn assert_empty(loaded: &Loaded) {
    assert!(loaded.identity.is_none() && loaded.keys.is_empty() && loaded.profiles.is_empty(), "{loaded:?}");
    assert!(loaded.pairing.is_none(), "{loaded:?}");
    assert_eq!(loaded.tracking_pending, 0);
    assert_eq!(loaded.audit_head, AuditHead::default());
}

fn empty_store_loads_empty<H: StoreHarness>(h: &mut H) {
    assert_empty(&h.open().load().expect("load"));
}

fn identity_is_set_once<H: StoreHarness>(h: &mut H) {
    let identity = VehicleIdentity::generate();
    commit(&mut h.open(), &[Change::SetIdentity(identity.clone())]);
    let loaded = h.open().load().expect("load").identity.expect("identity");
    assert_eq!(loaded.group_id, identity.group_id);
    assert_eq!(loaded.key.public(), identity.key.public());
    assert_eq!(loaded.key.private_bytes(), identity.key.private_bytes());
    let again = h.open().commit(&[Change::SetIdentity(VehicleIdentity::generate())]);
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
}

fn keys_round_trip<H: StoreHarness>(h: &mut H) {
    let (a, mut b) = (sample_key(1), sample_key(2));
    b.state = KeyState::Suspended("lost".into());
    b.validity = Validity::ALWAYS;
    b.last_used_at = None;
    let k = Secret32::new([7; 32]);
    let token = Secret32::new([9; 32]);
    commit(
        &mut h.open(),
        &[
            Change::PutKey(a.clone()),
            Change::PutKey(b.clone()),
            Change::SetKPersistent(a.id, Some(k.clone())),
            Change::SetImmobilizerToken(b.id, Some(token.clone())),
        ],
    );
    let mut keys = h.open().load().expect("load").keys;
    keys.sort_by_key(|k| k.key.id);
    assert_eq!(keys.len(), 2);
    assert_eq!((&keys[0].key, &keys[0].k_persistent, &keys[0].immobilizer_token), (&a, &Some(k), &None));
    assert_eq!((&keys[1].key, &keys[1].k_persistent, &keys[1].immobilizer_token), (&b, &None, &Some(token)));
    let mut revoked = b.clone();
    revoked.state = KeyState::Revoked("sold".into());
    commit(
        &mut h.open(),
        &[Change::PutKey(revoked.clone()), Change::SetImmobilizerToken(b.id, None), Change::SetKPersistent(a.id, None)],
    );
    let keys = h.open().load().expect("load").keys;
    let get = |id| keys.iter().find(|k: &&StoredKey| k.key.id == id).expect("key");
    assert_eq!(get(b.id).key, revoked);
    assert!(get(b.id).immobilizer_token.is_none() && get(a.id).k_persistent.is_none());
}

fn put_key_keeps_secrets<H: StoreHarness>(h: &mut H) {
    let mut a = sample_key(3);
    commit(&mut h.open(), &[Change::PutKey(a.clone()), Change::SetKPersistent(a.id, Some(Secret32::new([1; 32])))]);
    a.name = KeyName::new("renamed").unwrap();
    a.usage.unlock += 1;
    commit(&mut h.open(), &[Change::PutKey(a.clone())]);
    let keys = h.open().load().expect("load").keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].key, a);
    assert_eq!(keys[0].k_persistent, Some(Secret32::new([1; 32])));
}

fn failed_batch_changes_nothing<H: StoreHarness>(h: &mut H) {
    let a = sample_key(4);
    let mut head = AuditHead::default();
    let entry = head.append(at(1), AuditEvent::Started { version: "t".into() });
    let result = h.open().commit(&[
        Change::PutKey(a.clone()),
        Change::AppendAudit(entry),
        Change::SetKPersistent(KeyId([0xEE; 8]), Some(Secret32::new([2; 32]))),
    ]);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let loaded = h.open().load().expect("load");
    assert!(loaded.keys.is_empty());
    assert_eq!(loaded.audit_head, AuditHead::default());
}

fn profiles_round_trip<H: StoreHarness>(h: &mut H) {
    let mut p = AccessProfile {
        id: profile_id("valet-evenings"),
        actions: ActionSet::of(&[Action::Unlock, Action::EngineStart]),
        speed_limit_kmh: Some(50),
        validity: Validity { not_before: None, not_after: Some(WallTime(2_000_000_000)) },
        schedule: Some(WeeklySchedule(vec!["mon-fri 18:00-23:00".parse().unwrap()])),
    };
    commit(&mut h.open(), &[Change::PutProfile(p.clone())]);
    assert_eq!(h.open().load().expect("load").profiles, vec![p.clone()]);
    p.speed_limit_kmh = None;
    p.schedule = None;
    commit(&mut h.open(), &[Change::PutProfile(p.clone())]);
    assert_eq!(h.open().load().expect("load").profiles, vec![p.clone()]);
    commit(&mut h.open(), &[Change::DeleteProfile(p.id.clone())]);
    assert!(h.open().load().expect("load").profiles.is_empty());
    let missing = h.open().commit(&[Change::DeleteProfile(p.id)]);
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
}

fn audit_round_trip<H: StoreHarness>(h: &mut H) {
    let mut head = AuditHead::default();
    let entries: Vec<_> = (0..5)
        .map(|i| {
            head.append(
                at(1000 + i),
                AuditEvent::KeyChanged { key: KeyId([u8::try_from(i).unwrap_or(0); 8]), change: format!("change {i}") },
            )
        })
        .collect();
    commit(&mut h.open(), &entries[..2].iter().cloned().map(Change::AppendAudit).collect::<Vec<_>>());
    commit(&mut h.open(), &entries[2..].iter().cloned().map(Change::AppendAudit).collect::<Vec<_>>());
    let mut store = h.open();
    assert_eq!(store.load().expect("load").audit_head, head);
    assert_eq!(store.audit_after(0, 100).expect("audit"), entries);
    assert_eq!(store.audit_after(2, 2).expect("audit"), entries[2..4].to_vec());
    assert!(store.audit_after(5, 10).expect("audit").is_empty());
}

fn audit_rejects_gaps<H: StoreHarness>(h: &mut H) {
    let mut head = AuditHead::default();
    let first = head.append(at(1), AuditEvent::Started { version: "a".into() });
    let second = head.append(at(2), AuditEvent::Started { version: "b".into() });
    let gap = h.open().commit(&[Change::AppendAudit(second.clone())]);
    assert!(matches!(gap, Err(StoreError::Conflict(_))), "{gap:?}");
    commit(&mut h.open(), &[Change::AppendAudit(first.clone())]);
    let mut fork = AuditHead::default();
    let forked = fork.append(at(9), AuditEvent::Started { version: "fork".into() });
    let mut forked_second = forked;
    forked_second.seq = 2;
    let result = h.open().commit(&[Change::AppendAudit(forked_second)]);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    commit(&mut h.open(), &[Change::AppendAudit(second)]);
    assert_eq!(h.open().load().expect("load").audit_head, head);
}

fn shared_by_round_trip<H: StoreHarness>(h: &mut H) {
    let owner = sample_key(1);
    let mut friend = sample_key(2);
    // The largest serial checks the full u64 range survives storage.
    friend.shared_by = Some(ShareOrigin { owner: owner.id, serial: u64::MAX });
    let mut other_owner_same_serial = sample_key(3);
    other_owner_same_serial.shared_by = Some(ShareOrigin { owner: KeyId([0x0F; 8]), serial: u64::MAX });
    commit(
        &mut h.open(),
        &[
            Change::PutKey(owner.clone()),
            Change::PutKey(friend.clone()),
            Change::PutKey(other_owner_same_serial.clone()),
        ],
    );
    let keys = h.open().load().expect("load").keys;
    let get = |id| keys.iter().find(|k: &&StoredKey| k.key.id == id).expect("key").key.clone();
    assert_eq!(get(owner.id), owner);
    assert_eq!(get(friend.id), friend);
    assert_eq!(get(other_owner_same_serial.id), other_owner_same_serial);

    // Updating the same key keeps its share.
    let mut used = friend.clone();
    used.usage.unlock += 1;
    commit(&mut h.open(), &[Change::PutKey(used.clone())]);

    // The same (owner, serial) on another key is refused, with everything in its commit.
    let mut replay = sample_key(4);
    replay.shared_by = friend.shared_by;
    let result = h.open().commit(&[Change::PutKey(sample_key(5)), Change::PutKey(replay)]);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let keys = h.open().load().expect("load").keys;
    assert_eq!(keys.len(), 3);
    assert_eq!(keys.iter().find(|k| k.key.id == friend.id).expect("friend").key, used);

    // Another serial of the same owner is a different share.
    let mut next = sample_key(4);
    next.shared_by = Some(ShareOrigin { owner: owner.id, serial: 0 });
    commit(&mut h.open(), &[Change::PutKey(next.clone())]);
    assert_eq!(h.open().load().expect("load").keys.len(), 4);
}

fn pairing_offer_round_trip<H: StoreHarness>(h: &mut H) {
    let missing = h.open().commit(&[Change::SetPairingAttempts(1)]);
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
    // Clearing when there is nothing to clear is not an error.
    commit(&mut h.open(), &[Change::ClearPairingOffer]);

    let offer = sample_pairing_offer(2);
    commit(&mut h.open(), &[Change::PutPairingOffer(offer.clone())]);
    let loaded = h.open().load().expect("load").pairing.expect("offer");
    assert_eq!(offer_parts(&loaded), offer_parts(&offer));

    commit(&mut h.open(), &[Change::SetPairingAttempts(3)]);
    let mut expected = offer.clone();
    expected.attempts_used = 3;
    assert_eq!(offer_parts(&h.open().load().expect("load").pairing.expect("offer")), offer_parts(&expected));
    commit(&mut h.open(), &[Change::SetPairingAttempts(u8::MAX)]);
    expected.attempts_used = u8::MAX;
    assert_eq!(offer_parts(&h.open().load().expect("load").pairing.expect("offer")), offer_parts(&expected));

    // A new offer replaces the old one, attempts included; in one commit with its first attempt.
    let other = sample_pairing_offer(3);
    commit(&mut h.open(), &[Change::PutPairingOffer(other.clone()), Change::SetPairingAttempts(1)]);
    let mut expected = other.clone();
    expected.attempts_used = 1;
    assert_eq!(offer_parts(&h.open().load().expect("load").pairing.expect("offer")), offer_parts(&expected));

    commit(&mut h.open(), &[Change::ClearPairingOffer]);
    assert!(h.open().load().expect("load").pairing.is_none());
    let missing = h.open().commit(&[Change::SetPairingAttempts(1)]);
    assert!(matches!(missing, Err(StoreError::Conflict(_))), "{missing:?}");
    // Clear then attempts in one commit: refused as a whole.
    commit(&mut h.open(), &[Change::PutPairingOffer(offer.clone())]);
    let result = h.open().commit(&[Change::ClearPairingOffer, Change::SetPairingAttempts(1)]);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(offer_parts(&h.open().load().expect("load").pairing.expect("offer")), offer_parts(&offer));
}

fn tracking_event(n: u8, kind: TrackingKind) -> TrackingEvent {
    TrackingEvent { key: KeyId([n; 8]), kind, at: WallTime(1_700_000_000 + i64::from(n)) }
}

fn tracking_is_queued_and_counted<H: StoreHarness>(h: &mut H) {
    commit(
        &mut h.open(),
        &[
            Change::QueueTracking(tracking_event(1, TrackingKind::OwnerPaired)),
            Change::QueueTracking(tracking_event(2, TrackingKind::FriendFirstUse)),
            Change::QueueTracking(tracking_event(2, TrackingKind::Revoked)),
        ],
    );
    assert_eq!(h.open().load().expect("load").tracking_pending, 3);
    // Events need not name a stored key, and the same event may be queued twice.
    commit(&mut h.open(), &[Change::QueueTracking(tracking_event(3, TrackingKind::Terminated))]);
    commit(&mut h.open(), &[Change::QueueTracking(tracking_event(3, TrackingKind::Terminated))]);
    assert_eq!(h.open().load().expect("load").tracking_pending, 5);
    // Queued with the rest of its commit, or not at all.
    let result = h.open().commit(&[
        Change::QueueTracking(tracking_event(4, TrackingKind::Revoked)),
        Change::SetKPersistent(KeyId([0xEE; 8]), None),
    ]);
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(h.open().load().expect("load").tracking_pending, 5);
}

/// A store with something in every place a factory reset must erase. Returns the audit
/// head.
fn populate_everything<H: StoreHarness>(h: &mut H) -> AuditHead {
    let mut head = AuditHead::default();
    let mut friend = sample_key(2);
    friend.shared_by = Some(ShareOrigin { owner: KeyId([1; 8]), serial: 7 });
    let mut changes = vec![
        Change::SetIdentity(VehicleIdentity::generate()),
        Change::PutKey(sample_key(1)),
        Change::PutKey(friend),
        Change::SetKPersistent(KeyId([1; 8]), Some(Secret32::new([1; 32]))),
        Change::SetImmobilizerToken(KeyId([2; 8]), Some(Secret32::new([2; 32]))),
        Change::PutProfile(AccessProfile {
            id: profile_id("weekends"),
            actions: ActionSet::of(&[Action::Unlock]),
            speed_limit_kmh: None,
            validity: Validity::ALWAYS,
            schedule: None,
        }),
        Change::PutPairingOffer(sample_pairing_offer(1)),
        Change::QueueTracking(tracking_event(1, TrackingKind::OwnerPaired)),
        Change::QueueTracking(tracking_event(2, TrackingKind::FriendFirstUse)),
    ];
    for i in 0..3 {
        changes.push(Change::AppendAudit(head.append(at(10 + i), AuditEvent::Started { version: format!("{i}") })));
    }
    commit(&mut h.open(), &changes);
    head
}

fn factory_reset_erases_everything<H: StoreHarness>(h: &mut H) {
    populate_everything(h);
    commit(&mut h.open(), &[Change::FactoryReset]);
    let mut store = h.open();
    assert_empty(&store.load().expect("load"));
    assert!(store.audit_after(0, 100).expect("audit").is_empty());

    // A new life in the same commit as the reset: a new identity and audit entry 1.
    populate_everything(h);
    let identity = VehicleIdentity::generate();
    let mut head = AuditHead::default();
    let first = head.append(at(100), AuditEvent::Started { version: "new life".into() });
    let mut friend = sample_key(2);
    // The old life's shares are forgotten with it.
    friend.shared_by = Some(ShareOrigin { owner: KeyId([1; 8]), serial: 7 });
    commit(
        &mut h.open(),
        &[
            Change::FactoryReset,
            Change::SetIdentity(identity.clone()),
            Change::AppendAudit(first.clone()),
            Change::PutKey(friend.clone()),
        ],
    );
    let mut store = h.open();
    let loaded = store.load().expect("load");
    assert_eq!(loaded.identity.as_ref().expect("identity").group_id, identity.group_id);
    assert_eq!(loaded.keys.len(), 1);
    assert_eq!((&loaded.keys[0].key, &loaded.keys[0].k_persistent), (&friend, &None));
    assert!(loaded.keys[0].immobilizer_token.is_none());
    assert!(loaded.profiles.is_empty() && loaded.pairing.is_none());
    assert_eq!(loaded.tracking_pending, 0);
    assert_eq!(loaded.audit_head, head);
    assert_eq!(store.audit_after(0, 100).expect("audit"), vec![first]);
}

fn failed_factory_reset_changes_nothing<H: StoreHarness>(h: &mut H) {
    let head = populate_everything(h);
    let before = h.open().load().expect("load");
    let mut new_life = AuditHead::default();
    let first = new_life.append(at(100), AuditEvent::Started { version: "new life".into() });
    let mut stale = head;
    let continued = stale.append(at(100), AuditEvent::Started { version: "old life".into() });
    for failing in [
        // A change later in the commit is refused.
        vec![
            Change::FactoryReset,
            Change::SetIdentity(VehicleIdentity::generate()),
            Change::AppendAudit(first.clone()),
            Change::SetKPersistent(KeyId([1; 8]), Some(Secret32::new([3; 32]))),
        ],
        // After a reset, the old chain's next entry no longer follows.
        vec![Change::FactoryReset, Change::AppendAudit(continued)],
        // Only one identity per life.
        vec![
            Change::FactoryReset,
            Change::SetIdentity(VehicleIdentity::generate()),
            Change::SetIdentity(VehicleIdentity::generate()),
        ],
    ] {
        let result = h.open().commit(&failing);
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        let mut store = h.open();
        let after = store.load().expect("load");
        assert_same(&before, &after);
        assert_eq!(store.audit_after(0, 100).expect("audit").len(), 3);
    }
}

fn factory_reset_must_come_first<H: StoreHarness>(h: &mut H) {
    populate_everything(h);
    let before = h.open().load().expect("load");
    for failing in
        [vec![Change::PutKey(sample_key(9)), Change::FactoryReset], vec![Change::FactoryReset, Change::FactoryReset]]
    {
        let result = h.open().commit(&failing);
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        assert_same(&before, &h.open().load().expect("load"));
    }
}

/// Compares two loads field by field (secrets and verifiers by value).
fn assert_same(a: &Loaded, b: &Loaded) {
    let identity = |l: &Loaded| l.identity.as_ref().map(|i| (i.group_id, i.key.private_bytes().expose().to_vec()));
    assert_eq!(identity(a), identity(b));
    let keys = |l: &Loaded| {
        let mut keys: Vec<_> =
            l.keys.iter().map(|k| (k.key.clone(), k.k_persistent.clone(), k.immobilizer_token.clone())).collect();
        keys.sort_by_key(|k| k.0.id);
        keys
    };
    assert_eq!(keys(a), keys(b));
    assert_eq!(a.profiles, b.profiles);
    assert_eq!(a.pairing.as_ref().map(offer_parts), b.pairing.as_ref().map(offer_parts));
    assert_eq!(a.tracking_pending, b.tracking_pending);
    assert_eq!(a.audit_head, b.audit_head);
}
