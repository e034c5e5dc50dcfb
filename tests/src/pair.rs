//! Owner pairing from the phone's side: the owner types the code the vehicle shows, then
//! taps the console once.
//!
//! In that one tap the vehicle selects the framework applet and runs SPAKE2+ and KEY
//! CREATION (`80 30`, `80 32`, `80 34`); the phone creates a key for the vehicle; then
//! the vehicle runs an ordinary standard transaction that proves the new key and writes
//! the immobilizer token into its confidential mailbox, and ends with CONTROL FLOW. The
//! report keeps the phone's view of the pairing apart from the vehicle's verdict, because
//! they can disagree: a phone may create a key that the vehicle then does not store.

use core::fmt;
use std::path::Path;

use carkey_protocol::pairing::{PairingError, PairingOutcome};
use serde::{Serialize, Serializer};

use crate::report::{TapReport, TapResult};
use crate::tap::{self, TapError, TapOptions};
use crate::wallet::{KeyInfo, KeyName, Wallet};

/// Longest pairing code accepted (the dashboard shows 8 digits; a backend may use more).
pub const MAX_CODE_DIGITS: usize = 64;

/// The code the owner typed: 1 to [`MAX_CODE_DIGITS`] decimal digits. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PairingCode(String);

/// A pairing code that is not 1 to 64 decimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a pairing code is 1 to {MAX_CODE_DIGITS} decimal digits")]
pub struct InvalidPairingCode;

impl PairingCode {
    /// Validates `code`.
    pub fn new(code: &str) -> Result<Self, InvalidPairingCode> {
        if code.is_empty() || code.len() > MAX_CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidPairingCode);
        }
        Ok(Self(code.to_owned()))
    }

    /// The digits, as the phone feeds them to the password hash.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairingCode(..)")
    }
}

/// How the phone pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PairOptions {
    /// The new key's name; `None` keeps the name of the key it replaces, if any.
    pub name: Option<KeyName>,
    /// The tap itself (timeout; failure injection works as in [`tap::tap`]).
    pub tap: TapOptions,
}

/// How pairing went, from the phone's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pairing {
    /// The phone created this key for the vehicle (whether the vehicle then stored it is
    /// the tap's result). Boxed: the other variants are small.
    Paired(Box<KeyInfo>),
    /// The phone refused the vehicle's evidence: the code typed is not the vehicle's.
    WrongCode,
    /// Pairing failed otherwise (a malformed or inconsistent message).
    Failed(PairingError),
    /// The vehicle did not try to pair (no pairing offer, or it ran another transaction).
    NotPaired,
}

impl Pairing {
    const fn as_str(&self) -> &'static str {
        match self {
            Self::Paired(_) => "paired",
            Self::WrongCode => "wrong-code",
            Self::Failed(_) => "failed",
            Self::NotPaired => "not-paired",
        }
    }
}

/// One pairing tap: the phone's pairing outcome and the tap as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairReport {
    /// The phone's side of pairing.
    pub pairing: Pairing,
    /// The tap (its `result` is the vehicle's CONTROL FLOW verdict).
    pub tap: TapReport,
}

impl PairReport {
    /// Whether a key was created and the vehicle confirmed it: only then is the new key
    /// worth keeping (before that it may have replaced a key that still works).
    pub const fn succeeded(&self) -> bool {
        matches!(self.pairing, Pairing::Paired(_)) && matches!(self.tap.result, TapResult::Success)
    }

    /// The command line's exit code: 0 paired and confirmed, 3 wrong code, 4 otherwise.
    pub const fn exit_code(&self) -> u8 {
        match self.pairing {
            _ if self.succeeded() => 0,
            Pairing::WrongCode => 3,
            _ => 4,
        }
    }

    /// The key the phone created, if it did.
    pub const fn key(&self) -> Option<&KeyInfo> {
        match &self.pairing {
            Pairing::Paired(key) => Some(key),
            _ => None,
        }
    }
}

/// The `--json` output: `pairing`, `pairing_error`, `key` (as in `list --json`), then the
/// tap report's fields.
impl Serialize for PairReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            pairing: &'static str,
            pairing_error: Option<String>,
            key: Option<&'a KeyInfo>,
            #[serde(flatten)]
            tap: &'a TapReport,
        }
        let pairing_error = match &self.pairing {
            Pairing::WrongCode => Some(PairingError::WrongCode.to_string()),
            Pairing::Failed(error) => Some(error.to_string()),
            Pairing::Paired(_) | Pairing::NotPaired => None,
        };
        Json { pairing: self.pairing.as_str(), pairing_error, key: self.key(), tap: &self.tap }.serialize(serializer)
    }
}

