//! The phone's side of owner pairing: SPAKE2+ prover and key creation.

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::channel::{Role, SecureChannel};
use crate::codec::{ResponseApdu, StatusWord};
use crate::crypto::SigningKeyPair;
use crate::endpoint::Credential;
use crate::messages::VERSION_1_0;
use crate::spake2plus::{Prover, registration_from_password};

use super::messages::{self, KeyCreationRequest, KeyCreationResponse, PairingError, Spake2Request, Spake2Verify};
use super::{CONTEXT, ID_PROVER, INS_KEY_CREATION, INS_SPAKE2_REQUEST, INS_SPAKE2_VERIFY, id_verifier};

/// How the phone's pairing stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairingOutcome {
    /// Waiting for (or in the middle of) a vehicle's pairing commands.
    Pending,
    /// A key was created for the vehicle with this reader group identifier.
    Paired([u8; 16]),
    /// The vehicle's evidence did not verify (the code typed does not match) or a
    /// message was malformed; the owner may try again with the right code.
    Failed(PairingError),
}

enum State {
    Ready,
    AwaitVerify { prover: Box<Prover>, group_id: [u8; 16] },
    AwaitKeyCreation { channel: Box<SecureChannel>, group_id: [u8; 16] },
    Done,
}

/// A phone waiting to pair with the code its owner typed.
pub struct PairingEndpoint {
    code: Zeroizing<Vec<u8>>,
    state: State,
    outcome: PairingOutcome,
}

impl PairingEndpoint {
    /// Pairing with `code` (the digits shown on the vehicle's dashboard).
    pub fn new(code: &[u8]) -> Self {
        Self { code: Zeroizing::new(code.to_vec()), state: State::Ready, outcome: PairingOutcome::Pending }
    }

    /// How it stands.
    pub const fn outcome(&self) -> &PairingOutcome {
        &self.outcome
    }

    /// Whether it still answers the framework SELECT.
    pub const fn is_pending(&self) -> bool {
        matches!(self.outcome, PairingOutcome::Pending)
    }

    /// The framework was selected again: start over (a new attempt from the vehicle).
    pub(crate) fn restart(&mut self) {
        if self.is_pending() {
            self.state = State::Ready;
        }
    }

    /// One framework command; `Ok(Some(credential))` when key creation completed.
    pub(crate) fn process<R: CryptoRng + ?Sized>(
        &mut self,
        ins: u8,
        data: &[u8],
        rng: &mut R,
    ) -> Result<(ResponseApdu, Option<Credential>), StatusWord> {
        let result = self.step(ins, data, rng);
        if let Err(error) = &result {
            self.state = State::Ready;
            if matches!(error, PairingError::WrongCode | PairingError::Spake2Plus(_)) {
                self.outcome = PairingOutcome::Failed(error.clone());
            }
        }
        result.map_err(|error| match error {
            PairingError::WrongCode | PairingError::Spake2Plus(_) | PairingError::Channel(_) => {
                StatusWord::SECURITY_STATUS_NOT_SATISFIED
            }
            PairingError::UnexpectedMessage => StatusWord::CONDITIONS_NOT_SATISFIED,
            _ => StatusWord::WRONG_DATA,
        })
    }

    fn step<R: CryptoRng + ?Sized>(
        &mut self,
        ins: u8,
        data: &[u8],
        rng: &mut R,
    ) -> Result<(ResponseApdu, Option<Credential>), PairingError> {
        match (ins, core::mem::replace(&mut self.state, State::Ready)) {
            (INS_SPAKE2_REQUEST, State::Ready) => {
                let request = Spake2Request::parse(data)?;
                if request.version != VERSION_1_0 {
                    return Err(PairingError::Message(crate::messages::MessageError::UnsupportedVersion));
                }
                let group_id = crate::messages::reader_group_id(&request.reader_id);
                let registration = registration_from_password(
                    &self.code,
                    &request.salt,
                    ID_PROVER,
                    &id_verifier(&group_id),
                    request.scrypt,
                )?;
                let (prover, share_p) = Prover::start(&registration, CONTEXT, ID_PROVER, &id_verifier(&group_id), rng);
                self.state = State::AwaitVerify { prover: Box::new(prover), group_id };
                Ok((ResponseApdu::ok(messages::encode_share_p(&share_p)), None))
            }
            (INS_SPAKE2_VERIFY, State::AwaitVerify { prover, group_id }) => {
                let verify = Spake2Verify::parse(data)?;
                let (confirm_p, k_shared) = prover.finish(&verify.share_v, &verify.confirm_v).map_err(|e| match e {
                    crate::spake2plus::Spake2PlusError::BadConfirmation => PairingError::WrongCode,
                    other => PairingError::Spake2Plus(other),
                })?;
                let channel = Box::new(messages::channel(Role::Endpoint, &k_shared));
                self.state = State::AwaitKeyCreation { channel, group_id };
                Ok((ResponseApdu::ok(messages::encode_confirm_p(&confirm_p)), None))
            }
            (INS_KEY_CREATION, State::AwaitKeyCreation { mut channel, group_id }) => {
                let plaintext = channel.open(data).map_err(PairingError::Channel)?;
                let request = KeyCreationRequest::parse(&plaintext)?;
                let endpoint_key = SigningKeyPair::generate(rng);
                let mut key_slot = [0u8; 8];
                rng.fill_bytes(&mut key_slot);
                let response = KeyCreationResponse { endpoint_public: endpoint_key.public().clone(), key_slot };
                let sealed = channel.seal(&response.encode()).map_err(PairingError::Channel)?;
                self.state = State::Done;
                self.outcome = PairingOutcome::Paired(group_id);
                let credential = Credential::new(group_id, request.vehicle_public, endpoint_key, key_slot);
                Ok((ResponseApdu::ok(sealed), Some(credential)))
            }
            (_, State::Done) => {
                self.state = State::Done;
                Err(PairingError::UnexpectedMessage)
            }
            _ => Err(PairingError::UnexpectedMessage),
        }
    }
}

impl core::fmt::Debug for PairingEndpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PairingEndpoint").field("outcome", &self.outcome).finish_non_exhaustive()
    }
}
