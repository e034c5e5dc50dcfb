//! The APDUs of the expedited phase and their TLV payloads, as typed values.
//!
//! Every `parse` here rejects malformed input with a [`MessageError`]; every `encode` is
//! infallible because all lengths are fixed or bounded by construction.

use crate::codec::{CommandApdu, Fields, Tag, TlvError, TlvWriter};
use crate::crypto::{EcPublicKey, KeyError};

/// Application identifier of the expedited-phase applet (Aliro primary AID).
pub const AID: [u8; 9] = [0xA0, 0x00, 0x00, 0x09, 0x09, 0xAC, 0xCE, 0x55, 0x01];
/// The only protocol version carkey speaks: 1.0.
pub const VERSION_1_0: [u8; 2] = [0x01, 0x00];
/// Proprietary class byte of the protocol commands.
pub const CLA_PROPRIETARY: u8 = 0x80;
/// SELECT (ISO 7816-4).
pub const INS_SELECT: u8 = 0xA4;
/// GET RESPONSE (ISO 7816-4).
pub const INS_GET_RESPONSE: u8 = 0xC0;
/// AUTH0: ephemeral keys, optional fast cryptogram.
pub const INS_AUTH0: u8 = 0x80;
/// AUTH1: reader signature, encrypted endpoint identity and signature.
pub const INS_AUTH1: u8 = 0x81;
/// EXCHANGE: encrypted mailbox operations.
pub const INS_EXCHANGE: u8 = 0xC9;
/// CONTROL FLOW: tells the endpoint how the transaction ended.
pub const INS_CONTROL_FLOW: u8 = 0x3C;

/// Usage context the reader signs with (AUTH1 tag 93).
pub const READER_SIGNATURE_CONTEXT: [u8; 4] = [0x41, 0x5D, 0x95, 0x69];
/// Usage context the endpoint signs with.
pub const ENDPOINT_SIGNATURE_CONTEXT: [u8; 4] = [0x4E, 0x88, 0x7B, 0x4C];

/// Application type carkey reports in the FCI (tag 80): vehicle access.
pub const APPLICATION_TYPE: u16 = 0x0001;

