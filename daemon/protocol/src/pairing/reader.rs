//! The vehicle's side of owner pairing: SPAKE2+ verifier and key creation, sans I/O.

use rand_core::CryptoRng;

use crate::channel::{Role, SecureChannel};
use crate::codec::{Assembled, CommandApdu, Fields, ResponseApdu, ResponseAssembler, StatusWord, Tag};
use crate::crypto::EcPublicKey;
use crate::messages::{MessageError, VERSION_1_0};
use crate::reader::ReaderConfig;
use crate::spake2plus::{SHARE_LEN, ScryptParams, Verifier, VerifierSession};

use super::messages::{self, KeyCreationRequest, KeyCreationResponse, PairingError, Spake2Request, Spake2Verify};
use super::{CONTEXT, FRAMEWORK_AID, ID_PROVER, SALT_LEN, id_verifier};

/// Largest reassembled pairing response.
const MAX_RESPONSE_LEN: usize = 1024;

/// What the caller does next.
#[derive(Debug)]
pub enum PairingStep {
    /// Transmit these command APDU bytes and feed back the response.
    Transmit(Vec<u8>),
    /// The phone is not pairing (it has no framework applet selected for pairing): run an
    /// ordinary transaction instead.
    NotPairing,
    /// The phone sent its share. Count the attempt durably, then call
    /// [`PairingSession::verify`] (or drop the session if no attempt is left).
    AttemptPending,
    /// Pairing succeeded: the phone created this key. It is not enrolled yet: the caller
    /// runs a standard transaction that must prove this very key.
    Paired(PairedEndpoint),
}

/// The key a phone created at pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedEndpoint {
    /// Its long-term public key.
    pub endpoint: EcPublicKey,
    /// The slot it chose.
    pub key_slot: [u8; 8],
}

enum State {
    Idle,
    AwaitSelect,
    AwaitShare,
    ShareReceived { share_p: [u8; SHARE_LEN] },
    AwaitConfirm { session: VerifierSession },
    AwaitKeyCreation { channel: Box<SecureChannel> },
    Over,
}

/// One pairing attempt with one phone.
pub struct PairingSession<'c> {
    config: &'c ReaderConfig,
    salt: [u8; SALT_LEN],
    scrypt: ScryptParams,
    state: State,
    assembler: ResponseAssembler,
}

impl<'c> PairingSession<'c> {
    /// A session offering the phone `salt` and `scrypt` (those the verifier was made with).
    pub fn new(config: &'c ReaderConfig, salt: [u8; SALT_LEN], scrypt: ScryptParams) -> Self {
        Self { config, salt, scrypt, state: State::Idle, assembler: ResponseAssembler::new(MAX_RESPONSE_LEN) }
    }

    /// The first command: SELECT the framework applet.
    pub fn start(&mut self) -> Result<Vec<u8>, PairingError> {
        if !matches!(self.state, State::Idle) {
            return Err(PairingError::UnexpectedMessage);
        }
        self.state = State::AwaitSelect;
        encode(&CommandApdu::select_aid(&FRAMEWORK_AID))
    }

    /// Consumes the raw bytes of the phone's response to the last command. Any error ends
    /// the session.
    pub fn handle_response(&mut self, bytes: &[u8]) -> Result<PairingStep, PairingError> {
        let result = self.advance(bytes);
        if result.is_err() {
            self.state = State::Over;
        }
        result
    }

    /// Answers the phone's share with the verifier's: returns the VERIFY command. Call only
    /// after [`PairingStep::AttemptPending`] and after the attempt is counted.
    pub fn verify<R: CryptoRng + ?Sized>(&mut self, verifier: &Verifier, rng: &mut R) -> Result<Vec<u8>, PairingError> {
        let State::ShareReceived { share_p } = core::mem::replace(&mut self.state, State::Over) else {
            return Err(PairingError::UnexpectedMessage);
        };
        let group = crate::messages::reader_group_id(&self.config.reader_id);
        let (session, share_v, confirm_v) =
            verifier.respond(CONTEXT, ID_PROVER, &id_verifier(&group), &share_p, rng)?;
        let apdu = encode(&Spake2Verify { share_v, confirm_v }.to_apdu())?;
        self.state = State::AwaitConfirm { session };
        Ok(apdu)
    }

