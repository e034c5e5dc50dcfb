//! Proof that the owner is in the car, for the dashboard commands that add or remove
//! owner power.
//!
//! A dashboard process that is allowed to manage keys could still be driven by someone
//! who is not the owner (a compromised app, a valet at the screen). So adding an owner,
//! suspending or revoking an owner key, and erasing everything also need an owner key's
//! standard transaction on the console reader within the last minute: the phone proved
//! its key with a fresh signature from inside the cabin. The proof is kept in memory
//! only; a restart forgets it.

use carkey_protocol::reader::TransactionKind;

use super::status::{OWNER_PRESENCE_WINDOW, OwnerPresence};
use super::{Authority, Command, CommandError, Engine, Reply};
use crate::ids::{KeyId, ReaderLocation};
use crate::key::{KeyState, Role};
use crate::ports::{Clock, KeyStore, VehicleBus};
use crate::time::WallTime;

impl<S: KeyStore, B: VehicleBus, C: Clock> Engine<S, B, C> {
    /// Executes a command for `authority`, after checking the proof it needs.
    pub fn execute_as(&mut self, command: Command, authority: Authority) -> Result<Reply, CommandError> {
        if authority == Authority::Dashboard && self.needs_owner_presence(&command) && !self.owner_present() {
            tracing::info!(?command, "refused: needs an owner tap on the console");
            return Err(CommandError::OwnerPresenceRequired);
        }
        self.execute(command)
    }

    /// Whether `command` adds or removes owner power. Pairing the very first owner needs
    /// no proof: there is no owner key to tap with.
    fn needs_owner_presence(&self, command: &Command) -> bool {
        match command {
            Command::OfferPairing(_) => self.has_owner(),
            Command::EnrollKey { role, .. } => *role == Role::Owner && self.has_owner(),
            Command::Suspend(id, _) | Command::Revoke(id, _) => self.is_owner(*id),
            Command::FactoryReset => true,
            Command::Rename(..)
            | Command::SetProfile(..)
            | Command::SetValidity(..)
            | Command::Resume(_)
            | Command::PutProfile(_)
            | Command::DeleteProfile(_)
            | Command::ListKeys
            | Command::GetKey(_)
            | Command::ListProfiles
            | Command::CancelPairing
            | Command::GetPairing
            | Command::ApplyTermination(_)
            | Command::AuditAfter { .. } => false,
        }
    }

    fn is_owner(&self, id: KeyId) -> bool {
        self.state.keys.get(&id).is_some_and(|k| k.key.role == Role::Owner)
    }

    fn has_owner(&self) -> bool {
        self.state.keys.values().any(|k| k.key.role == Role::Owner && !matches!(k.key.state, KeyState::Revoked(_)))
    }

    fn owner_present(&self) -> bool {
        self.owner_present_until().is_some()
    }

    /// Until when the owner counts as present (for the dashboard), if still so: within the
    /// window, and only while the key that proved it is still an active owner key (a
    /// suspended or revoked key proves nothing any more).
    pub(super) fn owner_present_until(&self) -> Option<WallTime> {
        self.state
            .owner_presence
            .filter(|p| p.holds(self.clock.monotonic()) && self.is_active_owner(p.key))
            .map(|p| p.until)
    }

    fn is_active_owner(&self, id: KeyId) -> bool {
        self.state.keys.get(&id).is_some_and(|k| k.key.role == Role::Owner && k.key.state == KeyState::Active)
    }

    /// Called after a tap was recorded: an active owner key's standard transaction on the
    /// console proves presence from now on.
    pub(super) fn note_owner_presence(&mut self, id: KeyId, location: ReaderLocation, kind: TransactionKind) {
        let Some(stored) = self.state.keys.get(&id) else { return };
        if location == ReaderLocation::Console
            && kind == TransactionKind::Standard
            && stored.key.role == Role::Owner
            && stored.key.state == KeyState::Active
        {
            let window = i64::try_from(OWNER_PRESENCE_WINDOW.as_secs()).unwrap_or(i64::MAX);
            let until = WallTime(self.clock.wall().time.0.saturating_add(window));
            self.state.owner_presence = Some(OwnerPresence { key: id, at: self.clock.monotonic(), until });
        }
    }
}
