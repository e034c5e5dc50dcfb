//! The engine and reader task end to end on fakes: real protocol, fake radio, store, bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use carkey_protocol::crypto::{EcPublicKey, SigningKeyPair};
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::messages::ControlFlowStatus;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::*;
use crate::audit::{AuditEvent, AuditHead, Transaction, verify_chain};
use crate::fakes::{FakeBus, FakeClock, FakeField, FakeReader, FakeStore};
use crate::ids::{KeyName, ReaderLocation};
use crate::key::{KeyState, Role};
use crate::policy::Denial;
use crate::ports::VehicleCommand;
use crate::profile::Action;
use crate::reader::{ReaderSetup, serve};
use crate::time::{Validity, WallTime, WeeklySchedule};

const MONDAY_NOON: i64 = 1_795_392_000 + 12 * 3600;

struct Car {
    store: FakeStore,
    bus: FakeBus,
    clock: FakeClock,
    requests: mpsc::Sender<Request>,
    identity: VehicleIdentity,
    fields: HashMap<ReaderLocation, FakeField>,
    status: watch::Receiver<Arc<Status>>,
    decisions: broadcast::Receiver<DecisionEvent>,
}

type Phone = Arc<Mutex<Endpoint>>;

mod dashboard;
mod lifecycle;

impl Car {
    fn start_with(store: FakeStore) -> Self {
        Self::start_limited(store, crate::engine::DEFAULT_MAX_KEYS)
    }

    fn start_limited(store: FakeStore, max_keys: usize) -> Self {
        let (bus, clock) = (FakeBus::default(), FakeClock::at(MONDAY_NOON));
        let config = EngineConfig { version: "test".into(), max_keys, ..EngineConfig::default() };
        let engine = Engine::start(store.clone(), bus.clone(), clock.clone(), config).unwrap();
        let identity = engine.identity().clone();
        let (requests, rx) = mpsc::channel(16);
        let mut fields = HashMap::new();
        for (name, location) in [
            ("door-driver", ReaderLocation::DoorDriver),
            ("trunk", ReaderLocation::Trunk),
            ("console", ReaderLocation::Console),
        ] {
            let (mut reader, field) = FakeReader::new();
            let setup = ReaderSetup { name: ReaderName::new(name).unwrap(), location };
            let (directory, requests) = (engine.directory(), requests.clone());
            tokio::spawn(async move { serve(&mut reader, setup, directory, requests).await });
            fields.insert(location, field);
        }
        let (status, decisions) = (engine.status(), engine.decisions());
        tokio::spawn(engine.run(rx));
        Self { store, bus, clock, requests, identity, fields, status, decisions }
    }

    fn start() -> Self {
        Self::start_with(FakeStore::default())
    }

    async fn command(&self, command: Command) -> Result<Reply, CommandError> {
        self.command_as(command, Authority::Trusted).await
    }

    async fn command_as(&self, command: Command, authority: Authority) -> Result<Reply, CommandError> {
        let (reply, rx) = oneshot::channel();
        self.requests.send(Request::Command(command, authority, reply)).await.unwrap();
        rx.await.unwrap()
    }

    /// A phone holding a key for this car, not yet enrolled.
    fn phone(&self, slot: u8) -> (Phone, EcPublicKey) {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let key = SigningKeyPair::generate(&mut rng);
        let public = key.public().clone();
        let mut endpoint = Endpoint::new();
        endpoint.add_credential(Credential::new(
            self.identity.group_id,
            self.identity.key.public().clone(),
            key,
            [slot; 8],
        ));
        (Arc::new(Mutex::new(endpoint)), public)
    }

    async fn enrolled_phone(&self, slot: u8, profile: &str) -> Phone {
        let (phone, endpoint) = self.phone(slot);
        self.command(Command::EnrollKey {
            id: KeyId([slot; 8]),
            name: KeyName::new(&format!("phone {slot}")).unwrap(),
            endpoint,
            role: if profile == "owner" { Role::Owner } else { Role::Friend },
            profile: ProfileId::new(profile).unwrap(),
            validity: Validity::ALWAYS,
        })
        .await
        .unwrap();
        phone
    }

