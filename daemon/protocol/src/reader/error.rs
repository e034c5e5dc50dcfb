//! Why a reader-side transaction failed.

use core::fmt;

use crate::channel::ChannelError;
use crate::codec::{ApduError, ChainError, StatusWord};
use crate::crypto::KeyError;
use crate::mailbox::MailboxError;
use crate::messages::MessageError;

/// The command whose response was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// SELECT.
    Select,
    /// AUTH0.
    Auth0,
    /// AUTH1.
    Auth1,
    /// EXCHANGE.
    Exchange,
    /// CONTROL FLOW.
    ControlFlow,
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Select => "SELECT",
            Self::Auth0 => "AUTH0",
            Self::Auth1 => "AUTH1",
            Self::Exchange => "EXCHANGE",
            Self::ControlFlow => "CONTROL FLOW",
        })
    }
}

/// A failed transaction. Every variant means "no access"; none carries secret data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// The response is not a well-formed response APDU.
    #[error("malformed response APDU: {0}")]
    Apdu(#[from] ApduError),
    /// GET RESPONSE chaining went wrong (too large or endless).
    #[error("response chaining: {0}")]
    Chain(#[from] ChainError),
    /// The endpoint answered with an error status word.
    #[error("{command} refused by the endpoint with status {status}")]
    Refused {
        /// Which command.
        command: CommandKind,
        /// The status word.
        status: StatusWord,
    },
    /// A response's content is malformed or unsupported.
    #[error("{0}")]
    Message(#[from] MessageError),
    /// The fast flow was asked for but the endpoint sent no cryptogram.
    #[error("AUTH0 response lacks the fast cryptogram")]
    MissingCryptogram,
    /// A cryptogram opened under a stored key but its content is malformed.
    #[error("fast cryptogram content is malformed")]
    MalformedCryptogram,
    /// An encrypted response did not authenticate.
    #[error("secure channel: {0}")]
    Channel(ChannelError),
    /// The endpoint's AUTH1 signature is malformed or does not verify.
    #[error("endpoint signature rejected: {0}")]
    EndpointSignature(KeyError),
    /// ECDH with the endpoint's ephemeral key failed (a reused session).
    #[error("key agreement: {0}")]
    KeyAgreement(KeyError),
    /// The endpoint proved possession of a key this vehicle has not enrolled.
    #[error("endpoint key is not enrolled in this vehicle")]
    UnknownEndpoint,
    /// The mailbox response does not match the request.
    #[error("mailbox: {0}")]
    Mailbox(#[from] MailboxError),
    /// The EXCHANGE command would exceed what the endpoint accepts.
    #[error("EXCHANGE command of {len} bytes exceeds the endpoint's limit of {max}")]
    CommandTooLarge {
        /// Command data length.
        len: usize,
        /// The endpoint's limit.
        max: u32,
    },
    /// A response arrived when none was expected (the session is over or misused).
    #[error("no response was expected in this state")]
    UnexpectedResponse,
}
