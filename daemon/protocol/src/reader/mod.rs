//! The vehicle (reader) side of a transaction, as a sans-IO state machine.
//!
//! The caller owns the radio. It asks the session for the next command APDU, transmits
//! it, and hands back the raw response; the session answers with the next [`Step`].
//! The session reads no clock and opens no socket: per-APDU timeouts, field control and
//! retries belong to the caller, which is what lets the same code run over a Unix socket,
//! libnfc, or a fuzzer.
//!
//! ```text
//! SELECT ─► AUTH0 ─┬─ fast: cryptogram opens under a stored K_persistent ─┐
//!                  └─ standard: AUTH1 (reader signs, endpoint signs) ─────┤
//!                                      optional EXCHANGE (mailboxes) ◄────┘
//!                                      ► Step::Authenticated ► CONTROL FLOW ► Step::Finished
//! ```
//!
//! Everything that costs a key generation (the ephemeral key pair and the transaction
//! identifier) is prepared ahead of the tap in a [`PreparedTransaction`].

mod directory;
mod error;

pub use directory::MemoryDirectory;
pub use error::{CommandKind, ReaderError};

use rand_core::CryptoRng;

use crate::channel::{self, Role, SecureChannel};
use crate::codec::{Assembled, CommandApdu, ResponseApdu, ResponseAssembler};
use crate::crypto::keys::EphemeralKeyPair;
use crate::crypto::{EcPublicKey, Secret32, SigningKeyPair};
use crate::mailbox::{self, ExchangeRequest};
use crate::messages::{
    self, Auth0Command, Auth0Flow, Auth0Response, Auth1Command, Auth1Response, ControlFlow, ControlFlowStatus,
    CryptogramPlaintext, ENDPOINT_SIGNATURE_CONTEXT, READER_SIGNATURE_CONTEXT, SelectResponse,
};
use crate::schedule::{self, FastSearch, StandardKeys, Transcript};

/// Largest reassembled response the reader accepts (mailbox reads included).
pub const MAX_RESPONSE_LEN: usize = 8 * 1024;

/// The 8-byte key slot identifier of an enrolled key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySlot(pub [u8; 8]);

/// The vehicle's identity as a reader.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// The vehicle's long-term key: signs AUTH1 and anchors every transcript.
    pub vehicle_key: SigningKeyPair,
    /// Reader group identifier (the vehicle) ‖ sub-identifier (this reader).
    pub reader_id: [u8; 32],
    /// AUTH0 tag 42: authentication policy / transaction code.
    pub policy: u8,
}

/// Key material for one transaction, generated before the phone arrives.
#[derive(Debug)]
pub struct PreparedTransaction {
    ephemeral: EphemeralKeyPair,
    transaction_id: [u8; 16],
}

impl PreparedTransaction {
    /// Generates a fresh ephemeral key pair (from the OS generator) and a transaction
    /// identifier (from `rng`).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let ephemeral = EphemeralKeyPair::generate();
        let mut transaction_id = [0u8; 16];
        rng.fill_bytes(&mut transaction_id);
        Self { ephemeral, transaction_id }
    }

    /// Builds one from given parts (known-answer tests).
    pub const fn from_parts(ephemeral: EphemeralKeyPair, transaction_id: [u8; 16]) -> Self {
        Self { ephemeral, transaction_id }
    }

    /// The transaction identifier that AUTH0 will carry.
    pub const fn transaction_id(&self) -> &[u8; 16] {
        &self.transaction_id
    }
}

/// What the caller wants from this transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionPlan {
    /// `Fast`: try the cryptogram, fall back to standard. `Standard`: always mutual
    /// authentication with fresh ECDH (required for engine start).
    pub flow: Auth0Flow,
    /// Mailbox operations to run on the secure channel once authenticated.
    pub exchange: Option<ExchangeRequest>,
    /// What to do when the endpoint proves a key this vehicle has not enrolled.
    pub on_unknown: OnUnknown,
}

/// What a session does with an endpoint that proves (standard transaction, signature
/// verified) a key the vehicle has not enrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnUnknown {
    /// End in [`ReaderError::UnknownEndpoint`].
    Refuse,
    /// End in [`Step::Unenrolled`] with the channel open and nothing read: the caller
    /// looks at the endpoint's signaling bitmap and may run [`ReaderSession::exchange`]
    /// (a friend's phone signals that it carries a share). Until it does, the endpoint
    /// sees exactly what a refused enrolled key sees.
    Report,
    /// Run these mailbox operations, then end in [`Step::Unenrolled`] with their data
    /// (e.g. writing the immobilizer token right after pairing).
    Exchange(ExchangeRequest),
}

