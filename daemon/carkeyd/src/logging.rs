//! Tracing to stderr, or to the journal with structured fields when run by systemd.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogTarget};

/// Installs the global subscriber. `RUST_LOG` overrides the configured level; an
/// unparsable filter falls back to `info`.
pub fn init(config: &LogConfig) {
    // `Targets` (`info`, `warn,carkey_core=debug`) rather than a regex-based filter: the
    // daemon's size on the head unit matters more than per-field filtering.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| s.parse::<Targets>().ok())
        .or_else(|| config.level.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    // systemd sets JOURNAL_STREAM when stdout/stderr are connected to the journal.
    let journald = match config.target {
        LogTarget::Journald => true,
        LogTarget::Stderr => false,
        LogTarget::Auto => std::env::var_os("JOURNAL_STREAM").is_some(),
    };
    let registry = tracing_subscriber::registry().with(filter);
    if journald {
        match tracing_journald::layer() {
            Ok(layer) => {
                registry.with(layer.with_syslog_identifier("carkeyd".to_owned())).init();
                return;
            }
            Err(e) => eprintln!("carkeyd: journald unavailable ({e}); logging to stderr"),
        }
    }
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    registry
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(ansi))
        .init();
}
