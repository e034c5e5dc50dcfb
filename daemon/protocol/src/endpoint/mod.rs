//! The phone (endpoint) side of the protocol: a faithful peer for simulators and tests.
//!
//! It behaves like a card in the field: [`Endpoint::process`] takes one command APDU and
//! returns one response APDU. It answers every SELECT and AUTH0 the same way whether or
//! not it knows the vehicle — an unknown vehicle gets a random cryptogram — so a reader
//! learns nothing about which keys a phone holds until it proves who it is in AUTH1.

mod contexts;

pub use contexts::{MAX_CONTEXTS, PersistentContexts};

use rand_core::CryptoRng;

use crate::channel::{self, Role, SecureChannel};
use crate::codec::{CommandApdu, ResponseApdu, ResponseChunker, StatusWord};
use crate::crypto::keys::EphemeralKeyPair;
use crate::crypto::{EcPublicKey, SigningKeyPair};
use crate::mailbox::{self, ExchangeRequest, Mailboxes};
use crate::messages::{
    self, Auth0Command, Auth0Flow, Auth0Response, Auth1Command, Auth1Response, ControlFlow, CryptogramPlaintext,
    ENDPOINT_SIGNATURE_CONTEXT, READER_SIGNATURE_CONTEXT, SelectResponse,
};
use crate::pairing::{self, PairingEndpoint, PairingOutcome};
use crate::schedule::{self, FastKeys, StandardKeys, Transcript};

/// Largest command data field the endpoint accepts (advertised in the FCI).
pub const MAX_COMMAND_LEN: u32 = 2048;
/// Largest response data field the endpoint sends in one piece (advertised in the FCI).
pub const MAX_RESPONSE_LEN: u32 = 2048;

/// One digital key held by the phone.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The vehicle's reader group identifier (first half of AUTH0 tag 4D).
    pub vehicle_group_id: [u8; 16],
    /// The vehicle's long-term public key, learned at pairing.
    pub vehicle_public: EcPublicKey,
    /// This key's long-term endpoint key pair.
    pub endpoint_key: SigningKeyPair,
    /// This key's slot identifier (AUTH1 tag 4E).
    pub key_slot: [u8; 8],
    /// Private and confidential mailboxes.
    pub mailboxes: Mailboxes,
    /// Signaling bitmap sent in cryptograms and AUTH1 responses.
    pub signaling: u16,
}

impl Credential {
    /// A key for `vehicle_group_id` with empty mailboxes.
    pub fn new(
        vehicle_group_id: [u8; 16],
        vehicle_public: EcPublicKey,
        endpoint_key: SigningKeyPair,
        key_slot: [u8; 8],
    ) -> Self {
        Self { vehicle_group_id, vehicle_public, endpoint_key, key_slot, mailboxes: Mailboxes::default(), signaling: 0 }
    }
}

/// The phone's view of the transaction in progress.
enum Session {
    Idle,
    Selected { select: SelectResponse },
    Authenticating(Box<Handshake>),
    Secure { channel: Box<SecureChannel>, credential: usize, select: SelectResponse },
}

/// What the phone remembers between AUTH0 and AUTH1 (or a fast EXCHANGE).
struct Handshake {
    transcript: Transcript,
    ephemeral: EphemeralKeyPair,
    reader_ephemeral: EcPublicKey,
    credential: Option<usize>,
    /// Present when the fast flow was answered with a real cryptogram; the reader
    /// then either opens EXCHANGE with these keys or continues with AUTH1.
    fast: Option<FastKeys>,
    select: SelectResponse,
}

/// A phone with its keys and fast-transaction contexts.
pub struct Endpoint {
    credentials: Vec<Credential>,
    contexts: PersistentContexts,
    session: Session,
    chunker: ResponseChunker,
    last_control_flow: Option<ControlFlow>,
    versions: Vec<[u8; 2]>,
    /// Owner pairing in progress (the owner typed a code).
    pairing: Option<PairingEndpoint>,
    /// The framework applet is selected (pairing commands are accepted).
    framework_selected: bool,
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::new()
    }
}

impl Endpoint {
    /// A phone with no keys that speaks protocol 1.0.
    pub fn new() -> Self {
        Self::with_versions(vec![messages::VERSION_1_0])
    }

    /// A phone advertising the given versions (tests of version negotiation).
    pub fn with_versions(versions: Vec<[u8; 2]>) -> Self {
        Self {
            credentials: Vec::new(),
            contexts: PersistentContexts::default(),
            session: Session::Idle,
            chunker: ResponseChunker::new(),
            last_control_flow: None,
            versions,
            pairing: None,
            framework_selected: false,
        }
    }

