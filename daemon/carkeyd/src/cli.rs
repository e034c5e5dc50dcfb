//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// carkeyd: the vehicle side of phone-as-car-key.
///
/// Without a subcommand it runs the daemon. The maintenance subcommands work on the state
/// directory directly, for provisioning and service while the daemon is stopped (the
/// running daemon is managed over D-Bus).
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file(s) to use instead of the default layers
    /// (/usr/share/carkey/carkeyd.toml, /etc/carkey/carkeyd.toml, /etc/carkey/conf.d/*.toml).
    #[arg(long = "config", value_name = "FILE", global = true)]
    pub config: Vec<PathBuf>,
    /// State directory (overrides $STATE_DIRECTORY and the configuration).
    #[arg(long, value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Load and validate the configuration, print the effective result, and exit.
    #[arg(long)]
    pub check_config: bool,
    /// Maintenance command.
    #[command(subcommand)]
    pub command: Option<Maintenance>,
}

/// Offline maintenance.
#[derive(Debug, Subcommand)]
pub enum Maintenance {
    /// Print the vehicle's identity (reader group id and public key) for enrolling phones.
    Identity(Output),
    /// Manage keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage access profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Owner pairing: show a one-time code, provision a backend verifier, check, cancel.
    #[command(subcommand)]
    Pairing(PairingCommand),
    /// Erase every key, secret, profile, pending pairing and the audit log, and give the
    /// vehicle a new identity (for a change of owner). Phones paired before stop working.
    FactoryReset {
        /// Confirm: nothing can be recovered afterwards.
        #[arg(long)]
        yes: bool,
    },
    /// Print the audit log, or verify its hash chain and the database's integrity.
    Audit {
        /// Only entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: u64,
        /// At most this many entries.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Verify the whole chain and `PRAGMA integrity_check` instead of printing.
        #[arg(long)]
        verify: bool,
        /// Output format.
        #[command(flatten)]
        output: Output,
    },
}

/// Output format.
#[derive(Debug, Args)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `carkeyd keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List keys, most recently used first.
    List(Output),
    /// Enroll a phone's key.
    Add {
        /// The key slot the phone chose (16 hex digits).
        #[arg(long)]
        slot: String,
        /// The phone's public key (uncompressed SEC1, 130 hex digits).
        #[arg(long)]
        public_key: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Access profile.
        #[arg(long, default_value = "driver")]
        profile: String,
        /// Owner or friend.
        #[arg(long, value_enum, default_value = "friend")]
        role: RoleArg,
        /// Valid from (Unix seconds).
        #[arg(long)]
        not_before: Option<i64>,
        /// Valid until (Unix seconds, exclusive).
        #[arg(long)]
        not_after: Option<i64>,
    },
    /// Enroll many keys from a JSON-lines file (end-of-line provisioning): one object per
    /// line with `slot`, `public_key`, `name`, and optionally `profile` and `role`. Each
    /// key is committed on its own; the first refused line stops the import.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Rename a key.
    Rename {
        /// Key id.
        id: String,
        /// New name.
        name: String,
    },
    /// Assign another access profile.
    SetProfile {
        /// Key id.
        id: String,
        /// Profile name.
        profile: String,
    },
    /// Suspend a key (e.g. a lost phone).
    Suspend {
        /// Key id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Resume a suspended key.
    Resume {
        /// Key id.
        id: String,
    },
    /// Revoke a key for good.
    Revoke {
        /// Key id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Apply a termination attestation relayed by the backend (hex): the key it names is
    /// revoked for good if the key itself signed it.
    Terminate {
        /// The attestation, hex.
        attestation: String,
    },
}

/// `carkeyd pairing ...`.
#[derive(Debug, Subcommand)]
pub enum PairingCommand {
    /// Generate a one-time pairing code to show to the owner; only its SPAKE2+ verifier
    /// is kept. Replaces any pending pairing.
    Start(Output),
    /// Provision a SPAKE2+ verifier made by the automaker's backend from a code the owner
    /// received there.
    Provision {
        /// w0 ‖ L (97 bytes), hex.
        #[arg(long)]
        verifier: String,
        /// The scrypt salt the code was hashed with (16 bytes), hex.
        #[arg(long)]
        salt: String,
        /// scrypt log2 N.
        #[arg(long, default_value_t = 15)]
        log_n: u8,
        /// scrypt r.
        #[arg(long, default_value_t = 8)]
        r: u32,
        /// scrypt p.
        #[arg(long, default_value_t = 1)]
        p: u32,
        /// Valid until (Unix seconds).
        #[arg(long)]
        expires_at: Option<i64>,
    },
    /// Show the pending pairing (source, attempts left, expiry).
    Status(Output),
    /// Withdraw the pending pairing.
    Cancel,
}

/// Role on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    /// The owner.
    Owner,
    /// A shared key.
    Friend,
}

/// `carkeyd profiles ...`.
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List profiles, built-in first.
    List(Output),
    /// Create or replace a custom profile.
    Put {
        /// Profile name.
        name: String,
        /// Allowed actions (unlock, lock, trunk, engine-start), comma separated.
        #[arg(long, value_delimiter = ',')]
        actions: Vec<String>,
        /// Speed limit at engine start, km/h.
        #[arg(long)]
        speed_limit: Option<u16>,
        /// Weekly window, e.g. "mon-fri 18:00-23:00"; repeat for more.
        #[arg(long)]
        schedule: Vec<String>,
        /// Valid from (Unix seconds).
        #[arg(long)]
        not_before: Option<i64>,
        /// Valid until (Unix seconds, exclusive).
        #[arg(long)]
        not_after: Option<i64>,
    },
    /// Remove a custom profile no key uses.
    Remove {
        /// Profile name.
        name: String,
    },
}
