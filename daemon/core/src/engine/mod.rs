//! The engine: one task that owns every key, profile and audit entry, and is the only
//! place a decision is made or state changes.
//!
//! Readers, the D-Bus service and the backend sync talk to it through [`Request`]s on a
//! channel; it answers each on a oneshot. Every state change is written through the
//! [`KeyStore`] in one transaction before it is acknowledged, then applied to memory,
//! then published to the readers as a new [`Directory`].

mod command;
mod keys;
mod lifecycle;
mod pairing;
mod presence;
mod status;
mod tap;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub use command::{Authority, Command, CommandError, Reply};
pub use pairing::{PairedPhone, PairingRefusal};
pub use status::{DecisionEvent, OWNER_PRESENCE_WINDOW, PairingStatus, Status};
pub use tap::{TapOutcome, TapReport, Verdict};

use crate::audit::{AuditEvent, AuditHead};
use crate::directory::Directory;
use crate::identity::VehicleIdentity;
use crate::ids::{KeyId, ProfileId, ReaderName};
use crate::pairing::PairingOffer;
use crate::ports::{Change, Clock, KeyStore, StoreError, StoredKey, VehicleBus};
use crate::profile::{AccessProfile, builtin_profiles};
use crate::time::UtcOffset;

/// Settings the engine takes from the daemon's configuration.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The vehicle's offset from UTC, for schedules.
    pub utc_offset: UtcOffset,
    /// Version recorded in the audit log at start.
    pub version: String,
    /// At most this many keys that are not revoked (owner and friends).
    pub max_keys: usize,
}

/// Key slots a vehicle offers unless configured otherwise.
pub const DEFAULT_MAX_KEYS: usize = 32;

impl Default for EngineConfig {
    fn default() -> Self {
        Self { utc_offset: UtcOffset(0), version: String::new(), max_keys: DEFAULT_MAX_KEYS }
    }
}

/// A message to the engine.
#[derive(Debug)]
pub enum Request {
    /// A tap reached a decision point; answer with the verdict.
    Tap(TapReport, oneshot::Sender<Verdict>),
    /// A transaction failed before authentication (recorded, not answered).
    TapFailed {
        /// Which reader.
        reader: ReaderName,
        /// What went wrong.
        error: String,
    },
    /// A command from `Authority`; answer with its reply.
    Command(Command, Authority, oneshot::Sender<Result<Reply, CommandError>>),
    /// A phone on the console reader sent its SPAKE2+ share: count the attempt durably,
    /// then answer with the verifier (or why not).
    PairingAttempt {
        /// Which reader.
        reader: ReaderName,
        /// The verifier to answer with, or the refusal.
        reply: oneshot::Sender<Result<Arc<carkey_protocol::spake2plus::Verifier>, PairingRefusal>>,
    },
    /// Pairing and the following standard transaction succeeded: store the owner key.
    Paired(Box<PairedPhone>, oneshot::Sender<Result<KeyId, PairingRefusal>>),
}

/// The engine's in-memory state: exactly what the store holds.
struct State {
    keys: BTreeMap<KeyId, StoredKey>,
    profiles: BTreeMap<ProfileId, AccessProfile>,
    audit: AuditHead,
    next_recency: u64,
    pairing: Option<PairingOffer>,
    tracking_pending: u64,
    owner_presence: Option<status::OwnerPresence>,
}

/// Decision events buffered for slow dashboard consumers before the oldest are dropped.
const DECISION_BACKLOG: usize = 256;

