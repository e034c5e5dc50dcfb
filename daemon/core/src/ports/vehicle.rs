//! The rest of the car, as the engine needs it.

use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::ids::KeyId;

/// A command to the vehicle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "command")]
pub enum VehicleCommand {
    /// Unlock the doors.
    Unlock,
    /// Lock the doors.
    Lock,
    /// Open the trunk.
    OpenTrunk,
    /// Release the immobilizer for one start by this key.
    AuthorizeStart {
        /// The key that authorized it.
        key: KeyId,
        /// Speed limit to enforce while driving, km/h.
        speed_limit_kmh: Option<u16>,
    },
}

/// What the engine needs to know about the car to interpret a tap, and what the
/// dashboard shows of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleState {
    /// Doors locked (a door tap then means unlock).
    pub locked: bool,
    /// The immobilizer.
    pub immobilizer: Immobilizer,
}

impl VehicleState {
    /// Locked, immobilizer armed: a parked car.
    pub const PARKED: Self = Self { locked: true, immobilizer: Immobilizer::Armed };

    /// The state after the vehicle carried out `command`, for adapters that model the car
    /// rather than read it back (the recorder, test fakes): locking also re-arms the
    /// immobilizer, as a driver who leaves and locks ends the drive.
    pub const fn after(self, command: VehicleCommand) -> Self {
        match command {
            VehicleCommand::Unlock => Self { locked: false, ..self },
            VehicleCommand::Lock => Self { locked: true, immobilizer: Immobilizer::Armed },
            VehicleCommand::OpenTrunk => self,
            VehicleCommand::AuthorizeStart { key, speed_limit_kmh } => {
                Self { immobilizer: Immobilizer::Released { key, speed_limit_kmh }, ..self }
            }
        }
    }
}

/// The immobilizer's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Immobilizer {
    /// The engine cannot start.
    Armed,
    /// Released for a start by this key.
    Released {
        /// The key that authorized it.
        key: KeyId,
        /// Speed limit in force for this drive, km/h.
        speed_limit_kmh: Option<u16>,
    },
}

/// Why the vehicle did not carry out a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("vehicle bus: {0}")]
pub struct BusError(pub String);

/// The vehicle bus (CAN, or a recorder until the CAN adapter is configured).
pub trait VehicleBus: Send {
    /// Carries out a command; returns once the vehicle acknowledged it.
    fn execute(&mut self, command: VehicleCommand) -> impl Future<Output = Result<(), BusError>> + Send;
    /// The last known state.
    fn state(&self) -> VehicleState;
}
