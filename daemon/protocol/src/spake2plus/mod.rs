//! SPAKE2+ (RFC 9383), ciphersuite P256-SHA256-HKDF-SHA256-HMAC-SHA256: the password-
//! authenticated key exchange of owner pairing.
//!
//! The owner's phone is the **prover**: it knows the pairing password and derives
//! `w0` and `w1` from it ([`Registration`]). The vehicle is the **verifier**: it stores
//! only `w0` and `L = w1·P` ([`Verifier`]), so a dump of its storage does not let anyone
//! act as the owner without first recovering the password from the record (an offline
//! attack that the caller's password hash makes expensive).
//!
//! ```text
//! prover (phone)                                              verifier (vehicle)
//!   Prover::start(registration, …)      ── shareP ──►
//!                                                           Verifier::respond(…, shareP)
//!                                        ◄── shareV, confirmV ──
//!   Prover::finish(shareV, confirmV)    ── confirmP ──►
//!     → K_shared                                            VerifierSession::finish(confirmP)
//!                                                             → K_shared
//! ```
//!
//! Everything is sans-IO: the caller carries the bytes, supplies the random generator and
//! enforces the attempt limit (DESIGN §2: at most 7). Each session is consumed by its
//! last step, so it cannot be reused.
//!
//! The password hash is the caller's choice, as RFC 9383 §3.2 leaves it: run a memory-hard
//! PBKDF (the RFC suggests scrypt with N = 32768, r = 8, p = 1, or Argon2id) over
//! `len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖ len(idVerifier) ‖ idVerifier` for 80 bytes
//! `w0s ‖ w1s`, and hand them to [`Registration::from_pbkdf_output`] (or the halves to
//! [`Registration::from_w0s_w1s`]), which reduces each 40-byte half modulo the group
//! order. Forty bytes is `ceil(log2(n)) + 64` bits, which keeps the reduction's bias
//! below 2^-64 as the RFC requires.
//!
//! Checks, per RFC 9383 §3.3 and §6: a received share must be a 65-byte uncompressed point
//! on P-256 other than the identity (P-256's cofactor is 1, so that is the whole subgroup
//! check); a share that cancels the password's mask (`X = w0·M`, `Y = w0·N`) is refused
//! too, as it would make `Z` the identity. Confirmation MACs are compared in constant time;
//! every secret (`w0`, `w1`, `x`, `y`, `Z`, `V`, `K_main`, the confirmation keys, the
//! expected confirmation) is wiped when its holder is dropped.
//!
//! ```
//! use carkey_protocol::spake2plus::{Prover, Registration, Verifier};
//!
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let pbkdf_output = [0x5A; 80]; // from scrypt or Argon2id over the password, in practice
//! let registration = Registration::from_pbkdf_output(&pbkdf_output)?;
//! let stored = registration.verifier().to_bytes(); // what the vehicle keeps
//!
//! let (context, phone, vehicle) = (b"carkey pairing v1".as_slice(), b"phone".as_slice(), b"vehicle".as_slice());
//! let (prover, share_p) = Prover::start(&registration, context, phone, vehicle, &mut rng);
//! let verifier = Verifier::from_bytes(&*stored)?;
//! let (session, share_v, confirm_v) = verifier.respond(context, phone, vehicle, &share_p, &mut rng)?;
//! let (confirm_p, phone_key) = prover.finish(&share_v, &confirm_v)?;
//! let vehicle_key = session.finish(&confirm_p)?;
//! assert_eq!(phone_key, vehicle_key);
//! # Ok::<(), carkey_protocol::spake2plus::Spake2PlusError>(())
//! ```

mod group;
mod password;
mod schedule;
#[cfg(test)]
mod tests;

use core::fmt;

use p256::elliptic_curve::Generate;
use p256::elliptic_curve::Group;
use p256::{NonZeroScalar, ProjectivePoint, Scalar};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

pub use password::{ScryptParams, registration_from_password};
pub use schedule::{KeySchedule, Transcript};

use crate::crypto::Secret32;
use group::Constants;

