//! Shared fixtures: a vehicle, a phone holding a key for it, and the vehicle's directory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::loopback;
use carkey_protocol::reader::{
    Authenticated, KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderError, ReaderSession,
    TransactionPlan,
};

pub fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

pub struct Vehicle {
    pub config: ReaderConfig,
    pub directory: MemoryDirectory,
}

impl Vehicle {
    pub fn new(group: u8) -> Self {
        let mut reader_id = [0u8; 32];
        reader_id[..16].fill(group);
        reader_id[16..].fill(0xC0); // the console reader
        Self {
            config: ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng()), reader_id, policy: 0x01 },
            directory: MemoryDirectory::new(),
        }
    }

    pub fn group_id(&self) -> [u8; 16] {
        self.config.reader_id[..16].try_into().unwrap()
    }

    /// Creates a key for this vehicle on `phone` and enrolls it in `slot`.
    pub fn pair(&mut self, phone: &mut Endpoint, slot: u8) -> KeySlot {
        let endpoint_key = SigningKeyPair::generate(&mut rng());
        let slot = KeySlot([slot; 8]);
        self.directory.enroll(slot, endpoint_key.public().clone());
        phone.add_credential(Credential::new(
            self.group_id(),
            self.config.vehicle_key.public().clone(),
            endpoint_key,
            slot.0,
        ));
        slot
    }

    /// One transaction; on success records it like the daemon would.
    pub fn tap(&mut self, phone: &mut Endpoint, plan: TransactionPlan) -> Result<Box<Authenticated>, ReaderError> {
        let prepared = PreparedTransaction::generate(&mut rng());
        let mut session = ReaderSession::new(&self.config, prepared, plan);
        let outcome = loopback::run(&mut session, phone, &self.directory, &mut rng())?;
        self.directory.record_use(outcome.slot, outcome.new_k_persistent.clone());
        Ok(outcome)
    }

    /// One transaction with a response-rewriting hook; records nothing.
    pub fn tap_tampered(
        &self,
        phone: &mut Endpoint,
        plan: TransactionPlan,
        tamper: impl FnMut(usize, &mut Vec<u8>),
    ) -> Result<Box<Authenticated>, ReaderError> {
        let prepared = PreparedTransaction::generate(&mut rng());
        let mut session = ReaderSession::new(&self.config, prepared, plan);
        loopback::run_with(&mut session, phone, &self.directory, &mut rng(), tamper)
    }
}

/// Records every response of one transaction.
pub fn transcript_of(vehicle: &Vehicle, phone: &mut Endpoint, plan: TransactionPlan) -> Vec<Vec<u8>> {
    let mut responses = Vec::new();
    vehicle.tap_tampered(phone, plan, |_, r| responses.push(r.clone())).expect("clean transaction");
    responses
}