    /// The owner typed `code`: answer the next vehicle's pairing commands.
    pub fn start_pairing(&mut self, code: &[u8]) {
        self.pairing = Some(PairingEndpoint::new(code));
    }

    /// How the last [`Endpoint::start_pairing`] went, if one was started.
    pub fn pairing_outcome(&self) -> Option<&PairingOutcome> {
        self.pairing.as_ref().map(PairingEndpoint::outcome)
    }

    /// Stops answering pairing commands.
    pub fn cancel_pairing(&mut self) {
        self.pairing = None;
        self.framework_selected = false;
    }

    /// Adds a key; a key for the same vehicle replaces the old one (and its context).
    pub fn add_credential(&mut self, credential: Credential) {
        self.contexts.remove(&credential.vehicle_group_id);
        self.credentials.retain(|c| c.vehicle_group_id != credential.vehicle_group_id);
        self.credentials.push(credential);
    }

    /// The keys on this phone.
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The key for a vehicle.
    pub fn credential(&self, vehicle_group_id: &[u8; 16]) -> Option<&Credential> {
        self.credentials.iter().find(|c| &c.vehicle_group_id == vehicle_group_id)
    }

    /// Mutable access to the key for a vehicle (e.g. to prepare its mailboxes).
    pub fn credential_mut(&mut self, vehicle_group_id: &[u8; 16]) -> Option<&mut Credential> {
        self.credentials.iter_mut().find(|c| &c.vehicle_group_id == vehicle_group_id)
    }

    /// Fast-transaction contexts.
    pub fn contexts(&mut self) -> &mut PersistentContexts {
        &mut self.contexts
    }

    /// The last CONTROL FLOW a reader sent.
    pub const fn last_control_flow(&self) -> Option<ControlFlow> {
        self.last_control_flow
    }

    /// The phone left the field: forget the session.
    pub fn field_off(&mut self) {
        self.session = Session::Idle;
        self.framework_selected = false;
        self.chunker.clear();
    }

    /// Processes one command APDU and returns the response APDU bytes.
    pub fn process<R: CryptoRng + ?Sized>(&mut self, command: &[u8], rng: &mut R) -> Vec<u8> {
        let Ok(apdu) = CommandApdu::decode(command) else {
            return ResponseApdu::status(StatusWord::WRONG_LENGTH).encode();
        };
        let le = apdu.le.unwrap_or(256);
        if apdu.cla == 0x00 && apdu.ins == messages::INS_GET_RESPONSE {
            return self.chunker.get_response(le).encode();
        }
        self.chunker.clear();
        let response = match self.dispatch(&apdu, rng) {
            Ok(response) => response,
            Err(sw) => {
                // Any failure ends the session, as a secure element would.
                self.session = Session::Idle;
                self.framework_selected = false;
                ResponseApdu::status(sw)
            }
        };
        self.chunker.respond(response, le).encode()
    }

    fn dispatch<R: CryptoRng + ?Sized>(&mut self, apdu: &CommandApdu, rng: &mut R) -> Result<ResponseApdu, StatusWord> {
        match (apdu.cla, apdu.ins) {
            (0x00, messages::INS_SELECT) if apdu.data == pairing::FRAMEWORK_AID => self.on_select_framework(apdu),
            (0x00, messages::INS_SELECT) => self.on_select(apdu),
            (
                messages::CLA_PROPRIETARY,
                pairing::INS_SPAKE2_REQUEST | pairing::INS_SPAKE2_VERIFY | pairing::INS_KEY_CREATION,
            ) if self.framework_selected => self.on_pairing(apdu, rng),
            (messages::CLA_PROPRIETARY, messages::INS_AUTH0) => self.on_auth0(&apdu.data, rng),
            (messages::CLA_PROPRIETARY, messages::INS_AUTH1) => self.on_auth1(&apdu.data),
            (messages::CLA_PROPRIETARY, messages::INS_EXCHANGE) => self.on_exchange(&apdu.data),
            (messages::CLA_PROPRIETARY, messages::INS_CONTROL_FLOW) => self.on_control_flow(&apdu.data),
            (0x00 | messages::CLA_PROPRIETARY, _) => Err(StatusWord::INS_NOT_SUPPORTED),
            _ => Err(StatusWord::CLA_NOT_SUPPORTED),
        }
    }

