//! What every D-Bus object shares: the way to the engine, the latest status snapshot,
//! the authorizer, and the settings the methods need.

use std::sync::{Arc, Mutex, PoisonError};

use carkey_core::engine::{Authority, Command, Reply, Request, Status};
use carkey_dbus::Error;
use tokio::sync::{mpsc, oneshot, watch};
use zbus::message::Header;

use super::authz::{Authorizer, Method};
use super::convert::command_error;
use crate::clock::SystemClock;

/// Shared by all objects.
#[derive(Debug)]
pub struct Shared {
    /// Commands to the engine; taken away when the service stops, so that objects still
    /// referenced by in-flight calls never keep the engine's queue open.
    pub requests: Mutex<Option<mpsc::Sender<Request>>>,
    /// The engine's latest snapshot (property getters read it directly, so a property is
    /// never older than the last change the engine published).
    pub status: watch::Receiver<Arc<Status>>,
    /// Who may call what.
    pub authz: Authorizer,
    /// For pairing codes' creation and expiry.
    pub clock: SystemClock,
    /// How long a pairing code lives.
    pub code_lifetime_s: u32,
    /// carkeyd's version.
    pub version: String,
    /// Key slots.
    pub max_keys: u32,
}

impl Shared {
    /// The latest snapshot.
    pub fn status(&self) -> Arc<Status> {
        Arc::clone(&self.status.borrow())
    }

    /// Authorizes a method call.
    pub async fn authorize(&self, conn: &zbus::Connection, header: &Header<'_>, method: Method) -> Result<(), Error> {
        self.authz.authorize(conn, header, method).await.map_err(|denied| Error::AccessDenied(denied.to_string()))
    }

    /// Authorizes a property read made by a client (`header` is `None` when zbus reads a
    /// property itself, to emit a change signal or answer `GetManagedObjects`, which the
    /// bus policy guards).
    pub async fn may_read(&self, conn: &zbus::Connection, header: Option<&Header<'_>>) -> zbus::fdo::Result<()> {
        match header {
            None => Ok(()),
            Some(header) => self
                .authz
                .authorize(conn, header, Method::ReadProperty)
                .await
                .map_err(|denied| zbus::fdo::Error::AccessDenied(denied.to_string())),
        }
    }

    /// Stops forwarding commands (at shutdown).
    pub fn close(&self) {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// Authorizes a property read, then reads `field` of the latest snapshot.
    pub async fn read<T>(
        &self,
        conn: &zbus::Connection,
        header: Option<&Header<'_>>,
        field: impl FnOnce(&Status) -> T,
    ) -> zbus::fdo::Result<T> {
        self.may_read(conn, header).await?;
        Ok(field(&self.status()))
    }

    /// Forwards a command to the engine as the dashboard.
    pub async fn command(&self, command: Command) -> Result<Reply, Error> {
        let (reply, answer) = oneshot::channel();
        let unavailable = || Error::Unavailable("the engine is not running".into());
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(unavailable)?;
        requests.send(Request::Command(command, Authority::Dashboard, reply)).await.map_err(|_| unavailable())?;
        drop(requests);
        answer.await.map_err(|_| unavailable())?.map_err(command_error)
    }
}
