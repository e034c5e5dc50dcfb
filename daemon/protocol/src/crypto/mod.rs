//! Cryptographic building blocks of the protocol.
//!
//! Thin, typed wrappers over RustCrypto primitives (`p256`, `aes-gcm`, `hkdf`, `sha2`)
//! so that the rest of the crate never handles a raw secret array: every secret is a
//! [`Secret32`] (zeroized on drop, compared in constant time, redacted in `Debug`), and
//! every public key is a validated [`EcPublicKey`].

pub mod kdf;
pub mod keys;
pub mod secret;

pub use kdf::{hkdf_sha256, x963_kdf_sha256};
pub use keys::{EcPublicKey, KeyError, SigningKeyPair, ecdh};
pub use secret::Secret32;
