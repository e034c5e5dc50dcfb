//! The pairing commands' data fields, and the channel keys that protect key creation.

use crate::channel::{ChannelError, Role, SecureChannel};
use crate::codec::{ApduError, ChainError, CommandApdu, Fields, StatusWord, Tag, TlvError, TlvWriter};
use crate::crypto::kdf::hkdf_sha256_32;
use crate::crypto::{EcPublicKey, KeyError, Secret32};
use crate::messages::{CLA_PROPRIETARY, MessageError};
use crate::spake2plus::{CONFIRMATION_LEN, SHARE_LEN, ScryptParams, Spake2PlusError};

use super::{INS_KEY_CREATION, INS_SPAKE2_REQUEST, INS_SPAKE2_VERIFY, SALT_LEN};

mod tags {
    use crate::codec::Tag;

    pub const VERSION: Tag = Tag::new(0x5C);
    pub const READER_ID: Tag = Tag::new(0x4D);
    pub const SALT: Tag = Tag::new(0xC0);
    pub const LOG_N: Tag = Tag::new(0xC1);
    pub const BLOCK_SIZE: Tag = Tag::new(0xC2);
    pub const PARALLELISM: Tag = Tag::new(0xC3);
    pub const SHARE_P: Tag = Tag::new(0x50);
    pub const SHARE_V: Tag = Tag::new(0x52);
    pub const CONFIRM_V: Tag = Tag::new(0x57);
    pub const CONFIRM_P: Tag = Tag::new(0x58);
    pub const PUBLIC_KEY: Tag = Tag::new(0x5A);
    pub const KEY_SLOT: Tag = Tag::new(0x4E);
}

/// Why a pairing ended. Every variant means "no key was created".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingError {
    /// The response is not a well-formed response APDU.
    #[error("malformed response APDU: {0}")]
    Apdu(#[from] ApduError),
    /// GET RESPONSE chaining went wrong.
    #[error("response chaining: {0}")]
    Chain(#[from] ChainError),
    /// The phone refused a pairing command.
    #[error("{command} refused by the phone with status {status}")]
    Refused {
        /// Which command.
        command: &'static str,
        /// The status word.
        status: StatusWord,
    },
    /// The phone refused VERIFY: it does not hold the code the vehicle's verifier was made
    /// from (a wrong code), or it gave up.
    #[error("the phone rejected the vehicle's evidence (wrong pairing code?)")]
    WrongCode,
    /// A field is malformed, missing or of the wrong length.
    #[error("malformed pairing message: {0}")]
    Message(#[from] MessageError),
    /// SPAKE2+ failed (invalid share, or the phone's confirmation does not match).
    #[error("SPAKE2+: {0}")]
    Spake2Plus(#[from] Spake2PlusError),
    /// The key-creation channel failed authentication.
    #[error("pairing channel: {0}")]
    Channel(ChannelError),
    /// The scrypt cost asked for is outside what this side accepts.
    #[error("unacceptable scrypt parameters")]
    ScryptParams,
    /// A field this version does not define.
    #[error("unknown pairing field {0:?}")]
    UnknownField(Tag),
    /// A command arrived in the wrong state, or the session is over.
    #[error("no pairing message was expected in this state")]
    UnexpectedMessage,
}

impl From<TlvError> for PairingError {
    fn from(error: TlvError) -> Self {
        Self::Message(MessageError::Tlv(error))
    }
}

impl From<KeyError> for PairingError {
    fn from(error: KeyError) -> Self {
        Self::Message(MessageError::Key(error))
    }
}

/// `80 30` SPAKE2+ REQUEST data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spake2Request {
    /// Protocol version.
    pub version: [u8; 2],
    /// Reader group identifier ‖ sub-identifier.
    pub reader_id: [u8; 32],
    /// scrypt salt.
    pub salt: [u8; SALT_LEN],
    /// scrypt cost.
    pub scrypt: ScryptParams,
}

impl Spake2Request {
    /// The APDU.
    pub fn to_apdu(&self) -> CommandApdu {
        let mut w = TlvWriter::new();
        w.put(tags::VERSION, &self.version)
            .put(tags::READER_ID, &self.reader_id)
            .put(tags::SALT, &self.salt)
            .put_u8(tags::LOG_N, self.scrypt.log_n)
            .put_u8(tags::BLOCK_SIZE, u8::try_from(self.scrypt.r).unwrap_or(u8::MAX))
            .put_u8(tags::PARALLELISM, u8::try_from(self.scrypt.p).unwrap_or(u8::MAX));
        CommandApdu::new(CLA_PROPRIETARY, INS_SPAKE2_REQUEST, 0, 0).with_data(w.into_bytes()).with_le(256)
    }

    /// Parses the command data; refuses a cost outside [`ScryptParams::is_acceptable`].
    pub fn parse(data: &[u8]) -> Result<Self, PairingError> {
        let f = Fields::parse(data)?;
        let scrypt = ScryptParams {
            log_n: f.require_array::<1>(tags::LOG_N)?[0],
            r: u32::from(f.require_array::<1>(tags::BLOCK_SIZE)?[0]),
            p: u32::from(f.require_array::<1>(tags::PARALLELISM)?[0]),
        };
        if !scrypt.is_acceptable() {
            return Err(PairingError::ScryptParams);
        }
        Ok(Self {
            version: *f.require_array::<2>(tags::VERSION)?,
            reader_id: *f.require_array::<32>(tags::READER_ID)?,
            salt: *f.require_array::<SALT_LEN>(tags::SALT)?,
            scrypt,
        })
    }
}

/// The phone's answer to SPAKE2+ REQUEST: `shareP`.
pub fn encode_share_p(share_p: &[u8; SHARE_LEN]) -> Vec<u8> {
    let mut w = TlvWriter::new();
    w.put(tags::SHARE_P, share_p);
    w.into_bytes()
}

/// Parses the answer to SPAKE2+ REQUEST.
pub fn parse_share_p(data: &[u8]) -> Result<[u8; SHARE_LEN], PairingError> {
    Ok(*Fields::parse(data)?.require_array::<SHARE_LEN>(tags::SHARE_P)?)
}

/// `80 32` SPAKE2+ VERIFY data: the vehicle's share and evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spake2Verify {
    /// `shareV`.
    pub share_v: [u8; SHARE_LEN],
    /// `confirmV`.
    pub confirm_v: [u8; CONFIRMATION_LEN],
}

impl Spake2Verify {
    /// The APDU.
    pub fn to_apdu(&self) -> CommandApdu {
        let mut w = TlvWriter::new();
        w.put(tags::SHARE_V, &self.share_v).put(tags::CONFIRM_V, &self.confirm_v);
        CommandApdu::new(CLA_PROPRIETARY, INS_SPAKE2_VERIFY, 0, 0).with_data(w.into_bytes()).with_le(256)
    }

    /// Parses the command data.
    pub fn parse(data: &[u8]) -> Result<Self, PairingError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            share_v: *f.require_array::<SHARE_LEN>(tags::SHARE_V)?,
            confirm_v: *f.require_array::<CONFIRMATION_LEN>(tags::CONFIRM_V)?,
        })
    }
}

