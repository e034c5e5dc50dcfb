//! Sealing secrets at rest: AES-256-GCM under a key derived from the master key.
//!
//! Every secret has a fixed length in its place: 32 bytes for the vehicle's private
//! scalar, K_persistent and immobilizer tokens, 97 for a SPAKE2+ verifier. A sealed value
//! is `nonce (12) ‖ ciphertext (same length as the secret) ‖ tag (16)`. The nonce is
//! random per value. The associated data names the value's place (table and column) and
//! its row, so a ciphertext copied into another row or column no longer authenticates.

use core::fmt;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use carkey_protocol::crypto::Secret32;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::master_key::MasterKey;

/// HKDF salt: names the application, so the master key cannot collide with another use.
pub(crate) const KDF_SALT: &[u8] = b"carkey-store";
/// HKDF info: names the purpose and the algorithm of the derived key.
pub(crate) const KDF_INFO: &[u8] = b"carkey-store/v1/secrets-at-rest/aes-256-gcm";

const NONCE_LEN: usize = 12;
const SECRET_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// Length of a sealed 32-byte secret.
#[cfg(test)]
pub(crate) const SEALED_LEN: usize = sealed_len(SECRET_LEN);

/// Length of a sealed value whose plaintext is `plaintext` bytes.
pub(crate) const fn sealed_len(plaintext: usize) -> usize {
    NONCE_LEN + plaintext + TAG_LEN
}

/// The known plaintext of the key-check value: decrypting it proves the master key.
const KEY_CHECK_PLAINTEXT: [u8; 32] = *b"carkey-store key check, v1......";

/// Where a sealed value lives; part of its associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// `meta.value` of the `key_check` row.
    KeyCheck,
    /// `vehicle.private_key`; the row is the group id.
    VehiclePrivateKey,
    /// `keys.k_persistent`; the row is the key id.
    KPersistent,
    /// `keys.immobilizer_token`; the row is the key id.
    ImmobilizerToken,
    /// `pairing_offer.verifier`; the row is the offer's scrypt salt.
    PairingVerifier,
}

impl Place {
    /// The label bound into the associated data.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::KeyCheck => "meta.key_check",
            Self::VehiclePrivateKey => "vehicle.private_key",
            Self::KPersistent => "keys.k_persistent",
            Self::ImmobilizerToken => "keys.immobilizer_token",
            Self::PairingVerifier => "pairing_offer.verifier",
        }
    }
}

/// Associated data: `label ‖ 0x00 ‖ row key`. The separator keeps labels and row keys
/// from running into each other.
fn aad(place: Place, row: &[u8]) -> Vec<u8> {
    let label = place.label().as_bytes();
    let mut aad = Vec::with_capacity(label.len() + 1 + row.len());
    aad.extend_from_slice(label);
    aad.push(0);
    aad.extend_from_slice(row);
    aad
}

/// Why sealing or opening failed. Deliberately carries no data: the caller names the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SealError {
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The value does not have the length of a sealed secret of its place.
    #[error("sealed value has length {found}, expected {expected}")]
    Length {
        /// The stored length.
        found: usize,
        /// The length of a sealed secret of that place.
        expected: usize,
    },
    /// The value does not authenticate (wrong key, tampered, or moved from elsewhere).
    #[error("sealed value does not authenticate")]
    Authentication,
}

/// Seals and opens the store's secrets. Holds only the derived cipher, which the
/// `aes-gcm` crate zeroizes on drop; the master key itself is not kept.
pub(crate) struct Sealer {
    cipher: Aes256Gcm,
}

