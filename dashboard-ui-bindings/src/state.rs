//! Snapshots of the root object's interfaces and of the readers: what a dashboard shows
//! on its status page, converted from property dictionaries at the edge.

use carkey_dbus::interfaces;
use zbus::OwnedObjectPath;

use crate::enums::{PairingSource, ReaderLocation, ReaderState, SyncPhase};
use crate::error::ClientError;
use crate::key_id::KeyId;
use crate::props::{PropertyMap, Props, nonempty, nonzero_i64};

/// One NFC reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The reader's D-Bus object.
    pub object: OwnedObjectPath,
    /// The configured name.
    pub name: String,
    /// Where it sits.
    pub location: ReaderLocation,
    /// Whether it works.
    pub state: ReaderState,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

impl Reader {
    pub(crate) fn from_props(object: OwnedObjectPath, map: &PropertyMap) -> Result<Self, ClientError> {
        let props = Props::new(interfaces::READER, map);
        Ok(Self {
            object,
            name: props.string("Name")?,
            location: ReaderLocation::from(props.string("Location")?.as_str()),
            state: ReaderState::from(props.string("State")?.as_str()),
            last_error: nonempty(props.string("LastError")?),
        })
    }
}

/// Owner pairing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingState {
    /// Whether the console reader offers owner pairing now.
    pub pending: bool,
    /// Who started the pending pairing; `None` when none is pending.
    pub source: Option<PairingSource>,
    /// Wrong codes the phone may still try.
    pub attempts_left: u8,
    /// When the code expires; `None` when none is pending or it does not expire.
    pub expires_at: Option<i64>,
}

impl PairingState {
    pub(crate) fn from_props(map: &PropertyMap) -> Result<Self, ClientError> {
        let props = Props::new(interfaces::PAIRING, map);
        Ok(Self {
            pending: props.bool("Pending")?,
            source: nonempty(props.string("Source")?).map(|s| PairingSource::from(s.as_str())),
            attempts_left: props.u8("AttemptsLeft")?,
            expires_at: nonzero_i64(props.i64("ExpiresAt")?),
        })
    }
}

/// The immobilizer, which only a key's engine-start releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Immobilizer {
    /// The engine cannot start.
    Armed,
    /// Released for this drive.
    Released {
        /// The key that released it, if the vehicle reported one.
        by: Option<KeyId>,
        /// The speed limit for this drive (km/h), from that key's profile; `None` if none.
        speed_limit: Option<u16>,
    },
    /// A state this client does not know (from a newer daemon).
    Other(String),
}

/// What the vehicle bus reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VehicleState {
    /// Doors locked.
    pub locked: bool,
    /// Whether the engine may start, and for whom.
    pub immobilizer: Immobilizer,
}

impl VehicleState {
    pub(crate) fn from_props(map: &PropertyMap) -> Result<Self, ClientError> {
        let props = Props::new(interfaces::VEHICLE, map);
        let immobilizer = match props.string("Immobilizer")?.as_str() {
            "armed" => Immobilizer::Armed,
            "released" => {
                let by = match nonempty(props.string("StartedBy")?) {
                    None => None,
                    Some(id) => Some(id.parse().map_err(|e| {
                        ClientError::InvalidReply(format!("{}.StartedBy {id:?}: {e}", interfaces::VEHICLE))
                    })?),
                };
                let limit = props.u16("SpeedLimit")?;
                Immobilizer::Released { by, speed_limit: (limit != 0).then_some(limit) }
            }
            other => Immobilizer::Other(other.to_owned()),
        };
        Ok(Self { locked: props.bool("Locked")?, immobilizer })
    }
}

/// The exchange with the automaker's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// What the exchange is doing.
    pub phase: SyncPhase,
    /// Key-tracking events waiting to be sent.
    pub pending_events: u64,
    /// The last successful exchange; `None` if never.
    pub last_success_at: Option<i64>,
}

impl SyncState {
    pub(crate) fn from_props(map: &PropertyMap) -> Result<Self, ClientError> {
        let props = Props::new(interfaces::SYNC, map);
        Ok(Self {
            phase: SyncPhase::from(props.string("State")?.as_str()),
            pending_events: props.u64("PendingEvents")?,
            last_success_at: nonzero_i64(props.i64("LastSuccessAt")?),
        })
    }
}

/// Everything a dashboard's status page shows, from one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// carkeyd's version.
    pub version: String,
    /// The vehicle's reader group id (32 hex digits); a new one after a factory reset.
    pub vehicle_group_id: String,
    /// Keys that are not revoked.
    pub keys_in_use: u32,
    /// How many keys that are not revoked the vehicle holds at most.
    pub max_keys: u32,
    /// Until when the owner counts as present in the car; `None` if not now.
    pub owner_present_until: Option<i64>,
    /// Owner pairing.
    pub pairing: PairingState,
    /// Locks and immobilizer.
    pub vehicle: VehicleState,
    /// Backend exchange.
    pub sync: SyncState,
}

/// The Manager interface's properties, the part of [`Status`] that is not another snapshot.
pub(crate) struct ManagerProps {
    pub(crate) version: String,
    pub(crate) vehicle_group_id: String,
    pub(crate) keys_in_use: u32,
    pub(crate) max_keys: u32,
    pub(crate) owner_present_until: Option<i64>,
}

