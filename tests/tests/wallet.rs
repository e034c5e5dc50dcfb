//! The wallet file: what survives a save and load (shares and terminations included),
//! what older files still load as, and what a corrupt file says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use carkey_protocol::attestation::private_mailbox;
use carkey_protocol::crypto::{Secret32, SigningKeyPair};
use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp};
use carkey_tests::wallet::{KeyName, NewKey, ShareRequest, Wallet, WalletError};
use serde_json::Value;

fn vehicle_key() -> SigningKeyPair {
    SigningKeyPair::generate(&mut rand_core::UnwrapErr(getrandom::SysRng))
}

fn new_key(group: u8, name: &str) -> NewKey {
    NewKey {
        vehicle_group_id: [group; 16],
        vehicle_public: vehicle_key().public().clone(),
        slot: None,
        name: Some(KeyName::new(name).unwrap()),
    }
}

/// A saved wallet with two keys, a context for the first and a written mailbox.
fn saved_wallet(path: &Path) -> Wallet {
    let mut wallet = Wallet::create(path);
    wallet.new_key(new_key(1, "Alice's phone")).unwrap();
    wallet.new_key(NewKey { slot: Some([7; 8]), ..new_key(2, "work car") }).unwrap();
    let endpoint = wallet.endpoint();
    endpoint.contexts().insert([1; 16], Secret32::new([0x42; 32]));
    let token = ExchangeRequest {
        ops: vec![MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 3, data: vec![0xAB; 32] }],
        atomic: false,
    };
    endpoint.credential_mut(&[2; 16]).unwrap().mailboxes.apply(&token).unwrap();
    wallet.save().unwrap();
    wallet
}

#[test]
fn keys_contexts_and_mailboxes_survive_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.json");
    let mut saved = saved_wallet(&path);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

    let mut loaded = Wallet::load(&path).unwrap();
    assert_eq!(loaded.keys(), saved.keys());
    let keys = loaded.keys();
    assert_eq!(keys[1].slot, [7; 8]);
    assert_eq!(keys[0].name.as_str(), "Alice's phone");
    assert!(keys[0].has_context && !keys[1].has_context);

    let endpoint = loaded.endpoint();
    assert_eq!(endpoint.contexts().get(&[1; 16]), Some(&Secret32::new([0x42; 32])));
    let original = saved.endpoint().credential(&[2; 16]).unwrap().clone();
    let restored = endpoint.credential(&[2; 16]).unwrap();
    assert_eq!(restored.mailboxes, original.mailboxes);
    assert_eq!(&restored.mailboxes.get(MailboxId::Confidential)[3..35], &[0xAB; 32]);
    assert_eq!(restored.endpoint_key.private_bytes(), original.endpoint_key.private_bytes());
    assert_eq!(restored.vehicle_public, original.vehicle_public);

    // Saving the loaded wallet writes the same file.
    let before = std::fs::read(&path).unwrap();
    loaded.save().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_second_key_for_the_same_vehicle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut wallet = Wallet::create(&dir.path().join("phone.json"));
    wallet.new_key(new_key(1, "first")).unwrap();
    assert!(matches!(wallet.new_key(new_key(1, "second")), Err(WalletError::DuplicateVehicle(_))));
}

#[test]
fn corrupt_wallets_are_refused_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.json");
    saved_wallet(&path);
    let good: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let private_key = good["keys"][0]["endpoint_private_key"].as_str().unwrap().to_owned();

    type Mutation = fn(&mut Value);
    let cases: &[(&str, Mutation)] = &[
        ("format version 2", |w| w["version"] = 2.into()),
        ("key 1: slot: expected 16 hexadecimal digits", |w| w["keys"][0]["slot"] = "0102".into()),
        ("key 2: vehicle_group_id", |w| w["keys"][1]["vehicle_group_id"] = "zz".repeat(16).into()),
        ("key 1: vehicle_public_key: not an uncompressed P-256 public key", |w| {
            w["keys"][0]["vehicle_public_key"] = format!("04{}", "00".repeat(64)).into();
        }),
        ("key 1: endpoint_private_key: not a valid P-256 private key", |w| {
            w["keys"][0]["endpoint_private_key"] = "ff".repeat(32).into();
        }),
        ("key 1: endpoint_private_key: expected 64", |w| w["keys"][0]["endpoint_private_key"] = "00".into()),
        ("key 1: endpoint_public_key: does not belong", |w| {
            w["keys"][0]["endpoint_public_key"] = w["keys"][1]["endpoint_public_key"].clone();
        }),
        ("key 1: name", |w| w["keys"][0]["name"] = " padded ".into()),
        ("key 1: private_mailbox", |w| w["keys"][0]["private_mailbox"] = "abc".into()),
        ("key 2: a second key for the same vehicle group", |w| {
            w["keys"][1]["vehicle_group_id"] = w["keys"][0]["vehicle_group_id"].clone();
        }),
        ("context 1: k_persistent", |w| w["contexts"][0]["k_persistent"] = "00".into()),
        ("context 1: no key for vehicle group", |w| w["contexts"][0]["vehicle_group_id"] = "99".repeat(16).into()),
        ("invalid type: string \"many\", expected u64", |w| w["last_serial"] = "many".into()),
        ("unknown field `colour`", |w| w["keys"][0]["colour"] = "red".into()),
        ("missing field `slot`", |w| {
            w["keys"][0].as_object_mut().unwrap().remove("slot");
        }),
    ];
    for (expected, mutate) in cases {
        let mut wallet = good.clone();
        mutate(&mut wallet);
        std::fs::write(&path, serde_json::to_vec(&wallet).unwrap()).unwrap();
        let message = Wallet::load(&path).unwrap_err().to_string();
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(!message.contains(&private_key), "a secret leaked into {message:?}");
    }

    std::fs::write(&path, b"{ not json").unwrap();
    let message = Wallet::load(&path).unwrap_err().to_string();
    assert!(message.contains("not a valid wallet file") && message.contains("line 1"), "{message}");
    assert!(matches!(Wallet::load(&dir.path().join("missing.json")), Err(WalletError::NotFound(_))));
}

