//! Tracing to stderr, or to the journal with structured fields when run by systemd.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogTarget};

/// Installs the global subscriber. `RUST_LOG` overrides the configured level.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
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
    registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false)).init();
}
