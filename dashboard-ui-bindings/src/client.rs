//! [`Client`]: the typed async API over one D-Bus connection.
//!
//! Every method is one or a few D-Bus calls whose result is converted to domain values
//! before it is returned, and whose error is a [`ClientError`] with the daemon's error name.
//! The client holds no state besides the connection, so it is cheap to clone and safe to
//! share between tasks; two dashboards' views can never disagree because of a cache.

use std::collections::HashMap;

use carkey_dbus::proxies::{KeyProxy, ManagerProxy, PairingProxy};
use carkey_dbus::{BUS_NAME, KeyRecord, ROOT_PATH, interfaces};
use futures_core::Stream;
use futures_util::future::try_join4;
use zbus::Connection;
use zbus::fdo::ObjectManagerProxy;
use zbus::proxy::CacheProperties;

use crate::decision::DecisionEvent;
use crate::error::ClientError;
use crate::events::{self, Change};
use crate::key::Key;
use crate::key_id::KeyId;
use crate::profile::{Profile, ProfileSpec};
use crate::props::PropertyMap;
use crate::state::{ManagerProps, PairingState, Reader, Status, SyncState, VehicleState};

/// A connection to carkeyd.
#[derive(Debug, Clone)]
pub struct Client {
    connection: Connection,
}

/// Wraps a connection failure: a malformed address is the caller's mistake, anything else
/// means there is no usable bus at that address.
fn connect_error(error: zbus::Error) -> ClientError {
    match error {
        zbus::Error::Address(reason) => ClientError::InvalidArgument(format!("bus address: {reason}")),
        other => ClientError::Connect(other),
    }
}

impl Client {
    /// Connects to the system bus, where carkeyd runs on a vehicle.
    pub async fn system() -> Result<Self, ClientError> {
        Connection::system().await.map(Self::from_connection).map_err(connect_error)
    }

    /// Connects to the session bus (development and tests).
    pub async fn session() -> Result<Self, ClientError> {
        Connection::session().await.map(Self::from_connection).map_err(connect_error)
    }

    /// Connects to the bus at a D-Bus address such as `unix:path=/run/carkey/bus`.
    pub async fn connect(address: &str) -> Result<Self, ClientError> {
        zbus::connection::Builder::address(address).build().await.map(Self::from_connection).map_err(connect_error)
    }

    /// Uses a connection the application already has (it may serve its own objects too).
    pub fn from_connection(connection: Connection) -> Self {
        Self { connection }
    }

    /// The underlying connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    // Proxies are built per call: building one is cheap (no bus traffic with property
    // caching off), and caching is off so that every read asks the daemon.