    /// Taps and waits until the reader let go of the phone; returns the audit entry of the
    /// decision and what the phone was told.
    async fn tap(&self, location: ReaderLocation, phone: &Phone) -> (AuditEvent, Option<ControlFlowStatus>) {
        self.fields[&location].tap(phone);
        wait_released(phone).await;
        let told = phone.lock().unwrap().last_control_flow().map(|cf| cf.status);
        (self.store.audit().last().unwrap().event.clone(), told)
    }
}

async fn wait_released(phone: &Phone) {
    for _ in 0..10_000 {
        tokio::task::yield_now().await;
        if Arc::strong_count(phone) == 1 {
            // Let the engine finish recording what the reader reported.
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            return;
        }
    }
    panic!("the reader never released the phone");
}

fn verdict(event: &AuditEvent) -> (Option<KeyId>, Action, Transaction, Option<Denial>) {
    match event {
        AuditEvent::Decision { key, action, transaction, denied, .. } => (*key, *action, *transaction, *denied),
        other => panic!("not a decision: {other:?}"),
    }
}

const DOOR: ReaderLocation = ReaderLocation::DoorDriver;
const ID: KeyId = KeyId([1; 8]);

#[tokio::test]
async fn owner_unlocks_standard_then_fast_and_locks_again() {
    let car = Car::start();
    let phone = car.enrolled_phone(1, "owner").await;
    let (event, told) = car.tap(DOOR, &phone).await;
    assert_eq!(verdict(&event), (Some(ID), Action::Unlock, Transaction::Standard, None));
    assert_eq!(told, Some(ControlFlowStatus::Success));
    assert!(car.store.key(ID).unwrap().k_persistent.is_some(), "K_persistent stored after a standard tap");
    let (event, _) = car.tap(DOOR, &phone).await;
    assert_eq!(verdict(&event), (Some(ID), Action::Lock, Transaction::Fast, None));
    assert_eq!(car.bus.commands(), vec![VehicleCommand::Unlock, VehicleCommand::Lock]);
    let key = car.store.key(ID).unwrap().key;
    assert_eq!((key.usage.unlock, key.usage.lock, key.usage.denied), (1, 1, 0));
    assert_eq!(key.last_used_at, Some(WallTime(MONDAY_NOON)));
}

#[tokio::test]
async fn engine_start_only_from_the_console_with_the_profile_speed_limit() {
    let car = Car::start();
    let valet = car.enrolled_phone(2, "valet").await;
    // A fast context exists after this standard tap, yet the console insists on standard.
    car.tap(DOOR, &valet).await;
    let (event, told) = car.tap(ReaderLocation::Console, &valet).await;
    assert_eq!(verdict(&event), (Some(KeyId([2; 8])), Action::EngineStart, Transaction::Standard, None));
    assert_eq!(told, Some(ControlFlowStatus::Success));
    assert_eq!(
        car.bus.commands().last(),
        Some(&VehicleCommand::AuthorizeStart { key: KeyId([2; 8]), speed_limit_kmh: Some(60) })
    );
}

#[tokio::test]
async fn trunk_only_key_opens_the_trunk_and_nothing_else() {
    let car = Car::start();
    let phone = car.enrolled_phone(3, "trunk-only").await;
    let (event, told) = car.tap(ReaderLocation::Trunk, &phone).await;
    assert_eq!(verdict(&event).3, None);
    assert_eq!(told, Some(ControlFlowStatus::Success));
    for location in [DOOR, ReaderLocation::Console] {
        let (event, told) = car.tap(location, &phone).await;
        assert_eq!(verdict(&event).3, Some(Denial::ActionNotAllowed));
        assert_eq!(told, Some(ControlFlowStatus::Denied));
    }
    assert_eq!(car.bus.commands(), vec![VehicleCommand::OpenTrunk]);
}