/// Length of a share (`shareP`, `shareV`, and `L`): an uncompressed SEC1 P-256 point.
pub const SHARE_LEN: usize = 65;
/// Length of a key confirmation message (`confirmP`, `confirmV`): an HMAC-SHA256 tag.
pub const CONFIRMATION_LEN: usize = 32;
/// Length of each PBKDF output half `w0s`, `w1s`: `ceil(log2(n)) + 64` bits for P-256.
pub const PBKDF_HALF_LEN: usize = 40;
/// Length of a serialized [`Verifier`]: `w0` (32 bytes) ‖ `L` (65 bytes).
pub const VERIFIER_LEN: usize = 32 + SHARE_LEN;

/// Why a SPAKE2+ step failed. None of them says which secret was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Spake2PlusError {
    /// A received share is not a 65-byte uncompressed P-256 point other than the
    /// identity, or it cancels the password's mask.
    #[error("invalid SPAKE2+ share")]
    InvalidShare,
    /// A key confirmation message did not verify (wrong password, tampering, or not 32
    /// bytes long).
    #[error("SPAKE2+ key confirmation failed")]
    BadConfirmation,
    /// A scalar (`w0`, `w1`, `x`, `y`) is zero or not below the group order.
    #[error("invalid SPAKE2+ scalar")]
    InvalidScalar,
    /// Stored verifier bytes are malformed: not 97 bytes, `w0` not in `1..n`, or `L` not
    /// a valid point.
    #[error("invalid SPAKE2+ verifier record")]
    InvalidVerifier,
    /// The password-hash (scrypt) cost parameters are out of range.
    #[error("invalid password hash parameters")]
    InvalidPasswordParams,
}

/// The prover's secret: `w0` and `w1`, derived from the password (RFC 9383 §3.2).
///
/// Kept by the phone for the duration of a pairing; both scalars, and the points derived
/// from `w0`, are wiped on drop.
pub struct Registration {
    w0: Scalar,
    w1: Scalar,
    /// `w0·M` and `w0·N`, computed once: every exchange uses both.
    w0_m: ProjectivePoint,
    w0_n: ProjectivePoint,
    l: ProjectivePoint,
    l_bytes: [u8; SHARE_LEN],
    constants: &'static Constants,
}

impl Registration {
    /// From the 80-byte PBKDF output `w0s ‖ w1s` (RFC 9383 §3.2): `w0 = w0s mod n`,
    /// `w1 = w1s mod n`.
    pub fn from_pbkdf_output(output: &[u8; 2 * PBKDF_HALF_LEN]) -> Result<Self, Spake2PlusError> {
        let w0s = output.first_chunk::<PBKDF_HALF_LEN>().ok_or(Spake2PlusError::InvalidScalar)?;
        let w1s = output.last_chunk::<PBKDF_HALF_LEN>().ok_or(Spake2PlusError::InvalidScalar)?;
        Self::from_w0s_w1s(w0s, w1s)
    }

    /// From the two 40-byte PBKDF output halves, each reduced modulo the group order.
    /// Fails with [`Spake2PlusError::InvalidScalar`] if either reduces to zero.
    pub fn from_w0s_w1s(w0s: &[u8; PBKDF_HALF_LEN], w1s: &[u8; PBKDF_HALF_LEN]) -> Result<Self, Spake2PlusError> {
        Self::new(group::reduce_pbkdf_half(w0s)?, group::reduce_pbkdf_half(w1s)?)
    }

    /// From `w0` and `w1` themselves (32 bytes big-endian each, in `1..n`), as RFC 9383's
    /// test vectors give them.
    pub fn from_scalars(w0: &[u8; 32], w1: &[u8; 32]) -> Result<Self, Spake2PlusError> {
        Self::new(group::nonzero_scalar(w0)?, group::nonzero_scalar(w1)?)
    }

    fn new(w0: Scalar, w1: Scalar) -> Result<Self, Spake2PlusError> {
        // Unreachable failure: the suite's constants are tested to decode.
        let constants = group::constants().ok_or(Spake2PlusError::InvalidScalar)?;
        let l = ProjectivePoint::mul_by_generator(&w1);
        // w1 is non-zero, so L is not the identity and has an encoding.
        let l_bytes = group::encode(&l).ok_or(Spake2PlusError::InvalidScalar)?;
        Ok(Self { w0, w1, w0_m: constants.m * w0, w0_n: constants.n * w0, l, l_bytes, constants })
    }

