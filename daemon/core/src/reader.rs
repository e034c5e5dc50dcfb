//! One task per NFC reader: wait for a phone, run the protocol over the port, ask the
//! engine to decide, tell the phone.
//!
//! The protocol sessions are sans-IO; this is the thin driver around them (the quinn
//! split). Key material for the next tap is prepared while the field is empty, so the tap
//! itself only pays for the phone's ECDH and signatures.
//!
//! While owner pairing is offered, a console tap first asks the phone for the pairing
//! framework; a phone that is not pairing says so at once and the tap goes on as an
//! ordinary transaction.

use std::sync::Arc;

use carkey_protocol::attestation::private_mailbox;
use carkey_protocol::crypto::Secret32;
use carkey_protocol::messages::ControlFlowStatus;
use carkey_protocol::pairing::{self, PairedEndpoint, PairingError, PairingSession, PairingStep};
use carkey_protocol::reader::{
    Authenticated, PreparedTransaction, ReaderConfig, ReaderError, ReaderSession, Step, TransactionPlan, Unenrolled,
};
use tokio::sync::{mpsc, oneshot, watch};

use crate::directory::{Directory, PairingAnnouncement};
use crate::engine::{PairedPhone, PairingRefusal, Request, TapOutcome, TapReport, Verdict};
use crate::identity::VehicleIdentity;
use crate::ids::{KeyId, ReaderLocation, ReaderName};
use crate::ports::{NfcError, NfcReader, NfcTarget};

/// At most this many command/response exchanges per session (a loop guard; a full
/// transaction with mailbox access needs fewer than ten).
const MAX_EXCHANGES: usize = 32;

/// How long a phone may take to answer a pairing command: it hashes the code with scrypt
/// (about 0.1 s on a phone at the recommended cost, more on a busy one).
const PAIRING_PATIENCE: core::time::Duration = core::time::Duration::from_secs(5);

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
    /// standard transaction, everything else tries fast first. A phone the vehicle does
    /// not know is reported, so that a friend's first tap can bring its share.
    pub fn plan(&self) -> TransactionPlan {
        let plan = match self.location {
            ReaderLocation::Console => TransactionPlan::standard(),
            _ => TransactionPlan::fast(),
        };
        plan.reporting_unknown()
    }
}