#[tokio::test]
async fn schedules_suspension_and_revocation_deny() {
    let car = Car::start();
    let mut evenings = crate::profile::builtin_profiles().into_iter().find(|p| p.id.as_str() == "valet").unwrap();
    evenings.id = ProfileId::new("valet-evenings").unwrap();
    evenings.schedule = Some(WeeklySchedule(vec!["mon-fri 18:00-23:00".parse().unwrap()]));
    car.command(Command::PutProfile(evenings)).await.unwrap();
    let phone = car.enrolled_phone(4, "valet-evenings").await;
    let id = KeyId([4; 8]);
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, Some(Denial::OutsideSchedule));
    car.clock.set(MONDAY_NOON + 7 * 3600);
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, None);
    car.clock.set_trusted(false);
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, Some(Denial::ClockUntrusted));
    car.clock.set_trusted(true);

    car.command(Command::Suspend(id, "lost".into())).await.unwrap();
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, Some(Denial::Suspended));
    car.command(Command::Resume(id)).await.unwrap();
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, None);
    car.command(Command::Revoke(id, "returned".into())).await.unwrap();
    assert!(car.store.key(id).unwrap().k_persistent.is_none(), "revocation erases K_persistent");
    // Without its K_persistent the phone needs a standard transaction, which names the
    // reason; the phone itself is told only "denied", like an unknown phone.
    let (event, told) = car.tap(DOOR, &phone).await;
    assert_eq!(verdict(&event), (Some(id), Action::Unlock, Transaction::Standard, Some(Denial::Revoked)));
    assert_eq!(told, Some(ControlFlowStatus::Denied));
    assert_eq!(car.command(Command::Resume(id)).await.unwrap_err(), CommandError::Revoked(id));
}

#[tokio::test]
async fn unknown_phone_is_told_the_same_as_a_denied_one() {
    let car = Car::start();
    let (stranger, _) = car.phone(9);
    let (event, told) = car.tap(DOOR, &stranger).await;
    assert_eq!(verdict(&event), (None, Action::Unlock, Transaction::Standard, Some(Denial::UnknownKey)));
    assert_eq!(told, Some(ControlFlowStatus::Denied));
    assert!(car.bus.commands().is_empty());
}

#[tokio::test]
async fn a_tap_that_cannot_be_recorded_is_refused_and_changes_nothing() {
    let car = Car::start();
    let phone = car.enrolled_phone(1, "owner").await;
    let before = car.store.audit().len();
    car.store.fail_next_commits(1);
    car.fields[&DOOR].tap(&phone);
    wait_released(&phone).await;
    assert_eq!(phone.lock().unwrap().last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Denied));
    assert!(car.bus.commands().is_empty());
    assert_eq!(car.store.audit().len(), before);
    assert!(car.store.key(ID).unwrap().k_persistent.is_none());
    // The next tap works.
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, None);
}

#[tokio::test]
async fn a_vehicle_failure_is_recorded_and_the_phone_told() {
    let car = Car::start();
    let phone = car.enrolled_phone(1, "owner").await;
    car.bus.set_failing(true);
    let (event, told) = car.tap(DOOR, &phone).await;
    assert!(matches!(event, AuditEvent::VehicleCommandFailed { action: Action::Unlock, .. }), "{event:?}");
    assert_eq!(told, Some(ControlFlowStatus::Denied));
}

#[tokio::test]
async fn a_hung_phone_is_recorded_and_the_next_tap_works() {
    let car = Car::start();
    let phone = car.enrolled_phone(1, "owner").await;
    car.fields[&DOOR].tap_and_hang_after(&phone, 2);
    wait_released(&phone).await;
    assert!(matches!(car.store.audit().last().unwrap().event, AuditEvent::TransactionFailed { .. }));
    assert_eq!(verdict(&car.tap(DOOR, &phone).await.0).3, None);
}