impl TransactionPlan {
    /// Fast if possible, no mailbox access.
    pub const fn fast() -> Self {
        Self { flow: Auth0Flow::Fast, exchange: None, on_unknown: OnUnknown::Refuse }
    }

    /// Standard only, no mailbox access.
    pub const fn standard() -> Self {
        Self { flow: Auth0Flow::Standard, exchange: None, on_unknown: OnUnknown::Refuse }
    }

    /// Adds mailbox operations.
    pub fn with_exchange(mut self, request: ExchangeRequest) -> Self {
        self.exchange = Some(request);
        self
    }

    /// Adds mailbox operations for an endpoint whose key is not enrolled.
    pub fn with_unknown_exchange(mut self, request: ExchangeRequest) -> Self {
        self.on_unknown = OnUnknown::Exchange(request);
        self
    }

    /// Reports an endpoint whose key is not enrolled instead of refusing it.
    pub fn reporting_unknown(mut self) -> Self {
        self.on_unknown = OnUnknown::Report;
        self
    }
}

/// One enrolled key offered to the fast-path search.
#[derive(Debug, Clone, Copy)]
pub struct FastCandidate<'a> {
    /// The key's slot.
    pub slot: KeySlot,
    /// The endpoint's long-term public key.
    pub endpoint: &'a EcPublicKey,
    /// The K_persistent agreed at this key's last standard transaction.
    pub k_persistent: &'a Secret32,
}

/// The answer to "is this endpoint key enrolled?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointLookup {
    /// Enrolled in this slot.
    Enrolled(KeySlot),
    /// Not a key of this vehicle.
    Unknown,
}

/// The vehicle's key store as the protocol needs it.
pub trait KeyDirectory {
    /// Keys that have a K_persistent, most recently used first (the search stops at the
    /// first match, so order is speed).
    fn fast_candidates(&self) -> impl Iterator<Item = FastCandidate<'_>>;
    /// Looks up an endpoint's long-term public key after its signature verified.
    fn lookup(&self, endpoint: &EcPublicKey) -> EndpointLookup;
}

/// Fast (symmetric only) or standard (fresh ECDH, both signatures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionKind {
    /// Authenticated by the cryptogram under K_persistent.
    Fast,
    /// Mutually authenticated with fresh ECDH.
    Standard,
}

/// A successfully authenticated endpoint.
pub struct Authenticated {
    /// The enrolled key's slot.
    pub slot: KeySlot,
    /// Its long-term public key.
    pub endpoint: EcPublicKey,
    /// Fast or standard.
    pub kind: TransactionKind,
    /// UWB ranging secret key for this session.
    pub ursk: Secret32,
    /// Standard only: the K_persistent to store (atomically) for the next fast transaction.
    pub new_k_persistent: Option<Secret32>,
    /// Data of the plan's mailbox reads, in order.
    pub mailbox_reads: Vec<Vec<u8>>,
    /// The endpoint's signaling bitmap.
    pub signaling: u16,
    /// Standard only: the slot identifier the endpoint reported (tag 4E).
    pub reported_key_slot: Option<[u8; 8]>,
    /// Standard only: the mailbox subset the endpoint volunteered (tag 4B).
    pub mailbox_subset: Option<Vec<u8>>,
}

/// Mailbox data may hold the immobilizer token, so `Debug` shows only lengths.
impl core::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Authenticated")
            .field("slot", &self.slot)
            .field("endpoint", &self.endpoint)
            .field("kind", &self.kind)
            .field("new_k_persistent", &self.new_k_persistent.is_some())
            .field("mailbox_read_lengths", &self.mailbox_reads.iter().map(Vec::len).collect::<Vec<_>>())
            .field("signaling", &self.signaling)
            .field("reported_key_slot", &self.reported_key_slot)
            .finish_non_exhaustive()
    }
}

