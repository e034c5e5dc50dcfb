//! `RecordingVehicleBus`: the vehicle-bus adapter for a head unit with no vehicle network
//! configured. It does not move a single actuator: it logs each command and appends it
//! to a JSON-lines file, so developers and black-box tests can see what the car would
//! have done. The SocketCAN adapter replaces it in a real vehicle.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use carkey_core::ports::{BusError, VehicleBus, VehicleCommand, VehicleState};
use serde::Serialize;

/// Records instead of actuating.
#[derive(Debug)]
pub struct RecordingVehicleBus {
    file: Option<File>,
    state: VehicleState,
}

#[derive(Serialize)]
struct Line<'a> {
    recorded_by: &'static str,
    #[serde(flatten)]
    command: &'a VehicleCommand,
}

impl RecordingVehicleBus {
    /// A recorder appending to `file` (if any), starting with the doors `locked` or not.
    pub fn open(file: Option<&Path>, locked: bool) -> std::io::Result<Self> {
        let file = file.map(|path| OpenOptions::new().create(true).append(true).open(path)).transpose()?;
        tracing::warn!("no vehicle network configured: vehicle commands are only recorded");
        Ok(Self { file, state: VehicleState { locked, ..VehicleState::PARKED } })
    }
}

impl VehicleBus for RecordingVehicleBus {
    async fn execute(&mut self, command: VehicleCommand) -> Result<(), BusError> {
        tracing::info!(?command, "vehicle command (recorded, not sent)");
        if let Some(file) = &mut self.file {
            let mut line = serde_json::to_vec(&Line { recorded_by: "recorder", command: &command })
                .map_err(|e| BusError(e.to_string()))?;
            line.push(b'\n');
            file.write_all(&line).map_err(|e| BusError(format!("recording: {e}")))?;
        }
        self.state = self.state.after(command);
        Ok(())
    }

    fn state(&self) -> VehicleState {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use carkey_core::ids::KeyId;

    use super::*;

    #[tokio::test]
    async fn records_commands_as_json_lines_and_tracks_the_locks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("actions.jsonl");
        let mut bus = RecordingVehicleBus::open(Some(&path), true).unwrap();
        assert!(bus.state().locked);
        bus.execute(VehicleCommand::Unlock).await.unwrap();
        assert!(!bus.state().locked);
        bus.execute(VehicleCommand::AuthorizeStart { key: KeyId([1; 8]), speed_limit_kmh: Some(60) }).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines[0]["command"], "unlock");
        assert_eq!(lines[1]["command"], "authorize-start");
        assert_eq!(lines[1]["speed_limit_kmh"], 60);
        assert_eq!(lines[1]["key"], "0101010101010101");
        assert_eq!(
            bus.state().immobilizer,
            carkey_core::ports::Immobilizer::Released { key: KeyId([1; 8]), speed_limit_kmh: Some(60) }
        );
        bus.execute(VehicleCommand::Lock).await.unwrap();
        assert_eq!(bus.state(), VehicleState::PARKED);
    }
}