#[tokio::test]
async fn fast_search_order_follows_use_and_survives_a_restart() {
    let store = FakeStore::default();
    let car = Car::start_with(store.clone());
    let phones = [car.enrolled_phone(1, "owner").await, car.enrolled_phone(2, "driver").await];
    for phone in &phones {
        car.tap(DOOR, phone).await;
    }
    car.tap(DOOR, &phones[0]).await;
    drop(car);
    let engine = Engine::start(
        store.clone(),
        FakeBus::default(),
        FakeClock::at(MONDAY_NOON),
        EngineConfig { version: "test".into(), ..EngineConfig::default() },
    )
    .unwrap();
    assert_eq!(engine.directory().borrow().fast_order(), vec![KeyId([1; 8]), KeyId([2; 8])]);
    let audit = store.audit();
    assert_eq!(verify_chain(AuditHead::default(), &audit).unwrap().seq, u64::try_from(audit.len()).unwrap());
}

#[tokio::test]
async fn commands_validate_before_they_write() {
    let car = Car::start();
    car.enrolled_phone(1, "owner").await;
    let (_, endpoint) = car.phone(5);
    let enroll = |id: u8, endpoint: EcPublicKey, profile: &str| Command::EnrollKey {
        id: KeyId([id; 8]),
        name: KeyName::new("x").unwrap(),
        endpoint,
        role: Role::Friend,
        profile: ProfileId::new(profile).unwrap(),
        validity: Validity::ALWAYS,
    };
    assert_eq!(car.command(enroll(1, endpoint.clone(), "owner")).await.unwrap_err(), CommandError::KeyExists(ID));
    let owner_endpoint = car.store.key(ID).unwrap().key.endpoint;
    assert_eq!(
        car.command(enroll(6, owner_endpoint, "owner")).await.unwrap_err(),
        CommandError::EndpointAlreadyEnrolled(ID)
    );
    let nowhere = ProfileId::new("nowhere").unwrap();
    assert_eq!(car.command(enroll(6, endpoint, "nowhere")).await.unwrap_err(), CommandError::UnknownProfile(nowhere));
    let valet = ProfileId::new("valet").unwrap();
    assert_eq!(
        car.command(Command::DeleteProfile(valet.clone())).await.unwrap_err(),
        CommandError::BuiltinProfile(valet)
    );
    let mut custom = crate::profile::builtin_profiles().remove(0);
    custom.id = ProfileId::new("custom").unwrap();
    car.command(Command::PutProfile(custom.clone())).await.unwrap();
    car.command(Command::SetProfile(ID, custom.id.clone())).await.unwrap();
    assert!(matches!(
        car.command(Command::DeleteProfile(custom.id.clone())).await.unwrap_err(),
        CommandError::ProfileInUse { keys: 1, .. }
    ));
    assert_eq!(car.command(Command::Resume(ID)).await.unwrap_err(), CommandError::NotSuspended(ID));
    let Reply::Key(key) = car.command(Command::GetKey(ID)).await.unwrap() else { panic!() };
    assert_eq!((key.profile, key.state), (custom.id, KeyState::Active));
    let Reply::Profiles(profiles) = car.command(Command::ListProfiles).await.unwrap() else { panic!() };
    assert_eq!(profiles.first().map(|p| p.id.as_str()), Some("owner"));
    assert_eq!(profiles.last().map(|p| p.id.as_str()), Some("custom"));
}

#[tokio::test]
async fn first_start_creates_the_identity_once() {
    let store = FakeStore::default();
    let config = EngineConfig { version: "test".into(), ..EngineConfig::default() };
    let first = Engine::start(store.clone(), FakeBus::default(), FakeClock::at(0), config.clone()).unwrap();
    let group = first.identity().group_id;
    drop(first);
    let second = Engine::start(store.clone(), FakeBus::default(), FakeClock::at(0), config).unwrap();
    assert_eq!(second.identity().group_id, group);
    assert_eq!(store.audit().len(), 2);
}
