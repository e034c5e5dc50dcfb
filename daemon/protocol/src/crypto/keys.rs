//! P-256 keys: validated public keys, signing key pairs, ECDH and raw `r ‖ s` ECDSA.

use core::fmt;

use p256::ecdsa::signature::MultipartSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{NonZeroScalar, PublicKey};
use rand_core::CryptoRng;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use zeroize::Zeroize;

use super::Secret32;

/// Why a key or signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a 65-byte uncompressed SEC1 point (`04 ‖ x ‖ y`) on P-256.
    #[error("not an uncompressed P-256 public key on the curve")]
    InvalidPublicKey,
    /// Not a valid P-256 private scalar (zero or not below the group order).
    #[error("not a valid P-256 private key")]
    InvalidPrivateKey,
    /// Not 64 bytes, or `r`/`s` outside `1..n`.
    #[error("malformed ECDSA signature")]
    MalformedSignature,
    /// Well-formed but does not verify.
    #[error("ECDSA signature does not verify")]
    BadSignature,
    /// An ephemeral key was asked to agree a second time.
    #[error("ephemeral key already used")]
    EphemeralUsed,
}

/// A validated P-256 public key, kept together with its uncompressed encoding because the
/// protocol hashes and transmits those bytes (and the x coordinate alone) many times.
#[derive(Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    key: PublicKey,
    uncompressed: [u8; 65],
}

impl EcPublicKey {
    /// Parses `04 ‖ x ‖ y`, rejecting compressed points, the identity and off-curve points.
    pub fn from_uncompressed(bytes: &[u8]) -> Result<Self, KeyError> {
        let uncompressed: [u8; 65] = bytes.try_into().map_err(|_| KeyError::InvalidPublicKey)?;
        if uncompressed[0] != 0x04 {
            return Err(KeyError::InvalidPublicKey);
        }
        let key = PublicKey::from_sec1_bytes(&uncompressed).map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(Self { key, uncompressed })
    }

    fn from_key(key: PublicKey) -> Self {
        let point = key.to_sec1_point(false);
        let mut uncompressed = [0u8; 65];
        // An uncompressed non-identity P-256 point is always 65 bytes.
        if let Some(dst) = uncompressed.get_mut(..point.as_bytes().len()) {
            dst.copy_from_slice(point.as_bytes());
        }
        Self { key, uncompressed }
    }

    /// The 65-byte uncompressed SEC1 encoding.
    pub const fn uncompressed(&self) -> &[u8; 65] {
        &self.uncompressed
    }

    /// The 32-byte big-endian x coordinate, used throughout the key schedule.
    pub fn x(&self) -> &[u8; 32] {
        let (_, rest) = self.uncompressed.split_first().unwrap_or((&0, &[]));
        rest.first_chunk::<32>().unwrap_or(&[0; 32])
    }

    /// Verifies a raw `r ‖ s` ECDSA-P256-SHA256 signature over the concatenation of `parts`.
    ///
    /// Verification runs on `ring`: it is on every standard transaction's critical path,
    /// twice (the phone checks the vehicle, the vehicle checks the phone), and ring's
    /// P-256 verification is about four times faster than the pure-Rust one here. The
    /// signature is first parsed by `p256` so that malformed and wrong signatures stay
    /// distinct errors.
    pub fn verify(&self, parts: &[&[u8]], signature: &[u8]) -> Result<(), KeyError> {
        Signature::from_slice(signature).map_err(|_| KeyError::MalformedSignature)?;
        let message = parts.concat();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.uncompressed)
            .verify(&message, signature)
            .map_err(|_| KeyError::BadSignature)
    }

    pub(crate) const fn as_p256(&self) -> &PublicKey {
        &self.key
    }
}

