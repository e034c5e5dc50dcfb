//! The root object `/org/carkey/CarKey1`: Manager, Pairing, Vehicle and Sync.
//!
//! Methods authorize, convert their arguments, forward one command to the engine and
//! convert the reply; nothing else happens here.

// zbus generates an emitter with the Decision signal's seven documented arguments.
#![allow(clippy::too_many_arguments)]

use std::collections::HashMap;
use std::sync::Arc;

use carkey_core::engine::{Command, Reply};
use carkey_core::pairing::{PairingCode, PairingOffer};
use carkey_core::ports::{Clock, Immobilizer};
use carkey_dbus::{Error, KeyEntry, ProfileRecord};
use carkey_protocol::spake2plus::ScryptParams;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::{Connection, OwnedVariant, interface};

use super::authz::Method;
use super::convert;
use super::shared::Shared;

fn unexpected(reply: &Reply) -> Error {
    Error::Unavailable(format!("unexpected engine reply {reply:?}"))
}

/// `org.carkey.CarKey1.Manager`.
pub struct ManagerObject(pub Arc<Shared>);

#[interface(name = "org.carkey.CarKey1.Manager", introspection_docs = false)]
impl ManagerObject {
    #[zbus(out_args("keys"))]
    async fn list_keys(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Vec<KeyEntry>, Error> {
        self.0.authorize(conn, &header, Method::ListKeys).await?;
        // The engine's latest snapshot, like every property: a dashboard lists keys often,
        // and this answers without a round trip through the engine's queue.
        Ok(self.0.status().keys_most_recent_first().into_iter().filter_map(convert::key_entry).collect())
    }

    #[zbus(out_args("profiles"))]
    async fn list_profiles(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Vec<ProfileRecord>, Error> {
        self.0.authorize(conn, &header, Method::ListProfiles).await?;
        match self.0.command(Command::ListProfiles).await? {
            Reply::Profiles(profiles) => Ok(profiles.iter().map(convert::profile_record).collect()),
            other => Err(unexpected(&other)),
        }
    }

    async fn put_profile(
        &self,
        profile: HashMap<String, OwnedVariant>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.0.authorize(conn, &header, Method::PutProfile).await?;
        self.0.command(Command::PutProfile(convert::profile(&profile)?)).await.map(drop)
    }

    async fn remove_profile(
        &self,
        name: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.0.authorize(conn, &header, Method::RemoveProfile).await?;
        self.0.command(Command::DeleteProfile(convert::profile_id(name)?)).await.map(drop)
    }

    async fn factory_reset(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.0.authorize(conn, &header, Method::FactoryReset).await?;
        self.0.command(Command::FactoryReset).await.map(drop)
    }

    #[zbus(signal)]
    pub async fn decision(
        emitter: &SignalEmitter<'_>,
        reader: &str,
        key: &str,
        action: &str,
        transaction: &str,
        allowed: bool,
        reason: &str,
        time: i64,
    ) -> zbus::Result<()>;

    #[zbus(property(emits_changed_signal = "const"))]
    async fn version(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0.may_read(conn, header.as_ref()).await?;
        Ok(self.0.version.clone())
    }

    #[zbus(property)]
    async fn vehicle_group_id(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0.read(conn, header.as_ref(), |s| hex::encode(s.group_id)).await
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn max_keys(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<u32> {
        self.0.may_read(conn, header.as_ref()).await?;
        Ok(self.0.max_keys)
    }

    #[zbus(property)]
    async fn keys_in_use(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<u32> {
        self.0.read(conn, header.as_ref(), keys_in_use).await
    }

    #[zbus(property)]
    async fn owner_present_until(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.0.read(conn, header.as_ref(), |s| owner_present_until(s.owner_present_until, unix_now())).await
    }
}

/// `OwnerPresentUntil` at Unix time `now`: 0 once the window has passed, although the
/// snapshot still holds it until the engine's next change.
pub fn owner_present_until(until: Option<carkey_core::time::WallTime>, now: i64) -> i64 {
    until.filter(|until| until.0 > now).map_or(0, |until| until.0)
}

/// The wall clock in Unix seconds (0 if it reads before 1970, which no window outlives).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Keys holding a slot.
pub fn keys_in_use(status: &carkey_core::engine::Status) -> u32 {
    let count = status.keys.iter().filter(|k| !matches!(k.state, carkey_core::key::KeyState::Revoked(_))).count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// `org.carkey.CarKey1.Pairing`.
pub struct PairingObject(pub Arc<Shared>);

#[interface(name = "org.carkey.CarKey1.Pairing", introspection_docs = false)]
impl PairingObject {
    #[zbus(out_args("code", "expires_at"))]
    async fn start(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(String, i64), Error> {
        self.0.authorize(conn, &header, Method::StartPairing).await?;
        let code = PairingCode::generate().map_err(|e| Error::Unavailable(e.to_string()))?;
        let group = self.0.status().group_id;
        let now = self.0.clock.wall().time;
        let lifetime = Some(self.0.code_lifetime_s);
        // scrypt takes a noticeable fraction of a second on purpose: off the event loop.
        let (code, offer) = tokio::task::spawn_blocking(move || {
            let offer = PairingOffer::from_code(&code, &group, ScryptParams::RECOMMENDED, now, lifetime);
            (code, offer)
        })
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))?;
        let offer = offer.map_err(|e| Error::Unavailable(e.to_string()))?;
        let expires_at = offer.expires_at.map_or(0, |t| t.0);
        self.0.command(Command::OfferPairing(offer)).await?;
        Ok((code.as_str().to_owned(), expires_at))
    }

    async fn cancel(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.0.authorize(conn, &header, Method::CancelPairing).await?;
        self.0.command(Command::CancelPairing).await.map(drop)
    }

    #[zbus(property)]
    async fn pending(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<bool> {
        self.0.read(conn, header.as_ref(), |s| s.pairing.is_some()).await
    }

    #[zbus(property)]
    async fn source(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0
            .read(conn, header.as_ref(), |s| s.pairing.map(|p| p.source.as_str().to_owned()).unwrap_or_default())
            .await
    }

    #[zbus(property)]
    async fn attempts_left(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<u8> {
        self.0.read(conn, header.as_ref(), |s| s.pairing.map_or(0, |p| p.attempts_left)).await
    }

    #[zbus(property)]
    async fn expires_at(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.0.read(conn, header.as_ref(), |s| s.pairing.and_then(|p| p.expires_at).map_or(0, |t| t.0)).await
    }
}

/// `org.carkey.CarKey1.Vehicle`.
pub struct VehicleObject(pub Arc<Shared>);

#[interface(name = "org.carkey.CarKey1.Vehicle", introspection_docs = false)]
impl VehicleObject {
    #[zbus(property)]
    async fn locked(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<bool> {
        self.0.read(conn, header.as_ref(), |s| s.vehicle.locked).await
    }

    #[zbus(property)]
    async fn immobilizer(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0
            .read(conn, header.as_ref(), |s| {
                match s.vehicle.immobilizer {
                    Immobilizer::Armed => "armed",
                    Immobilizer::Released { .. } => "released",
                }
                .to_owned()
            })
            .await
    }

    #[zbus(property)]
    async fn started_by(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0
            .read(conn, header.as_ref(), |s| match s.vehicle.immobilizer {
                Immobilizer::Armed => String::new(),
                Immobilizer::Released { key, .. } => key.to_string(),
            })
            .await
    }

    #[zbus(property)]
    async fn speed_limit(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<u16> {
        self.0
            .read(conn, header.as_ref(), |s| match s.vehicle.immobilizer {
                Immobilizer::Armed => 0,
                Immobilizer::Released { speed_limit_kmh, .. } => speed_limit_kmh.unwrap_or(0),
            })
            .await
    }
}

/// `org.carkey.CarKey1.Sync`. Until the backend client exists, sync is "not-configured"
/// and only the queue of key-tracking events is real.
pub struct SyncObject(pub Arc<Shared>);

#[interface(name = "org.carkey.CarKey1.Sync", introspection_docs = false)]
impl SyncObject {
    #[zbus(property)]
    async fn state(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.0.may_read(conn, header.as_ref()).await?;
        Ok("not-configured".to_owned())
    }

    #[zbus(property)]
    async fn pending_events(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<u64> {
        self.0.read(conn, header.as_ref(), |s| s.tracking_pending).await
    }

    #[zbus(property)]
    async fn last_success_at(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.0.may_read(conn, header.as_ref()).await?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use carkey_core::time::WallTime;

    use super::owner_present_until;

    #[test]
    fn owner_presence_reads_zero_once_its_window_has_passed() {
        assert_eq!(owner_present_until(None, 1_000), 0);
        assert_eq!(owner_present_until(Some(WallTime(1_060)), 1_000), 1_060);
        assert_eq!(owner_present_until(Some(WallTime(1_060)), 1_060), 0);
        assert_eq!(owner_present_until(Some(WallTime(1_060)), 2_000), 0);
    }
}