/// TLV tags, named after what they carry.
pub mod tags {
    use crate::codec::Tag;
    /// FCI template.
    pub const FCI: Tag = Tag::new(0x6F);
    /// Dedicated file name (AID) in the FCI.
    pub const DF_NAME: Tag = Tag::new(0x84);
    /// Proprietary information template in the FCI.
    pub const PROPRIETARY: Tag = Tag::new(0xA5);
    /// Application type (FCI) / mailbox selector (EXCHANGE responses do not use it).
    pub const APPLICATION_TYPE: Tag = Tag::new(0x80);
    /// Supported versions (FCI) or chosen version (AUTH0).
    pub const VERSION: Tag = Tag::new(0x5C);
    /// Extended length information (max command / response sizes).
    pub const EXTENDED_LENGTH_INFO: Tag = Tag::new(0x7F66);
    /// ASN.1 INTEGER inside `7F66`.
    pub const INTEGER: Tag = Tag::new(0x02);
    /// AUTH0 command parameters / AUTH1 request flags / CONTROL FLOW status.
    pub const PARAMETERS: Tag = Tag::new(0x41);
    /// AUTH0 authentication policy / CONTROL FLOW domain.
    pub const POLICY: Tag = Tag::new(0x42);
    /// CONTROL FLOW reason.
    pub const REASON: Tag = Tag::new(0x43);
    /// Reader ephemeral public key.
    pub const READER_EPHEMERAL: Tag = Tag::new(0x87);
    /// Transaction identifier.
    pub const TRANSACTION_ID: Tag = Tag::new(0x4C);
    /// Reader group identifier ‖ sub-identifier.
    pub const READER_ID: Tag = Tag::new(0x4D);
    /// Endpoint ephemeral public key.
    pub const ENDPOINT_EPHEMERAL: Tag = Tag::new(0x86);
    /// Fast-path cryptogram.
    pub const CRYPTOGRAM: Tag = Tag::new(0x9D);
    /// Vendor extension in the AUTH0 response.
    pub const VENDOR_EXTENSION: Tag = Tag::new(0xB2);
    /// Signature (reader in AUTH1, endpoint in its response).
    pub const SIGNATURE: Tag = Tag::new(0x9E);
    /// Usage context inside the signed data.
    pub const USAGE: Tag = Tag::new(0x93);
    /// Key slot identifier.
    pub const KEY_SLOT: Tag = Tag::new(0x4E);
    /// Endpoint long-term public key.
    pub const ENDPOINT_PUBLIC: Tag = Tag::new(0x5A);
    /// Signaling bitmap.
    pub const SIGNALING: Tag = Tag::new(0x5E);
    /// Credential signed timestamp.
    pub const CREDENTIAL_TIMESTAMP: Tag = Tag::new(0x91);
    /// Revocation signed timestamp.
    pub const REVOCATION_TIMESTAMP: Tag = Tag::new(0x92);
    /// Mailbox subset in the AUTH1 response.
    pub const MAILBOX_SUBSET: Tag = Tag::new(0x4B);
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The TLV structure is malformed, a required tag is missing or has the wrong length.
    #[error("malformed message: {0}")]
    Tlv(#[from] TlvError),
    /// A key or signature field is not a valid P-256 value.
    #[error("invalid key material: {0}")]
    Key(#[from] KeyError),
    /// The SELECT response names another application.
    #[error("SELECT response is for another application")]
    WrongApplication,
    /// No protocol version both sides support.
    #[error("no common protocol version")]
    UnsupportedVersion,
    /// A flag or enumerated byte has a value the protocol does not define.
    #[error("field {tag} has undefined value {value:#04x}")]
    UndefinedValue {
        /// The field.
        tag: Tag,
        /// The value found.
        value: u8,
    },
}

/// What the endpoint says about itself in answer to SELECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectResponse {
    /// Supported protocol versions, most preferred first.
    pub versions: Vec<[u8; 2]>,
    /// Application type (tag 80).
    pub application_type: u16,
    /// Largest command APDU data field the endpoint accepts, if it says.
    pub max_command: Option<u32>,
    /// Largest response APDU data field the endpoint sends, if it says.
    pub max_response: Option<u32>,
    /// The whole `A5` TLV, byte-exact, for the key-derivation transcript.
    pub proprietary_tlv: Vec<u8>,
}

impl SelectResponse {
    /// Builds the FCI an endpoint returns.
    pub fn new(versions: &[[u8; 2]], max_command: u32, max_response: u32) -> Self {
        let mut a5 = TlvWriter::new();
        a5.put_nested(tags::PROPRIETARY, |w| {
            w.put(tags::APPLICATION_TYPE, &APPLICATION_TYPE.to_be_bytes());
            w.put(tags::VERSION, &versions.concat());
            w.put_nested(tags::EXTENDED_LENGTH_INFO, |w| {
                w.put(tags::INTEGER, &max_command.to_be_bytes());
                w.put(tags::INTEGER, &max_response.to_be_bytes());
            });
        });
        Self {
            versions: versions.to_vec(),
            application_type: APPLICATION_TYPE,
            max_command: Some(max_command),
            max_response: Some(max_response),
            proprietary_tlv: a5.into_bytes(),
        }
    }

    /// The response data field: `6F { 84 AID, A5 {…} }`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put_nested(tags::FCI, |w| {
            w.put(tags::DF_NAME, &AID);
            w.put_raw(&self.proprietary_tlv);
        });
        w.into_bytes()
    }

    /// Parses and checks the FCI from the response data field.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let top = Fields::parse(data)?;
        let fci = Fields::parse(top.require(tags::FCI)?)?;
        if fci.require(tags::DF_NAME)? != AID {
            return Err(MessageError::WrongApplication);
        }
        let a5 = fci.get_tlv(tags::PROPRIETARY).ok_or(TlvError::MissingTag(tags::PROPRIETARY))?;
        let info = Fields::parse(a5.value)?;
        let type_bytes = info.require_array::<2>(tags::APPLICATION_TYPE)?;
        let version_bytes = info.require(tags::VERSION)?;
        let pairs: Vec<[u8; 2]> =
            version_bytes.chunks_exact(2).filter_map(|pair| <[u8; 2]>::try_from(pair).ok()).collect();
        if pairs.is_empty() || version_bytes.len() % 2 != 0 {
            return Err(TlvError::BadLength { tag: tags::VERSION, expected: 2, actual: version_bytes.len() }.into());
        }
        let (max_command, max_response) = match info.get(tags::EXTENDED_LENGTH_INFO) {
            Some(value) => parse_extended_length_info(value)?,
            None => (None, None),
        };
        Ok(Self {
            versions: pairs,
            application_type: u16::from_be_bytes(*type_bytes),
            max_command,
            max_response,
            proprietary_tlv: a5.raw.to_vec(),
        })
    }

    /// Picks version 1.0 if offered.
    pub fn choose_version(&self) -> Result<[u8; 2], MessageError> {
        self.versions.iter().copied().find(|v| *v == VERSION_1_0).ok_or(MessageError::UnsupportedVersion)
    }
}

