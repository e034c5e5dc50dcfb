//! Key derivation functions: ANSI X9.63 (SEC 1 §3.6.1) and HKDF (RFC 5869), SHA-256.

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use super::Secret32;

/// ANSI X9.63 KDF with SHA-256: `K = H(Z ‖ counter_be32 ‖ SharedInfo)` for counter = 1, 2, …,
/// concatenated and truncated to `out.len()`.
///
/// The protocol uses it once per standard transaction to turn the raw ECDH secret into
/// `K_dh` with the transaction identifier as SharedInfo.
pub fn x963_kdf_sha256(z: &[u8], shared_info: &[u8], out: &mut [u8]) {
    let mut counter: u32 = 1;
    for chunk in out.chunks_mut(32) {
        let mut block =
            Sha256::new().chain_update(z).chain_update(counter.to_be_bytes()).chain_update(shared_info).finalize();
        let n = chunk.len();
        chunk.copy_from_slice(block.get(..n).unwrap_or_default());
        block.zeroize();
        counter = counter.wrapping_add(1);
    }
}

/// X9.63 KDF producing exactly one 32-byte secret.
pub fn x963_kdf_sha256_32(z: &[u8], shared_info: &[u8]) -> Secret32 {
    let mut out = [0u8; 32];
    x963_kdf_sha256(z, shared_info, &mut out);
    let secret = Secret32::new(out);
    out.zeroize();
    secret
}

/// HKDF-SHA256 (extract then expand) into `out`.
///
/// `out.len()` is at most 255 × 32 bytes by construction in this crate (the largest
/// request is 160 bytes), so the expand step cannot fail; a longer request is a
/// programming error and leaves `out` zeroed rather than panicking.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    let hk = Hkdf::<Sha256>::new(Some(salt), ikm);
    if hk.expand(info, out).is_err() {
        debug_assert!(false, "HKDF output length {} over the RFC 5869 limit", out.len());
        out.zeroize();
    }
}

/// HKDF-SHA256 producing exactly one 32-byte secret.
pub fn hkdf_sha256_32(ikm: &[u8], salt: &[u8], info: &[u8]) -> Secret32 {
    let mut out = [0u8; 32];
    hkdf_sha256(ikm, salt, info, &mut out);
    let secret = Secret32::new(out);
    out.zeroize();
    secret
}
