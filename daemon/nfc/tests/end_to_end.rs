//! The daemon's reader task over the simulated field: a real protocol endpoint on a real
//! socket, the real engine on in-memory fakes, decisions reaching the phone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use carkey_core::engine::{Command, Engine, EngineConfig, Request};
use carkey_core::fakes::{FakeBus, FakeClock, FakeStore};
use carkey_core::ids::{KeyId, KeyName, ProfileId, ReaderLocation, ReaderName};
use carkey_core::key::Role;
use carkey_core::ports::VehicleCommand;
use carkey_core::reader::{self, ReaderSetup};
use carkey_core::time::{UtcOffset, Validity};
use carkey_nfc::SimulatedReader;
use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::messages::ControlFlowStatus;
use common::Phone;
use tokio::sync::{mpsc, oneshot};

const AUTH1: u8 = 0x81;
const CONTROL_FLOW: u8 = 0x3C;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taps_over_the_socket_reach_the_engine_and_the_phone_learns_the_decision() {
    let bus = FakeBus::default();
    let config = EngineConfig { utc_offset: UtcOffset(0), version: "test".into(), ..EngineConfig::default() };
    let engine = Engine::start(FakeStore::default(), bus.clone(), FakeClock::at(1_750_000_000), config).unwrap();
    let identity = engine.identity().clone();
    let vehicle = identity.clone();
    let directory = engine.directory();
    let mut published = engine.directory();
    let (requests, inbox) = mpsc::channel(8);
    tokio::spawn(engine.run(inbox));

    // The owner's phone, enrolled in the vehicle.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let endpoint_key = SigningKeyPair::generate(&mut rng);
    let (reply, done) = oneshot::channel();
    let enroll = Command::EnrollKey {
        id: KeyId([1; 8]),
        name: KeyName::new("Alice's phone").unwrap(),
        endpoint: endpoint_key.public().clone(),
        role: Role::Owner,
        profile: ProfileId::new("owner").unwrap(),
        validity: Validity::ALWAYS,
    };
    requests.send(Request::Command(enroll, carkey_core::engine::Authority::Trusted, reply)).await.unwrap();
    done.await.unwrap().unwrap();
    let mut phone = Endpoint::new();
    phone.add_credential(Credential::new(identity.group_id, identity.key.public().clone(), endpoint_key, [1; 8]));

    // The door reader, served by the daemon's reader task.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("door-driver.sock");
    let mut nfc = SimulatedReader::bind(&path, Duration::from_secs(2)).unwrap();
    let setup = ReaderSetup { name: ReaderName::new("door-driver").unwrap(), location: ReaderLocation::DoorDriver };
    let task_requests = requests.clone();
    let serving = tokio::spawn(async move { reader::serve(&mut nfc, setup, directory, task_requests).await });

    // First tap: no context yet, so a standard transaction; the locked car unlocks.
    let commands = Phone::connect(&path).await.serve(&mut phone).await;
    assert!(commands.contains(&AUTH1), "{commands:02x?}");
    assert_eq!(commands.last(), Some(&CONTROL_FLOW));
    assert_eq!(phone.last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Success));
    assert_eq!(phone.contexts().len(), 1);

    // Second tap: fast, with the K_persistent both sides stored; the car locks again.
    published.wait_for(|d| !d.fast_order().is_empty()).await.unwrap();
    let commands = Phone::connect(&path).await.serve(&mut phone).await;
    assert!(!commands.contains(&AUTH1), "{commands:02x?}");
    assert_eq!(phone.last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Success));
    assert_eq!(bus.commands(), [VehicleCommand::Unlock, VehicleCommand::Lock]);

    // A phone holding a key for this vehicle that the vehicle never enrolled (or has
    // revoked) authenticates, is refused by the engine, and is told "denied".
    let mut stranger = Endpoint::new();
    let stranger_key = SigningKeyPair::generate(&mut rng);
    stranger.add_credential(Credential::new(vehicle.group_id, vehicle.key.public().clone(), stranger_key, [9; 8]));
    let commands = Phone::connect(&path).await.serve(&mut stranger).await;
    assert!(commands.contains(&AUTH1), "{commands:02x?}");
    assert_eq!(stranger.last_control_flow().map(|c| c.status), Some(ControlFlowStatus::Denied));
    assert_eq!(bus.commands().len(), 2);

    assert!(!serving.is_finished(), "the reader keeps serving");
    serving.abort();
}
