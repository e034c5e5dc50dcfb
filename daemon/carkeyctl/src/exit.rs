//! [`Exit`]: the exit codes scripts branch on.
//!
//! A script wants to know *what kind* of failure happened ("ask for the owner's tap",
//! "carkeyd is down, retry later", "no such key") without parsing messages. The codes are
//! a small fixed set and never change meaning; the precise daemon error name is printed on
//! stderr beside the message. Daemon errors are sorted by carkey-client's
//! [`CarkeyStatus`], so the command line and the C API agree on every error's kind.

use std::fmt::Write as _;

use carkey_client::{CarkeyStatus, ClientError};

/// How carkeyctl ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// The command did what was asked.
    Success = 0,
    /// Any failure without a code of its own (an unexpected reply, a broken output).
    Failure = 1,
    /// The command line is malformed, or a destructive command was not confirmed.
    Usage = 2,
    /// A value was refused as malformed, by carkeyctl (a key id) or by the daemon (a name).
    InvalidArgument = 3,
    /// The caller's user may not do this (the daemon's authorization or the bus policy).
    AccessDenied = 4,
    /// The owner must tap the console reader first.
    OwnerPresenceRequired = 5,
    /// No such key or profile, or no pending pairing.
    NotFound = 6,
    /// The vehicle's state forbids it: the key is revoked or not suspended, the profile is
    /// built in or in use, every key slot is taken.
    Refused = 7,
    /// carkeyd cannot be reached: it is not running, or there is no bus at the address.
    Unreachable = 8,
    /// carkeyd did not answer in time, is stopping, or its store failed; nothing changed.
    TryAgain = 9,
}

impl Exit {
    /// Every code, in numeric order.
    pub const ALL: [Self; 10] = [
        Self::Success,
        Self::Failure,
        Self::Usage,
        Self::InvalidArgument,
        Self::AccessDenied,
        Self::OwnerPresenceRequired,
        Self::NotFound,
        Self::Refused,
        Self::Unreachable,
        Self::TryAgain,
    ];

    /// The process exit status.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the code means, as `--help` and the README list it.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure without a code of its own (e.g. an unexpected reply)",
            Self::Usage => "malformed command line, or key revoke or factory-reset without --yes",
            Self::InvalidArgument => "a value was refused as malformed (key id, name, time, profile)",
            Self::AccessDenied => "access denied (carkeyd's authorization or the bus policy)",
            Self::OwnerPresenceRequired => "the owner must tap the console reader first",
            Self::NotFound => "no such key or profile, or no pending pairing",
            Self::Refused => "refused by the vehicle's state (revoked, not suspended, in use, slots full)",
            Self::Unreachable => "carkeyd not running, or no bus at the address",
            Self::TryAgain => "carkeyd did not answer in time, is stopping, or its store failed",
        }
    }

    /// The code for a failed client call.
    pub fn of(error: &ClientError) -> Self {
        match CarkeyStatus::of(error) {
            CarkeyStatus::Ok => Self::Success,
            CarkeyStatus::Failed | CarkeyStatus::InvalidReply => Self::Failure,
            CarkeyStatus::InvalidArgument => Self::InvalidArgument,
            CarkeyStatus::AccessDenied => Self::AccessDenied,
            CarkeyStatus::OwnerPresenceRequired => Self::OwnerPresenceRequired,
            CarkeyStatus::NotFound => Self::NotFound,
            CarkeyStatus::Refused => Self::Refused,
            CarkeyStatus::NotRunning | CarkeyStatus::BusUnavailable => Self::Unreachable,
            CarkeyStatus::Timeout | CarkeyStatus::Unavailable => Self::TryAgain,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit.code())
    }
}

/// The exit-code table shown at the end of `--help`, built from [`Exit`] so that it can
/// never disagree with what the program does.
pub fn help_table() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        // Writing to a String cannot fail.
        let _ = writeln!(text, "  {:>2}  {}", exit.code(), exit.meaning());
    }
    text.push_str("Errors are printed on stderr as `carkeyctl: <message> (<ErrorName>)`.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon(name: &str) -> ClientError {
        ClientError::Daemon { name: name.into(), message: String::new() }
    }

    #[test]
    fn codes_are_stable_and_distinct() {
        for (number, exit) in Exit::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(exit.code()), number);
        }
        assert_eq!(Exit::Usage.code(), 2, "clap's own code for a malformed command line");
    }

    #[test]
    fn daemon_errors_map_by_name() {
        assert_eq!(Exit::of(&daemon("UnknownKey")), Exit::NotFound);
        assert_eq!(Exit::of(&daemon("UnknownProfile")), Exit::NotFound);
        assert_eq!(Exit::of(&daemon("NoPairing")), Exit::NotFound);
        assert_eq!(Exit::of(&daemon("OwnerPresenceRequired")), Exit::OwnerPresenceRequired);
        assert_eq!(Exit::of(&daemon("InvalidArgument")), Exit::InvalidArgument);
        for refused in ["Revoked", "NotSuspended", "BuiltinProfile", "ProfileInUse", "SlotsFull"] {
            assert_eq!(Exit::of(&daemon(refused)), Exit::Refused, "{refused}");
        }
        assert_eq!(Exit::of(&daemon("Unavailable")), Exit::TryAgain);
        assert_eq!(Exit::of(&daemon("StoreFailed")), Exit::TryAgain);
        assert_eq!(Exit::of(&daemon("org.freedesktop.DBus.Error.NoReply")), Exit::TryAgain);
        assert_eq!(Exit::of(&daemon("SomethingNewer")), Exit::Failure);
    }

    #[test]
    fn client_failures_map_by_kind() {
        assert_eq!(Exit::of(&ClientError::AccessDenied { message: String::new() }), Exit::AccessDenied);
        assert_eq!(Exit::of(&ClientError::NotRunning { message: String::new() }), Exit::Unreachable);
        assert_eq!(Exit::of(&ClientError::InvalidArgument("key id".into())), Exit::InvalidArgument);
        assert_eq!(Exit::of(&ClientError::InvalidReply("shape".into())), Exit::Failure);
    }

    #[test]
    fn the_readme_lists_every_code_as_help_does() {
        let readme = include_str!("../README.md");
        for exit in Exit::ALL {
            let row = format!("| {} | {} |", exit.code(), exit.meaning());
            assert!(readme.contains(&row), "README.md lacks {row:?}");
        }
    }

    #[test]
    fn the_help_table_lists_every_code() {
        let table = help_table();
        for exit in Exit::ALL {
            assert!(table.contains(&format!("{:>2}  {}", exit.code(), exit.meaning())), "{exit:?} missing");
        }
    }
}
