//! Starting the service, and mirroring the engine onto the bus: key objects appear and
//! disappear with the keys, properties announce their changes, decisions become signals.
//!
//! The engine publishes a whole snapshot after each change; comparing it with the
//! previous one tells exactly which properties changed, so no change can be forgotten
//! by a code path that updated the state but not the bus.

use std::sync::Arc;

use carkey_core::engine::{DecisionEvent, Status};
use carkey_core::key::DigitalKey;
use carkey_dbus::{BUS_NAME, ROOT_PATH, paths};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;
use zbus::Connection;
use zbus::fdo::ObjectManager;
use zbus::object_server::{InterfaceRef, ObjectServer};

use super::key::KeyObject;
use super::reader::{ReaderInfo, ReaderObject};
use super::root::{ManagerObject, ManagerObjectSignals, PairingObject, SyncObject, VehicleObject};
use super::shared::Shared;
use crate::config::BusKind;

/// Emits `PropertiesChanged` for `$prop` of the interface at `$iface` when `$changed`.
macro_rules! changed {
    ($iface:expr, $($changed:expr => $prop:ident),+ $(,)?) => {{
        let iface = $iface;
        let object = iface.get().await;
        $(
            if $changed {
                object.$prop(iface.signal_emitter()).await?;
            }
        )+
    }};
}

/// The running service.
#[derive(Debug)]
pub struct Service {
    conn: Connection,
    shared: Arc<Shared>,
    tasks: JoinSet<()>,
}

impl Service {
    /// Releases the name and drops every object, so nothing holds the engine's queue
    /// open any more and the engine can finish.
    pub async fn stop(mut self) {
        self.shared.close();
        self.tasks.shutdown().await;
        if let Err(error) = self.conn.release_name(BUS_NAME).await {
            tracing::debug!(%error, "releasing the bus name");
        }
    }
}

/// Joins the bus, exports every object, takes the name, and starts mirroring. Returns
/// `None` when the configuration asks for no D-Bus service.
pub async fn start(
    bus: BusKind,
    shared: Arc<Shared>,
    readers: Vec<ReaderInfo>,
    decisions: broadcast::Receiver<DecisionEvent>,
) -> zbus::Result<Option<Service>> {
    let builder = match bus {
        BusKind::System => zbus::connection::Builder::system(),
        BusKind::Session => zbus::connection::Builder::session(),
        BusKind::None => return Ok(None),
    };
    let status = shared.status();
    let mut builder = builder
        .serve_at(ROOT_PATH, ManagerObject(Arc::clone(&shared)))
        .serve_at(ROOT_PATH, PairingObject(Arc::clone(&shared)))
        .serve_at(ROOT_PATH, VehicleObject(Arc::clone(&shared)))
        .serve_at(ROOT_PATH, SyncObject(Arc::clone(&shared)));
    for key in &status.keys {
        if let Some(path) = paths::key_path(&key.id.to_string()) {
            builder = builder.serve_at(path, KeyObject { id: key.id, shared: Arc::clone(&shared) });
        }
    }
    for reader in &readers {
        if let Some(path) = paths::reader_path(reader.name.as_str()) {
            builder = builder.serve_at(path, ReaderObject { info: reader.clone(), shared: Arc::clone(&shared) });
        }
    }
    // Every object exists before the name is taken: a client that sees the name appear
    // finds the whole tree.
    let conn = builder.serve_at(ROOT_PATH, ObjectManager).name(BUS_NAME).build().await?;
    let mut tasks = JoinSet::new();
    for reader in readers {
        tasks.spawn(follow_reader(conn.clone(), reader));
    }
    let mut status_rx = shared.status.clone();
    status_rx.mark_unchanged();
    tasks.spawn(follow_engine(conn.clone(), Arc::clone(&shared), status, status_rx, decisions));
    tracing::info!(name = BUS_NAME, "D-Bus service ready");
    Ok(Some(Service { conn, shared, tasks }))
}

