//! [`ClientError`]: every failure of a client call, with the daemon's error name kept.
//!
//! The daemon's error names (`org.carkey.CarKey1.Error.*`) are its stable contract with
//! programs; the messages are for people and may change. A dashboard branches on the name
//! ("ask the owner to tap the console first" for `OwnerPresenceRequired`), so the name is
//! kept verbatim and the few cases every caller handles — not allowed, daemon not running —
//! get variants of their own, whichever party (the daemon or the bus) reported them.

use carkey_dbus::Error as WireError;
use zbus::DBusError;
use zbus::names::ErrorName;

use crate::key_id::KeyIdError;

const CARKEY_PREFIX: &str = "org.carkey.CarKey1.Error.";
const BUS_ACCESS_DENIED: &str = "org.freedesktop.DBus.Error.AccessDenied";
const BUS_SERVICE_UNKNOWN: &str = "org.freedesktop.DBus.Error.ServiceUnknown";
const BUS_NAME_HAS_NO_OWNER: &str = "org.freedesktop.DBus.Error.NameHasNoOwner";

/// A failed client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The caller may not do this: refused by the daemon's authorization
    /// (`org.carkey.CarKey1.Error.AccessDenied`) or by the bus policy
    /// (`org.freedesktop.DBus.Error.AccessDenied`).
    #[error("access denied: {message}")]
    AccessDenied {
        /// The refusal's explanation, for people.
        message: String,
    },
    /// Nobody owns `org.carkey.CarKey1` on this bus: the daemon is not running.
    #[error("carkeyd is not running on this bus: {message}")]
    NotRunning {
        /// The bus's explanation, for people.
        message: String,
    },
    /// Could not connect to the bus at all (no bus at the address, or authentication failed).
    #[error("cannot connect to the bus: {0}")]
    Connect(#[source] zbus::Error),
    /// The daemon (or the bus) returned a named error. `name` is the short name after
    /// `org.carkey.CarKey1.Error.` for carkey's errors (e.g. `OwnerPresenceRequired`,
    /// `UnknownKey`), and the full name for anybody else's.
    #[error("{name}: {message}")]
    Daemon {
        /// The error's name, stable for programs.
        name: String,
        /// The daemon's explanation, for people.
        message: String,
    },
    /// An argument was refused before any call was made (for example a malformed key id).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The reply did not have the documented shape (a daemon of an incompatible version).
    #[error("invalid reply from carkeyd: {0}")]
    InvalidReply(String),
    /// Any other failure of the connection or the message layer.
    #[error("D-Bus failure: {0}")]
    Bus(#[source] zbus::Error),
}

impl ClientError {
    /// A stable short name for scripts and the C API: the daemon's error name for
    /// [`ClientError::Daemon`] (`"UnknownKey"`), else the variant's name (`"AccessDenied"`,
    /// `"NotRunning"`, `"ConnectFailed"`, `"InvalidArgument"`, `"InvalidReply"`, `"BusError"`).
    pub fn name(&self) -> &str {
        match self {
            Self::AccessDenied { .. } => "AccessDenied",
            Self::NotRunning { .. } => "NotRunning",
            Self::Connect(_) => "ConnectFailed",
            Self::Daemon { name, .. } => name,
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::InvalidReply(_) => "InvalidReply",
            Self::Bus(_) => "BusError",
        }
    }

    /// Builds the error for a named error reply: the single place where error names are
    /// sorted into variants.
    pub(crate) fn from_name(name: &str, message: Option<&str>) -> Self {
        let message = message.unwrap_or_default().to_owned();
        match name {
            BUS_ACCESS_DENIED => Self::AccessDenied { message },
            BUS_SERVICE_UNKNOWN | BUS_NAME_HAS_NO_OWNER => Self::NotRunning { message },
            _ => match name.strip_prefix(CARKEY_PREFIX) {
                Some("AccessDenied") => Self::AccessDenied { message },
                Some(short) => Self::Daemon { name: short.to_owned(), message },
                None => Self::Daemon { name: name.to_owned(), message },
            },
        }
    }

    /// Sorts a zbus error: named replies by name, malformed replies as
    /// [`ClientError::InvalidReply`], the rest as [`ClientError::Bus`].
    fn from_zbus(error: zbus::Error) -> Self {
        match &error {
            zbus::Error::MethodError(name, message, _) => Self::from_name(name.as_str(), message.as_deref()),
            zbus::Error::FDO(fdo) => Self::from_named(fdo.as_ref()),
            zbus::Error::DBus(other) => Self::from_named(other.as_ref()),
            // zbus reports a reply body that does not deserialize into the documented type
            // (a dictionary without a documented entry, a value of another type) as
            // `Failure`. Arguments this crate sends are typed and always serialize, so that
            // is the only way a call can end in it.
            zbus::Error::InvalidReply
            | zbus::Error::IncorrectType
            | zbus::Error::SignatureMismatch(..)
            | zbus::Error::InterfaceNotFound
            | zbus::Error::Failure(_) => Self::InvalidReply(error.to_string()),
            _ => Self::Bus(error),
        }
    }

    fn from_named(error: &(impl DBusError + ?Sized)) -> Self {
        let name: ErrorName<'_> = error.name();
        Self::from_name(name.as_str(), error.description())
    }
}

impl From<WireError> for ClientError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::ZBus(error) => Self::from_zbus(error),
            known => Self::from_named(&known),
        }
    }
}

