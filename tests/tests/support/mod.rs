//! A minimal vehicle for testing the phone without the daemon: the protocol crate's
//! `ReaderSession` behind a blocking Unix socket, one tap per thread.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use carkey_nfc::framing::{self, FrameDecoder, FrameType};
use carkey_protocol::crypto::{EcPublicKey, SigningKeyPair};
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::reader::{
    KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, Step, TransactionKind, TransactionPlan,
};

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
    Authenticated { kind: TransactionKind, mailbox_reads: Vec<Vec<u8>> },
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
                let control_flow = session.control_flow(tap.verdict, 0).unwrap();
                let ack = link.transceive(&control_flow).unwrap();
                assert!(matches!(session.handle_response(&ack, &vehicle.directory), Ok(Step::Finished)));
                return ReaderOutcome::Authenticated { kind: auth.kind, mailbox_reads: auth.mailbox_reads };
            }
            Ok(Step::Finished | Step::Unenrolled(_)) => panic!("ended before authentication"),
            Err(error) => {
                if let Some(control_flow) = session.control_flow(ControlFlowStatus::Failure, 0) {
                    let _ = link.transceive(&control_flow);
                }
                return ReaderOutcome::Protocol(error.to_string());
            }
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
