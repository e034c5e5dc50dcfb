//! Upgrading a populated database written by an older schema version: built here from the
//! old migration's SQL alone, with rows as that version's carkeyd wrote them.

use std::path::Path;

use carkey_core::audit::{AuditEntry, AuditEvent, AuditHead, Transaction};
use carkey_core::fakes::store_contract::sample_pairing_offer;
use carkey_core::identity::VehicleIdentity;
use carkey_core::ids::{KeyId, KeyName, ProfileId, ReaderName};
use carkey_core::key::{DigitalKey, KeyState, Role, ShareOrigin, Usage};
use carkey_core::policy::Denial;
use carkey_core::ports::{Change, KeyStore, StoreError, TrackingEvent, TrackingKind};
use carkey_core::profile::{AccessProfile, Action, ActionSet};
use carkey_core::time::{Validity, WallClockReading, WallTime};
use carkey_protocol::crypto::{Secret32, SigningKeyPair};
use rusqlite::{Connection, params};

use crate::crypto::{Place, Sealer};
use crate::master_key::MasterKey;
use crate::schema::{LATEST_VERSION, MIGRATIONS};
use crate::{SqliteStore, schema};

const MASTER: [u8; 32] = [0x42; 32];

fn key(n: u8, role: Role, state: KeyState) -> DigitalKey {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    DigitalKey {
        id: KeyId([n; 8]),
        name: KeyName::new(&format!("phone {n}")).unwrap(),
        endpoint: SigningKeyPair::generate(&mut rng).public().clone(),
        role,
        profile: ProfileId::new(if role == Role::Owner { "owner" } else { "valet" }).unwrap(),
        state,
        validity: Validity { not_before: Some(WallTime(1_700_000_000)), not_after: None },
        created_at: WallTime(1_700_000_000 + i64::from(n)),
        last_used_at: (n == 1).then_some(WallTime(1_700_086_400)),
        usage: Usage::default(),
        recency: u64::from(n) * 7,
        shared_by: None,
    }
}

fn audit_log() -> Vec<AuditEntry> {
    let at = |t| WallClockReading { time: WallTime(t), trusted: t % 2 == 0 };
    let mut head = AuditHead::default();
    vec![
        head.append(at(1_700_000_000), AuditEvent::Started { version: "0.1.0".into() }),
        head.append(at(1_700_000_001), AuditEvent::KeyChanged { key: KeyId([1; 8]), change: "enrolled".into() }),
        head.append(
            at(1_700_000_003),
            AuditEvent::Decision {
                reader: ReaderName::new("door-driver").unwrap(),
                key: Some(KeyId([2; 8])),
                action: Action::Unlock,
                transaction: Transaction::Fast,
                denied: Some(Denial::Revoked),
            },
        ),
    ]
}

/// A database at `version`, built from the migrations' SQL alone, with its key check.
fn create_at(dir: &Path, version: u32, sealer: &Sealer) -> Connection {
    let conn = Connection::open(dir.join("carkey.db")).unwrap();
    for migration in &MIGRATIONS[..version as usize] {
        conn.execute_batch(migration.sql).unwrap();
    }
    conn.pragma_update(None, "user_version", version).unwrap();
    conn.pragma_update(None, "journal_mode", "wal").unwrap();
    conn.execute("INSERT INTO meta (name, value) VALUES ('key_check', ?1)", [sealer.key_check().unwrap()]).unwrap();
    conn
}

