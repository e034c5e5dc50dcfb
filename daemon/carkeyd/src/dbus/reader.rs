//! One `org.carkey.CarKey1.Reader` object per configured reader.

use std::sync::Arc;

use carkey_core::ids::{ReaderLocation, ReaderName};
use tokio::sync::watch;
use zbus::message::Header;
use zbus::{Connection, interface};

use super::shared::Shared;

/// A reader's health, as its task reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderHealth {
    /// Whether the task is retrying after a failure.
    pub failed: bool,
    /// The last failure, kept after recovery for the technician.
    pub last_error: Option<String>,
}

/// A configured reader and its health.
#[derive(Debug, Clone)]
pub struct ReaderInfo {
    /// Its name.
    pub name: ReaderName,
    /// Where it sits.
    pub location: ReaderLocation,
    /// Its health.
    pub health: watch::Receiver<ReaderHealth>,
}

/// A reader's object.
pub struct ReaderObject {
    pub(super) info: ReaderInfo,
    pub(super) shared: Arc<Shared>,
}

#[interface(name = "org.carkey.CarKey1.Reader", introspection_docs = false)]
impl ReaderObject {
    #[zbus(property(emits_changed_signal = "const"))]
    async fn name(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.shared.may_read(conn, header.as_ref()).await?;
        Ok(self.info.name.to_string())
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn location(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.shared.may_read(conn, header.as_ref()).await?;
        Ok(self.info.location.to_string())
    }

    #[zbus(property)]
    async fn state(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.shared.may_read(conn, header.as_ref()).await?;
        Ok(if self.info.health.borrow().failed { "failed" } else { "ready" }.to_owned())
    }

    #[zbus(property)]
    async fn last_error(
        &self,
        #[zbus(header)] header: Option<Header<'_>>,
        #[zbus(connection)] conn: &Connection,
    ) -> zbus::fdo::Result<String> {
        self.shared.may_read(conn, header.as_ref()).await?;
        Ok(self.info.health.borrow().last_error.clone().unwrap_or_default())
    }
}
