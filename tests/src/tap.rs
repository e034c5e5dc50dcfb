//! One tap: connect to a reader's socket, answer its commands with the wallet's
//! endpoint, and report what happened.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carkey_protocol::codec::CommandApdu;
use carkey_protocol::messages::{ControlFlow, ControlFlowStatus};

use crate::link::{Incoming, Link, LinkError};
use crate::report::{CommandName, TapEnd, TapReport, TapResult, Transaction};
use crate::wallet::Wallet;

/// How the phone behaves during a tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapOptions {
    /// How long the phone waits for each next command before it gives up and leaves.
    pub timeout: Duration,
    /// After answering this many commands, stop answering but stay in the field until
    /// the reader closes the connection (or `timeout` passes without a command).
    pub hang_after: Option<usize>,
    /// After answering this many commands, leave the field.
    pub disconnect_after: Option<usize>,
}

impl Default for TapOptions {
    /// Five seconds per command (room for the vehicle's decision), no failure injected.
    fn default() -> Self {
        Self { timeout: Duration::from_secs(5), hang_after: None, disconnect_after: None }
    }
}

/// Why a tap could not be carried out at all (as opposed to ending without a decision).
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// Nothing listens at the socket path.
    #[error("cannot reach the reader at {}: {source}", path.display())]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The connection failed or carried something that is not a frame.
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// Taps the phone on the reader listening at `socket`.
///
/// The wallet's endpoint answers every command until it has answered CONTROL FLOW, the
/// reader closes the connection, or the reader stays silent for `options.timeout`. The
/// wallet changes in memory (a standard transaction leaves a new K_persistent, EXCHANGE
/// may write mailboxes); the caller decides whether to [`Wallet::save`] it, so that
/// benchmarks can tap in a loop without touching the disk.
pub fn tap(socket: &Path, wallet: &mut Wallet, options: &TapOptions) -> Result<TapReport, TapError> {
    let started = Instant::now();
    let mut link = Link::connect(socket).map_err(|source| TapError::Connect { path: socket.to_owned(), source })?;
    let endpoint = wallet.endpoint();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let mut seen = Seen::default();
    let result = loop {
        let answered = seen.response_lengths.len();
        if options.disconnect_after.is_some_and(|n| answered >= n) {
            break Ok(TapEnd::Disconnected);
        }
        if options.hang_after.is_some_and(|n| answered >= n) {
            break hang(&mut link, &mut seen, options.timeout, started);
        }
        let command = match link.next_command(options.timeout) {
            Ok(Incoming::Command(command)) => command,
            Ok(Incoming::Closed) => break Ok(TapEnd::ReaderClosed),
            Ok(Incoming::TimedOut) => break Ok(TapEnd::Timeout),
            Err(error) => break Err(error),
        };
        let is_control_flow = seen.record(&command, started);
        let response = endpoint.process(&command, &mut rng);
        match link.send_response(&response) {
            Ok(true) => seen.response_lengths.push(response.len()),
            Ok(false) => break Ok(TapEnd::ReaderClosed),
            Err(error) => break Err(error),
        }
        if is_control_flow {
            break Ok(TapEnd::ControlFlow);
        }
    };
    endpoint.field_off();
    drop(link);
    let end = result?;
    Ok(seen.into_report(end, started.elapsed()))
}

/// Stays in the field without answering until the reader gives up.
fn hang(link: &mut Link, seen: &mut Seen, timeout: Duration, started: Instant) -> Result<TapEnd, LinkError> {
    loop {
        match link.next_command(timeout)? {
            Incoming::Command(command) => {
                seen.record(&command, started);
            }
            Incoming::Closed => return Ok(TapEnd::ReaderClosed),
            Incoming::TimedOut => return Ok(TapEnd::Timeout),
        }
    }
}

/// What the phone has seen so far.
#[derive(Debug, Default)]
struct Seen {
    commands: Vec<CommandName>,
    response_lengths: Vec<usize>,
    control_flow: Option<Option<ControlFlow>>,
    elapsed: Option<Duration>,
}

impl Seen {
    /// Records a command; whether it is CONTROL FLOW (the end of the tap).
    fn record(&mut self, command: &[u8], started: Instant) -> bool {
        let name = CommandName::of(command);
        self.commands.push(name);
        if name != CommandName::ControlFlow || self.control_flow.is_some() {
            return false;
        }
        self.elapsed = Some(started.elapsed());
        // Parsed here rather than taken from the endpoint, which refuses a CONTROL FLOW
        // outside a session (e.g. after it rejected AUTH1) yet was still told the outcome.
        let parsed = CommandApdu::decode(command).ok().and_then(|apdu| ControlFlow::parse(&apdu.data).ok());
        self.control_flow = Some(parsed);
        true
    }

    fn into_report(self, end: TapEnd, total: Duration) -> TapReport {
        let result = match self.control_flow {
            None => TapResult::NoDecision,
            Some(Some(ControlFlow { status: ControlFlowStatus::Success, .. })) => TapResult::Success,
            Some(Some(ControlFlow { status: ControlFlowStatus::Denied, .. })) => TapResult::Denied,
            Some(Some(ControlFlow { status: ControlFlowStatus::Failure, .. }) | None) => TapResult::Failure,
        };
        let transaction =
            if self.commands.contains(&CommandName::Auth1) { Transaction::Standard } else { Transaction::Fast };
        TapReport {
            result,
            transaction,
            end,
            reason: self.control_flow.flatten().map(|c| c.reason),
            commands: self.commands,
            response_lengths: self.response_lengths,
            elapsed_us: self.elapsed.map(micros),
            total_us: micros(total),
        }
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
