//! `carkey-phone`: a phone with digital car keys, tapping simulated NFC readers.
//!
//! Exit codes: 0 success, 3 denied (a tap the vehicle refused; a wrong pairing code), 4
//! failure or no decision, 1 usage or I/O error (including an attestation the wallet
//! refuses to sign or carry).

mod lifecycle;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use carkey_protocol::crypto::EcPublicKey;
use carkey_tests::field::{self, InvalidReaderName};
use carkey_tests::pair::{InvalidPairingCode, PairingCode};
use carkey_tests::tap::{self, TapError, TapOptions};
use carkey_tests::wallet::{KeyInfo, KeyName, NewKey, Wallet, WalletError};
use clap::{Args, Parser, Subcommand};

/// A simulated phone holding digital car keys.
#[derive(Debug, Parser)]
#[command(name = "carkey-phone", version, about, long_about = None)]
struct Cli {
    /// The wallet file (JSON with private keys; written atomically with mode 0600).
    #[arg(long, value_name = "FILE")]
    wallet: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a key for a vehicle (creating the wallet if needed); prints `slot:` and
    /// `public-key:` lines to enroll it in the vehicle.
    NewKey {
        /// The vehicle's reader group identifier (32 hex digits).
        #[arg(long, value_name = "HEX", value_parser = hex_array::<16>)]
        vehicle_group_id: [u8; 16],
        /// The vehicle's public key (130 hex digits, uncompressed SEC1).
        #[arg(long, value_name = "HEX", value_parser = public_key)]
        vehicle_public_key: EcPublicKey,
        /// The key slot (16 hex digits); random if omitted.
        #[arg(long, value_name = "HEX", value_parser = hex_array::<8>)]
        slot: Option<[u8; 8]>,
        /// A friendly name.
        #[arg(long, value_parser = key_name)]
        name: Option<KeyName>,
    },
    /// Show the keys (public data only).
    List {
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Tap a reader: answer its commands until CONTROL FLOW, then save the wallet.
    Tap(TapArgs),
    /// Owner pairing: arm the phone with the code the vehicle shows, tap once, and save
    /// the new key if the vehicle confirms it (creating the wallet if needed).
    Pair(lifecycle::PairArgs),
    /// Sign a share of this phone's key with a friend's key; prints the attestation and
    /// what the friend needs.
    Share(lifecycle::ShareArgs),
    /// Carry an owner's share attestation to this phone's first tap at the vehicle.
    AcceptShare(lifecycle::AcceptShareArgs),
    /// Delete a key on the phone: sign its termination, which the next tap carries to the
    /// vehicle; prints the attestation (for the backend).
    Terminate(lifecycle::TerminateArgs),
}

/// Which reader to tap.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["reader", "socket"])))]
struct Target {
    /// The reader's name: its socket is FIELD_DIR/NAME.sock.
    #[arg(long, value_name = "NAME")]
    reader: Option<String>,
    /// Directory of reader sockets [default: $CARKEY_FIELD_DIR, else /run/carkey/nfc].
    #[arg(long, value_name = "DIR", requires = "reader")]
    field_dir: Option<PathBuf>,
    /// The reader's socket path.
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

impl Target {
    fn socket(&self) -> Result<PathBuf, InvalidReaderName> {
        match (&self.socket, &self.reader) {
            (Some(socket), _) => Ok(socket.clone()),
            (None, reader) => field::reader_socket(self.field_dir.as_deref(), reader.as_deref().unwrap_or_default()),
        }
    }
}

#[derive(Debug, Args)]
struct TapArgs {
    #[command(flatten)]
    target: Target,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// After answering N commands, stop answering (but stay until the reader hangs up).
    #[arg(long, value_name = "N", conflicts_with = "disconnect_after")]
    hang_after: Option<usize>,
    /// After answering N commands, leave the field.
    #[arg(long, value_name = "N")]
    disconnect_after: Option<usize>,
    /// How long to wait for each next command from the reader.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,
}

/// Why the command failed (exit code 1).
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    #[error(transparent)]
    Tap(#[from] TapError),
    #[error(transparent)]
    Reader(#[from] InvalidReaderName),
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Input(String),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // --help and --version are not errors; everything else is a usage error.
            return if error.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("carkey-phone: {error}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<u8, CliError> {
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::NewKey { vehicle_group_id, vehicle_public_key, slot, name } => {
            let mut wallet = Wallet::load_or_create(&cli.wallet)?;
            let key = wallet.new_key(NewKey { vehicle_group_id, vehicle_public: vehicle_public_key, slot, name })?;
            wallet.save()?;
            writeln!(out, "slot: {}", hex::encode(key.slot))?;
            writeln!(out, "public-key: {}", hex::encode(key.public_key.uncompressed()))?;
            Ok(0)
        }
        Command::List { json } => {
            let keys = Wallet::load(&cli.wallet)?.keys();
            if json {
                writeln!(out, "{}", serde_json::to_string(&keys).map_err(std::io::Error::other)?)?;
            } else if keys.is_empty() {
                writeln!(out, "no keys")?;
            }
            for key in keys.iter().filter(|_| !json) {
                write_key(&mut out, key)?;
            }
            Ok(0)
        }
        Command::Tap(args) => {
            let socket = args.target.socket()?;
            let mut wallet = Wallet::load(&cli.wallet)?;
            let options = TapOptions {
                timeout: Duration::from_millis(args.timeout_ms),
                hang_after: args.hang_after,
                disconnect_after: args.disconnect_after,
            };
            let report = tap::tap(&socket, &mut wallet, &options)?;
            // Save before reporting: whoever reads the report may tap again at once.
            let saved = wallet.save();
            write_report(&mut out, &report, args.json)?;
            saved?;
            Ok(report.exit_code())
        }
        Command::Pair(args) => lifecycle::pair(&cli.wallet, &args, &mut out),
        Command::Share(args) => lifecycle::share(&cli.wallet, &args, &mut out),
        Command::AcceptShare(args) => lifecycle::accept_share(&cli.wallet, &args, &mut out),
        Command::Terminate(args) => lifecycle::terminate(&cli.wallet, &args, &mut out),
    }
}

/// One key in `list`'s text form: a name line, then aligned `label: value` lines.
/// A tap or pairing report, as one JSON line or as text.
fn write_report<R: serde::Serialize + std::fmt::Display>(
    out: &mut impl Write,
    report: &R,
    json: bool,
) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(report).map_err(std::io::Error::other)?)
    } else {
        writeln!(out, "{report}")
    }
}