/// Why a tap ended without a decision.
#[derive(Debug, thiserror::Error)]
enum TapError {
    #[error(transparent)]
    Nfc(#[from] NfcError),
    #[error(transparent)]
    Protocol(#[from] ReaderError),
    #[error("pairing: {0}")]
    Pairing(#[from] PairingError),
    #[error("pairing refused: {0}")]
    PairingRefused(#[from] PairingRefusal),
    #[error("pairing: the phone proved another key than the one it created")]
    PairingKeyMismatch,
    #[error("the engine stopped")]
    EngineGone,
}

/// How a tap's authentication ended.
enum Authentication {
    Enrolled { auth: Box<Authenticated>, termination: Option<Vec<u8>> },
    Unenrolled(Box<Unenrolled>),
}

/// Serves `reader` until it fails (the caller may retry with the same reader) or the
/// engine goes away (`Ok`).
pub async fn serve<R: NfcReader>(
    reader: &mut R,
    setup: ReaderSetup,
    mut directory: watch::Receiver<Arc<Directory>>,
    engine: mpsc::Sender<Request>,
) -> Result<(), NfcError> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let mut identity = Arc::clone(directory.borrow().identity());
    let mut config = reader_config(&identity, &setup.name);
    loop {
        let prepared = PreparedTransaction::generate(&mut rng);
        let mut target = reader.wait_for_target().await?;
        let snapshot = Arc::clone(&directory.borrow_and_update());
        if !Arc::ptr_eq(snapshot.identity(), &identity) {
            // A factory reset gave the vehicle a new identity.
            identity = Arc::clone(snapshot.identity());
            config = reader_config(&identity, &setup.name);
        }
        let tap = Tap { setup: &setup, config: &config, directory: &snapshot, engine: &engine };
        let result = match (setup.location, snapshot.pairing()) {
            (ReaderLocation::Console, Some(offer)) => match tap.pair(*offer, &mut target, &mut rng).await {
                Ok(true) => Ok(()),
                Ok(false) => tap.transaction(prepared, &mut target).await,
                Err(error) => Err(error),
            },
            _ => tap.transaction(prepared, &mut target).await,
        };
        match result {
            Ok(()) => {}
            Err(TapError::EngineGone) => return Ok(()),
            Err(error) => {
                let failed = Request::TapFailed { reader: setup.name.clone(), error: error.to_string() };
                if engine.send(failed).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

fn reader_config(identity: &VehicleIdentity, name: &ReaderName) -> ReaderConfig {
    ReaderConfig { vehicle_key: identity.key.clone(), reader_id: identity.reader_id(name), policy: AUTH0_POLICY }
}

/// One phone in the field.
struct Tap<'a> {
    setup: &'a ReaderSetup,
    config: &'a ReaderConfig,
    directory: &'a Directory,
    engine: &'a mpsc::Sender<Request>,
}

impl Tap<'_> {
    /// An ordinary transaction: authenticate, let the engine decide, tell the phone.
    async fn transaction<T: NfcTarget>(&self, prepared: PreparedTransaction, target: &mut T) -> Result<(), TapError> {
        let mut session = ReaderSession::new(self.config, prepared, self.setup.plan());
        let authentication = match self.authenticate(&mut session, target).await {
            Ok(authentication) => authentication,
            Err(error) => {
                if matches!(error, TapError::Protocol(_)) {
                    finish(&mut session, target, self.directory, ControlFlowStatus::Failure).await;
                }
                return Err(error);
            }
        };
        let (outcome, termination) = match authentication {
            Authentication::Enrolled { auth, termination } => (TapOutcome::Authenticated(auth), termination),
            Authentication::Unenrolled(phone) => (TapOutcome::Unenrolled(phone), None),
        };
        let (reply, verdict) = oneshot::channel();
        let report = TapReport { reader: self.setup.name.clone(), location: self.setup.location, outcome, termination };
        self.engine.send(Request::Tap(report, reply)).await.map_err(|_| TapError::EngineGone)?;
        // No answer means the engine stopped: the phone is told "refused".
        let status = match verdict.await {
            Ok(Verdict::Allowed(_)) => ControlFlowStatus::Success,
            Ok(Verdict::Denied(_)) | Err(_) => ControlFlowStatus::Denied,
        };
        finish(&mut session, target, self.directory, status).await;
        Ok(())
    }

    /// Runs the session to authentication, and reads a termination the phone signalled.
    async fn authenticate<T: NfcTarget>(
        &self,
        session: &mut ReaderSession<'_>,
        target: &mut T,
    ) -> Result<Authentication, TapError> {
        let start = session.start()?;
        match drive(session, target, self.directory, start).await? {
            Step::Authenticated(auth) if auth.signaling & private_mailbox::TERMINATION_PENDING != 0 => {
                let read = session.exchange(private_mailbox::read_termination())?;
                let termination = match drive(session, target, self.directory, read).await? {
                    Step::MailboxData(mut reads) => reads.pop(),
                    _ => return Err(ReaderError::UnexpectedResponse.into()),
                };
                Ok(Authentication::Enrolled { auth, termination })
            }
            Step::Authenticated(auth) => Ok(Authentication::Enrolled { auth, termination: None }),
            Step::Unenrolled(mut phone) if phone.signaling & private_mailbox::SHARE_PENDING != 0 => {
                // A friend's phone says it carries a share: read it in this tap.
                let read = session.exchange(private_mailbox::read_both())?;
                match drive(session, target, self.directory, read).await? {
                    Step::MailboxData(reads) => phone.mailbox_reads = reads,
                    _ => return Err(ReaderError::UnexpectedResponse.into()),
                }
                Ok(Authentication::Unenrolled(phone))
            }
            Step::Unenrolled(phone) => Ok(Authentication::Unenrolled(phone)),
            Step::Transmit(_) | Step::MailboxData(_) | Step::Finished => Err(ReaderError::UnexpectedResponse.into()),
        }
    }

    /// Owner pairing, then the standard transaction that proves the new key and writes
    /// the immobilizer token. `Ok(false)`: the phone is not pairing.
    async fn pair<T: NfcTarget, R: rand_core::CryptoRng>(
        &self,
        offer: PairingAnnouncement,
        target: &mut T,
        rng: &mut R,
    ) -> Result<bool, TapError> {
        let mut pairing = PairingSession::new(self.config, offer.salt, offer.scrypt);
        let mut command = pairing.start()?;
        let mut paired = None;
        for _ in 0..MAX_EXCHANGES {
            let response = target.transceive_patient(&command, PAIRING_PATIENCE).await?;
            match pairing.handle_response(&response)? {
                PairingStep::Transmit(next) => command = next,
                PairingStep::NotPairing => return Ok(false),
                PairingStep::AttemptPending => {
                    let verifier = self.count_attempt().await?;
                    command = pairing.verify(&verifier, rng)?;
                }
                PairingStep::Paired(created) => {
                    paired = Some(created);
                    break;
                }
            }
        }
        let paired = paired.ok_or(PairingError::UnexpectedMessage)?;
        self.prove_and_store(paired, target, rng).await.map(|()| true)
    }

    async fn count_attempt(&self) -> Result<Arc<carkey_protocol::spake2plus::Verifier>, TapError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::PairingAttempt { reader: self.setup.name.clone(), reply };
        self.engine.send(request).await.map_err(|_| TapError::EngineGone)?;
        Ok(answer.await.map_err(|_| TapError::EngineGone)??)
    }

    async fn prove_and_store<T: NfcTarget, R: rand_core::CryptoRng>(
        &self,
        paired: PairedEndpoint,
        target: &mut T,
        rng: &mut R,
    ) -> Result<(), TapError> {
        let mut token = [0u8; 32];
        rng.fill_bytes(&mut token);
        let token = Secret32::new(token);
        let plan = TransactionPlan::standard().with_unknown_exchange(pairing::write_immobilizer_token(token.expose()));
        let mut session = ReaderSession::new(self.config, PreparedTransaction::generate(rng), plan);
        let start = session.start()?;
        let proven = match drive(&mut session, target, self.directory, start).await {
            Ok(Step::Unenrolled(phone))
                if phone.endpoint == paired.endpoint && phone.reported_key_slot == paired.key_slot =>
            {
                phone
            }
            Ok(_) => {
                finish(&mut session, target, self.directory, ControlFlowStatus::Failure).await;
                return Err(TapError::PairingKeyMismatch);
            }
            Err(error) => {
                finish(&mut session, target, self.directory, ControlFlowStatus::Failure).await;
                return Err(error);
            }
        };
        let phone = PairedPhone {
            reader: self.setup.name.clone(),
            slot: KeyId(paired.key_slot),
            endpoint: paired.endpoint,
            k_persistent: proven.new_k_persistent.clone(),
            immobilizer_token: token,
        };
        let (reply, answer) = oneshot::channel();
        self.engine.send(Request::Paired(Box::new(phone), reply)).await.map_err(|_| TapError::EngineGone)?;
        match answer.await.map_err(|_| TapError::EngineGone)? {
            Ok(_) => {
                finish(&mut session, target, self.directory, ControlFlowStatus::Success).await;
                Ok(())
            }
            Err(refusal) => {
                finish(&mut session, target, self.directory, ControlFlowStatus::Denied).await;
                Err(refusal.into())
            }
        }
    }
}

/// Sends `command` and feeds responses to the session until it has something other than
/// another command.
async fn drive<T: NfcTarget>(
    session: &mut ReaderSession<'_>,
    target: &mut T,
    directory: &Directory,
    mut command: Vec<u8>,
) -> Result<Step, TapError> {
    for _ in 0..MAX_EXCHANGES {
        let response = target.transceive(&command).await?;
        match session.handle_response(&response, directory)? {
            Step::Transmit(next) => command = next,
            other => return Ok(other),
        }
    }
    Err(ReaderError::UnexpectedResponse.into())
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
