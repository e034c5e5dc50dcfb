//! Running the daemon: wire adapters to the engine, serve until SIGTERM, stop cleanly.

use std::time::Duration;

use carkey_core::engine::{Engine, EngineConfig};
use carkey_core::reader::{ReaderSetup, serve};
use carkey_nfc::SimulatedReader;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use std::sync::Arc;

use crate::clock::SystemClock;
use crate::config::{Config, ReaderConfig, VehicleBusConfig};
use crate::dbus::shared::Shared;
use crate::dbus::{ReaderHealth, ReaderInfo};
use crate::recorder::RecordingVehicleBus;
use crate::state::StateDir;

/// How long a reader waits before retrying after its device or socket failed.
const READER_RETRY: Duration = Duration::from_secs(1);

/// Requests queued for the engine before readers wait (back-pressure, not loss).
const ENGINE_QUEUE: usize = 64;

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The state directory or the store.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A reader or the vehicle bus could not be set up.
    #[error("{what}: {source}")]
    Setup {
        /// What failed.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

fn setup(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DaemonError {
    let what = what.into();
    move |source| DaemonError::Setup { what, source }
}

/// Runs until SIGTERM or SIGINT.
pub async fn run(config: Config, state: StateDir) -> Result<(), DaemonError> {
    let store = state.open_store()?;
    let VehicleBusConfig::Recorder { record_file, initially_locked } = &config.vehicle_bus;
    let bus =
        RecordingVehicleBus::open(record_file.as_deref(), *initially_locked).map_err(setup("vehicle bus recorder"))?;
    let clock = SystemClock::new(config.vehicle.clock_trust);
    let engine_config = EngineConfig {
        utc_offset: config.vehicle.utc_offset(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        max_keys: config.keys.max_keys,
    };
    let engine = Engine::start(store, bus, clock.clone(), engine_config).map_err(crate::state::StateError::from)?;
    let (requests, inbox) = mpsc::channel(ENGINE_QUEUE);
    let mut reader_infos = Vec::new();

    let mut readers = JoinSet::new();
    let readers_config = config
        .readers()
        .map_err(|e| DaemonError::Setup { what: "readers".into(), source: std::io::Error::other(e.to_string()) })?;
    for reader in readers_config {
        let ReaderConfig::Simulated { location, socket } = &reader.config;
        if let Some(parent) = socket.parent() {
            std::fs::create_dir_all(parent).map_err(setup(format!("socket directory {}", parent.display())))?;
        }
        let mut device = SimulatedReader::bind(socket, config.nfc.apdu_timeout()).map_err(setup(format!(
            "reader {} on {}",
            reader.name,
            socket.display()
        )))?;
        tracing::info!(reader = %reader.name, %location, socket = %socket.display(), "simulated reader listening");
        let setup = ReaderSetup { name: reader.name.clone(), location: *location };
        let (directory, requests) = (engine.directory(), requests.clone());
        let (health, watch_health) = tokio::sync::watch::channel(ReaderHealth::default());
        reader_infos.push(ReaderInfo { name: reader.name.clone(), location: *location, health: watch_health });
        readers.spawn(async move {
            loop {
                match serve(&mut device, setup.clone(), directory.clone(), requests.clone()).await {
                    Ok(()) => return,
                    Err(error) => {
                        tracing::error!(reader = %setup.name, %error, "reader failed; retrying");
                        health.send_replace(ReaderHealth { failed: true, last_error: Some(error.to_string()) });
                        tokio::time::sleep(READER_RETRY).await;
                        health.send_modify(|h| h.failed = false);
                    }
                }
            }
        });
    }
    let shared = Arc::new(Shared {
        requests: std::sync::Mutex::new(Some(requests.clone())),
        status: engine.status(),
        authz: crate::dbus::authz::Authorizer::from_config(&config.dbus),
        clock,
        code_lifetime_s: config.pairing.code_lifetime_s,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        max_keys: u32::try_from(config.keys.max_keys).unwrap_or(u32::MAX),
    });
    let decisions = engine.decisions();
    drop(requests);
    let engine_task = tokio::spawn(engine.run(inbox));
    // Keys work without the dashboard: a bus that is missing or refuses the name is
    // logged and the daemon serves the readers regardless.
    let service = match crate::dbus::start(config.dbus.bus, shared, reader_infos, decisions).await {
        Ok(conn) => conn,
        Err(error) => {
            tracing::error!(%error, "D-Bus service unavailable; serving readers without it");
            None
        }
    };

    let mut term = signal(SignalKind::terminate()).map_err(setup("SIGTERM handler"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(setup("SIGINT handler"))?;
    notify(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status("serving")]);
    tracing::info!(state = %state.path().display(), "carkeyd ready");

    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
    notify(&[sd_notify::NotifyState::Stopping]);
    // Readers stop first (closing their sockets), then the D-Bus service; the engine then
    // finishes every request already queued, so no decided tap is left half-recorded.
    readers.shutdown().await;
    if let Some(service) = service {
        service.stop().await;
    }
    if let Err(e) = engine_task.await {
        tracing::error!(error = %e, "engine task ended abnormally");
    }
    tracing::info!("carkeyd stopped");
    Ok(())
}

fn notify(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, states) {
        tracing::debug!(error = %e, "sd_notify");
    }
}