// The derived key must be wiped when the store closes.
const _: fn() = || {
    fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
    zeroized_on_drop::<Aes256Gcm>();
};

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Derives the store key: HKDF-SHA256(salt = [`KDF_SALT`], ikm = master, info = [`KDF_INFO`]).
    pub(crate) fn new(master: &MasterKey) -> Self {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's output limit, so expand cannot fail; if it
        // somehow did, the all-zero key would fail the key check rather than panic.
        if Hkdf::<Sha256>::new(Some(KDF_SALT), master.secret().expose()).expand(KDF_INFO, &mut key).is_err() {
            key.zeroize();
        }
        let cipher = Aes256Gcm::new((&key).into());
        key.zeroize();
        Self { cipher }
    }

    /// Seals `secret` for `place` in `row`.
    pub(crate) fn seal(&self, place: Place, row: &[u8], secret: &Secret32) -> Result<Vec<u8>, SealError> {
        self.seal_bytes(place, row, secret.expose())
    }

    /// Seals a secret of any fixed length (a SPAKE2+ verifier) for `place` in `row`.
    pub(crate) fn seal_bytes<const N: usize>(
        &self,
        place: Place,
        row: &[u8],
        plaintext: &[u8; N],
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        // Encrypted in place; the copy is wiped on drop, whichever way this returns.
        let mut buffer = Zeroizing::new(*plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(&Nonce::from(nonce), &aad(place, row), (&mut buffer[..]).into())
            .map_err(|_| SealError::Authentication)?;
        let mut sealed = Vec::with_capacity(sealed_len(N));
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&buffer[..]);
        sealed.extend_from_slice(&tag);
        Ok(sealed)
    }

    /// Opens a 32-byte secret sealed for `place` in `row`.
    pub(crate) fn open(&self, place: Place, row: &[u8], sealed: &[u8]) -> Result<Secret32, SealError> {
        let buffer = self.open_bytes::<SECRET_LEN>(place, row, sealed)?;
        Ok(Secret32::new(*buffer))
    }

    /// Opens a secret of `N` bytes sealed for `place` in `row`; it is wiped when the
    /// result is dropped.
    pub(crate) fn open_bytes<const N: usize>(
        &self,
        place: Place,
        row: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; N]>, SealError> {
        let length = || SealError::Length { found: sealed.len(), expected: sealed_len(N) };
        let (nonce, rest) = sealed.split_first_chunk::<NONCE_LEN>().ok_or_else(length)?;
        let (ciphertext, tag) = rest.split_first_chunk::<N>().ok_or_else(length)?;
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| length())?;
        let mut buffer = Zeroizing::new(*ciphertext);
        self.cipher
            .decrypt_inout_detached(&Nonce::from(*nonce), &aad(place, row), (&mut buffer[..]).into(), &(*tag).into())
            .map_err(|_| SealError::Authentication)?;
        Ok(buffer)
    }

    /// A fresh key-check value for the `meta` table.
    pub(crate) fn key_check(&self) -> Result<Vec<u8>, SealError> {
        self.seal_bytes(Place::KeyCheck, &[], &KEY_CHECK_PLAINTEXT)
    }

    /// Whether `stored` is a key-check value sealed under this store key.
    pub(crate) fn verify_key_check(&self, stored: &[u8]) -> bool {
        self.open_bytes::<SECRET_LEN>(Place::KeyCheck, &[], stored).is_ok_and(|plain| *plain == KEY_CHECK_PLAINTEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&MasterKey::from_bytes([byte; 32]))
    }

    #[test]
    fn seals_and_opens_with_fresh_nonces() {
        let s = sealer(1);
        let secret = Secret32::new([7; 32]);
        let a = s.seal(Place::KPersistent, &[1; 8], &secret).unwrap();
        let b = s.seal(Place::KPersistent, &[1; 8], &secret).unwrap();
        assert_eq!(a.len(), SEALED_LEN);
        assert_ne!(a, b, "nonces must differ");
        assert_ne!(&a[NONCE_LEN..NONCE_LEN + SECRET_LEN], secret.expose());
        assert_eq!(s.open(Place::KPersistent, &[1; 8], &a).unwrap(), secret);
    }

    #[test]
    fn place_row_key_and_content_are_authenticated() {
        let s = sealer(1);
        let sealed = s.seal(Place::KPersistent, &[1; 8], &Secret32::new([7; 32])).unwrap();
        assert_eq!(s.open(Place::ImmobilizerToken, &[1; 8], &sealed), Err(SealError::Authentication));
        assert_eq!(s.open(Place::KPersistent, &[2; 8], &sealed), Err(SealError::Authentication));
        assert_eq!(sealer(2).open(Place::KPersistent, &[1; 8], &sealed), Err(SealError::Authentication));
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(s.open(Place::KPersistent, &[1; 8], &tampered), Err(SealError::Authentication), "byte {i}");
        }
        let length = |found| Err(SealError::Length { found, expected: SEALED_LEN });
        assert_eq!(s.open(Place::KPersistent, &[1; 8], &sealed[1..]), length(SEALED_LEN - 1));
        assert_eq!(s.open(Place::KPersistent, &[1; 8], &[]), length(0));
        let mut longer = sealed.clone();
        longer.push(0);
        assert_eq!(s.open(Place::KPersistent, &[1; 8], &longer), length(SEALED_LEN + 1));
    }

    #[test]
    fn secrets_of_other_lengths_seal_and_open_in_their_place() {
        let s = sealer(1);
        let verifier = [0x5A; 97];
        let sealed = s.seal_bytes(Place::PairingVerifier, &[3; 16], &verifier).unwrap();
        assert_eq!(sealed.len(), 12 + 97 + 16);
        assert!(!sealed.windows(16).any(|w| w == [0x5A; 16]));
        assert_eq!(*s.open_bytes::<97>(Place::PairingVerifier, &[3; 16], &sealed).unwrap(), verifier);
        assert_eq!(s.open_bytes::<97>(Place::PairingVerifier, &[4; 16], &sealed), Err(SealError::Authentication));
        assert_eq!(s.open_bytes::<97>(Place::KPersistent, &[3; 16], &sealed), Err(SealError::Authentication));
        // A 32-byte secret is not accepted where a verifier belongs, nor the reverse.
        let short = s.seal(Place::PairingVerifier, &[3; 16], &Secret32::new([1; 32])).unwrap();
        assert_eq!(
            s.open_bytes::<97>(Place::PairingVerifier, &[3; 16], &short),
            Err(SealError::Length { found: SEALED_LEN, expected: 12 + 97 + 16 })
        );
        assert_eq!(
            s.open(Place::PairingVerifier, &[3; 16], &sealed),
            Err(SealError::Length { found: 12 + 97 + 16, expected: SEALED_LEN })
        );
    }

    #[test]
    fn key_check_detects_another_master_key() {
        let check = sealer(1).key_check().unwrap();
        assert!(sealer(1).verify_key_check(&check));
        assert!(!sealer(2).verify_key_check(&check));
        assert!(!sealer(1).verify_key_check(&check[..10]));
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", sealer(1)), "Sealer(..)");
    }
}