    async fn manager(&self) -> Result<ManagerProxy<'_>, ClientError> {
        Ok(ManagerProxy::builder(&self.connection).cache_properties(CacheProperties::No).build().await?)
    }

    async fn pairing_proxy(&self) -> Result<PairingProxy<'_>, ClientError> {
        Ok(PairingProxy::builder(&self.connection).cache_properties(CacheProperties::No).build().await?)
    }

    async fn key_proxy(&self, id: &KeyId) -> Result<KeyProxy<'_>, ClientError> {
        Ok(KeyProxy::builder(&self.connection)
            .path(id.object_path())
            .cache_properties(CacheProperties::No)
            .build()
            .await?)
    }

    /// `Properties.GetAll` of one interface at the root object.
    async fn root_properties(&self, interface: &'static str) -> Result<PropertyMap, ClientError> {
        let reply = self.get_all(ROOT_PATH.try_into()?, interface).await?;
        Ok(reply.body().deserialize()?)
    }

    /// `Properties.GetAll` of `interface` at `path`, refused as `AccessDenied` when empty.
    ///
    /// Every carkey interface has properties, so an empty answer means that carkeyd refused
    /// each one: the D-Bus library that answers GetAll for the daemon leaves out the
    /// properties whose read was denied instead of failing the call.
    async fn get_all(
        &self,
        path: zbus::ObjectPath<'_>,
        interface: &'static str,
    ) -> Result<zbus::message::Message, zbus::Error> {
        let reply = self
            .connection
            .call_method(Some(BUS_NAME), &path, Some("org.freedesktop.DBus.Properties"), "GetAll", &(interface,))
            .await?;
        let properties: PropertyMap = reply.body().deserialize()?;
        if properties.is_empty() {
            return Err(zbus::Error::FDO(Box::new(zbus::fdo::Error::AccessDenied(format!(
                "carkeyd disclosed no property of {interface} at {path}: the caller may not read them"
            )))));
        }
        Ok(reply)
    }

    /// Every key, revoked ones included, most recently used first.
    pub async fn keys(&self) -> Result<Vec<Key>, ClientError> {
        let records = self.manager().await?.list_keys().await?;
        records.into_iter().map(|entry| Key::try_from(KeyRecord::from(entry))).collect()
    }

    /// One key, read from its own object (`UnknownKey` if there is none).
    pub async fn key(&self, id: &KeyId) -> Result<Key, ClientError> {
        let reply = self
            .get_all(id.object_path().into(), interfaces::KEY)
            .await
            .map_err(|e| unknown_object_is_unknown_key(e, id))?;
        // The Key interface's properties are the ListKeys record without "Object".
        let record: KeyRecord = reply.body().deserialize().map_err(|e| match ClientError::from(e) {
            ClientError::InvalidReply(reason) => ClientError::InvalidReply(format!("properties of key {id}: {reason}")),
            other => other,
        })?;
        Key::try_from(record)
    }

    /// Gives a key a new display name (1 to 64 characters, no control characters).
    pub async fn rename(&self, id: &KeyId, name: &str) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.rename(name).await.map_err(|e| unknown_key(e.into(), id))
    }

    /// Gives a key another access profile (`UnknownProfile` if there is none by that name).
    pub async fn set_profile(&self, id: &KeyId, profile: &str) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.set_profile(profile).await.map_err(|e| unknown_key(e.into(), id))
    }

    /// Sets a key's own validity window, on top of its profile's; `None` for unbounded.
    pub async fn set_validity(
        &self,
        id: &KeyId,
        not_before: Option<i64>,
        not_after: Option<i64>,
    ) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.set_validity(not_before.unwrap_or(0), not_after.unwrap_or(0)).await.map_err(|e| unknown_key(e.into(), id))
    }

    /// Disables a key until resumed (a lost phone). An owner key needs the owner present
    /// (`OwnerPresenceRequired`).
    pub async fn suspend(&self, id: &KeyId, reason: &str) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.suspend(reason).await.map_err(|e| unknown_key(e.into(), id))
    }

    /// Enables a suspended key again (`NotSuspended` otherwise).
    pub async fn resume(&self, id: &KeyId) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.resume().await.map_err(|e| unknown_key(e.into(), id))
    }

    /// Disables a key for good and erases its secrets. An owner key needs the owner present.
    pub async fn revoke(&self, id: &KeyId, reason: &str) -> Result<(), ClientError> {
        let key = self.key_proxy(id).await?;
        key.revoke(reason).await.map_err(|e| unknown_key(e.into(), id))
    }

    /// The access profiles, built-in first.
    pub async fn profiles(&self) -> Result<Vec<Profile>, ClientError> {
        let records = self.manager().await?.list_profiles().await?;
        Ok(records.into_iter().map(Profile::from).collect())
    }

    /// Creates or replaces a custom profile (`BuiltinProfile` for a built-in name).
    pub async fn put_profile(&self, spec: &ProfileSpec) -> Result<(), ClientError> {
        let argument: HashMap<&str, _> = spec.to_wire()?;
        Ok(self.manager().await?.put_profile(argument).await?)
    }

    /// Removes a custom profile that no key uses (`ProfileInUse` otherwise).
    pub async fn remove_profile(&self, name: &str) -> Result<(), ClientError> {
        Ok(self.manager().await?.remove_profile(name).await?)
    }

    /// Starts owner pairing: returns the one-time code to type on the phone and when it
    /// expires (Unix seconds). Replaces any pending pairing.
    pub async fn start_pairing(&self) -> Result<(String, i64), ClientError> {
        Ok(self.pairing_proxy().await?.start().await?)
    }

    /// Withdraws the pending pairing (`NoPairing` if none is pending).
    pub async fn cancel_pairing(&self) -> Result<(), ClientError> {
        Ok(self.pairing_proxy().await?.cancel().await?)
    }

    /// Owner pairing's state.
    pub async fn pairing(&self) -> Result<PairingState, ClientError> {
        PairingState::from_props(&self.root_properties(interfaces::PAIRING).await?)
    }

    /// Every reader, sorted by name, from the ObjectManager (one call for all of them).
    pub async fn readers(&self) -> Result<Vec<Reader>, ClientError> {
        let manager = ObjectManagerProxy::builder(&self.connection)
            .destination(BUS_NAME)
            .path(ROOT_PATH)
            .cache_properties(CacheProperties::No)
            .build()
            .await?;
        let objects = manager.get_managed_objects().await?;
        let mut readers = objects
            .into_iter()
            .filter_map(|(path, interfaces)| {
                let props = interfaces.into_iter().find(|(name, _)| name.as_str() == interfaces::READER)?.1;
                Some(Reader::from_props(path, &props))
            })
            .collect::<Result<Vec<_>, _>>()?;
        readers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(readers)
    }

    /// Locks and immobilizer.
    pub async fn vehicle(&self) -> Result<VehicleState, ClientError> {
        VehicleState::from_props(&self.root_properties(interfaces::VEHICLE).await?)
    }

    /// The backend exchange's state.
    pub async fn sync(&self) -> Result<SyncState, ClientError> {
        SyncState::from_props(&self.root_properties(interfaces::SYNC).await?)
    }

    /// Everything a status page shows, read with four concurrent calls.
    pub async fn status(&self) -> Result<Status, ClientError> {
        let (manager, pairing, vehicle, sync) = try_join4(
            self.root_properties(interfaces::MANAGER),
            self.root_properties(interfaces::PAIRING),
            self.root_properties(interfaces::VEHICLE),
            self.root_properties(interfaces::SYNC),
        )
        .await?;
        Ok(ManagerProps::from_props(&manager)?.into_status(
            PairingState::from_props(&pairing)?,
            VehicleState::from_props(&vehicle)?,
            SyncState::from_props(&sync)?,
        ))
    }

    /// Erases every key, secret, profile, pending pairing and the audit log, and gives the
    /// vehicle a new identity. Needs the owner present (`OwnerPresenceRequired`).
    pub async fn factory_reset(&self) -> Result<(), ClientError> {
        Ok(self.manager().await?.factory_reset().await?)
    }

    /// Every decided tap from now on. Subscribed when this returns: nothing decided after
    /// that is missed, however late the stream is first polled.
    pub async fn decisions(&self) -> Result<impl Stream<Item = DecisionEvent> + Send + Unpin + 'static, ClientError> {
        events::decisions(&self.connection).await
    }

    /// Every change to keys, readers, pairing, vehicle, sync and the manager from now on.
    /// Subscribed when this returns, like [`Client::decisions`].
    pub async fn changes(&self) -> Result<impl Stream<Item = Change> + Send + Unpin + 'static, ClientError> {
        events::changes(&self.connection).await
    }
}

