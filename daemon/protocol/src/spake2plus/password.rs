//! From a pairing code to SPAKE2+ registration material (RFC 9383 §3.2), with scrypt as
//! the memory-hard password hash.
//!
//! The input to the hash binds the identities: `len(pw) ‖ pw ‖ len(idProver) ‖ idProver ‖
//! len(idVerifier) ‖ idVerifier`, each length 8 bytes little-endian (the same encoding
//! as the transcript). The output is 80 bytes, `w0s ‖ w1s`. The vehicle runs this once
//! when it shows a code and keeps only the verifier; the phone runs it when the owner
//! types the code.

use zeroize::Zeroizing;

use super::{PBKDF_HALF_LEN, Registration, Spake2PlusError};

/// scrypt cost parameters; they travel with the salt in the pairing request so both sides
/// hash alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScryptParams {
    /// log2 of the CPU/memory cost N.
    pub log_n: u8,
    /// Block size r.
    pub r: u32,
    /// Parallelism p.
    pub p: u32,
}

/// The most memory a pairing request may make us spend on the hash (a hostile request
/// must not exhaust the head unit).
pub const MAX_SCRYPT_MEMORY: u64 = 64 * 1024 * 1024;

impl ScryptParams {
    /// Whether the parameters are sane and within [`MAX_SCRYPT_MEMORY`].
    pub fn is_acceptable(self) -> bool {
        let memory = 128u64.saturating_mul(u64::from(self.r)).checked_shl(u32::from(self.log_n)).unwrap_or(u64::MAX);
        (1..=24).contains(&self.log_n)
            && (1..=32).contains(&self.r)
            && (1..=16).contains(&self.p)
            && memory <= MAX_SCRYPT_MEMORY
    }

    /// RFC 9383's recommendation: N = 32768, r = 8, p = 1 (32 MiB, about 0.1 s here).
    pub const RECOMMENDED: Self = Self { log_n: 15, r: 8, p: 1 };
}

/// Derives the registration from a password (the pairing code) and a salt.
pub fn registration_from_password(
    password: &[u8],
    salt: &[u8],
    id_prover: &[u8],
    id_verifier: &[u8],
    params: ScryptParams,
) -> Result<Registration, Spake2PlusError> {
    if !params.is_acceptable() {
        return Err(Spake2PlusError::InvalidPasswordParams);
    }
    let mut input = Zeroizing::new(Vec::with_capacity(24 + password.len() + id_prover.len() + id_verifier.len()));
    for part in [password, id_prover, id_verifier] {
        input.extend_from_slice(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_le_bytes());
        input.extend_from_slice(part);
    }
    let params =
        scrypt::Params::new(params.log_n, params.r, params.p).map_err(|_| Spake2PlusError::InvalidPasswordParams)?;
    let mut output = Zeroizing::new([0u8; 2 * PBKDF_HALF_LEN]);
    scrypt::scrypt(&input, salt, &params, output.as_mut()).map_err(|_| Spake2PlusError::InvalidPasswordParams)?;
    Registration::from_pbkdf_output(&output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spake2plus::Prover;

    const FAST: ScryptParams = ScryptParams { log_n: 4, r: 8, p: 1 };
    const CONTEXT: &[u8] = b"carkey pairing test";

    fn pair(phone_code: &[u8], vehicle_code: &[u8]) -> Result<(), Spake2PlusError> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let phone = registration_from_password(phone_code, b"salt", b"phone", b"vehicle", FAST)?;
        let verifier = registration_from_password(vehicle_code, b"salt", b"phone", b"vehicle", FAST)?.verifier();
        let (prover, share_p) = Prover::start(&phone, CONTEXT, b"phone", b"vehicle", &mut rng);
        let (session, share_v, confirm_v) = verifier.respond(CONTEXT, b"phone", b"vehicle", &share_p, &mut rng)?;
        let (confirm_p, phone_key) = prover.finish(&share_v, &confirm_v)?;
        let vehicle_key = session.finish(&confirm_p)?;
        assert_eq!(phone_key, vehicle_key);
        Ok(())
    }

    #[test]
    fn the_same_code_pairs_and_another_does_not() {
        assert_eq!(pair(b"493027", b"493027"), Ok(()));
        assert_eq!(pair(b"493028", b"493027"), Err(Spake2PlusError::BadConfirmation));
    }

    #[test]
    fn identities_and_salt_are_bound() {
        let a = registration_from_password(b"1234", b"salt", b"phone", b"vehicle", FAST).unwrap().verifier();
        for other in [
            registration_from_password(b"1234", b"salt2", b"phone", b"vehicle", FAST),
            registration_from_password(b"1234", b"salt", b"phone2", b"vehicle", FAST),
            // Moving a byte between fields changes the input thanks to the length prefixes.
            registration_from_password(b"1234p", b"salt", b"hone", b"vehicle", FAST),
        ] {
            assert_ne!(a.to_bytes(), other.unwrap().verifier().to_bytes());
        }
    }

    #[test]
    fn invalid_cost_parameters_are_an_error() {
        assert!(ScryptParams::RECOMMENDED.is_acceptable());
        for bad in [
            ScryptParams { log_n: 0, r: 8, p: 1 },
            ScryptParams { log_n: 17, r: 8, p: 1 }, // 128 MiB
            ScryptParams { log_n: 63, r: 8, p: 1 },
            ScryptParams { log_n: 10, r: 0, p: 1 },
            ScryptParams { log_n: 10, r: 8, p: 0 },
        ] {
            assert_eq!(
                registration_from_password(b"1", b"s", b"a", b"b", bad).err(),
                Some(Spake2PlusError::InvalidPasswordParams),
                "{bad:?}"
            );
        }
    }
}
