//! The key lifecycle subcommands: `pair`, `share`, `accept-share`, `terminate`.
//!
//! Each changes the wallet in memory and saves it before printing anything, so what a
//! script reads is always what the file holds (a printed share's serial is never reused).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use carkey_protocol::crypto::EcPublicKey;
use carkey_tests::pair::{self, PairOptions, PairingCode};
use carkey_tests::tap::TapOptions;
use carkey_tests::wallet::{KeyName, ShareRequest, Wallet};
use clap::Args;
use serde_json::json;

use crate::{CliError, Target, hex_array, key_name, pairing_code, public_key, write_report};

/// Largest file `accept-share --file` reads (a share attestation is about 230 bytes).
const MAX_SHARE_FILE_LEN: u64 = 64 * 1024;

#[derive(Debug, Args)]
pub struct PairArgs {
    /// The pairing code the vehicle shows (decimal digits).
    #[arg(long, value_name = "DIGITS", value_parser = pairing_code)]
    code: PairingCode,
    #[command(flatten)]
    target: Target,
    /// A friendly name for the new key [default: that of the key it replaces].
    #[arg(long, value_parser = key_name)]
    name: Option<KeyName>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// How long to wait for each next command from the reader.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The friend's key (130 hex digits, the `public-key:` its `new-key` printed).
    #[arg(long, value_name = "HEX", value_parser = public_key)]
    friend_public_key: EcPublicKey,
    /// The access profile granted (a profile name the vehicle knows).
    #[arg(long, value_name = "NAME")]
    profile: String,
    /// Valid from (Unix seconds).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    not_before: Option<i64>,
    /// Valid until (Unix seconds, exclusive).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    not_after: Option<i64>,
    /// The attestation's serial [default: the wallet's next].
    #[arg(long, value_name = "N")]
    serial: Option<u64>,
    /// Which key shares (32 hex digits); needed when the wallet holds several.
    #[arg(long, value_name = "HEX", value_parser = hex_array::<16>)]
    vehicle_group_id: Option<[u8; 16]>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the output to FILE instead of standard output (`accept-share --file` reads it).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["attestation", "file"])))]
pub struct AcceptShareArgs {
    /// The share attestation (hex).
    #[arg(long, value_name = "HEX")]
    attestation: Option<String>,
    /// A file holding the attestation: `share`'s output (text or JSON) or just the hex.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TerminateArgs {
    /// Which key (32 hex digits); needed when the wallet holds several.
    #[arg(long, value_name = "HEX", value_parser = hex_array::<16>)]
    vehicle_group_id: Option<[u8; 16]>,
    /// The attestation's serial [default: the wallet's next].
    #[arg(long, value_name = "N")]
    serial: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// `pair`: exit 0 only when a key was created and the vehicle confirmed it, 3 for a wrong
/// code, 4 otherwise. The wallet is saved only on success, so a key the vehicle did not
/// store never replaces one that works.
pub fn pair(wallet_path: &Path, args: &PairArgs, out: &mut impl Write) -> Result<u8, CliError> {
    let socket = args.target.socket()?;
    let mut wallet = Wallet::load_or_create(wallet_path)?;
    let options = PairOptions {
        name: args.name.clone(),
        tap: TapOptions { timeout: Duration::from_millis(args.timeout_ms), ..TapOptions::default() },
    };
    let report = pair::pair(&socket, &mut wallet, &args.code, &options)?;
    // Save before reporting: whoever reads the report may tap again at once.
    let saved = if report.succeeded() { wallet.save() } else { Ok(()) };
    write_report(out, &report, args.json)?;
    saved?;
    Ok(report.exit_code())
}

/// `share`: signs, saves the wallet (the serial is used), then prints.
pub fn share(wallet_path: &Path, args: &ShareArgs, out: &mut impl Write) -> Result<u8, CliError> {
    let mut wallet = Wallet::load(wallet_path)?;
    let issued = wallet.share(&ShareRequest {
        vehicle_group_id: args.vehicle_group_id,
        friend_key: args.friend_public_key.clone(),
        profile: args.profile.clone(),
        not_before: args.not_before,
        not_after: args.not_after,
        serial: args.serial,
    })?;
    wallet.save()?;
    let a = &issued.attestation;
    let document = if args.json {
        let value = json!({
            "attestation": hex::encode(&issued.bytes),
            "vehicle_group_id": hex::encode(a.vehicle_group_id),
            "vehicle_public_key": hex::encode(issued.vehicle_public.uncompressed()),
            "owner_slot": hex::encode(a.owner_slot),
            "friend_public_key": hex::encode(a.friend_key.uncompressed()),
            "profile": a.profile,
            "not_before": a.not_before,
            "not_after": a.not_after,
            "serial": a.serial,
        });
        format!("{value}\n")
    } else {
        format!(
            "attestation: {}\nvehicle-group-id: {}\nvehicle-public-key: {}\nowner-slot: {}\nserial: {}\n",
            hex::encode(&issued.bytes),
            hex::encode(a.vehicle_group_id),
            hex::encode(issued.vehicle_public.uncompressed()),
            hex::encode(a.owner_slot),
            a.serial,
        )
    };
    match &args.out {
        Some(path) => std::fs::write(path, document).map_err(|source| CliError::File { path: path.clone(), source })?,
        None => out.write_all(document.as_bytes())?,
    }
    Ok(0)
}

/// `accept-share`: checks the attestation against the wallet, writes it into the key's
/// private mailbox, saves, then prints what was accepted.
pub fn accept_share(wallet_path: &Path, args: &AcceptShareArgs, out: &mut impl Write) -> Result<u8, CliError> {
    let bytes = match (&args.attestation, &args.file) {
        (Some(text), _) => decode_hex(text)?,
        (None, Some(path)) => attestation_from_document(&read_small(path)?)?,
        (None, None) => return Err(CliError::Input("--attestation or --file is required".into())),
    };
    let mut wallet = Wallet::load(wallet_path)?;
    let share = wallet.accept_share(&bytes)?;
    wallet.save()?;
    if args.json {
        let value = json!({
            "vehicle_group_id": hex::encode(share.vehicle_group_id),
            "owner_slot": hex::encode(share.owner_slot),
            "profile": share.profile,
            "not_before": share.not_before,
            "not_after": share.not_after,
            "serial": share.serial,
        });
        writeln!(out, "{value}")?;
    } else {
        let optional = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), |t| t.to_string());
        writeln!(out, "vehicle-group-id: {}", hex::encode(share.vehicle_group_id))?;
        writeln!(out, "owner-slot: {}", hex::encode(share.owner_slot))?;
        writeln!(out, "profile: {}", share.profile)?;
        writeln!(out, "not-before: {}", optional(share.not_before))?;
        writeln!(out, "not-after: {}", optional(share.not_after))?;
        writeln!(out, "serial: {}", share.serial)?;
    }
    Ok(0)
}

