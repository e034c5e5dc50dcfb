//! The key schedule: transcript salts, `K_dh`, the 160-byte splits and `K_persistent`.
//!
//! Layout follows the public Aliro expedited-phase facts (see the crate README):
//!
//! ```text
//! salt = reader_pk.x(32) ‖ mode(12) ‖ reader_id(32) ‖ 5E 5C 02 ‖ version(2)
//!      ‖ reader_eph.x(32) ‖ transaction_id(16) ‖ AUTH0 41-value ‖ AUTH0 42-value
//!      ‖ the SELECT A5 TLV ‖ [endpoint_pk.x(32) for "VolatileFast" and "Persistent**"]
//! info = endpoint_eph.x(32) ‖ [AUTH0 response vendor-extension TLV]
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::Secret32;
use crate::crypto::kdf::{hkdf_sha256, hkdf_sha256_32, x963_kdf_sha256_32};

/// The 12-byte mode label that separates the three HKDF uses of one transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Standard transaction session keys (from `K_dh`).
    Volatile,
    /// Fast transaction session keys and cryptogram key (from `K_persistent`).
    VolatileFast,
    /// The next `K_persistent` (from `K_dh`, bound to the endpoint's long-term key).
    Persistent,
}

impl Mode {
    /// The label bytes as they appear in the salt.
    pub const fn label(self) -> &'static [u8; 12] {
        match self {
            Self::Volatile => b"Volatile****",
            Self::VolatileFast => b"VolatileFast",
            Self::Persistent => b"Persistent**",
        }
    }
}

/// Everything both sides saw in SELECT and AUTH0: the input to every derivation.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// x of the vehicle's long-term public key.
    pub reader_public_x: [u8; 32],
    /// Reader group identifier ‖ sub-identifier (AUTH0 tag 4D).
    pub reader_id: [u8; 32],
    /// Negotiated protocol version (AUTH0 tag 5C).
    pub version: [u8; 2],
    /// x of the reader's ephemeral key (AUTH0 tag 87).
    pub reader_ephemeral_x: [u8; 32],
    /// Transaction identifier (AUTH0 tag 4C).
    pub transaction_id: [u8; 16],
    /// AUTH0 tag 41 value: 00 standard, 01 fast requested.
    pub command_parameters: u8,
    /// AUTH0 tag 42 value: the authentication policy / transaction code.
    pub authentication_policy: u8,
    /// The complete `A5` TLV (tag, length and value) from the SELECT response.
    pub select_proprietary_tlv: Vec<u8>,
    /// x of the endpoint's ephemeral key (AUTH0 response tag 86).
    pub endpoint_ephemeral_x: [u8; 32],
    /// The complete vendor-extension TLV of the AUTH0 response, or empty.
    pub auth0_vendor_extension: Vec<u8>,
}

/// The interface byte and version tag that Aliro puts in front of the version.
const VERSION_MARKER: [u8; 3] = [0x5E, 0x5C, 0x02];

impl Transcript {
    /// The salt for `mode`, ending with `endpoint_public_x` when given.
    pub fn salt(&self, mode: Mode, endpoint_public_x: Option<&[u8; 32]>) -> Vec<u8> {
        let mut salt = Vec::with_capacity(200 + self.select_proprietary_tlv.len());
        self.write_salt_prefix(mode, &mut salt);
        if let Some(x) = endpoint_public_x {
            salt.extend_from_slice(x);
        }
        salt
    }

    fn write_salt_prefix(&self, mode: Mode, out: &mut impl Extend<u8>) {
        for part in [
            &self.reader_public_x[..],
            mode.label(),
            &self.reader_id,
            &VERSION_MARKER,
            &self.version,
            &self.reader_ephemeral_x,
            &self.transaction_id,
            &[self.command_parameters, self.authentication_policy],
            &self.select_proprietary_tlv,
        ] {
            out.extend(part.iter().copied());
        }
    }

    /// The HKDF info shared by all three modes.
    pub fn info(&self) -> Vec<u8> {
        let mut info = Vec::with_capacity(32 + self.auth0_vendor_extension.len());
        info.extend_from_slice(&self.endpoint_ephemeral_x);
        info.extend_from_slice(&self.auth0_vendor_extension);
        info
    }
}

/// `K_dh = X9.63-KDF-SHA256(Z, SharedInfo = transaction_id, 32)`.
pub fn derive_k_dh(shared_secret: &Secret32, transaction_id: &[u8; 16]) -> Secret32 {
    x963_kdf_sha256_32(shared_secret.expose(), transaction_id)
}

/// Reads five consecutive 32-byte secrets out of a 160-byte HKDF output and wipes it.
fn split160(okm: &mut [u8; 160]) -> [Secret32; 5] {
    let parts = core::array::from_fn(|i| {
        let start = i * 32;
        okm.get(start..start + 32).and_then(Secret32::from_slice).unwrap_or_else(|| Secret32::new([0; 32]))
    });
    okm.zeroize();
    parts
}

/// Session keys of a standard transaction (`okm` from `K_dh`, mode "Volatile****").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardKeys {
    /// ExpeditedSKReader: encrypts reader → endpoint messages.
    pub sk_reader: Secret32,
    /// ExpeditedSKDevice: encrypts endpoint → reader messages (first use: AUTH1 response).
    pub sk_device: Secret32,
    /// Input to the step-up keys ([`StandardKeys::step_up_keys`]).
    pub step_up_material: Secret32,
    /// Input to the BLE keys ([`ble_keys`]).
    pub ble_material: Secret32,
    /// UWB ranging secret key for the session that follows.
    pub ursk: Secret32,
}

