//! A minimal vehicle for testing the phone without the daemon: the protocol crate's
//! `ReaderSession` (and `PairingSession`) behind a blocking Unix socket, one tap per
//! thread.

#![allow(
    dead_code,
    clippy::result_large_err,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use carkey_nfc::framing::{self, FrameDecoder, FrameType};
use carkey_protocol::attestation::private_mailbox;
use carkey_protocol::crypto::{EcPublicKey, SigningKeyPair};
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::pairing::{self, ID_PROVER, PairingError, PairingSession, PairingStep, SALT_LEN, id_verifier};
use carkey_protocol::reader::{
    KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, Step, TransactionKind, TransactionPlan,
};
use carkey_protocol::spake2plus::{ScryptParams, registration_from_password};

/// Cheap scrypt for tests; the daemon uses `ScryptParams::RECOMMENDED`.
pub const TEST_SCRYPT: ScryptParams = ScryptParams { log_n: 10, r: 8, p: 1 };

/// A vehicle: its identity and the keys it has enrolled.
pub struct Vehicle {
    pub config: ReaderConfig,
    pub directory: MemoryDirectory,
}

impl Vehicle {
    pub fn new() -> Self {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let mut reader_id = [0x11u8; 32];
        getrandom::fill(&mut reader_id[..16]).unwrap();
        let config = ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng), reader_id, policy: 0x01 };
        Self { config, directory: MemoryDirectory::new() }
    }

    pub fn group_id(&self) -> [u8; 16] {
        self.config.reader_id[..16].try_into().unwrap()
    }

    pub fn group_id_hex(&self) -> String {
        hex::encode(self.group_id())
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.config.vehicle_key.public().uncompressed())
    }

    pub fn enroll(&mut self, slot: [u8; 8], public_key: &EcPublicKey) {
        self.directory.enroll(KeySlot(slot), public_key.clone());
    }
}

/// How the reader saw one tap.
#[derive(Debug, PartialEq, Eq)]
pub enum ReaderOutcome {
    Authenticated {
        kind: TransactionKind,
        mailbox_reads: Vec<Vec<u8>>,
    },
    /// An enrolled key signaled a pending termination; the vehicle read the slot.
    Terminated {
        kind: TransactionKind,
        slot: Vec<u8>,
    },
    /// A key the vehicle does not know proved itself; the plan's `on_unknown` reads.
    Unenrolled {
        endpoint: EcPublicKey,
        slot: [u8; 8],
        mailbox_reads: Vec<Vec<u8>>,
    },
    Protocol(String),
    TimedOut,
    Lost,
}

/// What the reader does in one tap.
#[derive(Clone)]
pub struct Tap {
    pub plan: TransactionPlan,
    pub verdict: ControlFlowStatus,
    pub apdu_timeout: Duration,
}

impl Default for Tap {
    fn default() -> Self {
        Self {
            plan: TransactionPlan::fast(),
            verdict: ControlFlowStatus::Success,
            apdu_timeout: Duration::from_secs(5),
        }
    }
}

pub fn listen(path: &Path) -> UnixListener {
    UnixListener::bind(path).unwrap()
}

/// Accepts one phone on `listener` in a thread and runs one transaction with it.
pub fn serve_one(listener: &UnixListener, mut vehicle: Vehicle, tap: Tap) -> JoinHandle<(Vehicle, ReaderOutcome)> {
    let listener = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let outcome = run(stream, &mut vehicle, &tap);
        (vehicle, outcome)
    })
}

fn run(stream: UnixStream, vehicle: &mut Vehicle, tap: &Tap) -> ReaderOutcome {
    stream.set_read_timeout(Some(tap.apdu_timeout)).unwrap();
    let mut link = ReaderLink { stream, decoder: FrameDecoder::new(FrameType::Response) };
    transact(&mut link, vehicle, tap)
}

