//! Runs a reader session against an in-memory endpoint, with no radio in between.
//!
//! This is the harness for round-trip tests, adversarial tests (a hook may rewrite every
//! response on its way to the reader), fuzzing and benchmarks.

use rand_core::CryptoRng;

use crate::endpoint::Endpoint;
use crate::messages::ControlFlowStatus;
use crate::pairing::{PairedEndpoint, PairingError, PairingSession, PairingStep};
use crate::reader::{Authenticated, KeyDirectory, ReaderError, ReaderSession, Step, Unenrolled};
use crate::spake2plus::Verifier;

/// At most this many command/response exchanges per transaction (a loop guard).
const MAX_EXCHANGES: usize = 64;

/// Runs `session` to the end against `endpoint`, telling the endpoint `status` on success.
pub fn run<D: KeyDirectory, R: CryptoRng + ?Sized>(
    session: &mut ReaderSession<'_>,
    endpoint: &mut Endpoint,
    directory: &D,
    rng: &mut R,
) -> Result<Box<Authenticated>, ReaderError> {
    run_with(session, endpoint, directory, rng, |_, _| {})
}

/// Like [`run`], but `tamper(index, response)` may rewrite the `index`-th response
/// (counting from 0, GET RESPONSE parts included) before the reader sees it.
pub fn run_with<D: KeyDirectory, R: CryptoRng + ?Sized>(
    session: &mut ReaderSession<'_>,
    endpoint: &mut Endpoint,
    directory: &D,
    rng: &mut R,
    mut tamper: impl FnMut(usize, &mut Vec<u8>),
) -> Result<Box<Authenticated>, ReaderError> {
    let mut command = session.start()?;
    for index in 0..MAX_EXCHANGES {
        let mut response = endpoint.process(&command, rng);
        tamper(index, &mut response);
        match session.handle_response(&response, directory) {
            Ok(Step::Transmit(next)) => command = next,
            Ok(Step::Authenticated(outcome)) => {
                if let Some(cf) = session.control_flow(ControlFlowStatus::Success, 0) {
                    let ack = endpoint.process(&cf, rng);
                    session.handle_response(&ack, directory)?;
                }
                endpoint.field_off();
                return Ok(outcome);
            }
            Ok(Step::Unenrolled(_)) => {
                if let Some(cf) = session.control_flow(ControlFlowStatus::Denied, 0) {
                    endpoint.process(&cf, rng);
                }
                endpoint.field_off();
                return Err(ReaderError::UnknownEndpoint);
            }
            Ok(Step::MailboxData(_) | Step::Finished) => break,
            Err(error) => {
                if let Some(cf) = session.control_flow(ControlFlowStatus::Failure, 0) {
                    endpoint.process(&cf, rng);
                }
                endpoint.field_off();
                return Err(error);
            }
        }
    }
    endpoint.field_off();
    Err(ReaderError::UnexpectedResponse)
}

/// Runs `session` until the endpoint proves a key the vehicle does not know and its
/// `on_unknown` mailbox reads are done (the friend's first tap); the endpoint is told
/// `decision`. Any other ending is an error (`UnexpectedResponse` for an enrolled key).
pub fn run_unenrolled<D: KeyDirectory, R: CryptoRng + ?Sized>(
    session: &mut ReaderSession<'_>,
    endpoint: &mut Endpoint,
    directory: &D,
    rng: &mut R,
    decision: ControlFlowStatus,
) -> Result<Box<Unenrolled>, ReaderError> {
    let mut command = session.start()?;
    let result = (|| {
        for _ in 0..MAX_EXCHANGES {
            let response = endpoint.process(&command, rng);
            match session.handle_response(&response, directory)? {
                Step::Transmit(next) => command = next,
                Step::Unenrolled(outcome) => return Ok(outcome),
                Step::Authenticated(_) | Step::MailboxData(_) | Step::Finished => break,
            }
        }
        Err(ReaderError::UnexpectedResponse)
    })();
    let status = if result.is_ok() { decision } else { ControlFlowStatus::Failure };
    if let Some(cf) = session.control_flow(status, 0) {
        let ack = endpoint.process(&cf, rng);
        if result.is_ok() {
            session.handle_response(&ack, directory)?;
        }
    }
    endpoint.field_off();
    result
}

/// Runs owner pairing against `endpoint` with `verifier` (every attempt allowed).
/// `Ok(None)` when the phone is not pairing.
pub fn pair<R: CryptoRng + ?Sized>(
    session: &mut PairingSession<'_>,
    endpoint: &mut Endpoint,
    verifier: &Verifier,
    rng: &mut R,
) -> Result<Option<PairedEndpoint>, PairingError> {
    pair_with(session, endpoint, verifier, rng, |_, _| {})
}

/// Like [`pair`], but `tamper(index, response)` may rewrite each response first.
pub fn pair_with<R: CryptoRng + ?Sized>(
    session: &mut PairingSession<'_>,
    endpoint: &mut Endpoint,
    verifier: &Verifier,
    rng: &mut R,
    mut tamper: impl FnMut(usize, &mut Vec<u8>),
) -> Result<Option<PairedEndpoint>, PairingError> {
    let mut command = session.start()?;
    for index in 0..MAX_EXCHANGES {
        let mut response = endpoint.process(&command, rng);
        tamper(index, &mut response);
        match session.handle_response(&response)? {
            PairingStep::Transmit(next) => command = next,
            PairingStep::AttemptPending => command = session.verify(verifier, rng)?,
            PairingStep::NotPairing => return Ok(None),
            PairingStep::Paired(paired) => return Ok(Some(paired)),
        }
    }
    Err(PairingError::UnexpectedMessage)
}
