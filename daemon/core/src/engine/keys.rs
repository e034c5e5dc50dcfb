//! Executing [`Command`]s: validation, one durable commit, then memory.

use super::{Command, CommandError, Engine, Reply};
use crate::audit::AuditEvent;
use crate::ids::KeyId;
use crate::key::{DigitalKey, KeyState};
use crate::ports::{Change, Clock, KeyStore, StoredKey, TrackingKind, VehicleBus};
use crate::profile::is_builtin;

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    /// Executes a command. A change is durable when this returns `Ok`.
    pub fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        match command {
            Command::EnrollKey { id, name, endpoint, role, profile, validity } => {
                if self.state.keys.contains_key(&id) {
                    return Err(CommandError::KeyExists(id));
                }
                if let Some(other) = self.state.keys.values().find(|k| k.key.endpoint == endpoint) {
                    return Err(match other.key.state {
                        KeyState::Revoked(_) => CommandError::EndpointRevoked(other.key.id),
                        _ => CommandError::EndpointAlreadyEnrolled(other.key.id),
                    });
                }
                if !self.state.profiles.contains_key(&profile) {
                    return Err(CommandError::UnknownProfile(profile));
                }
                if self.slots_in_use() >= self.config.max_keys {
                    return Err(CommandError::SlotsFull(self.config.max_keys));
                }
                let key = DigitalKey::enrolled(id, name, endpoint, role, profile, validity, self.clock.wall().time);
                let change = format!("enrolled as {} with profile {}", key.role.as_str(), key.profile);
                self.write_key(StoredKey { key, k_persistent: None, immobilizer_token: None }, Vec::new(), change)
            }
            Command::Rename(id, name) => {
                let mut stored = self.changeable(id)?;
                let change = format!("renamed from {:?} to {:?}", stored.key.name.as_str(), name.as_str());
                stored.key.name = name;
                self.write_key(stored, Vec::new(), change)
            }
            Command::SetProfile(id, profile) => {
                if !self.state.profiles.contains_key(&profile) {
                    return Err(CommandError::UnknownProfile(profile));
                }
                let mut stored = self.changeable(id)?;
                let change = format!("profile {} -> {}", stored.key.profile, profile);
                stored.key.profile = profile;
                self.write_key(stored, Vec::new(), change)
            }
            Command::SetValidity(id, validity) => {
                let mut stored = self.changeable(id)?;
                stored.key.validity = validity;
                let change = format!("validity {:?}..{:?}", validity.not_before, validity.not_after);
                self.write_key(stored, Vec::new(), change)
            }
            Command::Suspend(id, reason) => {
                let mut stored = self.changeable(id)?;
                let change = format!("suspended: {reason}");
                stored.key.state = KeyState::Suspended(reason);
                self.write_key(stored, Vec::new(), change)
            }
            Command::Resume(id) => {
                let mut stored = self.changeable(id)?;
                if !matches!(stored.key.state, KeyState::Suspended(_)) {
                    return Err(CommandError::NotSuspended(id));
                }
                stored.key.state = KeyState::Active;
                self.write_key(stored, Vec::new(), "resumed".to_owned())
            }
            Command::Revoke(id, reason) => self.revoke(id, &reason, TrackingKind::Revoked),
            Command::PutProfile(profile) => {
                if is_builtin(&profile.id) {
                    return Err(CommandError::BuiltinProfile(profile.id));
                }
                let id = profile.id.clone();
                let change = if self.state.profiles.contains_key(&id) { "replaced" } else { "created" };
                self.commit_with_audit(
                    vec![Change::PutProfile(profile.clone())],
                    AuditEvent::ProfileChanged { profile: id.clone(), change: change.to_owned() },
                )?;
                self.state.profiles.insert(id, profile);
                Ok(Reply::Done)
            }
            Command::DeleteProfile(id) => {
                if is_builtin(&id) {
                    return Err(CommandError::BuiltinProfile(id));
                }
                if !self.state.profiles.contains_key(&id) {
                    return Err(CommandError::UnknownProfile(id));
                }
                let users = self
                    .state
                    .keys
                    .values()
                    .filter(|k| k.key.profile == id && !matches!(k.key.state, KeyState::Revoked(_)))
                    .count();
                if users > 0 {
                    return Err(CommandError::ProfileInUse { profile: id, keys: users });
                }
                self.commit_with_audit(
                    vec![Change::DeleteProfile(id.clone())],
                    AuditEvent::ProfileChanged { profile: id.clone(), change: "deleted".to_owned() },
                )?;
                self.state.profiles.remove(&id);
                Ok(Reply::Done)
            }
            Command::ListKeys => {
                let mut keys: Vec<DigitalKey> = self.state.keys.values().map(|k| k.key.clone()).collect();
                keys.sort_by(DigitalKey::most_recent_first);
                Ok(Reply::Keys(keys))
            }
            Command::GetKey(id) => {
                let stored = self.state.keys.get(&id).ok_or(CommandError::UnknownKey(id))?;
                Ok(Reply::Key(Box::new(stored.key.clone())))
            }
            Command::ListProfiles => {
                let (mut builtin, custom): (Vec<_>, Vec<_>) =
                    self.state.profiles.values().cloned().partition(|p| is_builtin(&p.id));
                builtin.sort_by_key(|p| crate::profile::builtin_profiles().iter().position(|b| b.id == p.id));
                builtin.extend(custom);
                Ok(Reply::Profiles(builtin))
            }
            Command::OfferPairing(offer) => self.offer_pairing(offer),
            Command::CancelPairing => self.cancel_pairing(),
            Command::GetPairing => Ok(Reply::Pairing(self.pairing_status())),
            Command::ApplyTermination(bytes) => self.apply_termination(&bytes, None).map(|_| Reply::Done),
            Command::FactoryReset => self.factory_reset(),
            Command::AuditAfter { after, limit } => Ok(Reply::Audit(self.store.audit_after(after, limit)?)),
        }
    }

    /// A copy of a key that may still change (exists, not revoked).
    fn changeable(&self, id: KeyId) -> Result<StoredKey, CommandError> {
        let stored = self.state.keys.get(&id).ok_or(CommandError::UnknownKey(id))?;
        if matches!(stored.key.state, KeyState::Revoked(_)) {
            return Err(CommandError::Revoked(id));
        }
        Ok(stored.clone())
    }

    /// Revokes a key for good, wipes its secrets and queues the key-tracking event.
    pub(super) fn revoke(&mut self, id: KeyId, reason: &str, kind: TrackingKind) -> Result<Reply, CommandError> {
        let (stored, changes) = revocation(self.changeable(id)?, reason, kind, self.clock.wall().time);
        self.commit_with_audit(changes, AuditEvent::KeyChanged { key: id, change: format!("revoked: {reason}") })?;
        self.state.keys.insert(id, stored);
        self.state.tracking_pending = self.state.tracking_pending.saturating_add(1);
        self.publish();
        Ok(Reply::Done)
    }

    /// Commits `stored` (plus `extra` changes) with an audit entry, then applies it.
    fn write_key(&mut self, stored: StoredKey, mut extra: Vec<Change>, change: String) -> Result<Reply, CommandError> {
        let id = stored.key.id;
        extra.insert(0, Change::PutKey(stored.key.clone()));
        self.commit_with_audit(extra, AuditEvent::KeyChanged { key: id, change })?;
        self.state.keys.insert(id, stored);
        self.publish();
        Ok(Reply::Done)
    }
}

/// What revoking does to a key: state `Revoked(reason)`, K_persistent and immobilizer
/// token erased, a key-tracking event queued. Returns the key as it becomes and the
/// changes that make it so (the caller adds the audit entry and commits).
pub(super) fn revocation(
    mut stored: StoredKey,
    reason: &str,
    kind: TrackingKind,
    at: crate::time::WallTime,
) -> (StoredKey, Vec<Change>) {
    let id = stored.key.id;
    stored.key.state = KeyState::Revoked(reason.to_owned());
    stored.k_persistent = None;
    stored.immobilizer_token = None;
    let changes = vec![
        Change::PutKey(stored.key.clone()),
        Change::SetKPersistent(id, None),
        Change::SetImmobilizerToken(id, None),
        Change::QueueTracking(crate::ports::TrackingEvent { key: id, kind, at }),
    ];
    (stored, changes)
}
