//! What one tap looked like from the phone: the outcome a person or a test asserts on.

use core::fmt;

use carkey_protocol::{messages, pairing};
use serde::{Serialize, Serializer};

/// What the vehicle told the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapResult {
    /// CONTROL FLOW status 01: the vehicle acted.
    Success,
    /// CONTROL FLOW status 02: authenticated, refused by policy.
    Denied,
    /// CONTROL FLOW status 00 (or a CONTROL FLOW the phone could not parse).
    Failure,
    /// The tap ended without a CONTROL FLOW.
    NoDecision,
}

impl TapResult {
    /// The command line's exit code: 0 success, 3 denied, 4 failure or no decision.
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Denied => 3,
            Self::Failure | Self::NoDecision => 4,
        }
    }

    const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
            Self::NoDecision => "no-decision",
        }
    }
}

/// Which flow the vehicle ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transaction {
    /// No AUTH1 was sent: a fast transaction (or one that never got that far).
    Fast,
    /// AUTH1 was sent: mutual authentication with fresh ECDH.
    Standard,
}

/// How the tap ended, from the phone's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TapEnd {
    /// The phone answered CONTROL FLOW and left the field.
    ControlFlow,
    /// The reader closed the connection.
    ReaderClosed,
    /// The reader sent nothing for the whole timeout; the phone left.
    Timeout,
    /// The phone left on purpose (`disconnect_after`).
    Disconnected,
}

/// A command, named by its instruction byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandName {
    /// `A4`.
    Select,
    /// `80`.
    Auth0,
    /// `81`.
    Auth1,
    /// `C9`.
    Exchange,
    /// `3C`.
    ControlFlow,
    /// `C0`.
    GetResponse,
    /// `30`: owner pairing, the vehicle's SPAKE2+ request.
    Spake2Request,
    /// `32`: owner pairing, the vehicle's SPAKE2+ evidence.
    Spake2Verify,
    /// `34`: owner pairing, key creation.
    KeyCreation,
    /// Any other instruction byte.
    Other(u8),
    /// Shorter than an APDU header.
    Invalid,
}

impl CommandName {
    /// Names the command APDU `apdu`.
    pub fn of(apdu: &[u8]) -> Self {
        match (apdu.len() >= 4).then(|| apdu.get(1).copied()).flatten() {
            Some(messages::INS_SELECT) => Self::Select,
            Some(messages::INS_AUTH0) => Self::Auth0,
            Some(messages::INS_AUTH1) => Self::Auth1,
            Some(messages::INS_EXCHANGE) => Self::Exchange,
            Some(messages::INS_CONTROL_FLOW) => Self::ControlFlow,
            Some(messages::INS_GET_RESPONSE) => Self::GetResponse,
            Some(pairing::INS_SPAKE2_REQUEST) => Self::Spake2Request,
            Some(pairing::INS_SPAKE2_VERIFY) => Self::Spake2Verify,
            Some(pairing::INS_KEY_CREATION) => Self::KeyCreation,
            Some(other) => Self::Other(other),
            None => Self::Invalid,
        }
    }
}

impl fmt::Display for CommandName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Select => f.write_str("SELECT"),
            Self::Auth0 => f.write_str("AUTH0"),
            Self::Auth1 => f.write_str("AUTH1"),
            Self::Exchange => f.write_str("EXCHANGE"),
            Self::ControlFlow => f.write_str("CONTROL FLOW"),
            Self::GetResponse => f.write_str("GET RESPONSE"),
            Self::Spake2Request => f.write_str("SPAKE2+ REQUEST"),
            Self::Spake2Verify => f.write_str("SPAKE2+ VERIFY"),
            Self::KeyCreation => f.write_str("KEY CREATION"),
            Self::Other(ins) => write!(f, "INS {ins:02X}"),
            Self::Invalid => f.write_str("INVALID"),
        }
    }
}

impl Serialize for CommandName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One tap, as the phone saw it. Serialized as the `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TapReport {
    /// What the vehicle decided, as told in CONTROL FLOW.
    pub result: TapResult,
    /// Standard if and only if AUTH1 was seen.
    pub transaction: Transaction,
    /// How the tap ended.
    pub end: TapEnd,
    /// CONTROL FLOW reason code (tag 43), if one was received.
    pub reason: Option<u8>,
    /// Every command received, in order.
    pub commands: Vec<CommandName>,
    /// Length in bytes of every response sent, in order.
    pub response_lengths: Vec<usize>,
    /// Microseconds from connecting to receiving CONTROL FLOW.
    pub elapsed_us: Option<u64>,
    /// Microseconds from connecting to the end of the tap.
    pub total_us: u64,
}

impl TapReport {
    /// The command line's exit code for this tap.
    pub const fn exit_code(&self) -> u8 {
        self.result.exit_code()
    }
}

/// The human output: one `name: value` line per field.
impl fmt::Display for TapReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |items: Vec<String>| if items.is_empty() { "-".to_owned() } else { items.join(", ") };
        writeln!(f, "result: {}", self.result.as_str())?;
        let transaction = match self.transaction {
            Transaction::Fast => "fast",
            Transaction::Standard => "standard",
        };
        writeln!(f, "transaction: {transaction}")?;
        let end = match self.end {
            TapEnd::ControlFlow => "control flow answered",
            TapEnd::ReaderClosed => "the reader closed the connection",
            TapEnd::Timeout => "no command from the reader within the timeout",
            TapEnd::Disconnected => "the phone left the field (disconnect-after)",
        };
        writeln!(f, "ended: {end}")?;
        if let Some(reason) = self.reason {
            writeln!(f, "reason: {reason:#04x}")?;
        }
        writeln!(f, "commands: {}", join(self.commands.iter().map(ToString::to_string).collect()))?;
        writeln!(f, "response lengths: {}", join(self.response_lengths.iter().map(ToString::to_string).collect()))?;
        match self.elapsed_us {
            Some(us) => writeln!(f, "elapsed: {us} µs")?,
            None => writeln!(f, "elapsed: -")?,
        }
        write!(f, "total: {} µs", self.total_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_commands_by_instruction() {
        assert_eq!(CommandName::of(&[0x00, 0xA4, 0x04, 0x00]), CommandName::Select);
        assert_eq!(CommandName::of(&[0x80, 0x3C, 0x00, 0x00, 0x01, 0x41]), CommandName::ControlFlow);
        assert_eq!(CommandName::of(&[0x80, 0x12, 0x00, 0x00]).to_string(), "INS 12");
        assert_eq!(CommandName::of(&[0x80, 0x32, 0x00, 0x00]).to_string(), "SPAKE2+ VERIFY");
        assert_eq!(CommandName::of(&[0x80, 0x81]), CommandName::Invalid);
    }

    #[test]
    fn json_shape() {
        let report = TapReport {
            result: TapResult::NoDecision,
            transaction: Transaction::Standard,
            end: TapEnd::ReaderClosed,
            reason: None,
            commands: vec![CommandName::Select, CommandName::ControlFlow],
            response_lengths: vec![30, 2],
            elapsed_us: None,
            total_us: 7,
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"result":"no-decision","transaction":"standard","end":"reader-closed","reason":null,"commands":["SELECT","CONTROL FLOW"],"response_lengths":[30,2],"elapsed_us":null,"total_us":7}"#
        );
        assert_eq!(report.exit_code(), 4);
    }
}
