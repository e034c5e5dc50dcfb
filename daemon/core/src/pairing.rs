//! Owner pairing as the vehicle keeps it between taps: a SPAKE2+ verifier (never the
//! code), the scrypt salt and cost the phone needs to hash the code alike, and how many
//! attempts are used.
//!
//! An offer comes from a code the head unit shows on the dashboard ([`PairingOffer::from_code`])
//! or from the automaker's backend (a verifier made from a code the owner got there). It
//! is stored, so a restart neither loses it nor resets its attempt counter, and it is
//! consumed by the first successful pairing.

use core::fmt;
use std::sync::Arc;

use carkey_protocol::pairing;
use carkey_protocol::spake2plus::{ScryptParams, Spake2PlusError, Verifier, registration_from_password};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::time::WallTime;

/// Failed attempts allowed per offer; the next one needs a new code.
pub const MAX_ATTEMPTS: u8 = 7;

/// Digits in a pairing code shown on the dashboard.
pub const CODE_DIGITS: usize = 8;

/// Where the verifier came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairingSource {
    /// A code generated on the head unit and shown on the dashboard.
    Dashboard,
    /// A verifier the automaker's backend provisioned.
    Backend,
}

impl PairingSource {
    /// Stable spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Dashboard => "dashboard",
            Self::Backend => "backend",
        }
    }
}

/// A pending owner pairing.
#[derive(Clone)]
pub struct PairingOffer {
    /// The SPAKE2+ verifier (w0, L): secret, sealed at rest.
    pub verifier: Arc<Verifier>,
    /// scrypt salt sent to the phone in the pairing request.
    pub salt: [u8; pairing::SALT_LEN],
    /// scrypt cost sent to the phone.
    pub scrypt: ScryptParams,
    /// Dashboard code or backend.
    pub source: PairingSource,
    /// When it was made.
    pub created_at: WallTime,
    /// After this it is refused (and a new code is needed).
    pub expires_at: Option<WallTime>,
    /// Attempts counted so far (each SPAKE2+ verify the vehicle answered).
    pub attempts_used: u8,
}

/// The verifier is secret: show only the public parts.
impl fmt::Debug for PairingOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairingOffer")
            .field("source", &self.source)
            .field("scrypt", &self.scrypt)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("attempts_used", &self.attempts_used)
            .finish_non_exhaustive()
    }
}

/// A pairing code to show once; it is wiped from memory when dropped and never stored.
pub struct PairingCode(Zeroizing<String>);

impl PairingCode {
    /// A fresh uniformly random code of [`CODE_DIGITS`] decimal digits.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut code = Zeroizing::new(String::with_capacity(CODE_DIGITS));
        while code.len() < CODE_DIGITS {
            let mut byte = [0u8; 1];
            getrandom::fill(&mut byte)?;
            // Rejection sampling: 250 = 25 × 10, so digits stay uniform.
            if byte[0] < 250 {
                code.push(char::from(b'0' + byte[0] % 10));
            }
        }
        Ok(Self(code))
    }

    /// The digits, to show to the owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(..)")
    }
}

impl PairingOffer {
    /// Derives the offer for `code` (the expensive scrypt step; run it off the engine
    /// task). The code itself is not kept.
    pub fn from_code(
        code: &PairingCode,
        group_id: &[u8; 16],
        scrypt: ScryptParams,
        created_at: WallTime,
        lifetime_s: Option<u32>,
    ) -> Result<Self, Spake2PlusError> {
        let mut salt = [0u8; pairing::SALT_LEN];
        rand_core::Rng::fill_bytes(&mut rand_core::UnwrapErr(getrandom::SysRng), &mut salt);
        let registration = registration_from_password(
            code.as_str().as_bytes(),
            &salt,
            pairing::ID_PROVER,
            &pairing::id_verifier(group_id),
            scrypt,
        )?;
        Ok(Self {
            verifier: Arc::new(registration.verifier()),
            salt,
            scrypt,
            source: PairingSource::Dashboard,
            created_at,
            expires_at: lifetime_s.map(|s| WallTime(created_at.0.saturating_add(i64::from(s)))),
            attempts_used: 0,
        })
    }

    /// Attempts left before the offer is locked.
    pub const fn attempts_left(&self) -> u8 {
        MAX_ATTEMPTS.saturating_sub(self.attempts_used)
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: WallTime) -> bool {
        self.expires_at.is_some_and(|end| now >= end)
    }
}