/// A version-1 database exactly as carkey 0.1 would have left it.
fn write_v1(dir: &Path, identity: &VehicleIdentity, keys: &[(DigitalKey, Option<Secret32>, Option<Secret32>)]) {
    let sealer = Sealer::new(&MasterKey::from_bytes(MASTER));
    let conn = create_at(dir, 1, &sealer);
    let private = sealer.seal(Place::VehiclePrivateKey, &identity.group_id, &identity.key.private_bytes()).unwrap();
    conn.execute(
        "INSERT INTO vehicle (id, group_id, private_key) VALUES (1, ?1, ?2)",
        params![identity.group_id, private],
    )
    .unwrap();
    for (k, kp, token) in keys {
        let seal = |place, s: &Option<Secret32>| s.as_ref().map(|s| sealer.seal(place, &k.id.0, s).unwrap());
        let (state, reason) = match &k.state {
            KeyState::Active => ("active", None),
            KeyState::Suspended(r) => ("suspended", Some(r.clone())),
            KeyState::Revoked(r) => ("revoked", Some(r.clone())),
        };
        conn.execute(
            "INSERT INTO keys (id, name, endpoint, role, profile, state, state_reason, not_before, not_after,
                               created_at, last_used_at, recency, k_persistent, immobilizer_token)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                k.id.0,
                k.name.as_str(),
                k.endpoint.uncompressed(),
                if k.role == Role::Owner { "owner" } else { "friend" },
                k.profile.as_str(),
                state,
                reason,
                k.validity.not_before.map(|t| t.0),
                k.validity.not_after.map(|t| t.0),
                k.created_at.0,
                k.last_used_at.map(|t| t.0),
                i64::try_from(k.recency).unwrap(),
                seal(Place::KPersistent, kp),
                seal(Place::ImmobilizerToken, token),
            ],
        )
        .unwrap();
    }
    for e in audit_log() {
        conn.execute(
            "INSERT INTO audit (seq, at, trusted, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                i64::try_from(e.seq).unwrap(),
                e.at.time.0,
                e.at.trusted,
                serde_json::to_string(&e.event).unwrap(),
                e.prev_hash,
                e.hash
            ],
        )
        .unwrap();
    }
}

#[test]
fn a_populated_v1_database_upgrades_with_every_row_and_secret_intact() {
    let dir = tempfile::tempdir().unwrap();
    let identity = VehicleIdentity::generate();
    let owner = key(1, Role::Owner, KeyState::Active);
    let friend = key(2, Role::Friend, KeyState::Revoked("sold".into()));
    let (kp, token) = (Secret32::new([0xA1; 32]), Secret32::new([0xB2; 32]));
    write_v1(
        dir.path(),
        &identity,
        &[(owner.clone(), Some(kp.clone()), Some(token.clone())), (friend.clone(), None, Some(Secret32::new([3; 32])))],
    );

    let mut store = SqliteStore::open(dir.path(), &MasterKey::from_bytes(MASTER)).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let loaded = store.load().unwrap();
    let got = loaded.identity.unwrap();
    assert_eq!((got.group_id, got.key.private_bytes()), (identity.group_id, identity.key.private_bytes()));
    assert_eq!(loaded.keys.len(), 2);
    assert_eq!((&loaded.keys[0].key, &loaded.keys[0].k_persistent), (&owner, &Some(kp)));
    assert_eq!(loaded.keys[0].immobilizer_token, Some(token));
    assert_eq!((&loaded.keys[1].key, &loaded.keys[1].k_persistent), (&friend, &None));
    assert_eq!(loaded.keys[1].immobilizer_token, Some(Secret32::new([3; 32])));
    assert!(loaded.profiles.is_empty());
    assert!(loaded.pairing.is_none());
    assert_eq!(loaded.tracking_pending, 0);
    let log = audit_log();
    let last = log.last().unwrap();
    assert_eq!(loaded.audit_head, AuditHead { seq: last.seq, hash: last.hash });
    assert_eq!(store.audit_after(0, 10).unwrap(), log);
    assert_eq!(store.verify_audit().unwrap(), loaded.audit_head);
    store.integrity_check().unwrap();

    // The new version's features work on the upgraded data.
    let mut used = owner.clone();
    used.usage.record(Action::Unlock);
    store.commit(&[Change::PutKey(used.clone())]).unwrap();
    drop(store);
    let mut reopened = SqliteStore::open(dir.path(), &MasterKey::from_bytes(MASTER)).unwrap();
    let keys = reopened.load().unwrap().keys;
    assert_eq!((&keys[0].key, keys[0].key.usage.unlock), (&used, 1));
    assert_eq!(keys[0].k_persistent, Some(Secret32::new([0xA1; 32])));
    let conn = Connection::open(dir.path().join("carkey.db")).unwrap();
    assert!(conn.execute("DELETE FROM audit", []).is_err(), "v2 makes the audit log append-only");
}

#[test]
fn a_v1_database_is_checked_against_the_master_key_before_it_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    write_v1(dir.path(), &VehicleIdentity::generate(), &[]);
    let err = SqliteStore::open(dir.path(), &MasterKey::from_bytes([0x43; 32])).unwrap_err();
    assert_eq!(err, StoreError::WrongMasterKey);
    let conn = Connection::open(dir.path().join("carkey.db")).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), 1, "nothing was migrated");
}

