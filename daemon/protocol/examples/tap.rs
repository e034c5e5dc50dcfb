//! A vehicle and a phone, in memory: enrolment, a standard tap, a fast tap, a mailbox
//! round trip and a removed key, with every APDU printed.
//!
//! ```sh
//! cargo run -p carkey-protocol --example tap
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp};
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::reader::{
    KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, Step, TransactionPlan,
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn short(bytes: &[u8]) -> String {
    let h = hex(bytes);
    if h.len() > 72 { format!("{}… ({} bytes)", &h[..72], bytes.len()) } else { h }
}

fn tap(
    title: &str,
    config: &ReaderConfig,
    directory: &mut MemoryDirectory,
    phone: &mut Endpoint,
    plan: TransactionPlan,
) {
    println!("\n=== {title}");
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    // Prepared before the phone arrives: key generation is off the critical path.
    let prepared = PreparedTransaction::generate(&mut rng);
    let mut session = ReaderSession::new(config, prepared, plan);
    let mut command = session.start().unwrap();
    loop {
        println!("  vehicle → phone  {}", short(&command));
        let response = phone.process(&command, &mut rng);
        println!("  phone → vehicle  {}", short(&response));
        match session.handle_response(&response, directory) {
            Ok(Step::Transmit(next)) => command = next,
            Ok(Step::Authenticated(outcome)) => {
                println!(
                    "  ✔ {:?} transaction, key slot {}, URSK ready for UWB{}",
                    outcome.kind,
                    hex(&outcome.slot.0),
                    if outcome.new_k_persistent.is_some() { ", new K_persistent stored" } else { "" }
                );
                for read in &outcome.mailbox_reads {
                    println!("  mailbox read: {}", short(read));
                }
                directory.record_use(outcome.slot, outcome.new_k_persistent.clone());
                command = session.control_flow(ControlFlowStatus::Success, 0).unwrap();
            }
            Ok(Step::MailboxData(reads)) => {
                for read in &reads {
                    println!("  mailbox read: {}", short(read));
                }
                command = session.control_flow(ControlFlowStatus::Success, 0).unwrap();
            }
            Ok(Step::Unenrolled(outcome)) => {
                println!("  ✘ key {} is not enrolled in this vehicle", hex(&outcome.reported_key_slot));
                command = session.control_flow(ControlFlowStatus::Denied, 0).unwrap();
            }
            Ok(Step::Finished) => break,
            Err(error) => {
                println!("  ✘ denied: {error}");
                if let Some(cf) = session.control_flow(ControlFlowStatus::Failure, 0) {
                    println!("  vehicle → phone  {}", short(&cf));
                    phone.process(&cf, &mut rng);
                }
                break;
            }
        }
    }
    phone.field_off();
}

fn main() {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let mut reader_id = [0u8; 32];
    reader_id[..16].copy_from_slice(b"carkey-demo-car!");
    reader_id[16..].fill(0xC0);
    let config = ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng), reader_id, policy: 0x01 };
    let mut directory = MemoryDirectory::new();

    // Enrolment (the real pairing protocol comes later): the phone gets a key bound to
    // this vehicle, the vehicle records the phone's public key in slot 01…01.
    let mut phone = Endpoint::new();
    let endpoint_key = SigningKeyPair::generate(&mut rng);
    let slot = KeySlot([1; 8]);
    directory.enroll(slot, endpoint_key.public().clone());
    phone.add_credential(Credential::new(
        reader_id[..16].try_into().unwrap(),
        config.vehicle_key.public().clone(),
        endpoint_key,
        slot.0,
    ));

    let token = ExchangeRequest {
        atomic: true,
        ops: vec![MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 0, data: vec![0x1A; 32] }],
    };
    tap(
        "First tap: standard transaction, immobilizer token written",
        &config,
        &mut directory,
        &mut phone,
        TransactionPlan::fast().with_exchange(token),
    );
    tap("Second tap: fast transaction (K_persistent)", &config, &mut directory, &mut phone, TransactionPlan::fast());
    let read = ExchangeRequest {
        atomic: false,
        ops: vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 32 }],
    };
    tap(
        "Engine start: standard transaction, token read back",
        &config,
        &mut directory,
        &mut phone,
        TransactionPlan::standard().with_exchange(read),
    );
    directory.remove(slot);
    tap("After the key is removed from the vehicle", &config, &mut directory, &mut phone, TransactionPlan::fast());
}