/// `terminate`: signs the termination, marks the key, saves, then prints.
pub fn terminate(wallet_path: &Path, args: &TerminateArgs, out: &mut impl Write) -> Result<u8, CliError> {
    let mut wallet = Wallet::load(wallet_path)?;
    let termination = wallet.terminate(args.vehicle_group_id, args.serial)?;
    wallet.save()?;
    let a = &termination.attestation;
    if args.json {
        let value = json!({
            "attestation": hex::encode(&termination.bytes),
            "vehicle_group_id": hex::encode(a.vehicle_group_id),
            "slot": hex::encode(a.key_slot),
            "serial": a.serial,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "attestation: {}", hex::encode(&termination.bytes))?;
        writeln!(out, "vehicle-group-id: {}", hex::encode(a.vehicle_group_id))?;
        writeln!(out, "slot: {}", hex::encode(a.key_slot))?;
        writeln!(out, "serial: {}", a.serial)?;
    }
    Ok(0)
}

fn read_small(path: &Path) -> Result<String, CliError> {
    let file_error = |source| CliError::File { path: path.to_owned(), source };
    let len = std::fs::metadata(path).map_err(file_error)?.len();
    if len > MAX_SHARE_FILE_LEN {
        return Err(CliError::Input(format!("{}: larger than {MAX_SHARE_FILE_LEN} bytes", path.display())));
    }
    std::fs::read_to_string(path).map_err(file_error)
}

/// The attestation in what `share` wrote (its JSON, or its text with an `attestation:`
/// line), or in a file holding only the hex: the friend gets whichever the owner sent.
fn attestation_from_document(text: &str) -> Result<Vec<u8>, CliError> {
    let text = text.trim();
    if text.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| CliError::Input(format!("the share file is not valid JSON: {e}")))?;
        let hex = value
            .get("attestation")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| CliError::Input("the share file has no \"attestation\" string".into()))?;
        return decode_hex(hex);
    }
    let line = text.lines().find_map(|line| line.strip_prefix("attestation:"));
    decode_hex(line.unwrap_or(text))
}

fn decode_hex(text: &str) -> Result<Vec<u8>, CliError> {
    hex::decode(text.trim())
        .map_err(|_| CliError::Input("the attestation must be an even number of hexadecimal digits".into()))
}