    fn on_select_framework(&mut self, apdu: &CommandApdu) -> Result<ResponseApdu, StatusWord> {
        self.session = Session::Idle;
        self.framework_selected = false;
        // A phone that is not pairing has no framework applet to offer.
        let pairing = self.pairing.as_mut().filter(|p| p.is_pending()).ok_or(StatusWord::FILE_NOT_FOUND)?;
        if apdu.p1 != 0x04 {
            return Err(StatusWord::FILE_NOT_FOUND);
        }
        pairing.restart();
        self.framework_selected = true;
        Ok(ResponseApdu::ok(pairing::framework_fci(&self.versions)))
    }

    fn on_pairing<R: CryptoRng + ?Sized>(
        &mut self,
        apdu: &CommandApdu,
        rng: &mut R,
    ) -> Result<ResponseApdu, StatusWord> {
        let pairing = self.pairing.as_mut().ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        let (response, credential) = pairing.process(apdu.ins, &apdu.data, rng)?;
        if let Some(credential) = credential {
            self.framework_selected = false;
            self.add_credential(credential);
        }
        Ok(response)
    }

    fn on_select(&mut self, apdu: &CommandApdu) -> Result<ResponseApdu, StatusWord> {
        self.framework_selected = false;
        if apdu.p1 != 0x04 || apdu.data != messages::AID {
            return Err(StatusWord::FILE_NOT_FOUND);
        }
        let select = SelectResponse::new(&self.versions, MAX_COMMAND_LEN, MAX_RESPONSE_LEN);
        let data = select.encode();
        self.session = Session::Selected { select };
        Ok(ResponseApdu::ok(data))
    }