/// One ordinary transaction on an open link.
fn transact(link: &mut ReaderLink, vehicle: &mut Vehicle, tap: &Tap) -> ReaderOutcome {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let prepared = PreparedTransaction::generate(&mut rng);
    let mut session = ReaderSession::new(&vehicle.config, prepared, tap.plan.clone());
    let mut command = session.start().unwrap();
    loop {
        let response = match link.transceive(&command) {
            Ok(response) => response,
            Err(outcome) => return outcome,
        };
        match session.handle_response(&response, &vehicle.directory) {
            Ok(Step::Transmit(next)) => command = next,
            Ok(Step::Authenticated(auth)) => {
                vehicle.directory.record_use(auth.slot, auth.new_k_persistent.clone());
                // As the vehicle does: a pending termination is read in the same tap.
                let termination = (auth.signaling & private_mailbox::TERMINATION_PENDING != 0).then(|| {
                    let read = session.exchange(private_mailbox::read_termination()).unwrap();
                    follow_up(link, &mut session, vehicle, read).remove(0)
                });
                finish(link, &mut session, vehicle, tap.verdict);
                return match termination {
                    Some(slot) => ReaderOutcome::Terminated { kind: auth.kind, slot },
                    None => ReaderOutcome::Authenticated { kind: auth.kind, mailbox_reads: auth.mailbox_reads },
                };
            }
            Ok(Step::Unenrolled(unknown)) => {
                finish(link, &mut session, vehicle, tap.verdict);
                return ReaderOutcome::Unenrolled {
                    endpoint: unknown.endpoint.clone(),
                    slot: unknown.reported_key_slot,
                    mailbox_reads: unknown.mailbox_reads.clone(),
                };
            }
            Ok(step @ (Step::Finished | Step::MailboxData(_))) => panic!("ended before authentication: {step:?}"),
            Err(error) => {
                if let Some(control_flow) = session.control_flow(ControlFlowStatus::Failure, 0) {
                    let _ = link.transceive(&control_flow);
                }
                return ReaderOutcome::Protocol(error.to_string());
            }
        }
    }
}