/// What the caller does next.
#[derive(Debug)]
pub enum Step {
    /// Transmit these command APDU bytes and feed back the response.
    Transmit(Vec<u8>),
    /// The endpoint is authenticated. Decide, then call [`ReaderSession::control_flow`].
    Authenticated(Box<Authenticated>),
    /// The endpoint proved possession of a key this vehicle has not enrolled (standard
    /// transaction only), and the plan asked to read its mailboxes anyway. It is *not*
    /// authenticated as any key: the caller decides (e.g. from a share attestation), then
    /// calls [`ReaderSession::control_flow`].
    Unenrolled(Box<Unenrolled>),
    /// Data of a follow-up [`ReaderSession::exchange`]'s reads, in order.
    MailboxData(Vec<Vec<u8>>),
    /// The endpoint acknowledged CONTROL FLOW; the transaction is over.
    Finished,
}

/// An endpoint that proved a key the vehicle does not know.
pub struct Unenrolled {
    /// Its long-term public key (its signature over this transaction verified).
    pub endpoint: EcPublicKey,
    /// The slot identifier it reported (tag 4E).
    pub reported_key_slot: [u8; 8],
    /// The K_persistent to store if the caller enrolls it now.
    pub new_k_persistent: Secret32,
    /// Data of the plan's `OnUnknown::Exchange` reads, in order (empty for `Report`;
    /// the caller may read with [`ReaderSession::exchange`]).
    pub mailbox_reads: Vec<Vec<u8>>,
    /// The endpoint's signaling bitmap.
    pub signaling: u16,
}

/// Mailbox data may hold attestations and tokens, so `Debug` shows only lengths.
impl core::fmt::Debug for Unenrolled {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Unenrolled")
            .field("endpoint", &self.endpoint)
            .field("reported_key_slot", &self.reported_key_slot)
            .field("mailbox_read_lengths", &self.mailbox_reads.iter().map(Vec::len).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Identity and keys established by the time the secure channel opens.
struct Established {
    /// `None`: the endpoint's key is not enrolled (only when the plan does not refuse it).
    slot: Option<KeySlot>,
    endpoint: EcPublicKey,
    kind: TransactionKind,
    ursk: Secret32,
    new_k_persistent: Option<Secret32>,
    signaling: u16,
    reported_key_slot: Option<[u8; 8]>,
    mailbox_subset: Option<Vec<u8>>,
}

enum State {
    Idle,
    AwaitSelect,
    AwaitAuth0 {
        select: SelectResponse,
        version: [u8; 2],
        command: Auth0Command,
    },
    AwaitAuth1 {
        transcript: Transcript,
        keys: StandardKeys,
        k_dh: Secret32,
    },
    AwaitExchange {
        channel: Box<SecureChannel>,
        request: ExchangeRequest,
        established: Box<Established>,
    },
    /// Authenticated, or failed after the applet was selected: CONTROL FLOW may follow,
    /// and, when the secure channel is open, more EXCHANGEs.
    Decided {
        channel: Option<Box<SecureChannel>>,
    },
    /// A follow-up EXCHANGE is on its way.
    AwaitFollowUp {
        channel: Box<SecureChannel>,
        request: ExchangeRequest,
    },
    AwaitControlFlow,
    Finished,
    /// Failed before the endpoint could be told anything useful.
    Failed,
}

/// One transaction with one endpoint.
pub struct ReaderSession<'c> {
    config: &'c ReaderConfig,
    prepared: PreparedTransaction,
    plan: TransactionPlan,
    state: State,
    assembler: ResponseAssembler,
    max_command: Option<u32>,
}

impl<'c> ReaderSession<'c> {
    /// A session that will use `prepared` and follow `plan`.
    pub fn new(config: &'c ReaderConfig, prepared: PreparedTransaction, plan: TransactionPlan) -> Self {
        Self {
            config,
            prepared,
            plan,
            state: State::Idle,
            assembler: ResponseAssembler::new(MAX_RESPONSE_LEN),
            max_command: None,
        }
    }

    /// The first command: SELECT the applet.
    pub fn start(&mut self) -> Result<Vec<u8>, ReaderError> {
        if !matches!(self.state, State::Idle) {
            return Err(ReaderError::UnexpectedResponse);
        }
        self.state = State::AwaitSelect;
        encode(&messages::select_command())
    }

