//! carkeyd's configuration: TOML layered from the distribution's defaults, the
//! automaker's `/etc` file and drop-ins, validated strictly.
//!
//! Every layer is checked on its own first (so an unknown key or a wrong type is reported
//! with the file it is in), then layers merge table by table (a later value wins; a
//! reader defined in a drop-in adds to or overrides one defined earlier), then the result
//! is checked as a whole.

mod layers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use carkey_core::ids::{ReaderLocation, ReaderName};
use carkey_core::time::UtcOffset;
use serde::{Deserialize, Serialize};

pub use layers::{ConfigError, DEFAULT_LAYERS, load, load_files};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The vehicle: time zone and clock trust.
    pub vehicle: VehicleConfig,
    /// Where state lives.
    pub state: StateConfig,
    /// Logging.
    pub log: LogConfig,
    /// NFC readers.
    pub nfc: NfcConfig,
    /// The vehicle bus adapter.
    pub vehicle_bus: VehicleBusConfig,
    /// Key slots.
    pub keys: KeysConfig,
    /// Owner pairing.
    pub pairing: PairingConfig,
    /// The dashboard's D-Bus service and who may use it.
    pub dbus: DbusConfig,
}

/// Which bus the service joins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BusKind {
    /// The system bus (`$DBUS_SYSTEM_BUS_ADDRESS` or the standard socket).
    #[default]
    System,
    /// The session bus (`$DBUS_SESSION_BUS_ADDRESS`), for development and demos.
    Session,
    /// No D-Bus service (readers, engine and vehicle bus still run).
    None,
}

/// `[dbus]`: the bus, and who may read or manage keys. Users and groups are names (or
/// numeric ids); a caller in none of them is denied everything. The bus policy file
/// (`org.carkey.CarKey1.conf`) must admit the same users and groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbusConfig {
    /// Which bus.
    pub bus: BusKind,
    /// Users who may manage keys, profiles and pairing.
    pub manage_users: Vec<String>,
    /// Groups whose members may manage.
    pub manage_groups: Vec<String>,
    /// Users who may only read (keys, readers, vehicle, decisions).
    pub read_users: Vec<String>,
    /// Groups whose members may only read.
    pub read_groups: Vec<String>,
}

impl Default for DbusConfig {
    fn default() -> Self {
        Self {
            bus: BusKind::System,
            manage_users: vec!["root".into()],
            manage_groups: vec!["carkey-dashboard".into()],
            read_users: Vec::new(),
            read_groups: vec!["carkey-observer".into()],
        }
    }
}

/// `[keys]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Keys that are not revoked (owner and friends) the vehicle holds at most.
    pub max_keys: usize,
}

impl KeysConfig {
    /// Allowed slot counts.
    pub const MAX_KEYS_RANGE: core::ops::RangeInclusive<usize> = 1..=1000;
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self { max_keys: carkey_core::engine::DEFAULT_MAX_KEYS }
    }
}

/// `[pairing]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PairingConfig {
    /// How long a pairing code shown on the dashboard stays valid, in seconds.
    pub code_lifetime_s: u32,
}

impl PairingConfig {
    /// Allowed lifetimes: long enough to walk to the car, short enough that a code
    /// photographed off the screen is soon useless.
    pub const CODE_LIFETIME_RANGE_S: core::ops::RangeInclusive<u32> = 60..=86_400;
}

impl Default for PairingConfig {
    fn default() -> Self {
        Self { code_lifetime_s: 900 }
    }
}

/// When the head unit's wall clock is believed (time-bound keys deny otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockTrust {
    /// Always (a clock kept by a trusted source outside carkey).
    Always,
    /// When it reads a date after this build was made (an unset RTC reads 1970 or 2000).
    #[default]
    Plausible,
    /// When plausible and systemd-timesyncd reports synchronization.
    Synchronized,
}

/// `[vehicle]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VehicleConfig {
    /// Offset from UTC in minutes, for weekly schedules.
    pub utc_offset_minutes: i16,
    /// When to trust the wall clock.
    pub clock_trust: ClockTrust,
}

impl VehicleConfig {
    /// The offset as the engine takes it.
    pub const fn utc_offset(&self) -> UtcOffset {
        UtcOffset(self.utc_offset_minutes)
    }
}

/// `[state]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// The state directory (systemd's `$STATE_DIRECTORY` overrides it).
    pub directory: PathBuf,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self { directory: PathBuf::from("/var/lib/carkey") }
    }
}

/// Where log lines go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogTarget {
    /// The journal when started by systemd with its output connected to it, else stderr.
    #[default]
    Auto,
    /// Standard error.
    Stderr,
    /// The systemd journal, with structured fields.
    Journald,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Where to log.
    pub target: LogTarget,
    /// A tracing filter (`info`, `carkey_core=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { target: LogTarget::Auto, level: "info".to_owned() }
    }
}