impl fmt::Debug for EcPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EcPublicKey(")?;
        for b in self.x().iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// A long-term P-256 key pair that signs: the vehicle's reader key or a phone's endpoint key.
///
/// The private scalar lives inside `p256`'s `SigningKey`, which zeroizes itself on drop.
#[derive(Clone)]
pub struct SigningKeyPair {
    signing: SigningKey,
    public: EcPublicKey,
}

impl SigningKeyPair {
    /// Generates a fresh key pair.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_signing_key(SigningKey::generate_from_rng(rng))
    }

    /// Loads a key pair from its 32-byte big-endian private scalar.
    pub fn from_private_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        SigningKey::from_slice(bytes).map(Self::from_signing_key).map_err(|_| KeyError::InvalidPrivateKey)
    }

    fn from_signing_key(signing: SigningKey) -> Self {
        let public = EcPublicKey::from_key(PublicKey::from(signing.verifying_key()));
        Self { signing, public }
    }

    /// The private scalar, for encrypted storage. Handle as a secret.
    pub fn private_bytes(&self) -> Secret32 {
        let mut bytes: [u8; 32] = self.signing.to_bytes().into();
        let secret = Secret32::new(bytes);
        bytes.zeroize();
        secret
    }

    /// The public half.
    pub const fn public(&self) -> &EcPublicKey {
        &self.public
    }

    /// Signs the concatenation of `parts` (ECDSA P-256, SHA-256, RFC 6979 nonces, low-s),
    /// returning raw `r ‖ s`.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 64] {
        let sig: Signature = self.signing.multipart_sign(parts);
        sig.to_bytes().into()
    }
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

/// An ephemeral P-256 key pair for one transaction's ECDH. It agrees once: a second
/// [`EphemeralKeyPair::diffie_hellman`] is an error, so a key cannot be reused by mistake.
pub struct EphemeralKeyPair {
    secret: Option<EphemeralSecret>,
    public: EcPublicKey,
}

/// Generated keys live inside `ring`, whose P-256 ECDH is several times faster than the
/// pure-Rust arithmetic and never exposes the scalar; fixed keys (known-answer tests) use
/// `p256`, so both implementations are checked against each other by every round trip.
enum EphemeralSecret {
    Ring(ring::agreement::EphemeralPrivateKey),
    Fixed(NonZeroScalar),
}

impl EphemeralKeyPair {
    /// Generates a fresh ephemeral key pair from the operating system's generator.
    pub fn generate() -> Self {
        let rng = ring::rand::SystemRandom::new();
        match ring::agreement::EphemeralPrivateKey::generate(&ring::agreement::ECDH_P256, &rng) {
            Ok(secret) => {
                let public =
                    secret.compute_public_key().ok().and_then(|p| EcPublicKey::from_uncompressed(p.as_ref()).ok());
                if let Some(public) = public {
                    return Self { secret: Some(EphemeralSecret::Ring(secret)), public };
                }
                Self::generate_p256()
            }
            // Only if the OS generator failed; p256 then asks it again through getrandom.
            Err(_) => Self::generate_p256(),
        }
    }

    fn generate_p256() -> Self {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let secret = NonZeroScalar::generate_from_rng(&mut rng);
        let public = EcPublicKey::from_key(PublicKey::from_secret_scalar(&secret));
        Self { secret: Some(EphemeralSecret::Fixed(secret)), public }
    }

    /// Deterministic construction for known-answer tests.
    pub fn from_private_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let secret = p256::SecretKey::from_slice(bytes).map_err(|_| KeyError::InvalidPrivateKey)?;
        let scalar = secret.to_nonzero_scalar();
        let public = EcPublicKey::from_key(PublicKey::from_secret_scalar(&scalar));
        Ok(Self { secret: Some(EphemeralSecret::Fixed(scalar)), public })
    }

    /// The public half, sent to the peer.
    pub const fn public(&self) -> &EcPublicKey {
        &self.public
    }

    /// ECDH with the peer's ephemeral public key: the x coordinate of the shared point.
    /// Consumes the private key.
    pub fn diffie_hellman(&mut self, peer: &EcPublicKey) -> Result<Secret32, KeyError> {
        match self.secret.take().ok_or(KeyError::EphemeralUsed)? {
            EphemeralSecret::Fixed(mut scalar) => {
                let shared = ecdh(&scalar, peer);
                // NonZeroScalar is Copy and does not wipe itself on drop.
                scalar.zeroize();
                Ok(shared)
            }
            EphemeralSecret::Ring(secret) => {
                let peer = ring::agreement::UnparsedPublicKey::new(&ring::agreement::ECDH_P256, peer.uncompressed());
                ring::agreement::agree_ephemeral(secret, &peer, Secret32::from_slice)
                    .ok()
                    .flatten()
                    .ok_or(KeyError::InvalidPublicKey)
            }
        }
    }
}

