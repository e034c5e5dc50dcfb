//! `completions SHELL`: a completion script generated from the command definition, so it
//! can never offer a command or option that does not exist.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Ctx;
use crate::cli::Cli;
use crate::failure::Failure;

pub(crate) fn run(shell: Shell, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    // Generated into memory first: clap_complete panics when its writer fails, and a
    // closed pipe must be an error exit, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "carkeyctl", &mut script);
    Ok(ctx.printer.text(&String::from_utf8_lossy(&script))?)
}
