//! What the dashboard relies on: owner presence for commands that change owner power, the
//! status snapshot, and the decision stream.

use carkey_protocol::spake2plus::ScryptParams;

use super::*;
use crate::pairing::{PairingCode, PairingOffer};
use crate::ports::Immobilizer;

const CONSOLE: ReaderLocation = ReaderLocation::Console;
const OWNER: KeyId = KeyId([1; 8]);
const FRIEND: KeyId = KeyId([2; 8]);

fn offer() -> PairingOffer {
    let code = PairingCode::generate().unwrap();
    let scrypt = ScryptParams { log_n: 10, r: 8, p: 1 };
    PairingOffer::from_code(&code, &[7; 16], scrypt, WallTime(MONDAY_NOON), Some(900)).unwrap()
}

async fn dashboard(car: &Car, command: Command) -> Result<Reply, CommandError> {
    car.command_as(command, Authority::Dashboard).await
}

#[tokio::test]
async fn presence_ends_with_the_owner_power_of_the_key_that_proved_it() {
    let car = Car::start();
    let owner = car.enrolled_phone(1, "owner").await;
    car.tap(CONSOLE, &owner).await;
    assert!(car.status.borrow().owner_present_until.is_some());
    dashboard(&car, Command::Revoke(OWNER, "sold".into())).await.unwrap();
    assert_eq!(car.status.borrow().owner_present_until, None, "a revoked key proves nothing");
    assert_eq!(dashboard(&car, Command::FactoryReset).await.unwrap_err(), CommandError::OwnerPresenceRequired);
}

#[tokio::test]
async fn owner_power_changes_from_the_dashboard_need_an_owner_tap_on_the_console() {
    let car = Car::start();
    let owner = car.enrolled_phone(1, "owner").await;
    let friend = car.enrolled_phone(2, "driver").await;
    let sensitive = || {
        [
            Command::Revoke(OWNER, "stolen".into()),
            Command::Suspend(OWNER, "lost".into()),
            Command::OfferPairing(offer()),
            Command::FactoryReset,
        ]
    };
    for command in sensitive() {
        assert_eq!(dashboard(&car, command).await.unwrap_err(), CommandError::OwnerPresenceRequired);
    }
    // Ordinary management needs no proof.
    dashboard(&car, Command::Rename(OWNER, KeyName::new("Mine").unwrap())).await.unwrap();
    dashboard(&car, Command::Suspend(FRIEND, "lent out".into())).await.unwrap();
    dashboard(&car, Command::Resume(FRIEND)).await.unwrap();

    // Neither a friend on the console nor the owner at the door proves presence.
    car.tap(CONSOLE, &friend).await;
    car.tap(DOOR, &owner).await;
    let revoke_owner = Command::Revoke(OWNER, "stolen".into());
    assert_eq!(dashboard(&car, revoke_owner.clone()).await.unwrap_err(), CommandError::OwnerPresenceRequired);
    assert_eq!(car.status.borrow().owner_present_until, None);

    // The owner's standard transaction on the console does, for 60 s.
    let (event, _) = car.tap(CONSOLE, &owner).await;
    assert_eq!(verdict(&event).2, Transaction::Standard);
    assert_eq!(car.status.borrow().owner_present_until, Some(WallTime(MONDAY_NOON + 60)));
    dashboard(&car, Command::OfferPairing(offer())).await.unwrap();
    car.clock.set(MONDAY_NOON + 61);
    assert_eq!(dashboard(&car, revoke_owner.clone()).await.unwrap_err(), CommandError::OwnerPresenceRequired);
    assert_eq!(car.status.borrow().owner_present_until, None, "the snapshot drops an expired proof");
    assert!(matches!(car.store.key(OWNER).unwrap().key.state, KeyState::Active), "nothing changed");

    car.tap(CONSOLE, &owner).await;
    dashboard(&car, revoke_owner).await.unwrap();
    assert!(matches!(car.store.key(OWNER).unwrap().key.state, KeyState::Revoked(_)));
    // A trusted channel (the technician's offline tool, the backend) needs no tap.
    car.command(Command::FactoryReset).await.unwrap();
}

#[tokio::test]
async fn the_first_owner_can_be_paired_from_the_dashboard_without_a_tap() {
    let car = Car::start();
    dashboard(&car, Command::OfferPairing(offer())).await.unwrap();
    // A friend key is no owner.
    car.enrolled_phone(2, "driver").await;
    dashboard(&car, Command::OfferPairing(offer())).await.unwrap();
    assert!(car.status.borrow().pairing.is_some());
    // A revoked owner is no owner either.
    car.enrolled_phone(1, "owner").await;
    assert_eq!(dashboard(&car, Command::OfferPairing(offer())).await.unwrap_err(), CommandError::OwnerPresenceRequired);
    car.command(Command::Revoke(OWNER, "sold".into())).await.unwrap();
    dashboard(&car, Command::OfferPairing(offer())).await.unwrap();
}

#[tokio::test]
async fn taps_are_announced_and_the_snapshot_follows_every_change() {
    let mut car = Car::start();
    assert!(car.status.borrow().keys.is_empty());
    assert_eq!(car.status.borrow().vehicle, crate::ports::VehicleState::PARKED);
    assert_eq!(car.status.borrow().group_id, car.identity.group_id);
    let owner = car.enrolled_phone(1, "owner").await;
    let trunk = car.enrolled_phone(3, "trunk-only").await;
    assert_eq!(car.status.borrow().keys.len(), 2);

    car.tap(DOOR, &owner).await;
    let event = car.decisions.try_recv().unwrap();
    assert_eq!((event.key, event.action, event.denied), (Some(OWNER), Action::Unlock, None));
    assert_eq!((event.reader.as_str(), event.at), ("door-driver", WallTime(MONDAY_NOON)));
    car.tap(DOOR, &trunk).await;
    let event = car.decisions.try_recv().unwrap();
    assert_eq!(
        (event.key, event.action, event.denied),
        (Some(KeyId([3; 8])), Action::Lock, Some(Denial::ActionNotAllowed))
    );

    car.tap(CONSOLE, &owner).await;
    let status = car.status.borrow_and_update().clone();
    assert!(!status.vehicle.locked);
    assert_eq!(status.vehicle.immobilizer, Immobilizer::Released { key: OWNER, speed_limit_kmh: None });
    let key = status.keys.iter().find(|k| k.id == OWNER).unwrap();
    assert_eq!((key.usage.unlock, key.usage.engine_start), (1, 1));

    // An unknown phone is announced without a key.
    let (stranger, _) = car.phone(9);
    car.tap(DOOR, &stranger).await;
    car.decisions.try_recv().unwrap();
    let event = car.decisions.try_recv().unwrap();
    assert_eq!((event.key, event.denied), (None, Some(Denial::UnknownKey)));

    car.command(Command::Rename(OWNER, KeyName::new("Alex").unwrap())).await.unwrap();
    assert!(car.status.has_changed().unwrap());
    let status = car.status.borrow_and_update().clone();
    assert_eq!(status.keys.iter().find(|k| k.id == OWNER).unwrap().name.as_str(), "Alex");
    // A read changes nothing and republishes nothing.
    car.command(Command::ListKeys).await.unwrap();
    assert!(!car.status.has_changed().unwrap());
}