    /// The verifier record for the vehicle: `w0` and `L = w1·P`.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            w0: self.w0,
            l: self.l,
            l_bytes: self.l_bytes,
            w0_m: self.w0_m,
            w0_n: self.w0_n,
            constants: self.constants,
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.w0.zeroize();
        self.w1.zeroize();
        self.w0_m.zeroize();
        self.w0_n.zeroize();
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Registration(..)")
    }
}

/// The verifier record the vehicle stores: `w0` and `L = w1·P` (RFC 9383 §3.2).
///
/// `w0` is a secret (with `L`, it lets an attacker test password guesses offline, and
/// with the password hash it would impersonate the vehicle): store the serialized form
/// encrypted. `w0` and the points derived from it are wiped on drop.
pub struct Verifier {
    w0: Scalar,
    l: ProjectivePoint,
    l_bytes: [u8; SHARE_LEN],
    w0_m: ProjectivePoint,
    w0_n: ProjectivePoint,
    constants: &'static Constants,
}

impl Verifier {
    /// `w0` (32 bytes big-endian) ‖ `L` (65 bytes uncompressed).
    pub fn to_bytes(&self) -> Zeroizing<[u8; VERIFIER_LEN]> {
        let mut out = Zeroizing::new([0u8; VERIFIER_LEN]);
        let mut w0: [u8; 32] = self.w0.to_bytes().into();
        if let Some(head) = out.first_chunk_mut::<32>() {
            head.copy_from_slice(&w0);
        }
        if let Some(tail) = out.last_chunk_mut::<SHARE_LEN>() {
            tail.copy_from_slice(&self.l_bytes);
        }
        w0.zeroize();
        out
    }

