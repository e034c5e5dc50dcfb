//! `carkeyd pairing ...`: owner pairing offers while the daemon is stopped (the running
//! daemon will offer them over D-Bus).

use std::sync::Arc;

use carkey_core::engine::{Command, Reply};
use carkey_core::pairing::{PairingCode, PairingOffer, PairingSource};
use carkey_core::ports::Clock;
use carkey_core::time::WallTime;
use carkey_protocol::pairing::SALT_LEN;
use carkey_protocol::spake2plus::{ScryptParams, Verifier};
use serde_json::json;
use zeroize::Zeroizing;

use super::{AdminError, OfflineEngine, err, execute};
use crate::cli::PairingCommand;
use crate::clock::SystemClock;
use crate::config::Config;

pub(super) fn run(config: &Config, engine: &mut OfflineEngine, command: PairingCommand) -> Result<(), AdminError> {
    let now = SystemClock::new(config.vehicle.clock_trust).wall().time;
    match command {
        PairingCommand::Start(out) => {
            let code = PairingCode::generate().map_err(err)?;
            let group = engine.identity().group_id;
            let lifetime = Some(config.pairing.code_lifetime_s);
            let offer =
                PairingOffer::from_code(&code, &group, ScryptParams::RECOMMENDED, now, lifetime).map_err(err)?;
            let expires_at = offer.expires_at.map(|t| t.0);
            execute(engine, Command::OfferPairing(offer))?;
            if out.json {
                println!("{}", json!({ "code": code.as_str(), "expires_at": expires_at }));
            } else {
                println!("pairing code: {}", code.as_str());
                if let Some(t) = expires_at {
                    println!("expires-at: {t}");
                }
            }
            Ok(())
        }
        PairingCommand::Provision { verifier, salt, log_n, r, p, expires_at } => {
            let bytes = Zeroizing::new(hex::decode(verifier.trim()).map_err(|e| err(format!("verifier: {e}")))?);
            let verifier = Verifier::from_bytes(&bytes).map_err(|e| err(format!("verifier: {e}")))?;
            let salt: [u8; SALT_LEN] = hex::decode(salt.trim())
                .ok()
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| err(format!("salt must be {SALT_LEN} bytes of hex")))?;
            let scrypt = ScryptParams { log_n, r, p };
            if !scrypt.is_acceptable() {
                return Err(err("scrypt parameters are outside what the phone accepts"));
            }
            let offer = PairingOffer {
                verifier: Arc::new(verifier),
                salt,
                scrypt,
                source: PairingSource::Backend,
                created_at: now,
                expires_at: expires_at.map(WallTime),
                attempts_used: 0,
            };
            execute(engine, Command::OfferPairing(offer))?;
            println!("ok");
            Ok(())
        }
        PairingCommand::Status(out) => {
            let Reply::Pairing(status) = execute(engine, Command::GetPairing)? else {
                return Err(err("unexpected reply"));
            };
            match (status, out.json) {
                (None, true) => println!("null"),
                (None, false) => println!("no pairing pending"),
                (Some(s), true) => println!(
                    "{}",
                    json!({ "source": s.source.as_str(), "attempts_left": s.attempts_left, "expires_at": s.expires_at.map(|t| t.0) })
                ),
                (Some(s), false) => {
                    println!("source: {}\nattempts-left: {}", s.source.as_str(), s.attempts_left);
                    if let Some(t) = s.expires_at {
                        println!("expires-at: {}", t.0);
                    }
                }
            }
            Ok(())
        }
        PairingCommand::Cancel => {
            execute(engine, Command::CancelPairing)?;
            println!("ok");
            Ok(())
        }
    }
}
