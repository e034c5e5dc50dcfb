//! carkey-protocol: the digital car key protocol, without I/O.
pub mod channel;
pub mod codec;
pub mod crypto;
pub mod endpoint;
pub mod loopback;
pub mod mailbox;
pub mod messages;
pub mod reader;
pub mod schedule;