    /// Consumes the raw bytes of the endpoint's response to the last command.
    ///
    /// Any error ends the transaction (deny by default); the caller may still send a
    /// failure CONTROL FLOW with [`ReaderSession::control_flow`].
    pub fn handle_response<D: KeyDirectory>(&mut self, bytes: &[u8], directory: &D) -> Result<Step, ReaderError> {
        // Once the applet is selected the endpoint can be told about a failure.
        let selected = matches!(
            self.state,
            State::AwaitAuth0 { .. }
                | State::AwaitAuth1 { .. }
                | State::AwaitExchange { .. }
                | State::AwaitFollowUp { .. }
        );
        let result = self.advance(bytes, directory);
        if result.is_err() {
            self.state = if selected { State::Decided { channel: None } } else { State::Failed };
        }
        result
    }

    fn advance<D: KeyDirectory>(&mut self, bytes: &[u8], directory: &D) -> Result<Step, ReaderError> {
        let response = ResponseApdu::decode(bytes)?;
        let response = match self.assembler.feed(response)? {
            Assembled::NeedMore(get_response) => return Ok(Step::Transmit(encode(&get_response)?)),
            Assembled::Complete(r) => r,
        };
        match core::mem::replace(&mut self.state, State::Failed) {
            State::AwaitSelect => self.on_select(&response),
            State::AwaitAuth0 { select, version, command } => {
                self.on_auth0(&response, &select, version, &command, directory)
            }
            State::AwaitAuth1 { transcript, keys, k_dh } => {
                self.on_auth1(&response, &transcript, &keys, &k_dh, directory)
            }
            State::AwaitExchange { mut channel, request, established } => {
                let reads = self.on_exchange(&response, &mut channel, &request)?;
                Ok(self.authenticated(*established, channel, reads))
            }
            State::AwaitFollowUp { mut channel, request } => {
                let reads = self.on_exchange(&response, &mut channel, &request)?;
                self.state = State::Decided { channel: Some(channel) };
                Ok(Step::MailboxData(reads))
            }
            State::AwaitControlFlow => {
                expect_ok(CommandKind::ControlFlow, &response)?;
                self.state = State::Finished;
                Ok(Step::Finished)
            }
            State::Idle | State::Decided { .. } | State::Finished | State::Failed => {
                Err(ReaderError::UnexpectedResponse)
            }
        }
    }

    fn on_select(&mut self, response: &ResponseApdu) -> Result<Step, ReaderError> {
        expect_ok(CommandKind::Select, response)?;
        let select = SelectResponse::parse(&response.data)?;
        let version = select.choose_version()?;
        self.max_command = select.max_command;
        let command = Auth0Command {
            flow: self.plan.flow,
            policy: self.config.policy,
            version,
            reader_ephemeral: self.prepared.ephemeral.public().clone(),
            transaction_id: self.prepared.transaction_id,
            reader_id: self.config.reader_id,
        };
        let apdu = encode(&command.to_apdu())?;
        self.state = State::AwaitAuth0 { select, version, command };
        Ok(Step::Transmit(apdu))
    }

    fn on_auth0<D: KeyDirectory>(
        &mut self,
        response: &ResponseApdu,
        select: &SelectResponse,
        version: [u8; 2],
        command: &Auth0Command,
        directory: &D,
    ) -> Result<Step, ReaderError> {
        expect_ok(CommandKind::Auth0, response)?;
        let auth0 = Auth0Response::parse(&response.data)?;
        let transcript = Transcript {
            reader_public_x: *self.config.vehicle_key.public().x(),
            reader_id: self.config.reader_id,
            version,
            reader_ephemeral_x: *command.reader_ephemeral.x(),
            transaction_id: command.transaction_id,
            command_parameters: command.flow.to_byte(),
            authentication_policy: command.policy,
            select_proprietary_tlv: select.proprietary_tlv.clone(),
            endpoint_ephemeral_x: *auth0.endpoint_ephemeral.x(),
            auth0_vendor_extension: auth0.vendor_extension.clone(),
        };

        if command.flow == Auth0Flow::Fast {
            let cryptogram = auth0.cryptogram.ok_or(ReaderError::MissingCryptogram)?;
            if let Some(step) = self.try_fast(&transcript, &cryptogram, directory)? {
                return Ok(step);
            }
        }

        // Standard: fresh ECDH, sign, and wait for the endpoint's proof.
        let z = self.prepared.ephemeral.diffie_hellman(&auth0.endpoint_ephemeral).map_err(ReaderError::KeyAgreement)?;
        let k_dh = schedule::derive_k_dh(&z, &transcript.transaction_id);
        let keys = StandardKeys::derive(&k_dh, &transcript);
        let signed = messages::auth1_signed_data(
            &self.config.reader_id,
            &transcript.endpoint_ephemeral_x,
            &transcript.reader_ephemeral_x,
            &transcript.transaction_id,
            &READER_SIGNATURE_CONTEXT,
        );
        let signature = self.config.vehicle_key.sign(&[&signed]);
        let apdu = encode(&Auth1Command { signature }.to_apdu())?;
        self.state = State::AwaitAuth1 { transcript, keys, k_dh };
        Ok(Step::Transmit(apdu))
    }