/// `7F66 { 02 max_command, 02 max_response }`, each an unsigned big-endian integer.
fn parse_extended_length_info(value: &[u8]) -> Result<(Option<u32>, Option<u32>), MessageError> {
    let mut integers = crate::codec::tlv::iter(value).filter(|t| t.as_ref().map_or(true, |t| t.tag == tags::INTEGER));
    let mut next = || -> Result<Option<u32>, MessageError> {
        match integers.next() {
            None => Ok(None),
            Some(tlv) => {
                let tlv = tlv?;
                let significant: &[u8] = {
                    let first_nonzero = tlv.value.iter().position(|b| *b != 0).unwrap_or(tlv.value.len());
                    tlv.value.get(first_nonzero..).unwrap_or_default()
                };
                if significant.len() > 4 {
                    return Err(
                        TlvError::BadLength { tag: tags::INTEGER, expected: 4, actual: significant.len() }.into()
                    );
                }
                Ok(Some(significant.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))))
            }
        }
    };
    let max_command = next()?;
    let max_response = next()?;
    Ok((max_command, max_response))
}

/// The reader group identifier: the first half of a reader identifier (AUTH0 tag 4D),
/// under which phones file their key for a vehicle.
pub(crate) fn reader_group_id(reader_id: &[u8; 32]) -> [u8; 16] {
    reader_id.first_chunk::<16>().copied().unwrap_or([0; 16])
}

/// The SELECT command for the applet.
pub fn select_command() -> CommandApdu {
    CommandApdu::select_aid(&AID)
}

/// AUTH0 tag 41 value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth0Flow {
    /// Mutual authentication with fresh ECDH only.
    Standard,
    /// Ask for a fast cryptogram under K_persistent (the standard flow may still follow).
    Fast,
}

impl Auth0Flow {
    /// Wire value of tag 41.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Standard => 0x00,
            Self::Fast => 0x01,
        }
    }

    fn from_byte(value: u8) -> Result<Self, MessageError> {
        match value {
            0x00 => Ok(Self::Standard),
            0x01 => Ok(Self::Fast),
            _ => Err(MessageError::UndefinedValue { tag: tags::PARAMETERS, value }),
        }
    }
}

/// AUTH0 command fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth0Command {
    /// Standard or fast.
    pub flow: Auth0Flow,
    /// Authentication policy / transaction code (tag 42).
    pub policy: u8,
    /// Chosen protocol version.
    pub version: [u8; 2],
    /// Reader ephemeral public key.
    pub reader_ephemeral: EcPublicKey,
    /// Fresh transaction identifier.
    pub transaction_id: [u8; 16],
    /// Reader group identifier ‖ sub-identifier.
    pub reader_id: [u8; 32],
}

impl Auth0Command {
    /// The APDU.
    pub fn to_apdu(&self) -> CommandApdu {
        let mut w = TlvWriter::new();
        w.put_u8(tags::PARAMETERS, self.flow.to_byte())
            .put_u8(tags::POLICY, self.policy)
            .put(tags::VERSION, &self.version)
            .put(tags::READER_EPHEMERAL, self.reader_ephemeral.uncompressed())
            .put(tags::TRANSACTION_ID, &self.transaction_id)
            .put(tags::READER_ID, &self.reader_id);
        CommandApdu::new(CLA_PROPRIETARY, INS_AUTH0, 0, 0).with_data(w.into_bytes()).with_le(256)
    }

    /// Parses the command data field.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            flow: Auth0Flow::from_byte(f.require_array::<1>(tags::PARAMETERS)?[0])?,
            policy: f.require_array::<1>(tags::POLICY)?[0],
            version: *f.require_array::<2>(tags::VERSION)?,
            reader_ephemeral: EcPublicKey::from_uncompressed(f.require_array::<65>(tags::READER_EPHEMERAL)?)?,
            transaction_id: *f.require_array::<16>(tags::TRANSACTION_ID)?,
            reader_id: *f.require_array::<32>(tags::READER_ID)?,
        })
    }
}

