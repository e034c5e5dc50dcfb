//! [`Failure`]: why a command did not do what was asked, and how that is reported.
//!
//! Every failure becomes one line on stderr, `carkeyctl: <message> (<ErrorName>)`, and an
//! [`Exit`] code. The name is the daemon's stable error name when the daemon (or the bus)
//! refused, so that a technician can search for it and a script can tell two failures of
//! the same exit code apart; carkeyctl's own refusals get names in the same style.

use std::io;

use carkey_client::ClientError;

use crate::exit::Exit;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The daemon, the bus or the client library refused or failed.
    #[error("{}", client_message(.0))]
    Client(#[from] ClientError),
    /// A value typed on the command line is malformed (a key id, a time).
    #[error("{0}")]
    InvalidArgument(String),
    /// A destructive command was not confirmed with `--yes`.
    #[error("{0}")]
    NotConfirmed(String),
    /// The bus connection ended while monitoring.
    #[error("the connection to the bus was closed")]
    Disconnected,
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
}

/// The daemon's message without the name that [`Failure::name`] prints anyway.
fn client_message(error: &ClientError) -> String {
    match error {
        ClientError::Daemon { name, message } if message.is_empty() => name.clone(),
        ClientError::Daemon { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

impl Failure {
    /// The exit code.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Self::Client(error) => Exit::of(error),
            Self::Disconnected => Exit::Unreachable,
            Self::InvalidArgument(_) => Exit::InvalidArgument,
            Self::NotConfirmed(_) => Exit::Usage,
            Self::Output(_) => Exit::Failure,
        }
    }

    /// The stable name printed in parentheses.
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Client(error) => error.name(),
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::NotConfirmed(_) => "NotConfirmed",
            Self::Disconnected => "Disconnected",
            Self::Output(_) => "OutputFailed",
        }
    }

    /// Writes the stderr line and returns the exit code.
    pub(crate) fn report(&self, err: &mut dyn io::Write) -> Exit {
        // A closed pipe means the reader stopped on purpose (`carkeyctl keys | head -1`):
        // not worth a message, but still not a success.
        if matches!(self, Self::Output(error) if error.kind() == io::ErrorKind::BrokenPipe) {
            return self.exit();
        }
        // If stderr itself is gone there is nobody left to tell; the exit code still says it.
        let _ = writeln!(err, "carkeyctl: {self} ({})", self.name());
        self.exit()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn reported(failure: &Failure) -> (Exit, String) {
        let mut err = Vec::new();
        let exit = failure.report(&mut err);
        (exit, String::from_utf8(err).unwrap())
    }

    #[test]
    fn daemon_errors_print_message_and_name_once() {
        let error = ClientError::Daemon { name: "UnknownKey".into(), message: "no key 0011223344556677".into() };
        let (exit, line) = reported(&Failure::from(error));
        assert_eq!(exit, Exit::NotFound);
        assert_eq!(line, "carkeyctl: no key 0011223344556677 (UnknownKey)\n");
        let silent = ClientError::Daemon { name: "OwnerPresenceRequired".into(), message: String::new() };
        assert_eq!(reported(&Failure::from(silent)).1, "carkeyctl: OwnerPresenceRequired (OwnerPresenceRequired)\n");
    }

    #[test]
    fn own_refusals_have_codes_and_names() {
        let (exit, line) = reported(&Failure::NotConfirmed("pass --yes".into()));
        assert_eq!((exit, line.as_str()), (Exit::Usage, "carkeyctl: pass --yes (NotConfirmed)\n"));
        assert_eq!(Failure::InvalidArgument(String::new()).exit(), Exit::InvalidArgument);
        assert_eq!(Failure::Disconnected.exit(), Exit::Unreachable);
        assert_eq!(reported(&Failure::Output(io::ErrorKind::BrokenPipe.into())), (Exit::Failure, String::new()));
        let denied = Failure::from(ClientError::AccessDenied { message: "observer".into() });
        assert_eq!((denied.exit(), denied.name()), (Exit::AccessDenied, "AccessDenied"));
    }
}
