//! Every error the daemon returns. The D-Bus name (`org.carkey.CarKey1.Error.<Variant>`)
//! is for programs and never changes meaning; the message is for people.

use zbus::DBusError;

/// A carkey D-Bus error.
#[derive(Debug, DBusError)]
#[zbus(prefix = "org.carkey.CarKey1.Error")]
pub enum Error {
    /// Not a carkey error: the connection, the bus, or a generic D-Bus error (for example
    /// `org.freedesktop.DBus.Error.AccessDenied` from the bus's own policy).
    #[zbus(error)]
    ZBus(zbus::Error),
    /// The caller's user and groups do not allow this method.
    AccessDenied(String),
    /// The command adds or removes owner power: an owner key must tap the console reader
    /// first (a standard transaction within the last 60 s).
    OwnerPresenceRequired(String),
    /// An argument is malformed: a bad id, an unknown or mistyped field, a value out of
    /// range, a string too long.
    InvalidArgument(String),
    /// No key with this id.
    UnknownKey(String),
    /// The key slot is taken.
    KeyExists(String),
    /// The phone's key is already enrolled in another slot.
    EndpointAlreadyEnrolled(String),
    /// The phone's key belongs to a revoked key and can never be enrolled again.
    EndpointRevoked(String),
    /// No profile with this name.
    UnknownProfile(String),
    /// Built-in profiles cannot be changed or removed.
    BuiltinProfile(String),
    /// The profile is still assigned to keys.
    ProfileInUse(String),
    /// The key is revoked and never changes again.
    Revoked(String),
    /// Resume of a key that is not suspended.
    NotSuspended(String),
    /// Every key slot is in use.
    SlotsFull(String),
    /// No owner pairing is pending.
    NoPairing(String),
    /// A termination attestation was refused.
    TerminationRefused(String),
    /// The key store failed; nothing changed.
    StoreFailed(String),
    /// The daemon is stopping or its engine is gone; try again later.
    Unavailable(String),
}

impl Error {
    /// The short name after `org.carkey.CarKey1.Error.` (or the whole name for errors that
    /// are not carkey's), for scripts and tests.
    pub fn short_name(&self) -> String {
        use zbus::DBusError as _;
        let name = self.name().to_string();
        name.strip_prefix("org.carkey.CarKey1.Error.").map(str::to_owned).unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use zbus::DBusError as _;

    use super::*;

    #[test]
    fn names_are_stable() {
        let error = Error::OwnerPresenceRequired("tap first".into());
        assert_eq!(error.name().as_str(), "org.carkey.CarKey1.Error.OwnerPresenceRequired");
        assert_eq!(error.description(), Some("tap first"));
        assert_eq!(error.short_name(), "OwnerPresenceRequired");
        assert_eq!(Error::AccessDenied(String::new()).short_name(), "AccessDenied");
    }
}