fn valet_evenings() -> AccessProfile {
    AccessProfile {
        id: ProfileId::new("valet-evenings").unwrap(),
        actions: ActionSet::of(&[Action::Unlock, Action::EngineStart]),
        speed_limit_kmh: Some(50),
        validity: Validity::ALWAYS,
        schedule: None,
    }
}

/// A version-2 database exactly as carkey 0.2 would have left it: keys with usage
/// counters (one above `i64::MAX`), a custom profile, the audit log.
fn write_v2(dir: &Path, identity: &VehicleIdentity, keys: &[(DigitalKey, Option<Secret32>, Option<Secret32>)]) {
    let sealer = Sealer::new(&MasterKey::from_bytes(MASTER));
    let conn = create_at(dir, 2, &sealer);
    let private = sealer.seal(Place::VehiclePrivateKey, &identity.group_id, &identity.key.private_bytes()).unwrap();
    conn.execute(
        "INSERT INTO vehicle (id, group_id, private_key) VALUES (1, ?1, ?2)",
        params![identity.group_id, private],
    )
    .unwrap();
    for (k, kp, token) in keys {
        let seal = |place, s: &Option<Secret32>| s.as_ref().map(|s| sealer.seal(place, &k.id.0, s).unwrap());
        let (state, reason) = match &k.state {
            KeyState::Active => ("active", None),
            KeyState::Suspended(r) => ("suspended", Some(r.clone())),
            KeyState::Revoked(r) => ("revoked", Some(r.clone())),
        };
        let counter = |v: u64| i64::from_ne_bytes(v.to_ne_bytes());
        conn.execute(
            "INSERT INTO keys (id, name, endpoint, role, profile, state, state_reason, not_before, not_after,
                               created_at, last_used_at, recency, k_persistent, immobilizer_token,
                               usage_unlock, usage_lock, usage_trunk, usage_engine_start, usage_denied)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            params![
                k.id.0,
                k.name.as_str(),
                k.endpoint.uncompressed(),
                if k.role == Role::Owner { "owner" } else { "friend" },
                k.profile.as_str(),
                state,
                reason,
                k.validity.not_before.map(|t| t.0),
                k.validity.not_after.map(|t| t.0),
                k.created_at.0,
                k.last_used_at.map(|t| t.0),
                counter(k.recency),
                seal(Place::KPersistent, kp),
                seal(Place::ImmobilizerToken, token),
                counter(k.usage.unlock),
                counter(k.usage.lock),
                counter(k.usage.trunk),
                counter(k.usage.engine_start),
                counter(k.usage.denied),
            ],
        )
        .unwrap();
    }
    let profile = valet_evenings();
    conn.execute(
        "INSERT INTO profiles (id, definition) VALUES (?1, ?2)",
        params![profile.id.as_str(), serde_json::to_string(&profile).unwrap()],
    )
    .unwrap();
    for e in audit_log() {
        conn.execute(
            "INSERT INTO audit (seq, at, trusted, event, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                i64::try_from(e.seq).unwrap(),
                e.at.time.0,
                e.at.trusted,
                serde_json::to_string(&e.event).unwrap(),
                e.prev_hash,
                e.hash
            ],
        )
        .unwrap();
    }
}