fn write_key(out: &mut impl Write, key: &KeyInfo) -> std::io::Result<()> {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    writeln!(out, "{}", key.name.as_str())?;
    let lines = [
        ("slot", hex::encode(key.slot)),
        ("vehicle group id", hex::encode(key.vehicle_group_id)),
        ("vehicle public key", hex::encode(key.vehicle_public.uncompressed())),
        ("public key", hex::encode(key.public_key.uncompressed())),
        ("fast context", yes_no(key.has_context).to_owned()),
        ("share attestation", yes_no(key.has_share).to_owned()),
        ("termination pending", yes_no(key.termination_pending).to_owned()),
    ];
    for (label, value) in lines {
        writeln!(out, "  {:<21}{value}", format!("{label}:"))?;
    }
    Ok(())
}

fn hex_array<const N: usize>(value: &str) -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(value, &mut bytes).map_err(|_| format!("expected {} hexadecimal digits", N * 2))?;
    Ok(bytes)
}

fn public_key(value: &str) -> Result<EcPublicKey, String> {
    EcPublicKey::from_uncompressed(&hex_array::<65>(value)?).map_err(|e| e.to_string())
}

fn key_name(value: &str) -> Result<KeyName, String> {
    KeyName::new(value).map_err(|e| e.to_string())
}

fn pairing_code(value: &str) -> Result<PairingCode, InvalidPairingCode> {
    PairingCode::new(value)
}
