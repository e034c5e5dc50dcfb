//! Who may call what: the one place every D-Bus method and property read is authorized.
//!
//! Deny by default. A caller's role comes from its user and groups as the bus reports
//! them (the kernel's peer credentials, so they cannot be forged by the client), matched
//! against the `[dbus]` configuration. Each method's required role is written in one
//! exhaustive match, so adding a method without deciding who may call it does not compile.
//!
//! The bus policy (`systemd/org.carkey.CarKey1.conf`) is the first gate: only the same
//! users and groups may send to carkey's interfaces at all. This check is the second, and
//! the only one that distinguishes reading from managing.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use zbus::fdo::DBusProxy;
use zbus::message::Header;
use zbus::names::UniqueName;

use crate::config::DbusConfig;

/// Every method of the API, by interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `Manager.ListKeys`.
    ListKeys,
    /// `Manager.ListProfiles`.
    ListProfiles,
    /// `Manager.PutProfile`.
    PutProfile,
    /// `Manager.RemoveProfile`.
    RemoveProfile,
    /// `Manager.FactoryReset`.
    FactoryReset,
    /// `Key.Rename`.
    Rename,
    /// `Key.SetProfile`.
    SetProfile,
    /// `Key.SetValidity`.
    SetValidity,
    /// `Key.Suspend`.
    Suspend,
    /// `Key.Resume`.
    Resume,
    /// `Key.Revoke`.
    Revoke,
    /// `Pairing.Start`.
    StartPairing,
    /// `Pairing.Cancel`.
    CancelPairing,
    /// Reading any property.
    ReadProperty,
}

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// See keys, readers, the vehicle and decisions.
    Observer,
    /// Everything an observer may, and change keys, profiles and pairing.
    Manager,
}

impl Method {
    /// The least role that may call it.
    pub const fn required(self) -> Role {
        match self {
            Self::ListKeys | Self::ListProfiles | Self::ReadProperty => Role::Observer,
            Self::PutProfile
            | Self::RemoveProfile
            | Self::FactoryReset
            | Self::Rename
            | Self::SetProfile
            | Self::SetValidity
            | Self::Suspend
            | Self::Resume
            | Self::Revoke
            | Self::StartPairing
            | Self::CancelPairing => Role::Manager,
        }
    }
}

/// A caller as the bus identified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Its user id.
    pub uid: u32,
    /// Its groups (primary and supplementary).
    pub gids: Vec<u32>,
}

/// Why a call was refused.
#[derive(Debug, thiserror::Error)]
pub enum Denied {
    /// The caller's role does not allow the method.
    #[error("uid {uid} may not call {method:?}")]
    Role {
        /// The caller.
        uid: u32,
        /// The method.
        method: Method,
    },
    /// The caller could not be identified (no sender, or the bus did not say).
    #[error("the caller could not be identified: {0}")]
    Unidentified(String),
}

/// Callers remembered at most; unique names are never reused on a bus, so a remembered
/// identity is never wrong, only possibly no longer needed.
const REMEMBERED_CALLERS: usize = 512;

/// The configured users and groups, resolved to ids at start.
#[derive(Debug)]
pub struct Authorizer {
    manager_uids: HashSet<u32>,
    manager_gids: HashSet<u32>,
    observer_uids: HashSet<u32>,
    observer_gids: HashSet<u32>,
    callers: Mutex<HashMap<String, Caller>>,
}

impl Authorizer {
    /// Resolves the configured names; a name the system does not know is logged and
    /// grants nothing.
    pub fn from_config(config: &DbusConfig) -> Self {
        Self {
            manager_uids: resolve(&config.manage_users, lookup_user),
            manager_gids: resolve(&config.manage_groups, lookup_group),
            observer_uids: resolve(&config.read_users, lookup_user),
            observer_gids: resolve(&config.read_groups, lookup_group),
            callers: Mutex::new(HashMap::new()),
        }
    }

    /// The caller's role, if any.
    pub fn role(&self, caller: &Caller) -> Option<Role> {
        let any = |uids: &HashSet<u32>, gids: &HashSet<u32>| {
            uids.contains(&caller.uid) || caller.gids.iter().any(|g| gids.contains(g))
        };
        if any(&self.manager_uids, &self.manager_gids) {
            Some(Role::Manager)
        } else if any(&self.observer_uids, &self.observer_gids) {
            Some(Role::Observer)
        } else {
            None
        }
    }

