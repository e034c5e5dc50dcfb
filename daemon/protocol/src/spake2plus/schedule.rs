//! The transcript `TT` and the key schedule (RFC 9383 §3.3, §3.4).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::CONFIRMATION_LEN;
use super::group::Constants;
use crate::crypto::{Secret32, hkdf_sha256};

/// Where transcript bytes go: a buffer (known-answer tests) or straight into SHA-256
/// (the protocol), so that both see exactly the same bytes.
pub(super) trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl Sink for Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// `len(S) ‖ S`, the length as eight bytes little-endian.
fn field<S: Sink + ?Sized>(sink: &mut S, bytes: &[u8]) {
    let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    sink.put(&len.to_le_bytes());
    sink.put(bytes);
}

/// The part of `TT` the prover knows when it sends `shareP`:
/// `Context, idProver, idVerifier, M, N, shareP`.
pub(super) fn write_prefix<S: Sink + ?Sized>(
    sink: &mut S,
    constants: &Constants,
    context: &[u8],
    id_prover: &[u8],
    id_verifier: &[u8],
    share_p: &[u8],
) {
    field(sink, context);
    field(sink, id_prover);
    field(sink, id_verifier);
    field(sink, &constants.m_bytes);
    field(sink, &constants.n_bytes);
    field(sink, share_p);
}

/// The rest of `TT`: `shareV, Z, V, w0`.
pub(super) fn write_suffix<S: Sink + ?Sized>(sink: &mut S, share_v: &[u8], z: &[u8], v: &[u8], w0: &[u8]) {
    field(sink, share_v);
    field(sink, z);
    field(sink, v);
    field(sink, w0);
}

/// The inputs of the protocol transcript `TT` (RFC 9383 §3.3), each as it is encoded:
/// shares, `Z` and `V` as 65-byte uncompressed points, `w0` as 32 bytes big-endian.
///
/// The sessions hash `TT` directly; this type exists to print or check it, as the
/// known-answer tests do. `Z`, `V` and `w0` are secrets, and so is `TT`.
#[derive(Clone, Copy)]
pub struct Transcript<'a> {
    /// The application's context string (first in `TT`).
    pub context: &'a [u8],
    /// `idProver` (may be empty).
    pub id_prover: &'a [u8],
    /// `idVerifier` (may be empty).
    pub id_verifier: &'a [u8],
    /// `shareP = X`.
    pub share_p: &'a [u8],
    /// `shareV = Y`.
    pub share_v: &'a [u8],
    /// `Z`.
    pub z: &'a [u8],
    /// `V`.
    pub v: &'a [u8],
    /// `w0`.
    pub w0: &'a [u8],
}

impl Transcript<'_> {
    /// `TT = len(Context) ‖ Context ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier
    /// ‖ len(M) ‖ M ‖ len(N) ‖ N ‖ len(shareP) ‖ shareP ‖ len(shareV) ‖ shareV ‖ len(Z) ‖ Z ‖
    /// len(V) ‖ V ‖ len(w0) ‖ w0`, with `M` and `N` uncompressed. `None` only if the
    /// suite's constants `M` and `N` could not be decoded (never, in a tested build).
    pub fn to_bytes(&self) -> Option<Zeroizing<Vec<u8>>> {
        let constants = super::group::constants()?;
        let mut tt = Zeroizing::new(Vec::new());
        write_prefix(&mut *tt, constants, self.context, self.id_prover, self.id_verifier, self.share_p);
        write_suffix(&mut *tt, self.share_v, self.z, self.v, self.w0);
        Some(tt)
    }
}

/// The keys derived from `TT` (RFC 9383 §3.4), for P256-SHA256-HKDF-SHA256-HMAC-SHA256:
///
/// ```text
/// K_main = SHA-256(TT)
/// K_confirmP ‖ K_confirmV = HKDF-SHA256(salt = nil, IKM = K_main, info = "ConfirmationKeys", 64)
/// K_shared = HKDF-SHA256(salt = nil, IKM = K_main, info = "SharedKey", 32)
/// confirmP = HMAC-SHA256(K_confirmP, shareV),  confirmV = HMAC-SHA256(K_confirmV, shareP)
/// ```
///
/// Every key is a [`Secret32`]: wiped on drop.
pub struct KeySchedule {
    k_main: Secret32,
    k_confirm_p: Secret32,
    k_confirm_v: Secret32,
    k_shared: Secret32,
}

impl KeySchedule {
    /// Derives the schedule from the transcript bytes.
    pub fn from_transcript(tt: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(tt))
    }

    /// Derives the schedule from a hasher that has absorbed exactly `TT`.
    pub(super) fn from_hasher(hasher: Sha256) -> Self {
        let mut digest: [u8; 32] = hasher.finalize().into();
        let k_main = Secret32::new(digest);
        digest.zeroize();

        let mut confirmation = Zeroizing::new([0u8; 64]);
        hkdf_sha256(k_main.expose(), &[], b"ConfirmationKeys", &mut *confirmation);
        let (p, v) = confirmation.split_at(32);
        let zero = || Secret32::new([0; 32]);
        let k_confirm_p = Secret32::from_slice(p).unwrap_or_else(zero);
        let k_confirm_v = Secret32::from_slice(v).unwrap_or_else(zero);

        let mut shared = [0u8; 32];
        hkdf_sha256(k_main.expose(), &[], b"SharedKey", &mut shared);
        let k_shared = Secret32::new(shared);
        shared.zeroize();

        Self { k_main, k_confirm_p, k_confirm_v, k_shared }
    }

    /// `K_main = Hash(TT)`.
    pub const fn k_main(&self) -> &Secret32 {
        &self.k_main
    }

    /// `K_confirmP`, the first half of the "ConfirmationKeys" output.
    pub const fn k_confirm_p(&self) -> &Secret32 {
        &self.k_confirm_p
    }

    /// `K_confirmV`, the second half of the "ConfirmationKeys" output.
    pub const fn k_confirm_v(&self) -> &Secret32 {
        &self.k_confirm_v
    }

    /// `K_shared`, the key the protocol establishes.
    pub const fn k_shared(&self) -> &Secret32 {
        &self.k_shared
    }

    /// `confirmP = MAC(K_confirmP, shareV)`, what the prover sends.
    pub fn confirm_p(&self, share_v: &[u8]) -> [u8; CONFIRMATION_LEN] {
        hmac_sha256(self.k_confirm_p.expose(), share_v)
    }

    /// `confirmV = MAC(K_confirmV, shareP)`, what the verifier sends.
    pub fn confirm_v(&self, share_p: &[u8]) -> [u8; CONFIRMATION_LEN] {
        hmac_sha256(self.k_confirm_v.expose(), share_p)
    }
}

impl core::fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeySchedule(..)")
    }
}

fn hmac_sha256(key: &[u8; 32], message: &[u8]) -> [u8; CONFIRMATION_LEN] {
    // HMAC zero-pads a key shorter than the hash's block to the block length (RFC 2104 §2),
    // so handing it the padded 64-byte block is the same function, and infallible.
    let mut block = Zeroizing::new([0u8; 64]);
    if let Some(head) = block.first_chunk_mut::<32>() {
        head.copy_from_slice(key);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
    mac.update(message);
    mac.finalize().into_bytes().into()
}