/// Runs a follow-up EXCHANGE to its data (through GET RESPONSE parts).
fn follow_up(
    link: &mut ReaderLink,
    session: &mut ReaderSession<'_>,
    vehicle: &Vehicle,
    mut command: Vec<u8>,
) -> Vec<Vec<u8>> {
    loop {
        let response = link.transceive(&command).unwrap();
        match session.handle_response(&response, &vehicle.directory).unwrap() {
            Step::Transmit(next) => command = next,
            Step::MailboxData(reads) => return reads,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Sends CONTROL FLOW and checks the phone's acknowledgement.
fn finish(link: &mut ReaderLink, session: &mut ReaderSession<'_>, vehicle: &Vehicle, verdict: ControlFlowStatus) {
    let control_flow = session.control_flow(verdict, 0).unwrap();
    let ack = link.transceive(&control_flow).unwrap();
    assert!(matches!(session.handle_response(&ack, &vehicle.directory), Ok(Step::Finished)));
}

/// A pairing offer, as the vehicle holds it: made from a code, with scrypt salt and cost.
#[derive(Clone)]
pub struct Offer {
    pub code: String,
    pub salt: [u8; SALT_LEN],
    pub token: [u8; 32],
    pub verdict: ControlFlowStatus,
    /// The transaction run when the phone is not pairing.
    pub fallback: Tap,
}

impl Offer {
    pub fn new(code: &str) -> Self {
        let mut salt = [0u8; SALT_LEN];
        getrandom::fill(&mut salt).unwrap();
        let mut token = [0u8; 32];
        getrandom::fill(&mut token).unwrap();
        Self { code: code.into(), salt, token, verdict: ControlFlowStatus::Success, fallback: Tap::default() }
    }
}

/// How the vehicle saw a pairing tap.
#[derive(Debug, PartialEq, Eq)]
pub enum PairingOutcome {
    /// The phone created this key; the vehicle proved it, wrote the token and enrolled it.
    Paired { slot: [u8; 8], endpoint: EcPublicKey },
    /// The phone answered the framework SELECT with "not pairing"; then this transaction.
    NotPairing(ReaderOutcome),
    /// Pairing failed (the vehicle then closed the connection).
    Failed(PairingError),
    /// The phone went away.
    Link(ReaderOutcome),
}

/// Accepts one phone and runs owner pairing with it, then (in the same tap) the standard
/// transaction that proves the new key and writes the immobilizer token.
pub fn serve_pairing(
    listener: &UnixListener,
    mut vehicle: Vehicle,
    offer: Offer,
) -> JoinHandle<(Vehicle, PairingOutcome)> {
    let listener = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut link = ReaderLink { stream, decoder: FrameDecoder::new(FrameType::Response) };
        let outcome = pair(&mut link, &mut vehicle, &offer);
        (vehicle, outcome)
    })
}

fn pair(link: &mut ReaderLink, vehicle: &mut Vehicle, offer: &Offer) -> PairingOutcome {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let group = vehicle.group_id();
    let verifier =
        registration_from_password(offer.code.as_bytes(), &offer.salt, ID_PROVER, &id_verifier(&group), TEST_SCRYPT)
            .unwrap()
            .verifier();
    let mut session = PairingSession::new(&vehicle.config, offer.salt, TEST_SCRYPT);
    let mut command = session.start().unwrap();
    let paired = loop {
        let response = match link.transceive(&command) {
            Ok(response) => response,
            Err(outcome) => return PairingOutcome::Link(outcome),
        };
        match session.handle_response(&response) {
            Ok(PairingStep::Transmit(next)) => command = next,
            Ok(PairingStep::AttemptPending) => command = session.verify(&verifier, &mut rng).unwrap(),
            Ok(PairingStep::NotPairing) => return PairingOutcome::NotPairing(transact(link, vehicle, &offer.fallback)),
            Ok(PairingStep::Paired(paired)) => break paired,
            Err(error) => return PairingOutcome::Failed(error),
        }
    };

    let plan = TransactionPlan::standard().with_unknown_exchange(pairing::write_immobilizer_token(&offer.token));
    let mut session = ReaderSession::new(&vehicle.config, PreparedTransaction::generate(&mut rng), plan);
    let mut command = session.start().unwrap();
    loop {
        let response = match link.transceive(&command) {
            Ok(response) => response,
            Err(outcome) => return PairingOutcome::Link(outcome),
        };
        match session.handle_response(&response, &vehicle.directory).unwrap() {
            Step::Transmit(next) => command = next,
            Step::Unenrolled(unknown) => {
                assert_eq!((&unknown.endpoint, unknown.reported_key_slot), (&paired.endpoint, paired.key_slot));
                if offer.verdict == ControlFlowStatus::Success {
                    vehicle.directory.enroll(KeySlot(paired.key_slot), paired.endpoint.clone());
                    vehicle.directory.record_use(KeySlot(paired.key_slot), Some(unknown.new_k_persistent.clone()));
                }
                finish(link, &mut session, vehicle, offer.verdict);
                return PairingOutcome::Paired { slot: paired.key_slot, endpoint: paired.endpoint };
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

struct ReaderLink {
    stream: UnixStream,
    decoder: FrameDecoder,
}

impl ReaderLink {
    fn transceive(&mut self, command: &[u8]) -> Result<Vec<u8>, ReaderOutcome> {
        let frame = framing::encode(FrameType::Command, command).unwrap();
        if self.stream.write_all(&frame).is_err() {
            return Err(ReaderOutcome::Lost);
        }
        let mut buffer = [0u8; 1024];
        loop {
            if let Some(response) = self.decoder.next_frame().unwrap() {
                return Ok(response);
            }
            match self.stream.read(&mut buffer) {
                Ok(0) => return Err(ReaderOutcome::Lost),
                Ok(n) => self.decoder.extend(&buffer[..n]),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(ReaderOutcome::TimedOut);
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Err(ReaderOutcome::Lost),
                Err(e) => panic!("reader socket: {e}"),
            }
        }
    }
}
