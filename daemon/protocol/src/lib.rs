//! carkey-protocol: the digital car key protocol, without I/O.
pub mod codec;