impl Drop for EphemeralKeyPair {
    fn drop(&mut self) {
        // ring wipes its own keys; a p256 scalar must be wiped here.
        if let Some(EphemeralSecret::Fixed(scalar)) = &mut self.secret {
            scalar.zeroize();
        }
    }
}

impl fmt::Debug for EphemeralKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

/// Raw ECDH: the 32-byte x coordinate of `secret · peer`.
pub fn ecdh(secret: &NonZeroScalar, peer: &EcPublicKey) -> Secret32 {
    let shared = p256::ecdh::diffie_hellman(secret, peer.as_p256().as_affine());
    let bytes: &[u8] = shared.raw_secret_bytes();
    Secret32::from_slice(bytes).unwrap_or_else(|| Secret32::new([0; 32]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn rng() -> impl CryptoRng {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn ecdh_agrees_both_ways() {
        let mut a = EphemeralKeyPair::generate();
        let mut b = EphemeralKeyPair::generate();
        let (a_public, b_public) = (a.public().clone(), b.public().clone());
        assert_eq!(a.diffie_hellman(&b_public).unwrap(), b.diffie_hellman(&a_public).unwrap());
        assert_eq!(a.diffie_hellman(&b_public), Err(KeyError::EphemeralUsed));
        // ring (generated) and p256 (fixed) agree with each other.
        let mut fixed = EphemeralKeyPair::from_private_bytes(&[7; 32]).unwrap();
        let mut generated = EphemeralKeyPair::generate();
        let (f, g) = (fixed.public().clone(), generated.public().clone());
        assert_eq!(fixed.diffie_hellman(&g).unwrap(), generated.diffie_hellman(&f).unwrap());
    }

    #[test]
    fn signature_round_trip_and_tamper() {
        let k = SigningKeyPair::generate(&mut rng());
        let sig = k.sign(&[b"hello ", b"world"]);
        k.public().verify(&[b"hello world"], &sig).unwrap();
        assert_eq!(k.public().verify(&[b"hello worle"], &sig), Err(KeyError::BadSignature));
        assert_eq!(k.public().verify(&[b"x"], &sig[..63]), Err(KeyError::MalformedSignature));
        assert_eq!(k.public().verify(&[b"x"], &[0u8; 64]), Err(KeyError::MalformedSignature));
    }

    #[test]
    fn public_key_parsing_rejects_bad_points() {
        let k = SigningKeyPair::generate(&mut rng());
        let good = *k.public().uncompressed();
        assert_eq!(EcPublicKey::from_uncompressed(&good).unwrap(), *k.public());
        let mut off_curve = good;
        off_curve[64] ^= 1;
        assert!(EcPublicKey::from_uncompressed(&off_curve).is_err());
        let mut compressed_tag = good;
        compressed_tag[0] = 0x02;
        assert!(EcPublicKey::from_uncompressed(&compressed_tag).is_err());
        assert!(EcPublicKey::from_uncompressed(&good[..64]).is_err());
        assert!(EcPublicKey::from_uncompressed(&[0u8; 65]).is_err());
        assert_eq!(k.public().x(), &good[1..33]);
    }

    #[test]
    fn private_bytes_round_trip() {
        let k = SigningKeyPair::generate(&mut rng());
        let again = SigningKeyPair::from_private_bytes(k.private_bytes().expose()).unwrap();
        assert_eq!(again.public(), k.public());
        assert!(SigningKeyPair::from_private_bytes(&[0; 32]).is_err());
    }
}
