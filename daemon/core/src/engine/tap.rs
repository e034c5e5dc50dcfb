//! Deciding a tap: what it asks for, whether the key may, record, act.
//!
//! A tap may also carry lifecycle news in the phone's private mailbox: a friend's first
//! tap brings the owner's share attestation (the key is enrolled, then decided like any
//! other), and a deleted key brings its termination attestation (the key is revoked and
//! the tap refused).

use carkey_protocol::attestation::private_mailbox;
use carkey_protocol::crypto::Secret32;
use carkey_protocol::reader::{Authenticated, TransactionKind, Unenrolled};

use super::Engine;
use crate::audit::{AuditEvent, Transaction};
use crate::ids::{KeyId, KeyName, ReaderLocation, ReaderName};
use crate::key::{DigitalKey, KeyState, Role};
use crate::policy::{self, Denial, Permit};
use crate::ports::{Change, Clock, KeyStore, StoredKey, TrackingEvent, TrackingKind, VehicleBus, VehicleCommand};
use crate::profile::Action;
use crate::sharing::{ShareContext, ShareRejection};
use crate::time::WallClockReading;

/// How the phone's authentication ended.
#[derive(Debug)]
pub enum TapOutcome {
    /// It proved an enrolled key.
    Authenticated(Box<Authenticated>),
    /// It proved a key this vehicle does not know, and its private mailbox was read
    /// (share slot, then termination slot).
    Unenrolled(Box<Unenrolled>),
    /// It proved a key this vehicle does not know (nothing was read).
    UnknownKey,
}

/// A tap waiting for a decision.
#[derive(Debug)]
pub struct TapReport {
    /// Which reader.
    pub reader: ReaderName,
    /// Where it sits.
    pub location: ReaderLocation,
    /// Who the phone is.
    pub outcome: TapOutcome,
    /// The termination attestation slot, read because the phone signalled one.
    pub termination: Option<Vec<u8>>,
}