async fn follow_engine(
    conn: Connection,
    shared: Arc<Shared>,
    mut last: Arc<Status>,
    mut status: watch::Receiver<Arc<Status>>,
    mut decisions: broadcast::Receiver<DecisionEvent>,
) {
    let mut presence_ends = presence_end(&last);
    loop {
        tokio::select! {
            changed = status.changed() => {
                if changed.is_err() {
                    return;
                }
                let new = Arc::clone(&status.borrow_and_update());
                if let Err(error) = mirror(&conn, &shared, &last, &new).await {
                    tracing::warn!(%error, "could not announce a change on D-Bus");
                }
                presence_ends = presence_end(&new);
                last = new;
            }
            () = tokio::time::sleep_until(presence_ends.unwrap_or_else(far_future)), if presence_ends.is_some() => {
                // The owner's window ended without an engine change: OwnerPresentUntil now
                // reads 0, and a dashboard waiting for it must hear so.
                presence_ends = None;
                let announced: zbus::Result<()> = async {
                    changed!(root::<ManagerObject>(conn.object_server()).await?, true => owner_present_until_changed);
                    Ok(())
                }
                .await;
                if let Err(error) = announced {
                    tracing::warn!(%error, "could not announce the end of owner presence on D-Bus");
                }
            }
            event = decisions.recv() => match event {
                Ok(event) => {
                    if let Err(error) = announce(&conn, &event).await {
                        tracing::warn!(%error, "could not announce a decision on D-Bus");
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "D-Bus fell behind; some decisions were not announced");
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// When the owner presence of `status` ends, on the monotonic clock.
fn presence_end(status: &Status) -> Option<tokio::time::Instant> {
    let until = status.owner_present_until?;
    let left = u64::try_from(until.0.saturating_sub(super::root::unix_now())).unwrap_or(0);
    Some(tokio::time::Instant::now() + std::time::Duration::from_secs(left))
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + std::time::Duration::from_secs(86_400)
}

async fn announce(conn: &Connection, event: &DecisionEvent) -> zbus::Result<()> {
    let d = super::convert::decision(event);
    let manager = root::<ManagerObject>(conn.object_server()).await?;
    manager.decision(&d.reader, &d.key, &d.action, &d.transaction, d.allowed, &d.reason, d.time).await
}

async fn root<I: zbus::object_server::Interface>(server: &ObjectServer) -> zbus::Result<InterfaceRef<I>> {
    server.interface::<_, I>(ROOT_PATH).await
}

async fn mirror(conn: &Connection, shared: &Arc<Shared>, old: &Status, new: &Status) -> zbus::Result<()> {
    let server = conn.object_server();
    // Keys first: a client reacting to KeysInUse finds the objects already there.
    mirror_keys(server, shared, &old.keys, &new.keys).await?;
    changed!(root::<ManagerObject>(server).await?,
        old.group_id != new.group_id => vehicle_group_id_changed,
        super::root::keys_in_use(old) != super::root::keys_in_use(new) => keys_in_use_changed,
        old.owner_present_until != new.owner_present_until => owner_present_until_changed,
    );
    let (a, b) = (old.pairing, new.pairing);
    changed!(root::<PairingObject>(server).await?,
        a.is_some() != b.is_some() => pending_changed,
        a.map(|p| p.source) != b.map(|p| p.source) => source_changed,
        a.map(|p| p.attempts_left) != b.map(|p| p.attempts_left) => attempts_left_changed,
        a.map(|p| p.expires_at) != b.map(|p| p.expires_at) => expires_at_changed,
    );
    let (a, b) = (old.vehicle, new.vehicle);
    changed!(root::<VehicleObject>(server).await?,
        a.locked != b.locked => locked_changed,
        a.immobilizer != b.immobilizer => immobilizer_changed,
        a.immobilizer != b.immobilizer => started_by_changed,
        a.immobilizer != b.immobilizer => speed_limit_changed,
    );
    changed!(root::<SyncObject>(server).await?,
        old.tracking_pending != new.tracking_pending => pending_events_changed,
    );
    Ok(())
}

async fn mirror_keys(
    server: &ObjectServer,
    shared: &Arc<Shared>,
    old: &[DigitalKey],
    new: &[DigitalKey],
) -> zbus::Result<()> {
    let find = |keys: &[DigitalKey], id| {
        keys.binary_search_by(|k: &DigitalKey| k.id.cmp(id)).ok().and_then(|i| keys.get(i).cloned())
    };
    for gone in old.iter().filter(|k| find(new, &k.id).is_none()) {
        if let Some(path) = paths::key_path(&gone.id.to_string()) {
            server.remove::<KeyObject, _>(path).await?;
        }
    }
    for key in new {
        let Some(path) = paths::key_path(&key.id.to_string()) else { continue };
        let Some(before) = find(old, &key.id) else {
            server.at(path, KeyObject { id: key.id, shared: Arc::clone(shared) }).await?;
            continue;
        };
        if before == *key {
            continue;
        }
        changed!(server.interface::<_, KeyObject>(path).await?,
            before.name != key.name => name_changed,
            before.profile != key.profile => profile_changed,
            before.state.as_str() != key.state.as_str() => state_changed,
            before.state != key.state => state_reason_changed,
            before.last_used_at != key.last_used_at => last_used_at_changed,
            before.validity.not_before != key.validity.not_before => not_before_changed,
            before.validity.not_after != key.validity.not_after => not_after_changed,
            before.usage != key.usage => usage_changed,
        );
    }
    Ok(())
}

async fn follow_reader(conn: Connection, mut reader: ReaderInfo) {
    let Some(path) = paths::reader_path(reader.name.as_str()) else { return };
    while reader.health.changed().await.is_ok() {
        reader.health.mark_unchanged();
        let result: zbus::Result<()> = async {
            changed!(conn.object_server().interface::<_, ReaderObject>(&path).await?,
                true => state_changed,
                true => last_error_changed,
            );
            Ok(())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(reader = %reader.name, %error, "could not announce a reader's state");
        }
    }
}