    fn advance(&mut self, bytes: &[u8]) -> Result<PairingStep, PairingError> {
        let response = ResponseApdu::decode(bytes)?;
        let response = match self.assembler.feed(response)? {
            Assembled::NeedMore(get_response) => return Ok(PairingStep::Transmit(encode(&get_response)?)),
            Assembled::Complete(r) => r,
        };
        match core::mem::replace(&mut self.state, State::Over) {
            State::AwaitSelect => {
                if response.sw == StatusWord::FILE_NOT_FOUND {
                    return Ok(PairingStep::NotPairing);
                }
                expect_ok("SELECT framework", &response)?;
                let version = choose_version(&response.data)?;
                let request =
                    Spake2Request { version, reader_id: self.config.reader_id, salt: self.salt, scrypt: self.scrypt };
                self.state = State::AwaitShare;
                Ok(PairingStep::Transmit(encode(&request.to_apdu())?))
            }
            State::AwaitShare => {
                expect_ok("SPAKE2+ REQUEST", &response)?;
                let share_p = messages::parse_share_p(&response.data)?;
                self.state = State::ShareReceived { share_p };
                Ok(PairingStep::AttemptPending)
            }
            State::AwaitConfirm { session } => {
                if response.sw == StatusWord::SECURITY_STATUS_NOT_SATISFIED {
                    return Err(PairingError::WrongCode);
                }
                expect_ok("SPAKE2+ VERIFY", &response)?;
                let confirm_p = messages::parse_confirm_p(&response.data)?;
                let k_shared = session.finish(&confirm_p)?;
                let mut channel = Box::new(messages::channel(Role::Reader, &k_shared));
                let request = KeyCreationRequest { vehicle_public: self.config.vehicle_key.public().clone() };
                let sealed = channel.seal(&request.encode()).map_err(PairingError::Channel)?;
                self.state = State::AwaitKeyCreation { channel };
                Ok(PairingStep::Transmit(encode(&messages::key_creation_apdu(sealed))?))
            }
            State::AwaitKeyCreation { mut channel } => {
                expect_ok("KEY CREATION", &response)?;
                let plaintext = channel.open(&response.data).map_err(PairingError::Channel)?;
                let created = KeyCreationResponse::parse(&plaintext)?;
                Ok(PairingStep::Paired(PairedEndpoint {
                    endpoint: created.endpoint_public,
                    key_slot: created.key_slot,
                }))
            }
            State::Idle | State::ShareReceived { .. } | State::Over => Err(PairingError::UnexpectedMessage),
        }
    }
}

/// The framework FCI: `6F { 84 AID, 5C versions (2 bytes each) }`.
pub(super) fn encode_fci(versions: &[[u8; 2]]) -> Vec<u8> {
    let mut w = crate::codec::TlvWriter::new();
    w.put_nested(Tag::new(0x6F), |w| {
        w.put(Tag::new(0x84), &FRAMEWORK_AID).put(Tag::new(0x5C), &versions.concat());
    });
    w.into_bytes()
}

fn choose_version(fci: &[u8]) -> Result<[u8; 2], PairingError> {
    let outer = Fields::parse(fci)?;
    let inner = Fields::parse(outer.require(Tag::new(0x6F))?)?;
    if inner.require(Tag::new(0x84))? != FRAMEWORK_AID {
        return Err(PairingError::Message(MessageError::WrongApplication));
    }
    let versions = inner.require(Tag::new(0x5C))?;
    if versions.chunks(2).any(|v| v == VERSION_1_0) {
        Ok(VERSION_1_0)
    } else {
        Err(PairingError::Message(MessageError::UnsupportedVersion))
    }
}

fn encode(apdu: &CommandApdu) -> Result<Vec<u8>, PairingError> {
    Ok(apdu.encode()?)
}

fn expect_ok(command: &'static str, response: &ResponseApdu) -> Result<(), PairingError> {
    if response.sw.is_ok() { Ok(()) } else { Err(PairingError::Refused { command, status: response.sw }) }
}