impl From<zbus::Error> for ClientError {
    fn from(error: zbus::Error) -> Self {
        // Through the contract crate's conversion, so that a carkey error reply is
        // recognised by exactly the same rules whichever call produced it.
        Self::from(WireError::from(error))
    }
}

impl From<zbus::fdo::Error> for ClientError {
    fn from(error: zbus::fdo::Error) -> Self {
        match error {
            zbus::fdo::Error::ZBus(error) => Self::from_zbus(error),
            named => Self::from_named(&named),
        }
    }
}

impl From<KeyIdError> for ClientError {
    fn from(error: KeyIdError) -> Self {
        Self::InvalidArgument(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carkey_errors_keep_their_short_name() {
        let error = ClientError::from(WireError::OwnerPresenceRequired("tap the console first".into()));
        assert_eq!(error.name(), "OwnerPresenceRequired");
        match &error {
            ClientError::Daemon { name, message } => {
                assert_eq!((name.as_str(), message.as_str()), ("OwnerPresenceRequired", "tap the console first"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(ClientError::from(WireError::UnknownKey(String::new())).name(), "UnknownKey");
        assert!(error.to_string().contains("tap the console first"));
    }

    #[test]
    fn access_denied_is_recognised_from_the_daemon_and_from_the_bus() {
        let daemon = ClientError::from(WireError::AccessDenied("observer role".into()));
        assert!(matches!(&daemon, ClientError::AccessDenied { message } if message == "observer role"));
        let bus = ClientError::from(zbus::fdo::Error::AccessDenied("policy".into()));
        assert!(matches!(&bus, ClientError::AccessDenied { message } if message == "policy"));
        let through_zbus = ClientError::from(zbus::Error::FDO(Box::new(zbus::fdo::Error::AccessDenied("p".into()))));
        assert_eq!(through_zbus.name(), "AccessDenied");
        assert_eq!(ClientError::from_name(BUS_ACCESS_DENIED, None).name(), "AccessDenied");
    }

    #[test]
    fn a_name_without_owner_means_not_running() {
        for fdo in [
            zbus::fdo::Error::ServiceUnknown("org.carkey.CarKey1".into()),
            zbus::fdo::Error::NameHasNoOwner("org.carkey.CarKey1".into()),
        ] {
            let error = ClientError::from(zbus::Error::FDO(Box::new(fdo)));
            assert!(matches!(error, ClientError::NotRunning { .. }), "{error:?}");
            assert_eq!(error.name(), "NotRunning");
        }
    }

    #[test]
    fn unknown_names_are_kept_verbatim() {
        // A carkey error this client does not know yet (a newer daemon) keeps its short name.
        let newer = ClientError::from_name("org.carkey.CarKey1.Error.BatteryLow", Some("12 V low"));
        assert!(
            matches!(&newer, ClientError::Daemon { name, message } if name == "BatteryLow" && message == "12 V low")
        );
        // Anybody else's error keeps its full name.
        let foreign = ClientError::from(zbus::fdo::Error::UnknownMethod("no".into()));
        assert_eq!(foreign.name(), "org.freedesktop.DBus.Error.UnknownMethod");
    }

    #[test]
    fn transport_and_shape_failures_have_their_own_names() {
        assert_eq!(ClientError::from(zbus::Error::InvalidReply).name(), "InvalidReply");
        assert_eq!(ClientError::from(zbus::Error::IncorrectType).name(), "InvalidReply");
        assert_eq!(ClientError::from(zbus::Error::Unsupported).name(), "BusError");
        // A reply body that does not deserialize, as zbus reports it: e.g. a key's
        // properties without "Id" (seen from a daemon that answered GetAll with nothing).
        let missing = ClientError::from(zbus::Error::Failure("missing field `Id`".into()));
        assert!(matches!(&missing, ClientError::InvalidReply(m) if m.contains("missing field `Id`")), "{missing:?}");
        assert_eq!(ClientError::Connect(zbus::Error::Unsupported).name(), "ConnectFailed");
        let bad_id = ClientError::from("XYZ".parse::<crate::KeyId>().unwrap_err());
        assert_eq!(bad_id.name(), "InvalidArgument");
    }
}