/// AUTH0 response fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth0Response {
    /// Endpoint ephemeral public key.
    pub endpoint_ephemeral: EcPublicKey,
    /// Fast cryptogram (random when the endpoint has no context for this reader).
    pub cryptogram: Option<[u8; 64]>,
    /// The whole vendor-extension TLV, if any (part of the HKDF info).
    pub vendor_extension: Vec<u8>,
}

impl Auth0Response {
    /// The response data field.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put(tags::ENDPOINT_EPHEMERAL, self.endpoint_ephemeral.uncompressed());
        if let Some(c) = &self.cryptogram {
            w.put(tags::CRYPTOGRAM, c);
        }
        w.put_raw(&self.vendor_extension);
        w.into_bytes()
    }

    /// Parses the response data field.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            endpoint_ephemeral: EcPublicKey::from_uncompressed(f.require_array::<65>(tags::ENDPOINT_EPHEMERAL)?)?,
            cryptogram: f.optional_array::<64>(tags::CRYPTOGRAM)?.copied(),
            vendor_extension: f.get_tlv(tags::VENDOR_EXTENSION).map(|t| t.raw.to_vec()).unwrap_or_default(),
        })
    }
}

/// The 48-byte plaintext inside a fast cryptogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptogramPlaintext {
    /// Signaling bitmap.
    pub signaling: u16,
    /// Credential signed timestamp (opaque to carkey).
    pub credential_timestamp: [u8; 20],
    /// Revocation signed timestamp (opaque to carkey).
    pub revocation_timestamp: [u8; 20],
}

impl CryptogramPlaintext {
    /// `5E 02 ‖ 91 14 ‖ 92 14` = 48 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put(tags::SIGNALING, &self.signaling.to_be_bytes())
            .put(tags::CREDENTIAL_TIMESTAMP, &self.credential_timestamp)
            .put(tags::REVOCATION_TIMESTAMP, &self.revocation_timestamp);
        w.into_bytes()
    }

    /// Parses a decrypted cryptogram.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            signaling: u16::from_be_bytes(*f.require_array::<2>(tags::SIGNALING)?),
            credential_timestamp: *f.require_array::<20>(tags::CREDENTIAL_TIMESTAMP)?,
            revocation_timestamp: *f.require_array::<20>(tags::REVOCATION_TIMESTAMP)?,
        })
    }
}

/// The data both AUTH1 signatures cover:
/// `4D(reader_id) ‖ 86(endpoint_eph.x) ‖ 87(reader_eph.x) ‖ 4C(transaction_id) ‖ 93(context)`.
pub fn auth1_signed_data(
    reader_id: &[u8; 32],
    endpoint_ephemeral_x: &[u8; 32],
    reader_ephemeral_x: &[u8; 32],
    transaction_id: &[u8; 16],
    context: &[u8; 4],
) -> Vec<u8> {
    let mut w = TlvWriter::new();
    w.put(tags::READER_ID, reader_id)
        .put(tags::ENDPOINT_EPHEMERAL, endpoint_ephemeral_x)
        .put(tags::READER_EPHEMERAL, reader_ephemeral_x)
        .put(tags::TRANSACTION_ID, transaction_id)
        .put(tags::USAGE, context);
    w.into_bytes()
}

/// AUTH1 command fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth1Command {
    /// Reader signature, raw `r ‖ s`.
    pub signature: [u8; 64],
}

impl Auth1Command {
    /// The APDU; tag 41 = 01 asks the endpoint to send its public key.
    pub fn to_apdu(&self) -> CommandApdu {
        let mut w = TlvWriter::new();
        w.put_u8(tags::PARAMETERS, 0x01).put(tags::SIGNATURE, &self.signature);
        CommandApdu::new(CLA_PROPRIETARY, INS_AUTH1, 0, 0).with_data(w.into_bytes()).with_le(256)
    }

    /// Parses the command data field.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        let flags = f.require_array::<1>(tags::PARAMETERS)?[0];
        if flags != 0x01 {
            return Err(MessageError::UndefinedValue { tag: tags::PARAMETERS, value: flags });
        }
        Ok(Self { signature: *f.require_array::<64>(tags::SIGNATURE)? })
    }
}

