//! One task per NFC reader: wait for a phone, run the protocol over the port, ask the
//! engine to decide, tell the phone.
//!
//! The protocol session is sans-IO; this is the thin driver around it (the quinn split).
//! Key material for the next tap is prepared while the field is empty, so the tap itself
//! only pays for the phone's ECDH and signatures.

use std::sync::Arc;

use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::reader::{
    Authenticated, PreparedTransaction, ReaderConfig, ReaderError, ReaderSession, Step, TransactionPlan,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::directory::Directory;
use crate::engine::{Request, TapOutcome, TapReport, Verdict};
use crate::identity::VehicleIdentity;
use crate::ids::{ReaderLocation, ReaderName};
use crate::ports::{NfcError, NfcReader, NfcTarget};

/// At most this many command/response exchanges per tap (a loop guard; a full
/// transaction with mailbox access needs fewer than ten).
const MAX_EXCHANGES: usize = 32;

/// Policy byte sent in AUTH0 tag 42.
const AUTH0_POLICY: u8 = 0x01;

/// A configured reader.
#[derive(Debug, Clone)]
pub struct ReaderSetup {
    /// Its name.
    pub name: ReaderName,
    /// Where it sits.
    pub location: ReaderLocation,
}

impl ReaderSetup {
    /// What the protocol is asked for at this location: engine start always needs a
    /// standard transaction, everything else tries fast first.
    pub const fn plan(&self) -> TransactionPlan {
        match self.location {
            ReaderLocation::Console => TransactionPlan::standard(),
            _ => TransactionPlan::fast(),
        }
    }
}

/// Why a tap ended without a decision.
#[derive(Debug, thiserror::Error)]
enum TapError {
    #[error(transparent)]
    Nfc(#[from] NfcError),
    #[error(transparent)]
    Protocol(#[from] ReaderError),
}

/// Serves `reader` until it fails (the caller may retry with the same reader) or the
/// engine goes away (`Ok`).
pub async fn serve<R: NfcReader>(
    reader: &mut R,
    setup: ReaderSetup,
    identity: VehicleIdentity,
    mut directory: watch::Receiver<Arc<Directory>>,
    engine: mpsc::Sender<Request>,
) -> Result<(), NfcError> {
    let config = ReaderConfig {
        vehicle_key: identity.key.clone(),
        reader_id: identity.reader_id(&setup.name),
        policy: AUTH0_POLICY,
    };
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    loop {
        let prepared = PreparedTransaction::generate(&mut rng);
        let mut target = reader.wait_for_target().await?;
        let snapshot = Arc::clone(&directory.borrow_and_update());
        let mut session = ReaderSession::new(&config, prepared, setup.plan());
        let outcome = match run(&mut session, &mut target, &snapshot).await {
            Ok(auth) => Ok(TapOutcome::Authenticated(auth)),
            Err(TapError::Protocol(ReaderError::UnknownEndpoint)) => Ok(TapOutcome::UnknownKey),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(outcome) => {
                let (reply, verdict) = oneshot::channel();
                let report = TapReport { reader: setup.name.clone(), location: setup.location, outcome };
                if engine.send(Request::Tap(report, reply)).await.is_err() {
                    return Ok(());
                }
                // No answer means the engine stopped: the phone is told "refused".
                let status = match verdict.await {
                    Ok(Verdict::Allowed(_)) => ControlFlowStatus::Success,
                    Ok(Verdict::Denied(_)) | Err(_) => ControlFlowStatus::Denied,
                };
                finish(&mut session, &mut target, &snapshot, status).await;
            }
            Err(error) => {
                if matches!(error, TapError::Protocol(_)) {
                    finish(&mut session, &mut target, &snapshot, ControlFlowStatus::Failure).await;
                }
                let failed = Request::TapFailed { reader: setup.name.clone(), error: error.to_string() };
                if engine.send(failed).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

/// Runs the session to authentication.
async fn run<T: NfcTarget>(
    session: &mut ReaderSession<'_>,
    target: &mut T,
    directory: &Directory,
) -> Result<Box<Authenticated>, TapError> {
    let mut command = session.start()?;
    for _ in 0..MAX_EXCHANGES {
        let response = target.transceive(&command).await?;
        match session.handle_response(&response, directory)? {
            Step::Transmit(next) => command = next,
            Step::Authenticated(auth) => return Ok(auth),
            // The plans here do not read an unenrolled phone's mailboxes (yet): it is
            // simply an unknown key.
            Step::Unenrolled(_) => return Err(TapError::Protocol(ReaderError::UnknownEndpoint)),
            Step::Finished => break,
        }
    }
    Err(TapError::Protocol(ReaderError::UnexpectedResponse))
}

/// Tells the phone how it ended. Best effort: the decision is already made and recorded.
async fn finish<T: NfcTarget>(
    session: &mut ReaderSession<'_>,
    target: &mut T,
    directory: &Directory,
    status: ControlFlowStatus,
) {
    let Some(command) = session.control_flow(status, 0) else { return };
    match target.transceive(&command).await {
        Ok(ack) => {
            if let Err(error) = session.handle_response(&ack, directory) {
                tracing::debug!(%error, "phone did not acknowledge CONTROL FLOW");
            }
        }
        Err(error) => tracing::debug!(%error, "phone left before CONTROL FLOW"),
    }
}