    /// Allows or refuses `method` for `caller`.
    pub fn check(&self, caller: &Caller, method: Method) -> Result<(), Denied> {
        match self.role(caller) {
            Some(role) if role >= method.required() => Ok(()),
            _ => Err(Denied::Role { uid: caller.uid, method }),
        }
    }

    /// Identifies the sender of a message through the bus and checks `method`.
    pub async fn authorize(&self, conn: &zbus::Connection, header: &Header<'_>, method: Method) -> Result<(), Denied> {
        let sender = header.sender().ok_or_else(|| Denied::Unidentified("message has no sender".into()))?;
        let caller = self.identify(conn, sender).await?;
        let result = self.check(&caller, method);
        if let Err(denied) = &result {
            tracing::warn!(sender = %sender, %denied, "D-Bus call denied");
        }
        result
    }

    async fn identify(&self, conn: &zbus::Connection, sender: &UniqueName<'_>) -> Result<Caller, Denied> {
        if let Some(caller) = self.remembered(sender.as_str()) {
            return Ok(caller);
        }
        let unidentified = |e: zbus::Error| Denied::Unidentified(e.to_string());
        let bus = DBusProxy::new(conn).await.map_err(unidentified)?;
        let credentials = bus
            .get_connection_credentials(sender.clone().into())
            .await
            .map_err(|e| Denied::Unidentified(e.to_string()))?;
        let uid = credentials.unix_user_id().ok_or_else(|| Denied::Unidentified("the bus gave no user id".into()))?;
        // A bus without the caller's groups (older dbus-daemon) gives only the user's
        // identity: group rules then grant nothing, user rules still apply.
        let gids = credentials.unix_group_ids().cloned().unwrap_or_default();
        let caller = Caller { uid, gids };
        let mut callers = self.callers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if callers.len() >= REMEMBERED_CALLERS {
            callers.clear();
        }
        callers.insert(sender.to_string(), caller.clone());
        Ok(caller)
    }

    fn remembered(&self, sender: &str) -> Option<Caller> {
        self.callers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(sender).cloned()
    }
}

fn resolve(names: &[String], lookup: fn(&str) -> Option<u32>) -> HashSet<u32> {
    names
        .iter()
        .filter_map(|name| {
            let id = name.parse().ok().or_else(|| lookup(name));
            if id.is_none() {
                tracing::warn!(%name, "unknown user or group in [dbus]; it grants nothing");
            }
            id
        })
        .collect()
}

fn lookup_user(name: &str) -> Option<u32> {
    nix::unistd::User::from_name(name).ok().flatten().map(|u| u.uid.as_raw())
}

fn lookup_group(name: &str) -> Option<u32> {
    nix::unistd::Group::from_name(name).ok().flatten().map(|g| g.gid.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorizer() -> Authorizer {
        Authorizer::from_config(&DbusConfig {
            manage_users: vec!["0".into()],
            manage_groups: vec!["1500".into()],
            read_users: vec!["1700".into()],
            read_groups: vec!["1600".into(), "no-such-group-carkey".into()],
            ..DbusConfig::default()
        })
    }

    const ALL: [Method; 14] = [
        Method::ListKeys,
        Method::ListProfiles,
        Method::PutProfile,
        Method::RemoveProfile,
        Method::FactoryReset,
        Method::Rename,
        Method::SetProfile,
        Method::SetValidity,
        Method::Suspend,
        Method::Resume,
        Method::Revoke,
        Method::StartPairing,
        Method::CancelPairing,
        Method::ReadProperty,
    ];

    #[test]
    fn roles_follow_users_and_groups_and_deny_by_default() {
        let authz = authorizer();
        let caller = |uid, gids: &[u32]| Caller { uid, gids: gids.to_vec() };
        assert_eq!(authz.role(&caller(0, &[0])), Some(Role::Manager));
        assert_eq!(authz.role(&caller(1000, &[1000, 1500])), Some(Role::Manager));
        assert_eq!(authz.role(&caller(1000, &[1600, 1500])), Some(Role::Manager), "the higher role wins");
        assert_eq!(authz.role(&caller(1000, &[1600])), Some(Role::Observer));
        assert_eq!(authz.role(&caller(1700, &[])), Some(Role::Observer));
        assert_eq!(authz.role(&caller(65534, &[65534])), None);
        for method in ALL {
            assert!(authz.check(&caller(0, &[]), method).is_ok());
            assert!(authz.check(&caller(65534, &[100]), method).is_err(), "{method:?}");
            let observer = authz.check(&caller(1000, &[1600]), method).is_ok();
            assert_eq!(observer, method.required() == Role::Observer, "{method:?}");
        }
    }
}