/// The decrypted AUTH1 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth1Response {
    /// The endpoint's key slot identifier.
    pub key_slot: [u8; 8],
    /// The endpoint's long-term public key.
    pub endpoint_public: EcPublicKey,
    /// Endpoint signature, raw `r ‖ s`.
    pub signature: [u8; 64],
    /// Signaling bitmap.
    pub signaling: u16,
    /// Credential signed timestamp.
    pub credential_timestamp: Option<[u8; 20]>,
    /// Revocation signed timestamp.
    pub revocation_timestamp: Option<[u8; 20]>,
    /// Mailbox subset the endpoint chose to include.
    pub mailbox_subset: Option<Vec<u8>>,
}

impl Auth1Response {
    /// The plaintext before encryption.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put(tags::KEY_SLOT, &self.key_slot)
            .put(tags::ENDPOINT_PUBLIC, self.endpoint_public.uncompressed())
            .put(tags::SIGNATURE, &self.signature)
            .put(tags::SIGNALING, &self.signaling.to_be_bytes());
        if let Some(t) = &self.credential_timestamp {
            w.put(tags::CREDENTIAL_TIMESTAMP, t);
        }
        if let Some(t) = &self.revocation_timestamp {
            w.put(tags::REVOCATION_TIMESTAMP, t);
        }
        if let Some(m) = &self.mailbox_subset {
            w.put(tags::MAILBOX_SUBSET, m);
        }
        w.into_bytes()
    }

    /// Parses the decrypted plaintext. carkey always asks for the public key, so it is
    /// required here.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            key_slot: *f.require_array::<8>(tags::KEY_SLOT)?,
            endpoint_public: EcPublicKey::from_uncompressed(f.require_array::<65>(tags::ENDPOINT_PUBLIC)?)?,
            signature: *f.require_array::<64>(tags::SIGNATURE)?,
            signaling: u16::from_be_bytes(*f.require_array::<2>(tags::SIGNALING)?),
            credential_timestamp: f.optional_array::<20>(tags::CREDENTIAL_TIMESTAMP)?.copied(),
            revocation_timestamp: f.optional_array::<20>(tags::REVOCATION_TIMESTAMP)?.copied(),
            mailbox_subset: f.get(tags::MAILBOX_SUBSET).map(<[u8]>::to_vec),
        })
    }
}

/// How the transaction ended, as told to the endpoint in CONTROL FLOW.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlFlowStatus {
    /// The vehicle acted on the key.
    Success,
    /// Authenticated, but the vehicle's policy refused the action.
    Denied,
    /// The transaction failed (authentication, protocol or timing).
    Failure,
}

impl ControlFlowStatus {
    /// Wire value of tag 41.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Failure => 0x00,
            Self::Success => 0x01,
            Self::Denied => 0x02,
        }
    }

    /// Parses the wire value of tag 41.
    pub fn from_byte(value: u8) -> Result<Self, MessageError> {
        match value {
            0x00 => Ok(Self::Failure),
            0x01 => Ok(Self::Success),
            0x02 => Ok(Self::Denied),
            _ => Err(MessageError::UndefinedValue { tag: tags::PARAMETERS, value }),
        }
    }
}

/// CONTROL FLOW command: status (41), domain (42, 01 = vehicle access) and a reason (43)
/// the phone may show. Sent in the clear: it carries nothing secret and the vehicle has
/// already decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlFlow {
    /// Outcome.
    pub status: ControlFlowStatus,
    /// Implementation-defined reason code (0 = none).
    pub reason: u8,
}

/// CONTROL FLOW domain: vehicle access.
pub const CONTROL_FLOW_DOMAIN_VEHICLE: u8 = 0x01;

impl ControlFlow {
    /// The APDU.
    pub fn to_apdu(&self) -> CommandApdu {
        let mut w = TlvWriter::new();
        w.put_u8(tags::PARAMETERS, self.status.to_byte())
            .put_u8(tags::POLICY, CONTROL_FLOW_DOMAIN_VEHICLE)
            .put_u8(tags::REASON, self.reason);
        CommandApdu::new(CLA_PROPRIETARY, INS_CONTROL_FLOW, 0, 0).with_data(w.into_bytes())
    }

    /// Parses the command data field.
    pub fn parse(data: &[u8]) -> Result<Self, MessageError> {
        let f = Fields::parse(data)?;
        Ok(Self {
            status: ControlFlowStatus::from_byte(f.require_array::<1>(tags::PARAMETERS)?[0])?,
            reason: f.optional_array::<1>(tags::REASON)?.map_or(0, |r| r[0]),
        })
    }
}
