//! The [`KeyStore`] contract, as tests any implementation must pass. The fake runs it in
//! this crate; the SQLite store runs the very same functions.

// This module is test code compiled into the `fakes` feature: failing loudly is its job.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use carkey_protocol::crypto::{Secret32, SigningKeyPair};

use crate::audit::{AuditEvent, AuditHead};
use crate::identity::VehicleIdentity;
use crate::ids::{KeyId, KeyName, ProfileId};
use crate::key::{DigitalKey, KeyState, Role, Usage};
use crate::ports::{Change, KeyStore, StoreError, StoredKey};
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
    let cases: [Case<H>; 8] = [
        ("empty store loads empty", empty_store_loads_empty),
        ("identity round trips and is set once", identity_is_set_once),
        ("keys round trip with their secrets", keys_round_trip),
        ("put key keeps secrets", put_key_keeps_secrets),
        ("a failed batch changes nothing", failed_batch_changes_nothing),
        ("profiles put, replace, delete", profiles_round_trip),
        ("audit appends and reads in order", audit_round_trip),
        ("audit rejects gaps and forks", audit_rejects_gaps),
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

fn empty_store_loads_empty<H: StoreHarness>(h: &mut H) {
    let loaded = h.open().load().expect("load");
    assert!(loaded.identity.is_none() && loaded.keys.is_empty() && loaded.profiles.is_empty());
    assert_eq!(loaded.audit_head, AuditHead::default());
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
