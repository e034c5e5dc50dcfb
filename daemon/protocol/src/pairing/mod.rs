//! Owner pairing: the framework applet, SPAKE2+ over APDUs, and key creation.
//!
//! carkey's definition in the CCC style (the crate README has the byte layout):
//!
//! 1. `SELECT` the framework AID. A phone that is not pairing answers `6A82`, so the
//!    vehicle can try pairing at every console tap while an offer is pending and fall
//!    back to an ordinary transaction.
//! 2. `80 30` SPAKE2+ REQUEST: version, reader identifier, scrypt salt and cost. The
//!    phone hashes the owner's code and answers `shareP`.
//! 3. `80 32` SPAKE2+ VERIFY: `shareV` and `confirmV` (the vehicle's evidence). A phone
//!    with the right code answers `confirmP`; with a wrong code it refuses (`6982`).
//!    The vehicle counts the attempt *before* it sends this command, so pulling the
//!    phone away never saves a guess.
//! 4. `80 34` KEY CREATION, encrypted under keys from `K_shared`: the vehicle sends its
//!    long-term public key; the phone creates an endpoint key pair for this vehicle and
//!    answers with its public key and key slot.
//!
//! The vehicle then runs an ordinary standard transaction in the same tap, which proves
//! the phone holds the new private key, agrees K_persistent, and writes the immobilizer
//! token into the confidential mailbox; only then is the owner key stored.

mod endpoint;
mod messages;
mod reader;

pub use endpoint::{PairingEndpoint, PairingOutcome};
pub use messages::{KeyCreationRequest, KeyCreationResponse, PairingError, Spake2Request, Spake2Verify};
pub use reader::{PairedEndpoint, PairingSession, PairingStep};

/// The framework applet's answer to SELECT (phone side).
pub(crate) fn framework_fci(versions: &[[u8; 2]]) -> Vec<u8> {
    reader::encode_fci(versions)
}

use crate::mailbox::{ExchangeRequest, MailboxId, MailboxOp};

/// The framework applet (a proprietary, unregistered AID: `F0` ‖ "carkeyFW").
pub const FRAMEWORK_AID: [u8; 9] = [0xF0, 0x63, 0x61, 0x72, 0x6B, 0x65, 0x79, 0x46, 0x57];
/// SPAKE2+ REQUEST instruction.
pub const INS_SPAKE2_REQUEST: u8 = 0x30;
/// SPAKE2+ VERIFY instruction.
pub const INS_SPAKE2_VERIFY: u8 = 0x32;
/// KEY CREATION instruction.
pub const INS_KEY_CREATION: u8 = 0x34;
/// Length of the scrypt salt.
pub const SALT_LEN: usize = 16;
/// SPAKE2+ context string (RFC 9383 §3.3): binds the exchange to this protocol.
pub const CONTEXT: &[u8] = b"carkey owner pairing v1";
/// SPAKE2+ prover identity: the owner's phone, before it has a key.
pub const ID_PROVER: &[u8] = b"carkey owner phone";

/// SPAKE2+ verifier identity: the vehicle's reader group identifier.
pub const fn id_verifier(group_id: &[u8; 16]) -> [u8; 16] {
    *group_id
}

/// Where the immobilizer token lives in the confidential mailbox: offset and length.
pub const IMMOBILIZER_TOKEN: (u16, u16) = (0, 32);

/// The EXCHANGE that writes the immobilizer token (vehicle side, right after pairing).
pub fn write_immobilizer_token(token: &[u8; 32]) -> ExchangeRequest {
    ExchangeRequest {
        ops: vec![MailboxOp::Write {
            mailbox: MailboxId::Confidential,
            offset: IMMOBILIZER_TOKEN.0,
            data: token.to_vec(),
        }],
        atomic: true,
    }
}

/// The EXCHANGE that reads the immobilizer token back (at engine start).
pub fn read_immobilizer_token() -> ExchangeRequest {
    let (offset, len) = IMMOBILIZER_TOKEN;
    ExchangeRequest { ops: vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset, len }], atomic: false }
}
