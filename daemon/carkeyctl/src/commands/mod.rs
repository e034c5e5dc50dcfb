//! The commands, one module per group, and what they share: the connection and the
//! checks of typed values.
//!
//! Every command checks what was typed (key ids, times, `--yes`) *before* it connects, so
//! that a typo is reported as such even when carkeyd is down or the bus is unreachable.

mod completions;
mod key;
mod keys;
mod monitor;
mod pair;
mod profile;
mod readers;
mod reset;
mod status;

use carkey_client::{Client, KeyId};

use crate::cli::Command;
use crate::failure::Failure;
use crate::output::Printer;
use crate::time;

/// What every command gets: where to print, and how to reach carkeyd.
pub(crate) struct Ctx<'a> {
    pub(crate) printer: Printer<'a>,
    address: Option<String>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(printer: Printer<'a>, address: Option<String>) -> Self {
        Self { printer, address }
    }

    /// Connects to the bus at `--address`, or to the system bus (which zbus looks up in
    /// `DBUS_SYSTEM_BUS_ADDRESS` first, like every D-Bus client). A failure names the
    /// address that was tried.
    pub(crate) async fn client(&self) -> Result<Client, Failure> {
        Ok(match &self.address {
            Some(address) => Client::connect(address).await?,
            None => Client::system().await?,
        })
    }
}

/// Runs one command.
pub(crate) async fn run(command: Command, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    match command {
        Command::Keys => keys::run(ctx).await?,
        Command::Key(command) => key::run(command, ctx).await?,
        Command::Profile(command) => profile::run(command, ctx).await?,
        Command::Pair(command) => pair::run(command, ctx).await?,
        Command::Readers => readers::run(ctx).await?,
        Command::Status => status::run(ctx).await?,
        Command::Monitor { count } => monitor::run(count, ctx).await?,
        Command::FactoryReset(confirm) => reset::run(confirm, ctx).await?,
        Command::Completions { shell } => completions::run(shell, ctx)?,
    }
    Ok(ctx.printer.flush()?)
}

/// A key id typed on the command line.
pub(crate) fn key_id(text: &str) -> Result<KeyId, Failure> {
    text.parse().map_err(|error| Failure::InvalidArgument(format!("{text:?} is not a key id: {error}")))
}

/// An optional time typed on the command line.
pub(crate) fn time(text: Option<&str>) -> Result<Option<i64>, Failure> {
    text.map(time::parse_utc).transpose().map_err(|error| Failure::InvalidArgument(error.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::exit::Exit;

    #[test]
    fn typed_values_are_checked_with_their_own_code() {
        assert_eq!(key_id("0011223344556677").unwrap().as_str(), "0011223344556677");
        let error = key_id("not-an-id").unwrap_err();
        assert_eq!(error.exit(), Exit::InvalidArgument);
        assert!(error.to_string().starts_with("\"not-an-id\" is not a key id"), "{error}");
        assert_eq!(time(None).unwrap(), None);
        assert_eq!(time(Some("@5")).unwrap(), Some(5));
        assert_eq!(time(Some("tomorrow")).unwrap_err().exit(), Exit::InvalidArgument);
    }
}
