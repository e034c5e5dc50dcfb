//! Wire encodings: BER-TLV, ISO 7816-4 APDUs and `61xx` response chaining.
//!
//! Everything here is pure byte manipulation with no I/O and no protocol
//! state beyond chaining, and decoders return errors rather than panic on
//! any input, since all of it is fed bytes from an untrusted peer.

pub mod apdu;
pub mod chaining;
pub mod tlv;

pub use apdu::{ApduError, CommandApdu, ResponseApdu, StatusWord};
pub use chaining::{Assembled, ChainError, ResponseAssembler, ResponseChunker};
pub use tlv::{Fields, MAX_DEPTH, Node, Tag, Tlv, TlvError, TlvIter, TlvWriter, parse_tree};