    /// Parses [`Verifier::to_bytes`], checking that `w0` is in `1..n` and `L` is a valid
    /// point other than the identity. Computes `w0·M` and `w0·N` (two scalar
    /// multiplications) once, for every exchange this record then runs.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Spake2PlusError> {
        let bytes: &[u8; VERIFIER_LEN] = bytes.try_into().map_err(|_| Spake2PlusError::InvalidVerifier)?;
        let w0 = bytes.first_chunk::<32>().ok_or(Spake2PlusError::InvalidVerifier)?;
        let l_bytes = bytes.last_chunk::<SHARE_LEN>().ok_or(Spake2PlusError::InvalidVerifier)?;
        let w0 = group::nonzero_scalar(w0).map_err(|_| Spake2PlusError::InvalidVerifier)?;
        let l = group::decode_share(l_bytes).map_err(|_| Spake2PlusError::InvalidVerifier)?;
        let constants = group::constants().ok_or(Spake2PlusError::InvalidVerifier)?;
        Ok(Self { w0, l, l_bytes: *l_bytes, w0_m: constants.m * w0, w0_n: constants.n * w0, constants })
    }

    /// `L = w1·P`, uncompressed.
    pub const fn l(&self) -> &[u8; SHARE_LEN] {
        &self.l_bytes
    }

    /// Answers the prover's `shareP` with a fresh `y`: returns the session that waits for
    /// `confirmP`, `shareV` and `confirmV` (both sent to the prover, in one message if the
    /// carrier allows).
    ///
    /// `context`, `id_prover` and `id_verifier` must be the prover's, byte for byte.
    pub fn respond<R: CryptoRng + ?Sized>(
        &self,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        share_p: &[u8],
        rng: &mut R,
    ) -> Result<(VerifierSession, [u8; SHARE_LEN], [u8; CONFIRMATION_LEN]), Spake2PlusError> {
        let x = self.unmask_share_p(share_p)?;
        loop {
            let mut random = NonZeroScalar::generate_from_rng(rng);
            let mut y = *random;
            random.zeroize();
            let result = self.respond_inner(context, id_prover, id_verifier, share_p, &x, &y);
            y.zeroize();
            match result {
                // shareV was the identity: y = -w0·log(N), probability 2^-256. Draw again.
                Err(Spake2PlusError::InvalidScalar) => continue,
                other => return other,
            }
        }
    }

    /// [`Verifier::respond`] with a given `y` (32 bytes big-endian, in `1..n`).
    ///
    /// For known-answer tests only (RFC 9383 Appendix C): a `y` used twice reveals the
    /// session keys of both exchanges.
    pub fn respond_with_scalar(
        &self,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        share_p: &[u8],
        y: &[u8; 32],
    ) -> Result<(VerifierSession, [u8; SHARE_LEN], [u8; CONFIRMATION_LEN]), Spake2PlusError> {
        let x = self.unmask_share_p(share_p)?;
        let mut y = group::nonzero_scalar(y)?;
        let result = self.respond_inner(context, id_prover, id_verifier, share_p, &x, &y);
        y.zeroize();
        result
    }

    /// Validates `shareP = X` and returns `X - w0·M`.
    fn unmask_share_p(&self, share_p: &[u8]) -> Result<ProjectivePoint, Spake2PlusError> {
        let unmasked = group::decode_share(share_p)? - self.w0_m;
        if bool::from(unmasked.is_identity()) {
            return Err(Spake2PlusError::InvalidShare);
        }
        Ok(unmasked)
    }

    fn respond_inner(
        &self,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        share_p: &[u8],
        unmasked_x: &ProjectivePoint,
        y: &Scalar,
    ) -> Result<(VerifierSession, [u8; SHARE_LEN], [u8; CONFIRMATION_LEN]), Spake2PlusError> {
        let share_v =
            group::encode(&(ProjectivePoint::mul_by_generator(y) + self.w0_n)).ok_or(Spake2PlusError::InvalidScalar)?;
        // Z = h·y·(X - w0·M), V = h·y·L, h = 1. Neither is the identity: y ≠ 0 and both
        // points are non-identity elements of a group of prime order.
        let z = Zeroizing::new(group::encode(&(*unmasked_x * y)).ok_or(Spake2PlusError::InvalidShare)?);
        let v = Zeroizing::new(group::encode(&(self.l * y)).ok_or(Spake2PlusError::InvalidShare)?);
        let w0 = Zeroizing::new(<[u8; 32]>::from(self.w0.to_bytes()));

        let mut hasher = Sha256::new();
        schedule::write_prefix(&mut hasher, self.constants, context, id_prover, id_verifier, share_p);
        schedule::write_suffix(&mut hasher, &share_v, &*z, &*v, &*w0);
        let keys = KeySchedule::from_hasher(hasher);

        let confirm_v = keys.confirm_v(share_p);
        let session = VerifierSession { expected_confirm_p: keys.confirm_p(&share_v), shared: keys.k_shared().clone() };
        Ok((session, share_v, confirm_v))
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        self.w0.zeroize();
        self.w0_m.zeroize();
        self.w0_n.zeroize();
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

/// The vehicle's half of one exchange, after it sent `shareV` and `confirmV`: it holds the
/// expected `confirmP` and `K_shared`, both wiped on drop.
pub struct VerifierSession {
    expected_confirm_p: [u8; CONFIRMATION_LEN],
    shared: Secret32,
}

impl VerifierSession {
    /// Checks the prover's `confirmP` (constant time) and returns `K_shared`. The session
    /// is consumed either way: a failed confirmation is a failed attempt.
    pub fn finish(self, confirm_p: &[u8]) -> Result<Secret32, Spake2PlusError> {
        if bool::from(self.expected_confirm_p.as_slice().ct_eq(confirm_p)) {
            Ok(self.shared.clone())
        } else {
            Err(Spake2PlusError::BadConfirmation)
        }
    }
}

impl Drop for VerifierSession {
    fn drop(&mut self) {
        self.expected_confirm_p.zeroize();
    }
}

impl fmt::Debug for VerifierSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerifierSession(..)")
    }
}

/// The phone's half of one exchange, after it sent `shareP`: it holds `x`, copies of
/// `w0`/`w1`, and the transcript hashed so far. Secrets are wiped on drop.
pub struct Prover {
    x: Scalar,
    w0: Scalar,
    w1: Scalar,
    w0_n: ProjectivePoint,
    share_p: [u8; SHARE_LEN],
    /// SHA-256 over `TT` up to and including `shareP` (public values only).
    transcript: Sha256,
}

