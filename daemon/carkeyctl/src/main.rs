//! carkeyctl: see the library.

use std::io;
use std::process::ExitCode;

use carkeyctl::{Cli, Exit};
use clap::Parser;

fn main() -> ExitCode {
    // clap prints help and usage errors itself and exits with 0 or 2 (Exit::Usage).
    let cli = Cli::parse();
    // One thread: carkeyctl makes a few calls in sequence, and a monitor waits on one
    // connection; more threads would only cost start-up time on the head unit.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("carkeyctl: cannot start: {error} (Failure)");
            return Exit::Failure.into();
        }
    };
    let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
    runtime.block_on(carkeyctl::run(cli, &mut out, &mut err)).into()
}
