use std::sync::{Arc, Mutex, PoisonError};

use crate::ports::{BusError, VehicleBus, VehicleCommand, VehicleState};

#[derive(Debug)]
struct Inner {
    commands: Vec<VehicleCommand>,
    state: VehicleState,
    fail: bool,
}

/// A vehicle that records commands and tracks the lock state. Clones share the record.
#[derive(Debug, Clone)]
pub struct FakeBus(Arc<Mutex<Inner>>);

impl Default for FakeBus {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(Inner { commands: Vec::new(), state: VehicleState::PARKED, fail: false })))
    }
}

impl FakeBus {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commands carried out so far.
    pub fn commands(&self) -> Vec<VehicleCommand> {
        self.inner().commands.clone()
    }

    /// Makes every following command fail (or succeed again).
    pub fn set_failing(&self, fail: bool) {
        self.inner().fail = fail;
    }

    /// Sets the lock state.
    pub fn set_locked(&self, locked: bool) {
        self.inner().state.locked = locked;
    }
}

impl VehicleBus for FakeBus {
    async fn execute(&mut self, command: VehicleCommand) -> Result<(), BusError> {
        let mut inner = self.inner();
        if inner.fail {
            return Err(BusError("fake bus failure".into()));
        }
        inner.state = inner.state.after(command);
        inner.commands.push(command);
        Ok(())
    }

    fn state(&self) -> VehicleState {
        self.inner().state
    }
}