impl StandardKeys {
    /// Derives the standard split from `K_dh`.
    pub fn derive(k_dh: &Secret32, transcript: &Transcript) -> Self {
        let salt = transcript.salt(Mode::Volatile, None);
        let mut okm = [0u8; 160];
        hkdf_sha256(k_dh.expose(), &salt, &transcript.info(), &mut okm);
        let [sk_reader, sk_device, step_up_material, ble_material, ursk] = split160(&mut okm);
        Self { sk_reader, sk_device, step_up_material, ble_material, ursk }
    }

    /// Step-up (`SKReader`, `SKDevice`) keys for a later secure session.
    pub fn step_up_keys(&self) -> (Secret32, Secret32) {
        let zeros = [0u8; 32];
        (
            hkdf_sha256_32(self.step_up_material.expose(), &zeros, b"SKReader"),
            hkdf_sha256_32(self.step_up_material.expose(), &zeros, b"SKDevice"),
        )
    }
}

/// `(BleSKReader, BleSKDevice)` from either split's BLE material.
pub fn ble_keys(ble_material: &Secret32) -> (Secret32, Secret32) {
    let zeros = [0u8; 32];
    (
        hkdf_sha256_32(ble_material.expose(), &zeros, b"BleSKReader"),
        hkdf_sha256_32(ble_material.expose(), &zeros, b"BleSKDevice"),
    )
}

/// The next `K_persistent`, bound to the endpoint's long-term public key.
pub fn derive_k_persistent(k_dh: &Secret32, transcript: &Transcript, endpoint_public_x: &[u8; 32]) -> Secret32 {
    let salt = transcript.salt(Mode::Persistent, Some(endpoint_public_x));
    hkdf_sha256_32(k_dh.expose(), &salt, &transcript.info())
}

/// Keys of a fast transaction (`okm` from `K_persistent`, mode "VolatileFast").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastKeys {
    /// Opens the AUTH0 cryptogram.
    pub cryptogram_sk: Secret32,
    /// ExpeditedSKReader for the fast session.
    pub sk_reader: Secret32,
    /// ExpeditedSKDevice for the fast session.
    pub sk_device: Secret32,
    /// Input to the BLE keys ([`ble_keys`]).
    pub ble_material: Secret32,
    /// UWB ranging secret key.
    pub ursk: Secret32,
}

impl FastKeys {
    /// Derives the fast split from a `K_persistent`.
    pub fn derive(k_persistent: &Secret32, transcript: &Transcript, endpoint_public_x: &[u8; 32]) -> Self {
        let salt = transcript.salt(Mode::VolatileFast, Some(endpoint_public_x));
        let mut okm = [0u8; 160];
        hkdf_sha256(k_persistent.expose(), &salt, &transcript.info(), &mut okm);
        let [cryptogram_sk, sk_reader, sk_device, ble_material, ursk] = split160(&mut okm);
        Self { cryptogram_sk, sk_reader, sk_device, ble_material, ursk }
    }
}

/// Trial derivation of CryptogramSK for many candidate keys, sharing the work they have
/// in common.
///
/// HMAC hashes any key longer than its 64-byte block, and the fast salt is always longer
/// (about 180 bytes) and differs between candidates only in its last 32 bytes (the
/// endpoint's x). So the SHA-256 state over the salt prefix is computed once per
/// transaction and cloned per candidate. And because HKDF-Expand's first block does not
/// depend on the output length, only those first 32 bytes (CryptogramSK) are derived per
/// candidate; the full 160 bytes are derived once, for the key that matched. The result
/// is bit-identical to [`FastKeys::derive`] (tested).
pub struct FastSearch {
    salt_prefix_hash: Sha256,
    salt_len_without_x: usize,
    /// `info ‖ 0x01`: the input of HKDF-Expand's first block.
    expand_first_block_input: Vec<u8>,
    transcript: Transcript,
}

impl FastSearch {
    /// Prepares a search over one transaction's transcript.
    pub fn new(transcript: &Transcript) -> Self {
        let prefix = transcript.salt(Mode::VolatileFast, None);
        let mut expand_first_block_input = transcript.info();
        expand_first_block_input.push(0x01);
        Self {
            salt_prefix_hash: Sha256::new().chain_update(&prefix),
            salt_len_without_x: prefix.len(),
            expand_first_block_input,
            transcript: transcript.clone(),
        }
    }

    /// CryptogramSK for one candidate.
    pub fn cryptogram_key(&self, k_persistent: &Secret32, endpoint_public_x: &[u8; 32]) -> Secret32 {
        // The shortcut is only valid when HMAC would hash the salt; otherwise fall back.
        if self.salt_len_without_x + 32 <= 64 {
            return FastKeys::derive(k_persistent, &self.transcript, endpoint_public_x).cryptogram_sk;
        }
        let hmac_key = Zeroizing::new(self.salt_prefix_hash.clone().chain_update(endpoint_public_x).finalize());
        let prk = hmac_sha256(&hmac_key, k_persistent.expose());
        let t1 = hmac_sha256(prk.as_slice(), &self.expand_first_block_input);
        Secret32::new(*t1)
    }

    /// The full fast split for the candidate that matched.
    pub fn full_keys(&self, k_persistent: &Secret32, endpoint_public_x: &[u8; 32]) -> FastKeys {
        FastKeys::derive(k_persistent, &self.transcript, endpoint_public_x)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut out = Zeroizing::new([0u8; 32]);
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        mac.update(message);
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}