#[test]
fn debug_output_shows_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.json");
    let mut wallet = saved_wallet(&path);
    let private_key = hex::encode(wallet.endpoint().credentials()[0].endpoint_key.private_bytes().expose());
    let debug = format!("{wallet:?} {:?}", wallet.keys());
    assert!(!debug.contains(&private_key) && !debug.contains("4242424242"), "{debug}");
}

/// A friend's wallet that carries a share, then terminated, with serials used.
fn wallet_with_lifecycle_state(path: &Path) -> Wallet {
    let mut owner = Wallet::create(&path.with_extension("owner"));
    let mut friend = Wallet::create(path);
    let vehicle = vehicle_key().public().clone();
    let key = |wallet: &mut Wallet| {
        wallet
            .new_key(NewKey { vehicle_group_id: [1; 16], vehicle_public: vehicle.clone(), slot: None, name: None })
            .unwrap()
    };
    key(&mut owner);
    let friend_key = key(&mut friend).public_key;
    let request = ShareRequest {
        vehicle_group_id: None,
        friend_key,
        profile: "valet".into(),
        not_before: None,
        not_after: Some(1_900_000_000),
        serial: Some(41),
    };
    friend.accept_share(&owner.share(&request).unwrap().bytes).unwrap();
    friend.terminate(None, None).unwrap();
    friend.save().unwrap();
    friend
}

#[test]
fn shares_terminations_and_the_serial_counter_survive_save_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("friend.json");
    let saved = wallet_with_lifecycle_state(&path);
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["last_serial"], 1);
    assert_eq!(file["keys"][0]["signaling"], private_mailbox::TERMINATION_PENDING | private_mailbox::SHARE_PENDING);

    let mut loaded = Wallet::load(&path).unwrap();
    assert_eq!(loaded.last_serial(), saved.last_serial());
    let key = loaded.keys().remove(0);
    assert!(key.has_share && key.termination_pending);
    assert_eq!(loaded.carried_share(&[1; 16]), saved.carried_share(&[1; 16]));
    assert_eq!(loaded.carried_termination(&[1; 16]), saved.carried_termination(&[1; 16]));
    let before = std::fs::read(&path).unwrap();
    loaded.save().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn files_without_the_newer_fields_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.json");
    let key = vehicle_key();
    // As the first version of the simulator wrote it, pared down to the required fields.
    let old = serde_json::json!({
        "version": 1,
        "keys": [{
            "name": "old phone",
            "vehicle_group_id": "01".repeat(16),
            "vehicle_public_key": hex::encode(vehicle_key().public().uncompressed()),
            "endpoint_private_key": hex::encode(key.private_bytes().expose()),
            "slot": "0102030405060708",
        }],
    });
    std::fs::write(&path, old.to_string()).unwrap();
    let mut wallet = Wallet::load(&path).unwrap();
    assert_eq!(wallet.last_serial(), 0);
    let info = wallet.keys().remove(0);
    assert_eq!(&info.public_key, key.public());
    assert!(!info.has_share && !info.termination_pending && !info.has_context);
    assert_eq!(wallet.terminate(None, None).unwrap().attestation.serial, 1);
    wallet.save().unwrap();
    assert!(Wallet::load(&path).unwrap().keys()[0].termination_pending);
}