/// The human output: the pairing lines (`slot:` and `public-key:` as `new-key` prints
/// them), then the tap report.
impl fmt::Display for PairReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pairing {
            Pairing::Paired(key) => {
                writeln!(f, "pairing: paired")?;
                writeln!(f, "vehicle-group-id: {}", hex::encode(key.vehicle_group_id))?;
                writeln!(f, "slot: {}", hex::encode(key.slot))?;
                writeln!(f, "public-key: {}", hex::encode(key.public_key.uncompressed()))?;
            }
            Pairing::WrongCode => writeln!(f, "pairing: wrong code (the phone refused the vehicle's evidence)")?,
            Pairing::Failed(error) => writeln!(f, "pairing: failed ({error})")?,
            Pairing::NotPaired => writeln!(f, "pairing: not paired (the vehicle did not pair)")?,
        }
        write!(f, "{}", self.tap)
    }
}

/// Arms owner pairing with `code` and taps the reader at `socket` once.
///
/// The wallet changes in memory: a created key replaces any key for the same vehicle (as
/// on a phone, one key per vehicle), named `options.name` if given. Save it only if
/// [`PairReport::succeeded`]; otherwise a key the vehicle never stored would replace one
/// that may still work. Pairing is disarmed again before this returns, whatever happened.
pub fn pair(
    socket: &Path,
    wallet: &mut Wallet,
    code: &PairingCode,
    options: &PairOptions,
) -> Result<PairReport, TapError> {
    wallet.endpoint().start_pairing(code.as_bytes());
    let tapped = tap::tap(socket, wallet, &options.tap);
    let outcome = wallet.endpoint().pairing_outcome().cloned();
    wallet.endpoint().cancel_pairing();
    let tap = tapped?;
    let pairing = match outcome {
        Some(PairingOutcome::Paired(group)) => {
            if let Some(name) = &options.name {
                wallet.set_name(group, name.clone());
            }
            // The endpoint stores the key it created; it cannot be missing.
            wallet
                .key(&group)
                .map_or(Pairing::Failed(PairingError::UnexpectedMessage), |key| Pairing::Paired(Box::new(key)))
        }
        Some(PairingOutcome::Failed(PairingError::WrongCode)) => Pairing::WrongCode,
        Some(PairingOutcome::Failed(error)) => Pairing::Failed(error),
        Some(PairingOutcome::Pending) | None => Pairing::NotPaired,
    };
    Ok(PairReport { pairing, tap })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{TapEnd, Transaction};

    #[test]
    fn codes_are_digits_and_never_shown() {
        assert!(PairingCode::new("31415926").is_ok());
        assert!(PairingCode::new(&"9".repeat(MAX_CODE_DIGITS)).is_ok());
        for bad in ["", "12a4", " 1234", "1234 ", "١٢٣", &"9".repeat(MAX_CODE_DIGITS + 1)] {
            assert_eq!(PairingCode::new(bad), Err(InvalidPairingCode), "{bad:?}");
        }
        assert_eq!(format!("{:?}", PairingCode::new("31415926").unwrap()), "PairingCode(..)");
    }

    #[test]
    fn a_wrong_code_report() {
        let report = PairReport {
            pairing: Pairing::WrongCode,
            tap: TapReport {
                result: TapResult::NoDecision,
                transaction: Transaction::Fast,
                end: TapEnd::ReaderClosed,
                reason: None,
                commands: vec![],
                response_lengths: vec![],
                elapsed_us: None,
                total_us: 7,
            },
        };
        assert_eq!((report.exit_code(), report.succeeded(), report.key()), (3, false, None));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["pairing"], "wrong-code");
        assert_eq!(json["key"], serde_json::Value::Null);
        assert_eq!((json["result"].as_str(), json["total_us"].as_u64()), (Some("no-decision"), Some(7)));
        let text = report.to_string();
        assert!(
            text.starts_with("pairing: wrong code (the phone refused the vehicle's evidence)\nresult: no-decision\n")
        );

        let failed =
            PairReport { pairing: Pairing::NotPaired, tap: TapReport { result: TapResult::Success, ..report.tap } };
        assert_eq!(failed.exit_code(), 4, "a successful tap without pairing is not a pairing");
    }
}