    /// Searches the enrolled keys for one whose K_persistent opens the cryptogram.
    fn try_fast<D: KeyDirectory>(
        &mut self,
        transcript: &Transcript,
        cryptogram: &[u8; 64],
        directory: &D,
    ) -> Result<Option<Step>, ReaderError> {
        let search = FastSearch::new(transcript);
        for candidate in directory.fast_candidates() {
            let key = search.cryptogram_key(candidate.k_persistent, candidate.endpoint.x());
            let Some(plaintext) = channel::open_zero_iv(&key, cryptogram) else {
                continue;
            };
            // Only the holder of K_persistent can produce a cryptogram that opens, so a
            // malformed plaintext is a broken endpoint, not a reason to try other keys.
            let content = CryptogramPlaintext::parse(&plaintext).map_err(|_| ReaderError::MalformedCryptogram)?;
            let keys = search.full_keys(candidate.k_persistent, candidate.endpoint.x());
            let established = Established {
                slot: Some(candidate.slot),
                endpoint: candidate.endpoint.clone(),
                kind: TransactionKind::Fast,
                ursk: keys.ursk.clone(),
                new_k_persistent: None,
                signaling: content.signaling,
                reported_key_slot: None,
                mailbox_subset: None,
            };
            let channel = SecureChannel::new(Role::Reader, &keys.sk_reader, &keys.sk_device);
            let request = self.plan.exchange.clone();
            return self.exchange_or_finish(channel, established, request).map(Some);
        }
        Ok(None)
    }

    fn on_auth1<D: KeyDirectory>(
        &mut self,
        response: &ResponseApdu,
        transcript: &Transcript,
        keys: &StandardKeys,
        k_dh: &Secret32,
        directory: &D,
    ) -> Result<Step, ReaderError> {
        expect_ok(CommandKind::Auth1, response)?;
        // The AUTH1 response is the endpoint's first message on the channel (counter 1).
        let mut channel = SecureChannel::new(Role::Reader, &keys.sk_reader, &keys.sk_device);
        let plaintext = channel.open(&response.data).map_err(ReaderError::Channel)?;
        let auth1 = Auth1Response::parse(&plaintext)?;
        let signed = messages::auth1_signed_data(
            &self.config.reader_id,
            &transcript.endpoint_ephemeral_x,
            &transcript.reader_ephemeral_x,
            &transcript.transaction_id,
            &ENDPOINT_SIGNATURE_CONTEXT,
        );
        auth1.endpoint_public.verify(&[&signed], &auth1.signature).map_err(ReaderError::EndpointSignature)?;
        let (slot, request) = match directory.lookup(&auth1.endpoint_public) {
            EndpointLookup::Enrolled(slot) => (Some(slot), self.plan.exchange.clone()),
            EndpointLookup::Unknown => match &self.plan.on_unknown {
                OnUnknown::Exchange(request) => (None, Some(request.clone())),
                OnUnknown::Report => (None, None),
                OnUnknown::Refuse => return Err(ReaderError::UnknownEndpoint),
            },
        };
        let k_persistent = schedule::derive_k_persistent(k_dh, transcript, auth1.endpoint_public.x());
        let established = Established {
            slot,
            endpoint: auth1.endpoint_public,
            kind: TransactionKind::Standard,
            ursk: keys.ursk.clone(),
            new_k_persistent: Some(k_persistent),
            signaling: auth1.signaling,
            reported_key_slot: Some(auth1.key_slot),
            mailbox_subset: auth1.mailbox_subset,
        };
        self.exchange_or_finish(channel, established, request)
    }

    fn exchange_or_finish(
        &mut self,
        mut channel: SecureChannel,
        established: Established,
        request: Option<ExchangeRequest>,
    ) -> Result<Step, ReaderError> {
        let Some(request) = request else {
            return Ok(self.authenticated(established, Box::new(channel), Vec::new()));
        };
        let bytes = self.seal_exchange(&mut channel, &request)?;
        self.state = State::AwaitExchange { channel: Box::new(channel), request, established: Box::new(established) };
        Ok(Step::Transmit(bytes))
    }