/// The phone's answer to VERIFY: `confirmP`.
pub fn encode_confirm_p(confirm_p: &[u8; CONFIRMATION_LEN]) -> Vec<u8> {
    let mut w = TlvWriter::new();
    w.put(tags::CONFIRM_P, confirm_p);
    w.into_bytes()
}

/// Parses the answer to VERIFY.
pub fn parse_confirm_p(data: &[u8]) -> Result<[u8; CONFIRMATION_LEN], PairingError> {
    Ok(*Fields::parse(data)?.require_array::<CONFIRMATION_LEN>(tags::CONFIRM_P)?)
}

/// KEY CREATION plaintext from the vehicle: its long-term public key, which the phone
/// will check AUTH1 signatures against. Authenticated by `K_shared`, so by the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCreationRequest {
    /// The vehicle's long-term public key.
    pub vehicle_public: EcPublicKey,
}

impl KeyCreationRequest {
    /// Plaintext bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put(tags::PUBLIC_KEY, self.vehicle_public.uncompressed());
        w.into_bytes()
    }

    /// Parses plaintext bytes.
    pub fn parse(data: &[u8]) -> Result<Self, PairingError> {
        let f = Fields::parse(data)?;
        only(&f, &[tags::PUBLIC_KEY])?;
        Ok(Self { vehicle_public: EcPublicKey::from_uncompressed(f.require_array::<65>(tags::PUBLIC_KEY)?)? })
    }
}

/// KEY CREATION plaintext from the phone: the new endpoint key and its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCreationResponse {
    /// The endpoint's new long-term public key for this vehicle.
    pub endpoint_public: EcPublicKey,
    /// The key slot the phone chose.
    pub key_slot: [u8; 8],
}

impl KeyCreationResponse {
    /// Plaintext bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put(tags::PUBLIC_KEY, self.endpoint_public.uncompressed()).put(tags::KEY_SLOT, &self.key_slot);
        w.into_bytes()
    }

    /// Parses plaintext bytes.
    pub fn parse(data: &[u8]) -> Result<Self, PairingError> {
        let f = Fields::parse(data)?;
        only(&f, &[tags::PUBLIC_KEY, tags::KEY_SLOT])?;
        Ok(Self {
            endpoint_public: EcPublicKey::from_uncompressed(f.require_array::<65>(tags::PUBLIC_KEY)?)?,
            key_slot: *f.require_array::<8>(tags::KEY_SLOT)?,
        })
    }
}

/// KEY CREATION APDU around sealed data.
pub(super) fn key_creation_apdu(sealed: Vec<u8>) -> CommandApdu {
    CommandApdu::new(CLA_PROPRIETARY, INS_KEY_CREATION, 0, 0).with_data(sealed).with_le(256)
}

/// The key-creation channel: AES-256-GCM with the transaction channel's IV discipline,
/// keyed by `HKDF-SHA256(K_shared, salt = "", info = "carkey pairing SK{Reader,Device}")`.
pub(super) fn channel(role: Role, k_shared: &Secret32) -> SecureChannel {
    let sk_reader = hkdf_sha256_32(k_shared.expose(), &[], b"carkey pairing SKReader");
    let sk_device = hkdf_sha256_32(k_shared.expose(), &[], b"carkey pairing SKDevice");
    SecureChannel::new(role, &sk_reader, &sk_device)
}

fn only(fields: &Fields<'_>, known: &[Tag]) -> Result<(), PairingError> {
    match fields.tags().find(|t| !known.contains(t)) {
        Some(tag) => Err(PairingError::UnknownField(tag)),
        None => Ok(()),
    }
}