#[test]
fn a_populated_v2_database_upgrades_with_every_row_and_secret_intact() {
    let dir = tempfile::tempdir().unwrap();
    let identity = VehicleIdentity::generate();
    let mut owner = key(1, Role::Owner, KeyState::Active);
    owner.usage = Usage { unlock: 12, lock: 11, trunk: 2, engine_start: 9, denied: u64::MAX };
    owner.recency = u64::MAX - 1;
    let mut friend = key(2, Role::Friend, KeyState::Suspended("lost".into()));
    friend.profile = ProfileId::new("valet-evenings").unwrap();
    let (kp, token) = (Secret32::new([0xA1; 32]), Secret32::new([0xB2; 32]));
    write_v2(
        dir.path(),
        &identity,
        &[(owner.clone(), Some(kp.clone()), Some(token.clone())), (friend.clone(), None, None)],
    );

    let mut store = SqliteStore::open(dir.path(), &MasterKey::from_bytes(MASTER)).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_VERSION);
    let loaded = store.load().unwrap();
    let got = loaded.identity.unwrap();
    assert_eq!((got.group_id, got.key.private_bytes()), (identity.group_id, identity.key.private_bytes()));
    assert_eq!(loaded.keys.len(), 2);
    assert_eq!((&loaded.keys[0].key, &loaded.keys[0].k_persistent), (&owner, &Some(kp)));
    assert_eq!(loaded.keys[0].immobilizer_token, Some(token));
    assert_eq!((&loaded.keys[1].key, &loaded.keys[1].k_persistent), (&friend, &None));
    assert!(loaded.keys.iter().all(|k| k.key.shared_by.is_none()));
    assert_eq!(loaded.profiles, vec![valet_evenings()]);
    assert!(loaded.pairing.is_none());
    assert_eq!(loaded.tracking_pending, 0);
    let log = audit_log();
    let last = log.last().unwrap();
    assert_eq!(loaded.audit_head, AuditHead { seq: last.seq, hash: last.hash });
    assert_eq!(store.audit_after(0, 10).unwrap(), log);
    assert_eq!(store.verify_audit().unwrap(), loaded.audit_head);
    store.integrity_check().unwrap();

    // The new version's features work on the upgraded data.
    let mut shared = key(3, Role::Friend, KeyState::Active);
    shared.shared_by = Some(ShareOrigin { owner: owner.id, serial: 1 });
    let offer = sample_pairing_offer(4);
    let event = TrackingEvent { key: shared.id, kind: TrackingKind::FriendFirstUse, at: WallTime(1_800_000_000) };
    store
        .commit(&[
            Change::PutKey(shared.clone()),
            Change::PutPairingOffer(offer.clone()),
            Change::SetPairingAttempts(2),
            Change::QueueTracking(event),
        ])
        .unwrap();
    let mut replay = key(4, Role::Friend, KeyState::Active);
    replay.shared_by = shared.shared_by;
    assert!(matches!(store.commit(&[Change::PutKey(replay)]), Err(StoreError::Conflict(_))));
    drop(store);
    let mut reopened = SqliteStore::open(dir.path(), &MasterKey::from_bytes(MASTER)).unwrap();
    let loaded = reopened.load().unwrap();
    assert_eq!(loaded.keys.len(), 3);
    assert_eq!(loaded.keys[2].key, shared);
    let pairing = loaded.pairing.unwrap();
    assert_eq!(pairing.verifier.to_bytes(), offer.verifier.to_bytes());
    assert_eq!((pairing.salt, pairing.scrypt, pairing.attempts_used), (offer.salt, offer.scrypt, 2));
    assert_eq!(loaded.tracking_pending, 1);
    assert_eq!(loaded.keys[0].k_persistent, Some(Secret32::new([0xA1; 32])));
    reopened.integrity_check().unwrap();

    // A factory reset on the upgraded store keeps the schema and the append-only log.
    let mut head = AuditHead::default();
    let first = head.append(
        WallClockReading { time: WallTime(1_800_000_000), trusted: true },
        AuditEvent::Started { version: "0.3.0".into() },
    );
    reopened.commit(&[Change::FactoryReset, Change::AppendAudit(first.clone())]).unwrap();
    let loaded = reopened.load().unwrap();
    assert!(loaded.identity.is_none() && loaded.keys.is_empty() && loaded.profiles.is_empty());
    assert!(loaded.pairing.is_none() && loaded.tracking_pending == 0);
    assert_eq!(loaded.audit_head, head);
    assert_eq!(reopened.verify_audit().unwrap(), head);
    assert_eq!(reopened.schema_version().unwrap(), LATEST_VERSION);
    drop(reopened);
    let conn = Connection::open(dir.path().join("carkey.db")).unwrap();
    let err = conn.execute("DELETE FROM audit", []).unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_v2_database_is_checked_against_the_master_key_before_it_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    write_v2(dir.path(), &VehicleIdentity::generate(), &[]);
    let err = SqliteStore::open(dir.path(), &MasterKey::from_bytes([0x43; 32])).unwrap_err();
    assert_eq!(err, StoreError::WrongMasterKey);
    let conn = Connection::open(dir.path().join("carkey.db")).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), 2, "nothing was migrated");
}