    /// The EXCHANGE command APDU carrying `request` on `channel`.
    fn seal_exchange(&self, channel: &mut SecureChannel, request: &ExchangeRequest) -> Result<Vec<u8>, ReaderError> {
        let sealed = channel.seal(&request.encode()).map_err(ReaderError::Channel)?;
        if let Some(max) = self.max_command
            && u32::try_from(sealed.len()).map_or(true, |len| len > max)
        {
            return Err(ReaderError::CommandTooLarge { len: sealed.len(), max });
        }
        let apdu =
            CommandApdu::new(messages::CLA_PROPRIETARY, messages::INS_EXCHANGE, 0, 0).with_data(sealed).with_le(256);
        encode(&apdu)
    }

    fn on_exchange(
        &mut self,
        response: &ResponseApdu,
        channel: &mut SecureChannel,
        request: &ExchangeRequest,
    ) -> Result<Vec<Vec<u8>>, ReaderError> {
        expect_ok(CommandKind::Exchange, response)?;
        let plaintext = channel.open(&response.data).map_err(ReaderError::Channel)?;
        Ok(mailbox::parse_reads(&plaintext, request)?)
    }

    fn authenticated(&mut self, e: Established, channel: Box<SecureChannel>, mailbox_reads: Vec<Vec<u8>>) -> Step {
        self.state = State::Decided { channel: Some(channel) };
        let Some(slot) = e.slot else {
            // Only the standard flow (which always derives K_persistent and reports 4E)
            // can reach here without a slot.
            return Step::Unenrolled(Box::new(Unenrolled {
                endpoint: e.endpoint,
                reported_key_slot: e.reported_key_slot.unwrap_or_default(),
                new_k_persistent: e.new_k_persistent.unwrap_or_else(|| Secret32::new([0; 32])),
                mailbox_reads,
                signaling: e.signaling,
            }));
        };
        Step::Authenticated(Box::new(Authenticated {
            slot,
            endpoint: e.endpoint,
            kind: e.kind,
            ursk: e.ursk,
            new_k_persistent: e.new_k_persistent,
            mailbox_reads,
            signaling: e.signaling,
            reported_key_slot: e.reported_key_slot,
            mailbox_subset: e.mailbox_subset,
        }))
    }

    /// The CONTROL FLOW command telling the endpoint how it ended, once the transaction
    /// is decided (authenticated, or failed after the applet was selected). `None` when
    /// there is nobody to tell.
    pub fn control_flow(&mut self, status: ControlFlowStatus, reason: u8) -> Option<Vec<u8>> {
        if !matches!(self.state, State::Decided { .. }) {
            return None;
        }
        let bytes = encode(&ControlFlow { status, reason }.to_apdu()).ok()?;
        self.state = State::AwaitControlFlow;
        Some(bytes)
    }

    /// A further EXCHANGE on the open secure channel, after [`Step::Authenticated`] or
    /// [`Step::Unenrolled`] and before CONTROL FLOW: e.g. reading a termination
    /// attestation the endpoint signalled, or writing the immobilizer token right after
    /// pairing. Its answer arrives as [`Step::MailboxData`].
    pub fn exchange(&mut self, request: ExchangeRequest) -> Result<Vec<u8>, ReaderError> {
        let State::Decided { channel: Some(mut channel) } = core::mem::replace(&mut self.state, State::Failed) else {
            return Err(ReaderError::UnexpectedResponse);
        };
        let result = self.seal_exchange(&mut channel, &request);
        match result {
            Ok(bytes) => {
                self.state = State::AwaitFollowUp { channel, request };
                Ok(bytes)
            }
            Err(error) => {
                self.state = State::Decided { channel: None };
                Err(error)
            }
        }
    }

    /// Whether the transaction is over (finished or failed).
    pub const fn is_over(&self) -> bool {
        matches!(self.state, State::Finished | State::Failed)
    }
}

fn encode(apdu: &CommandApdu) -> Result<Vec<u8>, ReaderError> {
    apdu.encode().map_err(ReaderError::Apdu)
}

fn expect_ok(command: CommandKind, response: &ResponseApdu) -> Result<(), ReaderError> {
    if response.sw.is_ok() { Ok(()) } else { Err(ReaderError::Refused { command, status: response.sw }) }
}
