//! A 32-byte secret that cannot leak by accident.

use core::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit secret (AES-256 key, HKDF output, K_persistent, URSK, immobilizer token).
///
/// It is wiped from memory when dropped, compares in constant time, and prints as
/// `Secret32(..)` so that it never reaches a log. It is deliberately not `Copy`; cloning
/// is explicit because every copy is one more place the secret lives.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Secret32([u8; 32]);

impl Secret32 {
    /// Wraps raw secret bytes. The caller should zeroize its own copy.
    pub const fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies a secret out of a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    /// Borrows the secret bytes, for feeding a cipher or KDF.
    pub const fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl ConstantTimeEq for Secret32 {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

/// Constant-time equality; the derived `PartialEq` of an array would short-circuit.
impl PartialEq for Secret32 {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret32 {}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let s = Secret32::new([0xAB; 32]);
        assert_eq!(format!("{s:?}"), "Secret32(..)");
    }

    #[test]
    fn equality_compares_every_byte() {
        let a = Secret32::new([1; 32]);
        let mut bytes = [1; 32];
        bytes[31] = 2;
        assert_ne!(a, Secret32::new(bytes));
        assert_eq!(a, Secret32::new([1; 32]));
    }

    #[test]
    fn from_slice_requires_exactly_32_bytes() {
        assert!(Secret32::from_slice(&[0; 31]).is_none());
        assert!(Secret32::from_slice(&[0; 33]).is_none());
        assert!(Secret32::from_slice(&[0; 32]).is_some());
    }
}