/// A call to a key object that does not exist fails with the bus's generic UnknownObject
/// (or UnknownMethod from an older daemon), which says nothing to a dashboard: it is the
/// daemon's `UnknownKey`.
fn unknown_key(error: ClientError, id: &KeyId) -> ClientError {
    match error.name() {
        "org.freedesktop.DBus.Error.UnknownObject" | "org.freedesktop.DBus.Error.UnknownMethod" => {
            ClientError::Daemon { name: "UnknownKey".into(), message: format!("no key {id}") }
        }
        _ => error,
    }
}

/// [`unknown_key`] for a `Properties.GetAll`, which zbus daemons answer with
/// UnknownInterface or UnknownObject for an object that is not there.
fn unknown_object_is_unknown_key(error: zbus::Error, id: &KeyId) -> ClientError {
    let error = ClientError::from(error);
    match error.name() {
        "org.freedesktop.DBus.Error.UnknownInterface" => {
            ClientError::Daemon { name: "UnknownKey".into(), message: format!("no key {id}") }
        }
        _ => unknown_key(error, id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_objects_read_as_unknown_key() {
        let id: KeyId = "0011223344556677".parse().unwrap();
        let missing = ClientError::from(zbus::fdo::Error::UnknownObject("no such object".into()));
        assert_eq!(unknown_key(missing, &id).name(), "UnknownKey");
        let interface = zbus::Error::FDO(Box::new(zbus::fdo::Error::UnknownInterface("no".into())));
        assert_eq!(unknown_object_is_unknown_key(interface, &id).name(), "UnknownKey");
        let denied = ClientError::from(zbus::fdo::Error::AccessDenied("policy".into()));
        assert_eq!(unknown_key(denied, &id).name(), "AccessDenied");
    }

    #[tokio::test]
    async fn a_bus_address_with_nothing_listening_is_a_connect_failure() {
        let error = Client::connect("unix:path=/nonexistent/carkey-test/bus").await.unwrap_err();
        assert_eq!(error.name(), "ConnectFailed", "{error:?}");
        let error = Client::connect("not an address").await.unwrap_err();
        assert_eq!(error.name(), "InvalidArgument", "{error:?}");
    }
}
