//! carkeyctl: the command-line client of carkeyd, for technicians and scripts.
//!
//! It speaks only carkeyd's D-Bus API, through carkey-client, so it can do exactly what a
//! dashboard may do and nothing more (maintenance that needs the stopped daemon's state
//! directory is `carkeyd`'s own subcommands). Human output is aligned plain text with UTC
//! times; `--json` gives stable machine output; the exit code says what kind of failure
//! happened ([`Exit`]).
//!
//! The program is [`run`] on a parsed [`Cli`], with the output streams passed in, so that
//! tests drive it in-process exactly as the binary does.

mod cli;
mod commands;
pub mod exit;
mod failure;
mod output;
pub mod time;

use std::io::Write;

pub use cli::{Cli, Command, Confirm, KeyCommand, PairCommand, ProfileCommand, Window};
pub use exit::Exit;

/// Runs one command line: results on `out`, the error line (if any) on `err`.
pub async fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Exit {
    let mut ctx = commands::Ctx::new(output::Printer::new(out, cli.json), cli.address);
    match commands::run(cli.command, &mut ctx).await {
        Ok(()) => Exit::Success,
        Err(failure) => failure.report(err),
    }
}