/// The decision, as the reader tells the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done: the vehicle carried out the action.
    Allowed(Permit),
    /// Refused, and why (the phone is only told "refused").
    Denied(Denial),
}

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    /// What a tap on a reader at `location` asks for, given the vehicle's state.
    fn requested_action(&self, location: ReaderLocation) -> Action {
        match location {
            ReaderLocation::DoorDriver | ReaderLocation::DoorPassenger => {
                if self.bus.state().locked {
                    Action::Unlock
                } else {
                    Action::Lock
                }
            }
            ReaderLocation::Trunk => Action::Trunk,
            ReaderLocation::Console => Action::EngineStart,
        }
    }

    /// Decides a tap. Returns what was decided and whether keys changed (so the directory
    /// must be republished).
    pub(super) async fn decide(&mut self, report: TapReport) -> (Decided, bool) {
        let action = self.requested_action(report.location);
        let now = self.clock.wall();
        let standard = Transaction::Standard;
        let (id, kind, new_k_persistent) = match report.outcome {
            TapOutcome::Authenticated(auth) => {
                let id = KeyId::from(auth.slot);
                if let Some(slot) = report.termination.as_deref().and_then(private_mailbox::decode_slot)
                    && self.apply_termination(slot, Some(id)).is_ok()
                {
                    let event = decision(report.reader, Some(id), action, auth.kind, Some(Denial::Revoked));
                    let verdict = self.record(Vec::new(), event, Verdict::Denied(Denial::Revoked));
                    return (Decided { verdict, key: Some(id), action, transaction: auth.kind.into() }, true);
                }
                (id, auth.kind, auth.new_k_persistent)
            }
            TapOutcome::Unenrolled(phone) => match self.enroll_from_share(&report.reader, &phone, now) {
                Ok(id) => (id, TransactionKind::Standard, None),
                Err(ShareFailure::Store) => {
                    let verdict = Verdict::Denied(Denial::StoreUnavailable);
                    return (Decided { verdict, key: None, action, transaction: standard }, false);
                }
                Err(ShareFailure::Rejected(reason)) => {
                    tracing::info!(reader = %report.reader, %reason, "share attestation refused");
                    let rejected = AuditEvent::ShareRejected { reader: report.reader.clone(), reason };
                    if let Err(error) = self.commit_with_audit(Vec::new(), rejected) {
                        tracing::error!(%error, "could not record a refused share");
                    }
                    let event =
                        decision(report.reader, None, action, TransactionKind::Standard, Some(Denial::UnknownKey));
                    let verdict = self.record(Vec::new(), event, Verdict::Denied(Denial::UnknownKey));
                    return (Decided { verdict, key: None, action, transaction: standard }, false);
                }
            },
            TapOutcome::UnknownKey => {
                let event = decision(report.reader, None, action, TransactionKind::Standard, Some(Denial::UnknownKey));
                let verdict = self.record(Vec::new(), event, Verdict::Denied(Denial::UnknownKey));
                return (Decided { verdict, key: None, action, transaction: standard }, false);
            }
        };
        let (verdict, changed) =
            self.decide_key(report.reader, report.location, id, kind, new_k_persistent, action, now).await;
        let key = self.state.keys.contains_key(&id).then_some(id);
        (Decided { verdict, key, action, transaction: kind.into() }, changed)
    }

    /// Enrolls the friend key a share attestation grants, in one commit with its
    /// K_persistent and the key-tracking event.
    fn enroll_from_share(
        &mut self,
        reader: &ReaderName,
        phone: &Unenrolled,
        now: WallClockReading,
    ) -> Result<KeyId, ShareFailure> {
        let share = phone
            .mailbox_reads
            .first()
            .and_then(|slot| private_mailbox::decode_slot(slot))
            .ok_or(ShareRejection::Missing)?;
        let context = ShareContext {
            vehicle_group_id: &self.identity.group_id,
            keys: &self.state.keys,
            profiles: &self.state.profiles,
            now,
        };
        let grant = context.check(share, &phone.endpoint)?;
        let id = KeyId(phone.reported_key_slot);
        if self.state.keys.contains_key(&id) {
            return Err(ShareRejection::SlotTaken.into());
        }
        if self.slots_in_use() >= self.config.max_keys {
            return Err(ShareRejection::SlotsFull.into());
        }
        let name = KeyName::new("Friend").map_err(|_| ShareRejection::Malformed)?;
        let key = DigitalKey {
            shared_by: Some(grant.origin),
            ..DigitalKey::enrolled(
                id,
                name,
                phone.endpoint.clone(),
                Role::Friend,
                grant.profile.clone(),
                grant.validity,
                now.time,
            )
        };
        let change = format!(
            "enrolled on {reader} from a share by owner key {} (serial {}) with profile {}",
            grant.origin.owner, grant.origin.serial, grant.profile
        );
        let changes = vec![
            Change::PutKey(key.clone()),
            Change::SetKPersistent(id, Some(phone.new_k_persistent.clone())),
            Change::QueueTracking(TrackingEvent { key: id, kind: TrackingKind::FriendFirstUse, at: now.time }),
        ];
        if let Err(error) = self.commit_with_audit(changes, AuditEvent::KeyChanged { key: id, change }) {
            tracing::error!(key = %id, %error, "could not enroll a shared key");
            return Err(ShareFailure::Store);
        }
        self.state.tracking_pending = self.state.tracking_pending.saturating_add(1);
        self.state
            .keys
            .insert(id, StoredKey { key, k_persistent: Some(phone.new_k_persistent.clone()), immobilizer_token: None });
        tracing::info!(key = %id, owner = %grant.origin.owner, profile = %grant.profile, "friend key enrolled from a share");
        Ok(id)
    }

    /// Decides for an enrolled key: policy, usage, durable record, then the vehicle.
    #[allow(clippy::too_many_arguments)] // one tap's facts, passed through once
    async fn decide_key(
        &mut self,
        reader: ReaderName,
        location: ReaderLocation,
        id: KeyId,
        kind: TransactionKind,
        new_k_persistent: Option<Secret32>,
        action: Action,
        now: WallClockReading,
    ) -> (Verdict, bool) {
        let Some(stored) = self.state.keys.get(&id) else {
            // Removed between the directory snapshot and now.
            let event = decision(reader, None, action, kind, Some(Denial::UnknownKey));
            return (self.record(Vec::new(), event, Verdict::Denied(Denial::UnknownKey)), false);
        };
        let profile = self.state.profiles.get(&stored.key.profile);
        let verdict = policy::check(&stored.key, profile, action, kind, now, self.config.utc_offset);

        let mut updated = stored.clone();
        let mut changes = Vec::new();
        match verdict {
            Ok(permit) => updated.key.usage.record(permit.action),
            Err(_) => updated.key.usage.denied = updated.key.usage.denied.saturating_add(1),
        }
        updated.key.last_used_at = Some(now.time);
        if updated.key.state == KeyState::Active {
            // Only a working key moves up the fast-path order and keeps its new context;
            // a suspended key's phone falls back to standard transactions.
            updated.key.recency = self.state.next_recency;
            if let Some(k) = &new_k_persistent {
                updated.k_persistent = Some(k.clone());
                changes.push(Change::SetKPersistent(id, Some(k.clone())));
            }
        }
        changes.insert(0, Change::PutKey(updated.key.clone()));
        let event = decision(reader, Some(id), action, kind, verdict.err());
        let mut head = self.state.audit;
        changes.push(Change::AppendAudit(head.append(now, event)));
        if let Err(error) = self.store.commit(&changes) {
            tracing::error!(key = %id, %error, "could not record a tap; refusing it");
            return (Verdict::Denied(Denial::StoreUnavailable), true);
        }
        self.state.audit = head;
        self.state.next_recency = self.state.next_recency.saturating_add(1);
        self.state.keys.insert(id, updated);
        self.note_owner_presence(id, location, kind);

        let permit = match verdict {
            Ok(permit) => permit,
            Err(denial) => {
                tracing::info!(key = %id, %action, %denial, "tap denied");
                return (Verdict::Denied(denial), true);
            }
        };
        let command = match permit.action {
            Action::Unlock => VehicleCommand::Unlock,
            Action::Lock => VehicleCommand::Lock,
            Action::Trunk => VehicleCommand::OpenTrunk,
            Action::EngineStart => VehicleCommand::AuthorizeStart { key: id, speed_limit_kmh: permit.speed_limit_kmh },
        };
        if let Err(error) = self.bus.execute(command).await {
            tracing::error!(key = %id, %action, %error, "vehicle did not carry out an allowed action");
            let event = AuditEvent::VehicleCommandFailed { key: id, action, error: error.to_string() };
            if let Err(e) = self.commit_with_audit(Vec::new(), event) {
                tracing::error!(error = %e, "could not record the vehicle failure");
            }
            return (Verdict::Denied(Denial::VehicleUnavailable), true);
        }
        tracing::info!(key = %id, %action, ?kind, "tap allowed");
        (Verdict::Allowed(permit), true)
    }

    /// Records a decision that changes no key; a failed write turns it into a denial.
    fn record(&mut self, changes: Vec<Change>, event: AuditEvent, verdict: Verdict) -> Verdict {
        match self.commit_with_audit(changes, event) {
            Ok(()) => verdict,
            Err(error) => {
                tracing::error!(%error, "could not record a decision");
                Verdict::Denied(Denial::StoreUnavailable)
            }
        }
    }
}

/// What a tap came to, as the phone is told and the dashboard shown.
#[derive(Debug, Clone, Copy)]
pub(super) struct Decided {
    /// The verdict.
    pub(super) verdict: Verdict,
    /// The key, when the phone proved one the vehicle knows.
    pub(super) key: Option<KeyId>,
    /// What the tap asked for.
    pub(super) action: Action,
    /// Fast or standard.
    pub(super) transaction: Transaction,
}

/// Why a friend's first tap did not enroll it.
enum ShareFailure {
    /// The vehicle refused the attestation.
    Rejected(ShareRejection),
    /// The store failed; nothing changed.
    Store,
}

impl From<ShareRejection> for ShareFailure {
    fn from(reason: ShareRejection) -> Self {
        Self::Rejected(reason)
    }
}

fn decision(
    reader: ReaderName,
    key: Option<KeyId>,
    action: Action,
    kind: TransactionKind,
    denied: Option<Denial>,
) -> AuditEvent {
    AuditEvent::Decision { reader, key, action, transaction: Transaction::from(kind), denied }
}
