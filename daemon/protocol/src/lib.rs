//! carkey-protocol: the digital car key protocol between a vehicle (reader) and a phone
//! (endpoint), without I/O.
//!
//! The crate follows the publicly documented Aliro expedited-phase NFC flow and defines
//! the car-specific parts (mailboxes, CONTROL FLOW) in the same style; the crate README
//! documents every message, TLV and derivation. Nothing here reads a clock, opens a socket
//! or spawns a task: [`reader::ReaderSession`] turns response bytes into the next command
//! or a decision, and [`endpoint::Endpoint`] turns command bytes into responses, so the
//! daemon, simulators, fuzzers and benchmarks all drive the same code.
//!
//! A complete transaction between an in-memory vehicle and phone:
//!
//! ```
//! use carkey_protocol::crypto::SigningKeyPair;
//! use carkey_protocol::endpoint::{Credential, Endpoint};
//! use carkey_protocol::loopback;
//! use carkey_protocol::reader::{
//!     KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, TransactionKind, TransactionPlan,
//! };
//!
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let reader_id = [7u8; 32]; // vehicle group id ‖ reader sub-id
//! let config = ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng), reader_id, policy: 0x01 };
//!
//! // Enrolment: the vehicle knows the phone's key, the phone knows the vehicle's.
//! let endpoint_key = SigningKeyPair::generate(&mut rng);
//! let mut directory = MemoryDirectory::new();
//! directory.enroll(KeySlot([1; 8]), endpoint_key.public().clone());
//! let mut phone = Endpoint::new();
//! phone.add_credential(Credential::new([7; 16], config.vehicle_key.public().clone(), endpoint_key, [1; 8]));
//!
//! // The first tap is a standard transaction; it yields the K_persistent for the next.
//! let prepared = PreparedTransaction::generate(&mut rng);
//! let mut session = ReaderSession::new(&config, prepared, TransactionPlan::fast());
//! let first = loopback::run(&mut session, &mut phone, &directory, &mut rng)?;
//! assert_eq!(first.kind, TransactionKind::Standard);
//! directory.record_use(first.slot, first.new_k_persistent.clone());
//!
//! // The second tap is fast: symmetric cryptography only.
//! let mut session = ReaderSession::new(&config, PreparedTransaction::generate(&mut rng), TransactionPlan::fast());
//! let second = loopback::run(&mut session, &mut phone, &directory, &mut rng)?;
//! assert_eq!((second.kind, second.slot), (TransactionKind::Fast, KeySlot([1; 8])));
//! # Ok::<(), carkey_protocol::reader::ReaderError>(())
//! ```

pub mod attestation;
pub mod channel;
pub mod codec;
pub mod crypto;
pub mod endpoint;
pub mod loopback;
pub mod mailbox;
pub mod messages;
pub mod pairing;
pub mod reader;
pub mod schedule;
pub mod spake2plus;