    fn on_auth0<R: CryptoRng + ?Sized>(&mut self, data: &[u8], rng: &mut R) -> Result<ResponseApdu, StatusWord> {
        let Session::Selected { select } = core::mem::replace(&mut self.session, Session::Idle) else {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let command = Auth0Command::parse(data).map_err(|_| StatusWord::WRONG_DATA)?;
        if !self.versions.contains(&command.version) {
            return Err(StatusWord::WRONG_DATA);
        }
        let group_id = messages::reader_group_id(&command.reader_id);
        let credential = self.credentials.iter().position(|c| c.vehicle_group_id == group_id);
        let ephemeral = EphemeralKeyPair::generate();
        let transcript = Transcript {
            reader_public_x: credential
                .and_then(|i| self.credentials.get(i))
                .map_or([0; 32], |c| *c.vehicle_public.x()),
            reader_id: command.reader_id,
            version: command.version,
            reader_ephemeral_x: *command.reader_ephemeral.x(),
            transaction_id: command.transaction_id,
            command_parameters: command.flow.to_byte(),
            authentication_policy: command.policy,
            select_proprietary_tlv: select.proprietary_tlv.clone(),
            endpoint_ephemeral_x: *ephemeral.public().x(),
            auth0_vendor_extension: Vec::new(),
        };

        let mut fast = None;
        let cryptogram = match command.flow {
            Auth0Flow::Standard => None,
            Auth0Flow::Fast => {
                let context = credential.and_then(|i| {
                    let c = self.credentials.get(i)?;
                    let k = self.contexts.get(&group_id)?;
                    Some((c, k))
                });
                Some(match context {
                    Some((c, k_persistent)) => {
                        let keys = FastKeys::derive(k_persistent, &transcript, c.endpoint_key.public().x());
                        let content = CryptogramPlaintext {
                            signaling: c.signaling,
                            credential_timestamp: [0; 20],
                            revocation_timestamp: [0; 20],
                        };
                        let sealed = channel::seal_zero_iv(&keys.cryptogram_sk, &content.encode());
                        fast = Some(keys);
                        <[u8; 64]>::try_from(sealed.as_slice()).map_err(|_| StatusWord::UNKNOWN)?
                    }
                    None => {
                        // No context: random bytes, indistinguishable from a real cryptogram.
                        let mut random = [0u8; 64];
                        rng.fill_bytes(&mut random);
                        random
                    }
                })
            }
        };
        let response =
            Auth0Response { endpoint_ephemeral: ephemeral.public().clone(), cryptogram, vendor_extension: Vec::new() };
        self.session = Session::Authenticating(Box::new(Handshake {
            transcript,
            ephemeral,
            reader_ephemeral: command.reader_ephemeral,
            credential,
            fast,
            select,
        }));
        Ok(ResponseApdu::ok(response.encode()))
    }

    fn on_auth1(&mut self, data: &[u8]) -> Result<ResponseApdu, StatusWord> {
        let Session::Authenticating(handshake) = core::mem::replace(&mut self.session, Session::Idle) else {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let Handshake { transcript, mut ephemeral, reader_ephemeral, credential, select, .. } = *handshake;
        let command = Auth1Command::parse(data).map_err(|_| StatusWord::WRONG_DATA)?;
        // Only a vehicle this phone holds a key for can sign; anyone else learns nothing.
        let index = credential.ok_or(StatusWord::SECURITY_STATUS_NOT_SATISFIED)?;
        let cred = self.credentials.get(index).ok_or(StatusWord::SECURITY_STATUS_NOT_SATISFIED)?;
        let reader_signed = messages::auth1_signed_data(
            &transcript.reader_id,
            &transcript.endpoint_ephemeral_x,
            &transcript.reader_ephemeral_x,
            &transcript.transaction_id,
            &READER_SIGNATURE_CONTEXT,
        );
        cred.vehicle_public
            .verify(&[&reader_signed], &command.signature)
            .map_err(|_| StatusWord::SECURITY_STATUS_NOT_SATISFIED)?;

        let z = ephemeral.diffie_hellman(&reader_ephemeral).map_err(|_| StatusWord::SECURITY_STATUS_NOT_SATISFIED)?;
        let k_dh = schedule::derive_k_dh(&z, &transcript.transaction_id);
        let keys = StandardKeys::derive(&k_dh, &transcript);
        let endpoint_x = *cred.endpoint_key.public().x();
        let k_persistent = schedule::derive_k_persistent(&k_dh, &transcript, &endpoint_x);

        let endpoint_signed = messages::auth1_signed_data(
            &transcript.reader_id,
            &transcript.endpoint_ephemeral_x,
            &transcript.reader_ephemeral_x,
            &transcript.transaction_id,
            &ENDPOINT_SIGNATURE_CONTEXT,
        );
        let plaintext = Auth1Response {
            key_slot: cred.key_slot,
            endpoint_public: cred.endpoint_key.public().clone(),
            signature: cred.endpoint_key.sign(&[&endpoint_signed]),
            signaling: cred.signaling,
            credential_timestamp: Some([0; 20]),
            revocation_timestamp: Some([0; 20]),
            mailbox_subset: None,
        }
        .encode();
        let group = cred.vehicle_group_id;
        let mut channel = Box::new(SecureChannel::new(Role::Endpoint, &keys.sk_reader, &keys.sk_device));
        let sealed = channel.seal(&plaintext).map_err(|_| StatusWord::UNKNOWN)?;
        self.contexts.insert(group, k_persistent);
        self.session = Session::Secure { channel, credential: index, select };
        Ok(ResponseApdu::ok(sealed))
    }

    fn on_exchange(&mut self, data: &[u8]) -> Result<ResponseApdu, StatusWord> {
        let (mut channel, index, select) = match core::mem::replace(&mut self.session, Session::Idle) {
            Session::Secure { channel, credential, select } => (channel, credential, select),
            Session::Authenticating(handshake) => match *handshake {
                Handshake { fast: Some(keys), credential: Some(index), select, .. } => {
                    (Box::new(SecureChannel::new(Role::Endpoint, &keys.sk_reader, &keys.sk_device)), index, select)
                }
                _ => return Err(StatusWord::CONDITIONS_NOT_SATISFIED),
            },
            _ => return Err(StatusWord::CONDITIONS_NOT_SATISFIED),
        };
        let plaintext = channel.open(data).map_err(|_| StatusWord::SECURITY_STATUS_NOT_SATISFIED)?;
        let request = ExchangeRequest::parse(&plaintext).map_err(|_| StatusWord::WRONG_DATA)?;
        let cred = self.credentials.get_mut(index).ok_or(StatusWord::UNKNOWN)?;
        let reads = cred.mailboxes.apply(&request).map_err(|_| StatusWord::WRONG_DATA)?;
        let sealed = channel.seal(&mailbox::encode_reads(&reads)).map_err(|_| StatusWord::UNKNOWN)?;
        self.session = Session::Secure { channel, credential: index, select };
        Ok(ResponseApdu::ok(sealed))
    }

    fn on_control_flow(&mut self, data: &[u8]) -> Result<ResponseApdu, StatusWord> {
        if matches!(self.session, Session::Idle) {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let control = ControlFlow::parse(data).map_err(|_| StatusWord::WRONG_DATA)?;
        self.last_control_flow = Some(control);
        self.session = Session::Idle;
        Ok(ResponseApdu::ok(Vec::new()))
    }
}