impl ManagerProps {
    pub(crate) fn from_props(map: &PropertyMap) -> Result<Self, ClientError> {
        let props = Props::new(interfaces::MANAGER, map);
        Ok(Self {
            version: props.string("Version")?,
            vehicle_group_id: props.string("VehicleGroupId")?,
            keys_in_use: props.u32("KeysInUse")?,
            max_keys: props.u32("MaxKeys")?,
            owner_present_until: nonzero_i64(props.i64("OwnerPresentUntil")?),
        })
    }

    pub(crate) fn into_status(self, pairing: PairingState, vehicle: VehicleState, sync: SyncState) -> Status {
        Status {
            version: self.version,
            vehicle_group_id: self.vehicle_group_id,
            keys_in_use: self.keys_in_use,
            max_keys: self.max_keys,
            owner_present_until: self.owner_present_until,
            pairing,
            vehicle,
            sync,
        }
    }
}

#[cfg(test)]
mod tests {
    use zbus::Variant;

    use super::*;
    use crate::props::tests::map;

    #[test]
    fn reader_properties() {
        let object = OwnedObjectPath::try_from("/org/carkey/CarKey1/readers/door_driver").unwrap();
        let m = map(vec![
            ("Name", Variant::from("door-driver")),
            ("Location", Variant::from("door-driver")),
            ("State", Variant::from("failed")),
            ("LastError", Variant::from("no PN532 on /dev/ttyS1")),
            ("Temperature", Variant::from(40u32)),
        ]);
        let reader = Reader::from_props(object, &m).unwrap();
        assert_eq!((reader.location, reader.state), (ReaderLocation::DoorDriver, ReaderState::Failed));
        assert_eq!(reader.last_error.as_deref(), Some("no PN532 on /dev/ttyS1"));
    }

    #[test]
    fn pairing_properties() {
        let idle = map(vec![
            ("Pending", Variant::from(false)),
            ("Source", Variant::from("")),
            ("AttemptsLeft", Variant::from(7u8)),
            ("ExpiresAt", Variant::from(0i64)),
        ]);
        let state = PairingState::from_props(&idle).unwrap();
        assert_eq!(state, PairingState { pending: false, source: None, attempts_left: 7, expires_at: None });
        let pending = map(vec![
            ("Pending", Variant::from(true)),
            ("Source", Variant::from("dashboard")),
            ("AttemptsLeft", Variant::from(6u8)),
            ("ExpiresAt", Variant::from(1_700_000_300i64)),
        ]);
        let state = PairingState::from_props(&pending).unwrap();
        assert_eq!((state.source, state.expires_at), (Some(PairingSource::Dashboard), Some(1_700_000_300)));
    }

    fn vehicle(immobilizer: &str, started_by: &str, limit: u16) -> PropertyMap {
        map(vec![
            ("Locked", Variant::from(true)),
            ("Immobilizer", Variant::from(immobilizer.to_owned())),
            ("StartedBy", Variant::from(started_by.to_owned())),
            ("SpeedLimit", Variant::from(limit)),
        ])
    }

    #[test]
    fn vehicle_properties() {
        let armed = VehicleState::from_props(&vehicle("armed", "", 0)).unwrap();
        assert_eq!(armed, VehicleState { locked: true, immobilizer: Immobilizer::Armed });
        let released = VehicleState::from_props(&vehicle("released", "0011223344556677", 80)).unwrap();
        assert_eq!(
            released.immobilizer,
            Immobilizer::Released { by: Some("0011223344556677".parse().unwrap()), speed_limit: Some(80) }
        );
        let unlimited = VehicleState::from_props(&vehicle("released", "", 0)).unwrap();
        assert_eq!(unlimited.immobilizer, Immobilizer::Released { by: None, speed_limit: None });
        let newer = VehicleState::from_props(&vehicle("limp-home", "", 0)).unwrap();
        assert_eq!(newer.immobilizer, Immobilizer::Other("limp-home".into()));
        let broken = VehicleState::from_props(&vehicle("released", "driver", 0)).unwrap_err();
        assert_eq!(broken.name(), "InvalidReply");
    }

    #[test]
    fn sync_and_manager_properties() {
        let sync = map(vec![
            ("State", Variant::from("not-configured")),
            ("PendingEvents", Variant::from(3u64)),
            ("LastSuccessAt", Variant::from(0i64)),
        ]);
        let sync = SyncState::from_props(&sync).unwrap();
        assert_eq!(
            (sync.phase.clone(), sync.pending_events, sync.last_success_at),
            (SyncPhase::NotConfigured, 3, None)
        );
        let manager = map(vec![
            ("Version", Variant::from("0.1.0")),
            ("VehicleGroupId", Variant::from("00112233445566778899aabbccddeeff")),
            ("KeysInUse", Variant::from(2u32)),
            ("MaxKeys", Variant::from(16u32)),
            ("OwnerPresentUntil", Variant::from(1_700_000_060i64)),
        ]);
        let manager = ManagerProps::from_props(&manager).unwrap();
        let pairing = PairingState { pending: false, source: None, attempts_left: 7, expires_at: None };
        let vehicle = VehicleState { locked: false, immobilizer: Immobilizer::Armed };
        let status = manager.into_status(pairing, vehicle, sync);
        assert_eq!((status.keys_in_use, status.max_keys, status.owner_present_until), (2, 16, Some(1_700_000_060)));
        let wrong = map(vec![("Version", Variant::from(1u32))]);
        assert_eq!(
            ManagerProps::from_props(&wrong).err().map(|e| e.name().to_owned()).as_deref(),
            Some("InvalidReply")
        );
    }
}