/// `[nfc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NfcConfig {
    /// How long a phone may take to answer one APDU.
    pub apdu_timeout_ms: u64,
    /// Readers by name.
    pub readers: BTreeMap<String, ReaderConfig>,
}

impl Default for NfcConfig {
    fn default() -> Self {
        Self { apdu_timeout_ms: 300, readers: BTreeMap::new() }
    }
}

impl NfcConfig {
    /// Allowed per-APDU timeouts: long enough for a phone's secure element, short
    /// enough that a hung phone frees the reader well within a second.
    pub const APDU_TIMEOUT_RANGE_MS: core::ops::RangeInclusive<u64> = 10..=900;

    /// The timeout.
    pub const fn apdu_timeout(&self) -> Duration {
        Duration::from_millis(self.apdu_timeout_ms)
    }
}

/// `[nfc.readers.<name>]`: where the reader sits and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "driver", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ReaderConfig {
    /// A simulated field on a Unix socket (phones are simulator programs).
    Simulated {
        /// Where it sits.
        location: ReaderLocation,
        /// The socket path.
        socket: PathBuf,
    },
}

impl ReaderConfig {
    /// Where it sits.
    pub const fn location(&self) -> ReaderLocation {
        match self {
            Self::Simulated { location, .. } => *location,
        }
    }
}

/// A validated reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// Its name.
    pub name: ReaderName,
    /// Its settings.
    pub config: ReaderConfig,
}

/// `[vehicle_bus]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum VehicleBusConfig {
    /// No vehicle network: log every command and append it to a file (development and
    /// tests, until the CAN adapter is configured).
    Recorder {
        /// JSON-lines file of executed commands.
        #[serde(default)]
        record_file: Option<PathBuf>,
        /// Lock state assumed at start.
        #[serde(default = "yes")]
        initially_locked: bool,
    },
}

const fn yes() -> bool {
    true
}

impl Default for VehicleBusConfig {
    fn default() -> Self {
        Self::Recorder { record_file: None, initially_locked: true }
    }
}

impl Config {
    /// The readers with validated names.
    pub fn readers(&self) -> Result<Vec<Reader>, ConfigError> {
        self.nfc
            .readers
            .iter()
            .map(|(name, config)| {
                let name = ReaderName::new(name).map_err(|e| ConfigError::Invalid(e.to_string()))?;
                Ok(Reader { name, config: config.clone() })
            })
            .collect()
    }

    /// Checks what a type cannot: value ranges, names, uniqueness.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |s: String| Err(ConfigError::Invalid(s));
        if !NfcConfig::APDU_TIMEOUT_RANGE_MS.contains(&self.nfc.apdu_timeout_ms) {
            return invalid(format!(
                "nfc.apdu_timeout_ms = {} is outside {}..={}",
                self.nfc.apdu_timeout_ms,
                NfcConfig::APDU_TIMEOUT_RANGE_MS.start(),
                NfcConfig::APDU_TIMEOUT_RANGE_MS.end()
            ));
        }
        if !(-14 * 60..=14 * 60).contains(&self.vehicle.utc_offset_minutes) {
            return invalid(format!(
                "vehicle.utc_offset_minutes = {} is not a real offset",
                self.vehicle.utc_offset_minutes
            ));
        }
        let readers = self.readers()?;
        let mut sockets = std::collections::BTreeSet::new();
        for reader in &readers {
            let ReaderConfig::Simulated { socket, .. } = &reader.config;
            if !socket.is_absolute() {
                return invalid(format!("nfc.readers.{}.socket must be an absolute path", reader.name));
            }
            if !sockets.insert(socket) {
                return invalid(format!(
                    "nfc.readers.{}.socket {} is used by two readers",
                    reader.name,
                    socket.display()
                ));
            }
        }
        if self.log.level.parse::<tracing_subscriber::filter::Targets>().is_err() {
            return invalid(format!(
                "log.level = {:?} is not a filter like \"info\" or \"warn,carkey_core=debug\"",
                self.log.level
            ));
        }
        if !KeysConfig::MAX_KEYS_RANGE.contains(&self.keys.max_keys) {
            return invalid(format!("keys.max_keys = {} is outside 1..=1000", self.keys.max_keys));
        }
        if !PairingConfig::CODE_LIFETIME_RANGE_S.contains(&self.pairing.code_lifetime_s) {
            return invalid(format!(
                "pairing.code_lifetime_s = {} is outside 60..=86400",
                self.pairing.code_lifetime_s
            ));
        }
        if self.state.directory.as_os_str().is_empty() {
            return invalid("state.directory is empty".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
