//! [`CarkeyStatus`]: the C API's return codes, and how a [`ClientError`] maps onto them.
//!
//! A C caller branches on a small, fixed set of outcomes ("show the owner-presence prompt",
//! "the daemon is down, retry later"); the precise daemon error name is one call away
//! (`carkey_client_last_error`). The numbers are part of the ABI and never change meaning;
//! new codes are only ever added at the end.

use std::ffi::CStr;

use crate::error::ClientError;

/// Return codes of every `carkey_*` function that returns `int`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarkeyStatus {
    /// Success.
    Ok = 0,
    /// A failure with no code of its own; see `carkey_client_last_error`.
    Failed = 1,
    /// A null pointer, a string that is not UTF-8, a malformed key id, or an argument the
    /// daemon refused as malformed (`InvalidArgument`).
    InvalidArgument = 2,
    /// The caller's user may not do this (the daemon's or the bus's `AccessDenied`).
    AccessDenied = 3,
    /// The owner must tap the console reader first (`OwnerPresenceRequired`).
    OwnerPresenceRequired = 4,
    /// No such key, profile or pending pairing (`UnknownKey`, `UnknownProfile`, `NoPairing`).
    NotFound = 5,
    /// The bus works but carkeyd is not running on it.
    NotRunning = 6,
    /// Nothing happened within the time given (or the daemon did not answer in time).
    Timeout = 7,
    /// No bus could be reached at the address (or the system bus is down).
    BusUnavailable = 8,
    /// The daemon refused because of the vehicle's state: the key is revoked or not
    /// suspended, the profile is built in or in use, every slot is taken, ...
    Refused = 9,
    /// The daemon is stopping or its store failed; nothing changed, try again later.
    Unavailable = 10,
    /// The daemon's reply did not have the documented shape (incompatible version).
    InvalidReply = 11,
}

impl CarkeyStatus {
    /// Every code, in numeric order.
    const ALL: [Self; 12] = [
        Self::Ok,
        Self::Failed,
        Self::InvalidArgument,
        Self::AccessDenied,
        Self::OwnerPresenceRequired,
        Self::NotFound,
        Self::NotRunning,
        Self::Timeout,
        Self::BusUnavailable,
        Self::Refused,
        Self::Unavailable,
        Self::InvalidReply,
    ];

    /// The code for a failed call.
    pub fn of(error: &ClientError) -> Self {
        match error {
            ClientError::AccessDenied { .. } => Self::AccessDenied,
            ClientError::NotRunning { .. } => Self::NotRunning,
            ClientError::Connect(_) => Self::BusUnavailable,
            ClientError::InvalidArgument(_) => Self::InvalidArgument,
            ClientError::InvalidReply(_) => Self::InvalidReply,
            ClientError::Bus(_) => Self::Failed,
            ClientError::Daemon { name, .. } => Self::of_name(name),
        }
    }

    fn of_name(name: &str) -> Self {
        match name {
            "OwnerPresenceRequired" => Self::OwnerPresenceRequired,
            "InvalidArgument" => Self::InvalidArgument,
            "UnknownKey" | "UnknownProfile" | "NoPairing" => Self::NotFound,
            "KeyExists"
            | "EndpointAlreadyEnrolled"
            | "EndpointRevoked"
            | "BuiltinProfile"
            | "ProfileInUse"
            | "Revoked"
            | "NotSuspended"
            | "SlotsFull"
            | "TerminationRefused" => Self::Refused,
            "Unavailable" | "StoreFailed" => Self::Unavailable,
            "org.freedesktop.DBus.Error.NoReply" | "org.freedesktop.DBus.Error.Timeout" => Self::Timeout,
            _ => Self::Failed,
        }
    }

    /// The code's name as in the C header, without the `CARKEY_STATUS_` prefix.
    pub fn name(self) -> &'static CStr {
        match self {
            Self::Ok => c"OK",
            Self::Failed => c"FAILED",
            Self::InvalidArgument => c"INVALID_ARGUMENT",
            Self::AccessDenied => c"ACCESS_DENIED",
            Self::OwnerPresenceRequired => c"OWNER_PRESENCE_REQUIRED",
            Self::NotFound => c"NOT_FOUND",
            Self::NotRunning => c"NOT_RUNNING",
            Self::Timeout => c"TIMEOUT",
            Self::BusUnavailable => c"BUS_UNAVAILABLE",
            Self::Refused => c"REFUSED",
            Self::Unavailable => c"UNAVAILABLE",
            Self::InvalidReply => c"INVALID_REPLY",
        }
    }

    /// The code with this number, if there is one.
    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|status| *status as i32 == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        for (number, status) in CarkeyStatus::ALL.into_iter().enumerate() {
            assert_eq!(status as usize, number);
            assert_eq!(CarkeyStatus::from_code(number as i32), Some(status));
        }
        assert_eq!(CarkeyStatus::from_code(-1), None);
        assert_eq!(CarkeyStatus::OwnerPresenceRequired.name(), c"OWNER_PRESENCE_REQUIRED");
    }

    #[test]
    fn errors_map_to_codes_by_name() {
        let daemon = |name: &str| ClientError::Daemon { name: name.into(), message: String::new() };
        assert_eq!(CarkeyStatus::of(&daemon("OwnerPresenceRequired")), CarkeyStatus::OwnerPresenceRequired);
        assert_eq!(CarkeyStatus::of(&daemon("UnknownKey")), CarkeyStatus::NotFound);
        assert_eq!(CarkeyStatus::of(&daemon("NoPairing")), CarkeyStatus::NotFound);
        assert_eq!(CarkeyStatus::of(&daemon("ProfileInUse")), CarkeyStatus::Refused);
        assert_eq!(CarkeyStatus::of(&daemon("StoreFailed")), CarkeyStatus::Unavailable);
        assert_eq!(CarkeyStatus::of(&daemon("InvalidArgument")), CarkeyStatus::InvalidArgument);
        assert_eq!(CarkeyStatus::of(&daemon("BatteryLow")), CarkeyStatus::Failed);
        assert_eq!(CarkeyStatus::of(&daemon("org.freedesktop.DBus.Error.NoReply")), CarkeyStatus::Timeout);
        let denied = ClientError::from(carkey_dbus::Error::AccessDenied(String::new()));
        assert_eq!(CarkeyStatus::of(&denied), CarkeyStatus::AccessDenied);
        let not_running = ClientError::from(zbus::fdo::Error::ServiceUnknown(String::new()));
        assert_eq!(CarkeyStatus::of(&not_running), CarkeyStatus::NotRunning);
        assert_eq!(CarkeyStatus::of(&ClientError::Connect(zbus::Error::Unsupported)), CarkeyStatus::BusUnavailable);
        assert_eq!(CarkeyStatus::of(&ClientError::InvalidReply(String::new())), CarkeyStatus::InvalidReply);
    }
}