impl Prover {
    /// Starts an exchange with a fresh `x`: returns the session and `shareP` for the
    /// verifier. `context`, `id_prover` and `id_verifier` must be the verifier's, byte
    /// for byte.
    pub fn start<R: CryptoRng + ?Sized>(
        registration: &Registration,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        rng: &mut R,
    ) -> (Self, [u8; SHARE_LEN]) {
        loop {
            let mut random = NonZeroScalar::generate_from_rng(rng);
            let mut x = *random;
            random.zeroize();
            let started = Self::start_inner(registration, context, id_prover, id_verifier, &x);
            x.zeroize();
            // Only fails if shareP is the identity: x = -w0·log(M), probability 2^-256.
            if let Some(started) = started {
                return started;
            }
        }
    }

    /// [`Prover::start`] with a given `x` (32 bytes big-endian, in `1..n`).
    ///
    /// For known-answer tests only (RFC 9383 Appendix C): an `x` used twice reveals the
    /// session keys of both exchanges.
    pub fn start_with_scalar(
        registration: &Registration,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        x: &[u8; 32],
    ) -> Result<(Self, [u8; SHARE_LEN]), Spake2PlusError> {
        let mut x = group::nonzero_scalar(x)?;
        let started = Self::start_inner(registration, context, id_prover, id_verifier, &x);
        x.zeroize();
        started.ok_or(Spake2PlusError::InvalidScalar)
    }

    fn start_inner(
        registration: &Registration,
        context: &[u8],
        id_prover: &[u8],
        id_verifier: &[u8],
        x: &Scalar,
    ) -> Option<(Self, [u8; SHARE_LEN])> {
        // X = x·P + w0·M
        let share_p = group::encode(&(ProjectivePoint::mul_by_generator(x) + registration.w0_m))?;
        let mut transcript = Sha256::new();
        schedule::write_prefix(&mut transcript, registration.constants, context, id_prover, id_verifier, &share_p);
        let prover =
            Self { x: *x, w0: registration.w0, w1: registration.w1, w0_n: registration.w0_n, share_p, transcript };
        Some((prover, share_p))
    }

    /// Takes the verifier's `shareV` and `confirmV`; if `confirmV` verifies (constant
    /// time), returns `confirmP` for the verifier and `K_shared`.
    ///
    /// Send `confirmP` only after this returned `Ok`; use `K_shared` only once the
    /// verifier has accepted `confirmP`.
    pub fn finish(
        mut self,
        share_v: &[u8],
        confirm_v: &[u8],
    ) -> Result<([u8; CONFIRMATION_LEN], Secret32), Spake2PlusError> {
        let unmasked = group::decode_share(share_v)? - self.w0_n;
        if bool::from(unmasked.is_identity()) {
            return Err(Spake2PlusError::InvalidShare);
        }
        // Z = h·x·(Y - w0·N), V = h·w1·(Y - w0·N), h = 1.
        let z = Zeroizing::new(group::encode(&(unmasked * self.x)).ok_or(Spake2PlusError::InvalidShare)?);
        let v = Zeroizing::new(group::encode(&(unmasked * self.w1)).ok_or(Spake2PlusError::InvalidShare)?);
        let w0 = Zeroizing::new(<[u8; 32]>::from(self.w0.to_bytes()));

        let mut hasher = core::mem::take(&mut self.transcript);
        schedule::write_suffix(&mut hasher, share_v, &*z, &*v, &*w0);
        let keys = KeySchedule::from_hasher(hasher);

        let mut expected_confirm_v = keys.confirm_v(&self.share_p);
        let verified = bool::from(expected_confirm_v.as_slice().ct_eq(confirm_v));
        expected_confirm_v.zeroize();
        if !verified {
            return Err(Spake2PlusError::BadConfirmation);
        }
        Ok((keys.confirm_p(share_v), keys.k_shared().clone()))
    }
}

impl Drop for Prover {
    fn drop(&mut self) {
        self.x.zeroize();
        self.w0.zeroize();
        self.w1.zeroize();
        self.w0_n.zeroize();
    }
}

impl fmt::Debug for Prover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prover").field("share_p", &self.share_p).finish_non_exhaustive()
    }
}