/// The engine. Generic over its ports so tests run it on fakes.
pub struct Engine<S, B, C> {
    store: S,
    bus: B,
    clock: C,
    config: EngineConfig,
    identity: Arc<VehicleIdentity>,
    state: State,
    directory: watch::Sender<Arc<Directory>>,
    status: watch::Sender<Arc<Status>>,
    decisions: broadcast::Sender<DecisionEvent>,
}

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    /// Loads the store (creating the vehicle identity on first start) and records the
    /// start in the audit log.
    pub fn start(mut store: S, bus: B, clock: C, config: EngineConfig) -> Result<Self, StoreError> {
        let loaded = store.load()?;
        let mut changes = Vec::new();
        let identity = match loaded.identity {
            Some(identity) => identity,
            None => {
                let identity = VehicleIdentity::generate();
                changes.push(Change::SetIdentity(identity.clone()));
                identity
            }
        };
        let mut profiles: BTreeMap<ProfileId, AccessProfile> =
            builtin_profiles().into_iter().map(|p| (p.id.clone(), p)).collect();
        profiles.extend(loaded.profiles.into_iter().map(|p| (p.id.clone(), p)));
        let next_recency = loaded.keys.iter().map(|k| k.key.recency).max().unwrap_or(0).saturating_add(1);
        let keys: BTreeMap<KeyId, StoredKey> = loaded.keys.into_iter().map(|k| (k.key.id, k)).collect();
        let identity = Arc::new(identity);
        let pairing = loaded.pairing;
        let (directory, _) =
            watch::channel(Arc::new(Directory::build(keys.values(), Arc::clone(&identity), pairing.as_ref())));
        let state = State {
            keys,
            profiles,
            audit: loaded.audit_head,
            next_recency,
            pairing,
            tracking_pending: loaded.tracking_pending,
            owner_presence: None,
        };
        let (status, _) = watch::channel(Arc::new(Status {
            group_id: identity.group_id,
            keys: Vec::new(),
            pairing: None,
            vehicle: bus.state(),
            tracking_pending: 0,
            owner_present_until: None,
        }));
        let (decisions, _) = broadcast::channel(DECISION_BACKLOG);
        let mut engine = Self { store, bus, clock, config, identity, state, directory, status, decisions };
        engine.publish_status();
        let version = engine.config.version.clone();
        engine.commit_with_audit(changes, AuditEvent::Started { version })?;
        Ok(engine)
    }

    /// The vehicle's identity (it changes only at a factory reset; readers follow it
    /// through the [`Directory`]).
    pub fn identity(&self) -> &VehicleIdentity {
        &self.identity
    }

    /// A receiver of directory snapshots, for a reader task.
    pub fn directory(&self) -> watch::Receiver<Arc<Directory>> {
        self.directory.subscribe()
    }

    /// A receiver of status snapshots, for the dashboard service.
    pub fn status(&self) -> watch::Receiver<Arc<Status>> {
        self.status.subscribe()
    }

    /// A receiver of decisions, for the dashboard service.
    pub fn decisions(&self) -> broadcast::Receiver<DecisionEvent> {
        self.decisions.subscribe()
    }

    /// Serves requests until every sender is gone.
    pub async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        while let Some(request) = requests.recv().await {
            self.handle(request).await;
        }
    }

    /// Serves one request.
    pub async fn handle(&mut self, request: Request) {
        match request {
            Request::Tap(report, reply) => {
                let reader = report.reader.clone();
                let (decided, changed) = self.decide(report).await;
                // The reader is waiting to tell the phone; publish after answering.
                let _ = reply.send(decided.verdict);
                if changed {
                    self.publish();
                }
                let denied = match decided.verdict {
                    Verdict::Allowed(_) => None,
                    Verdict::Denied(denial) => Some(denial),
                };
                let event = DecisionEvent {
                    reader,
                    key: decided.key,
                    action: decided.action,
                    transaction: decided.transaction,
                    denied,
                    at: self.clock.wall().time,
                };
                // Nobody listening is normal (no dashboard connected).
                let _ = self.decisions.send(event);
            }
            Request::TapFailed { reader, error } => {
                tracing::info!(%reader, %error, "transaction failed");
                if let Err(e) = self.commit_with_audit(Vec::new(), AuditEvent::TransactionFailed { reader, error }) {
                    tracing::error!(error = %e, "could not record a failed transaction");
                }
            }
            Request::Command(command, authority, reply) => {
                let result = self.execute_as(command, authority);
                // A dashboard that reads the snapshot once it has the reply must find the
                // change there: publish before answering.
                self.publish_status();
                let _ = reply.send(result);
                return;
            }
            Request::PairingAttempt { reader, reply } => {
                let _ = reply.send(self.count_pairing_attempt(reader));
            }
            Request::Paired(phone, reply) => {
                let _ = reply.send(self.store_paired_owner(*phone));
            }
        }
        self.publish_status();
    }

    /// Appends `event` to `changes`, commits them, and advances the audit head only if the
    /// commit succeeded.
    fn commit_with_audit(&mut self, mut changes: Vec<Change>, event: AuditEvent) -> Result<(), StoreError> {
        let mut head = self.state.audit;
        changes.push(Change::AppendAudit(head.append(self.clock.wall(), event)));
        self.store.commit(&changes)?;
        self.state.audit = head;
        Ok(())
    }

    fn publish(&self) {
        let directory =
            Directory::build(self.state.keys.values(), Arc::clone(&self.identity), self.state.pairing.as_ref());
        self.directory.send_replace(Arc::new(directory));
    }

    /// Republishes the dashboard's snapshot if anything it shows changed.
    fn publish_status(&self) {
        let status = Status {
            group_id: self.identity.group_id,
            keys: self.state.keys.values().map(|k| k.key.clone()).collect(),
            pairing: self.pairing_status(),
            vehicle: self.bus.state(),
            tracking_pending: self.state.tracking_pending,
            owner_present_until: self.owner_present_until(),
        };
        self.status.send_if_modified(|current| {
            let modified = **current != status;
            if modified {
                *current = Arc::new(status);
            }
            modified
        });
    }

    /// Keys that are not revoked (they hold a slot).
    fn slots_in_use(&self) -> usize {
        self.state.keys.values().filter(|k| !matches!(k.key.state, crate::key::KeyState::Revoked(_))).count()
    }
}

#[cfg(test)]
mod tests;
