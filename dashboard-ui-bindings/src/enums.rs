//! The D-Bus API's string enumerations as Rust enums.
//!
//! The API sends enumerations as lowercase strings and promises that a client treats an
//! unknown value as "other", never as an error: a dashboard built today must keep working
//! when a newer daemon learns a new action or reader location. So every enum here has an
//! `Other(String)` variant that keeps the daemon's word, and converting from a string is
//! infallible.

use std::fmt;

/// Declares a string enum: its known variants with their wire spelling, `Other(String)`,
/// `as_str`, `From<&str>` and `Display`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the client does not know (from a newer daemon).
            Other(String),
        }

        impl $name {
            /// The value as the daemon writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Whose key it is.
    pub enum Role {
        /// The vehicle's owner: may pair, share and manage keys.
        Owner = "owner",
        /// A key the owner shared.
        Friend = "friend",
    }
}

string_enum! {
    /// Something a key can make the vehicle do.
    pub enum Action {
        /// Unlock the doors.
        Unlock = "unlock",
        /// Lock the doors.
        Lock = "lock",
        /// Open the trunk.
        Trunk = "trunk",
        /// Release the immobilizer and start the engine.
        EngineStart = "engine-start",
    }
}

string_enum! {
    /// How a tap authenticated.
    pub enum Transaction {
        /// Symmetric only, from a previous standard transaction's secret: quick, unlock only.
        Fast = "fast",
        /// Mutual authentication with fresh key agreement: needed for engine start.
        Standard = "standard",
    }
}

string_enum! {
    /// Where a reader sits.
    pub enum ReaderLocation {
        /// The driver's door handle.
        DoorDriver = "door-driver",
        /// The passenger's door handle.
        DoorPassenger = "door-passenger",
        /// The trunk.
        Trunk = "trunk",
        /// The console inside the car (engine start, pairing, owner presence).
        Console = "console",
    }
}

string_enum! {
    /// Whether a reader works.
    pub enum ReaderState {
        /// Waiting for a phone.
        Ready = "ready",
        /// Failed and retrying; see the reader's last error.
        Failed = "failed",
    }
}

string_enum! {
    /// Who started a pending owner pairing.
    pub enum PairingSource {
        /// A code shown on the dashboard.
        Dashboard = "dashboard",
        /// A verifier sent by the automaker's backend.
        Backend = "backend",
    }
}

string_enum! {
    /// The backend exchange's state.
    pub enum SyncPhase {
        /// No backend is configured: the vehicle works offline only.
        NotConfigured = "not-configured",
        /// Up to date, waiting for the next exchange.
        Idle = "idle",
        /// Exchanging now.
        Syncing = "syncing",
        /// The last exchange failed; it will be retried.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_strings_round_trip() {
        for action in [Action::Unlock, Action::Lock, Action::Trunk, Action::EngineStart] {
            assert_eq!(Action::from(action.as_str()), action);
        }
        assert_eq!(Role::from("owner"), Role::Owner);
        assert_eq!(Transaction::from("standard"), Transaction::Standard);
        assert_eq!(ReaderLocation::from("door-passenger"), ReaderLocation::DoorPassenger);
        assert_eq!(ReaderState::from("failed"), ReaderState::Failed);
        assert_eq!(PairingSource::from("backend"), PairingSource::Backend);
        assert_eq!(SyncPhase::from("not-configured"), SyncPhase::NotConfigured);
        assert_eq!(SyncPhase::Syncing.to_string(), "syncing");
    }

    #[test]
    fn unknown_strings_are_kept_not_refused() {
        assert_eq!(Action::from("honk"), Action::Other("honk".into()));
        assert_eq!(Action::Other("honk".into()).as_str(), "honk");
        assert_eq!(Role::from("fleet"), Role::Other("fleet".into()));
        assert_eq!(Role::from("Owner"), Role::Other("Owner".into()), "spelling is exact");
        assert_eq!(ReaderLocation::from("b-pillar"), ReaderLocation::Other("b-pillar".into()));
        assert_eq!(SyncPhase::from(""), SyncPhase::Other(String::new()));
    }
}
