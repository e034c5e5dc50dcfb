//! One `org.carkey.CarKey1.Key` object per key the vehicle knows.

use std::collections::HashMap;
use std::sync::Arc;

use carkey_core::engine::Command;
use carkey_core::ids::KeyId;
use carkey_core::key::DigitalKey;
use carkey_dbus::Error;
use zbus::message::Header;
use zbus::{Connection, interface};

use super::authz::Method;
use super::convert;
use super::shared::Shared;

/// A key's object.
pub struct KeyObject {
    pub(super) id: KeyId,
    pub(super) shared: Arc<Shared>,
}

impl KeyObject {
    /// The key as of the latest snapshot.
    fn key(&self) -> zbus::fdo::Result<DigitalKey> {
        let status = self.shared.status();
        status
            .keys
            .binary_search_by(|k| k.id.cmp(&self.id))
            .ok()
            .and_then(|i| status.keys.get(i).cloned())
            .ok_or_else(|| zbus::fdo::Error::UnknownObject(format!("no key {}", self.id)))
    }

    async fn read<T>(
        &self,
        conn: &Connection,
        header: Option<&Header<'_>>,
        field: impl FnOnce(&DigitalKey) -> T,
    ) -> zbus::fdo::Result<T> {
        self.shared.may_read(conn, header).await?;
        Ok(field(&self.key()?))
    }

    /// Authorizes, then converts the arguments (a denied caller learns nothing about
    /// them), then forwards.
    async fn change(
        &self,
        conn: &Connection,
        header: &Header<'_>,
        method: Method,
        command: impl FnOnce(KeyId) -> Result<Command, Error>,
    ) -> Result<(), Error> {
        self.shared.authorize(conn, header, method).await?;
        self.shared.command(command(self.id)?).await.map(drop)
    }
}

#[interface(name = "org.carkey.CarKey1.Key", introspection_docs = false)]
impl KeyObject {
    async fn rename(
        &self,
        name: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::Rename, |id| Ok(Command::Rename(id, convert::key_name(name)?))).await
    }

    async fn set_profile(
        &self,
        profile: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::SetProfile, |id| Ok(Command::SetProfile(id, convert::profile_id(profile)?)))
            .await
    }

    async fn set_validity(
        &self,
        not_before: i64,
        not_after: i64,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::SetValidity, |id| {
            Ok(Command::SetValidity(id, convert::validity(not_before, not_after)?))
        })
        .await
    }

    async fn suspend(
        &self,
        reason: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::Suspend, |id| Ok(Command::Suspend(id, convert::reason(reason)?))).await
    }

    async fn resume(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::Resume, |id| Ok(Command::Resume(id))).await
    }

    async fn revoke(
        &self,
        reason: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(), Error> {
        self.change(conn, &header, Method::Revoke, |id| Ok(Command::Revoke(id, convert::reason(reason)?))).await
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn id(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.id.to_string()).await
    }

    #[zbus(property)]
    async fn name(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.name.as_str().to_owned()).await
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn role(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.role.as_str().to_owned()).await
    }

    #[zbus(property)]
    async fn profile(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.profile.to_string()).await
    }

    #[zbus(property)]
    async fn state(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.state.as_str().to_owned()).await
    }

    #[zbus(property)]
    async fn state_reason(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| convert::state_reason(&k.state).to_owned()).await
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn created_at(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.read(conn, header.as_ref(), |k| k.created_at.0).await
    }

    #[zbus(property)]
    async fn last_used_at(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.read(conn, header.as_ref(), |k| k.last_used_at.map_or(0, |t| t.0)).await
    }

    #[zbus(property)]
    async fn not_before(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.read(conn, header.as_ref(), |k| k.validity.not_before.map_or(0, |t| t.0)).await
    }

    #[zbus(property)]
    async fn not_after(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<i64> {
        self.read(conn, header.as_ref(), |k| k.validity.not_after.map_or(0, |t| t.0)).await
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn shared_by(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.read(conn, header.as_ref(), |k| k.shared_by.map(|s| s.owner.to_string()).unwrap_or_default()).await
    }

    #[zbus(property)]
    async fn usage(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<HashMap<String, u64>> {
        self.read(conn, header.as_ref(), |k| convert::usage(&k.usage)).await
    }
}
