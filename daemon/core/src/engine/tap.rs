//! Deciding a tap: what it asks for, whether the key may, record, act.

use carkey_protocol::reader::{Authenticated, TransactionKind};

use super::Engine;
use crate::audit::{AuditEvent, Transaction};
use crate::ids::ReaderLocation;
use crate::ids::{KeyId, ReaderName};
use crate::key::KeyState;
use crate::policy::{self, Denial, Permit};
use crate::ports::{Change, Clock, KeyStore, VehicleBus, VehicleCommand};
use crate::profile::Action;

/// How the phone's authentication ended.
#[derive(Debug)]
pub enum TapOutcome {
    /// It proved an enrolled key.
    Authenticated(Box<Authenticated>),
    /// It proved a key this vehicle does not know (standard transaction).
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

    /// Decides a tap. Returns the verdict and whether keys changed (so the directory must
    /// be republished).
    pub(super) async fn decide(&mut self, report: TapReport) -> (Verdict, bool) {
        let action = self.requested_action(report.location);
        let now = self.clock.wall();
        let auth = match report.outcome {
            TapOutcome::Authenticated(auth) => auth,
            TapOutcome::UnknownKey => {
                let event = decision(report.reader, None, action, TransactionKind::Standard, Some(Denial::UnknownKey));
                let verdict = self.record(Vec::new(), event, Verdict::Denied(Denial::UnknownKey));
                return (verdict, false);
            }
        };
        let id = KeyId::from(auth.slot);
        let Some(stored) = self.state.keys.get(&id) else {
            // Removed between the directory snapshot and now.
            let event = decision(report.reader, None, action, auth.kind, Some(Denial::UnknownKey));
            return (self.record(Vec::new(), event, Verdict::Denied(Denial::UnknownKey)), false);
        };
        let profile = self.state.profiles.get(&stored.key.profile);
        let verdict = policy::check(&stored.key, profile, action, auth.kind, now, self.config.utc_offset);

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
            if let Some(k) = &auth.new_k_persistent {
                updated.k_persistent = Some(k.clone());
                changes.push(Change::SetKPersistent(id, Some(k.clone())));
            }
        }
        changes.insert(0, Change::PutKey(updated.key.clone()));
        let event = decision(report.reader, Some(id), action, auth.kind, verdict.err());
        let mut head = self.state.audit;
        changes.push(Change::AppendAudit(head.append(now, event)));
        if let Err(error) = self.store.commit(&changes) {
            tracing::error!(key = %id, %error, "could not record a tap; refusing it");
            return (Verdict::Denied(Denial::StoreUnavailable), false);
        }
        self.state.audit = head;
        self.state.next_recency = self.state.next_recency.saturating_add(1);
        self.state.keys.insert(id, updated);

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
        tracing::info!(key = %id, %action, kind = ?auth.kind, "tap allowed");
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

fn decision(
    reader: ReaderName,
    key: Option<KeyId>,
    action: Action,
    kind: TransactionKind,
    denied: Option<Denial>,
) -> AuditEvent {
    AuditEvent::Decision { reader, key, action, transaction: Transaction::from(kind), denied }
}
