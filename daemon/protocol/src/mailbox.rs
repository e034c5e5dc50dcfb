//! Mailboxes and the EXCHANGE operations that read and write them.
//!
//! Every key on a phone carries two small byte arrays the vehicle can use:
//! the **private mailbox** (slot id, owner-signed sharing attestation, termination
//! attestation) and the **confidential mailbox** (the immobilizer token written at pairing
//! and read back at engine start). EXCHANGE carries one container of operations,
//! encrypted on the secure channel:
//!
//! ```text
//! BA { [8C 01 01]            atomic: check every operation first, apply all or none
//!      87 05 mb off(2) len(2)              read
//!      8A nn mb off(2) data…               write
//!      95 06 mb off(2) len(2) value        fill with one byte value ("set") }
//! ```
//! `mb` is 01 (private) or 02 (confidential). The response plaintext is one `53` TLV per
//! read, in order.

use crate::codec::{Fields, Tag, TlvError, TlvWriter};

/// The EXCHANGE container.
pub const TAG_CONTAINER: Tag = Tag::new(0xBA);
/// Read operation.
pub const TAG_READ: Tag = Tag::new(0x87);
/// Write operation.
pub const TAG_WRITE: Tag = Tag::new(0x8A);
/// Set (fill) operation.
pub const TAG_SET: Tag = Tag::new(0x95);
/// Atomic marker.
pub const TAG_ATOMIC: Tag = Tag::new(0x8C);
/// Data returned by a read.
pub const TAG_READ_DATA: Tag = Tag::new(0x53);

/// Default private mailbox size on the endpoint.
pub const PRIVATE_MAILBOX_LEN: usize = 1024;
/// Default confidential mailbox size on the endpoint.
pub const CONFIDENTIAL_MAILBOX_LEN: usize = 256;
/// At most this many operations in one EXCHANGE.
pub const MAX_OPERATIONS: usize = 16;

/// Which mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxId {
    /// Private mailbox.
    Private,
    /// Confidential mailbox.
    Confidential,
}

impl MailboxId {
    const fn to_byte(self) -> u8 {
        match self {
            Self::Private => 0x01,
            Self::Confidential => 0x02,
        }
    }

    fn from_byte(value: u8) -> Result<Self, MailboxError> {
        match value {
            0x01 => Ok(Self::Private),
            0x02 => Ok(Self::Confidential),
            other => Err(MailboxError::UnknownMailbox(other)),
        }
    }
}

/// One mailbox operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxOp {
    /// Read `len` bytes at `offset`.
    Read {
        /// Mailbox.
        mailbox: MailboxId,
        /// Start.
        offset: u16,
        /// Length.
        len: u16,
    },
    /// Write `data` at `offset`.
    Write {
        /// Mailbox.
        mailbox: MailboxId,
        /// Start.
        offset: u16,
        /// Bytes.
        data: Vec<u8>,
    },
    /// Fill `len` bytes at `offset` with `value` (e.g. wipe with zeros).
    Set {
        /// Mailbox.
        mailbox: MailboxId,
        /// Start.
        offset: u16,
        /// Length.
        len: u16,
        /// Fill byte.
        value: u8,
    },
}

/// Why an EXCHANGE request or response was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxError {
    /// Malformed TLV structure.
    #[error("malformed mailbox message: {0}")]
    Tlv(#[from] TlvError),
    /// Mailbox selector other than 01/02.
    #[error("unknown mailbox {0:#04x}")]
    UnknownMailbox(u8),
    /// An operation's fields have the wrong size.
    #[error("malformed mailbox operation")]
    MalformedOperation,
    /// An unknown tag inside the container.
    #[error("unknown mailbox operation tag {0}")]
    UnknownOperation(Tag),
    /// Offset + length beyond the end of the mailbox.
    #[error("mailbox access out of range")]
    OutOfRange,
    /// More than [`MAX_OPERATIONS`] operations, or none.
    #[error("invalid number of mailbox operations")]
    OperationCount,
    /// The response does not match the request (wrong number or size of reads).
    #[error("mailbox response does not match the request")]
    ResponseMismatch,
}

/// The operations of one EXCHANGE command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeRequest {
    /// Operations in order.
    pub ops: Vec<MailboxOp>,
    /// Apply all or none.
    pub atomic: bool,
}

impl ExchangeRequest {
    /// The plaintext container.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = TlvWriter::new();
        w.put_nested(TAG_CONTAINER, |w| {
            if self.atomic {
                w.put_u8(TAG_ATOMIC, 0x01);
            }
            for op in &self.ops {
                match op {
                    MailboxOp::Read { mailbox, offset, len } => {
                        w.put(TAG_READ, &concat(*mailbox, *offset, &len.to_be_bytes()));
                    }
                    MailboxOp::Write { mailbox, offset, data } => {
                        w.put(TAG_WRITE, &concat(*mailbox, *offset, data));
                    }
                    MailboxOp::Set { mailbox, offset, len, value } => {
                        let [hi, lo] = len.to_be_bytes();
                        w.put(TAG_SET, &concat(*mailbox, *offset, &[hi, lo, *value]));
                    }
                }
            }
        });
        w.into_bytes()
    }

    /// Parses a decrypted container.
    pub fn parse(data: &[u8]) -> Result<Self, MailboxError> {
        let top = Fields::parse(data)?;
        let container = top.require(TAG_CONTAINER)?;
        let mut ops = Vec::new();
        let mut atomic = false;
        for tlv in crate::codec::tlv::iter(container) {
            let tlv = tlv?;
            if tlv.tag == TAG_ATOMIC {
                atomic = tlv.value == [0x01];
                if !atomic {
                    return Err(MailboxError::MalformedOperation);
                }
                continue;
            }
            let (&mb, rest) = tlv.value.split_first().ok_or(MailboxError::MalformedOperation)?;
            let mailbox = MailboxId::from_byte(mb)?;
            let (offset, rest) = rest.split_first_chunk::<2>().ok_or(MailboxError::MalformedOperation)?;
            let offset = u16::from_be_bytes(*offset);
            let op = match tlv.tag {
                TAG_READ => {
                    let len = <[u8; 2]>::try_from(rest).map_err(|_| MailboxError::MalformedOperation)?;
                    MailboxOp::Read { mailbox, offset, len: u16::from_be_bytes(len) }
                }
                TAG_WRITE => MailboxOp::Write { mailbox, offset, data: rest.to_vec() },
                TAG_SET => {
                    let [hi, lo, value] = <[u8; 3]>::try_from(rest).map_err(|_| MailboxError::MalformedOperation)?;
                    MailboxOp::Set { mailbox, offset, len: u16::from_be_bytes([hi, lo]), value }
                }
                other => return Err(MailboxError::UnknownOperation(other)),
            };
            ops.push(op);
        }
        if ops.is_empty() || ops.len() > MAX_OPERATIONS {
            return Err(MailboxError::OperationCount);
        }
        Ok(Self { ops, atomic })
    }

    /// The lengths the reads will return, in order.
    pub fn read_lengths(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().filter_map(|op| match op {
            MailboxOp::Read { len, .. } => Some(usize::from(*len)),
            _ => None,
        })
    }
}

fn concat(mailbox: MailboxId, offset: u16, tail: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(3 + tail.len());
    v.push(mailbox.to_byte());
    v.extend_from_slice(&offset.to_be_bytes());
    v.extend_from_slice(tail);
    v
}

/// Encodes the data of each read as the EXCHANGE response plaintext.
pub fn encode_reads(reads: &[Vec<u8>]) -> Vec<u8> {
    let mut w = TlvWriter::new();
    for r in reads {
        w.put(TAG_READ_DATA, r);
    }
    w.into_bytes()
}

/// Parses an EXCHANGE response plaintext and checks it against the request.
pub fn parse_reads(data: &[u8], request: &ExchangeRequest) -> Result<Vec<Vec<u8>>, MailboxError> {
    let mut reads = Vec::new();
    let mut expected = request.read_lengths();
    for tlv in crate::codec::tlv::iter(data) {
        let tlv = tlv?;
        if tlv.tag != TAG_READ_DATA || expected.next() != Some(tlv.value.len()) {
            return Err(MailboxError::ResponseMismatch);
        }
        reads.push(tlv.value.to_vec());
    }
    if expected.next().is_some() {
        return Err(MailboxError::ResponseMismatch);
    }
    Ok(reads)
}

/// The two mailboxes of one key on the endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Mailboxes {
    private: Vec<u8>,
    confidential: Vec<u8>,
}

/// The confidential mailbox holds the immobilizer token: `Debug` shows sizes only.
impl core::fmt::Debug for Mailboxes {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mailboxes")
            .field("private_len", &self.private.len())
            .field("confidential_len", &self.confidential.len())
            .finish()
    }
}

impl Default for Mailboxes {
    fn default() -> Self {
        Self::with_sizes(PRIVATE_MAILBOX_LEN, CONFIDENTIAL_MAILBOX_LEN)
    }
}

impl Mailboxes {
    /// Zero-filled mailboxes of the given sizes.
    pub fn with_sizes(private: usize, confidential: usize) -> Self {
        Self { private: vec![0; private], confidential: vec![0; confidential] }
    }

    /// The contents of one mailbox.
    pub fn get(&self, id: MailboxId) -> &[u8] {
        match id {
            MailboxId::Private => &self.private,
            MailboxId::Confidential => &self.confidential,
        }
    }

    fn get_mut(&mut self, id: MailboxId) -> &mut [u8] {
        match id {
            MailboxId::Private => &mut self.private,
            MailboxId::Confidential => &mut self.confidential,
        }
    }

    /// Applies a request. Atomic requests are checked in full before anything changes;
    /// otherwise operations apply in order and the first failure stops the rest.
    pub fn apply(&mut self, request: &ExchangeRequest) -> Result<Vec<Vec<u8>>, MailboxError> {
        if request.atomic {
            for op in &request.ops {
                self.range(op)?;
            }
        }
        let mut reads = Vec::new();
        for op in &request.ops {
            let (id, range) = self.range(op)?;
            let target = self.get_mut(id).get_mut(range).ok_or(MailboxError::OutOfRange)?;
            match op {
                MailboxOp::Read { .. } => reads.push(target.to_vec()),
                MailboxOp::Write { data, .. } => target.copy_from_slice(data),
                MailboxOp::Set { value, .. } => target.fill(*value),
            }
        }
        Ok(reads)
    }

    fn range(&self, op: &MailboxOp) -> Result<(MailboxId, core::ops::Range<usize>), MailboxError> {
        let (id, offset, len) = match op {
            MailboxOp::Read { mailbox, offset, len } | MailboxOp::Set { mailbox, offset, len, .. } => {
                (*mailbox, usize::from(*offset), usize::from(*len))
            }
            MailboxOp::Write { mailbox, offset, data } => (*mailbox, usize::from(*offset), data.len()),
        };
        let end = offset.checked_add(len).ok_or(MailboxError::OutOfRange)?;
        if end > self.get(id).len() {
            return Err(MailboxError::OutOfRange);
        }
        Ok((id, offset..end))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn request(atomic: bool, ops: Vec<MailboxOp>) -> ExchangeRequest {
        ExchangeRequest { ops, atomic }
    }

    #[test]
    fn request_round_trip() {
        let r = request(
            true,
            vec![
                MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 3, data: vec![1, 2, 3] },
                MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 300 },
                MailboxOp::Set { mailbox: MailboxId::Private, offset: 10, len: 5, value: 0xFF },
            ],
        );
        assert_eq!(ExchangeRequest::parse(&r.encode()).unwrap(), r);
    }

    #[test]
    fn write_then_read_back() {
        let mut m = Mailboxes::default();
        let w =
            request(false, vec![MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 4, data: vec![9; 32] }]);
        assert!(m.apply(&w).unwrap().is_empty());
        let r = request(false, vec![MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 0, len: 40 }]);
        let reads = m.apply(&r).unwrap();
        assert_eq!(reads, vec![[vec![0; 4], vec![9; 32], vec![0; 4]].concat()]);
        assert_eq!(parse_reads(&encode_reads(&reads), &r).unwrap(), reads);
    }

    #[test]
    fn atomic_request_changes_nothing_when_one_op_is_out_of_range() {
        let mut m = Mailboxes::default();
        let r = request(
            true,
            vec![
                MailboxOp::Write { mailbox: MailboxId::Private, offset: 0, data: vec![7; 8] },
                MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 250, len: 10 },
            ],
        );
        assert_eq!(m.apply(&r), Err(MailboxError::OutOfRange));
        assert_eq!(m, Mailboxes::default());
        let non_atomic = ExchangeRequest { atomic: false, ..r };
        assert_eq!(m.apply(&non_atomic), Err(MailboxError::OutOfRange));
        assert_eq!(&m.get(MailboxId::Private)[..8], &[7; 8]);
    }

    #[test]
    fn malformed_requests_are_typed_errors() {
        let mut w = TlvWriter::new();
        w.put_nested(TAG_CONTAINER, |w| {
            w.put(TAG_READ, &[0x03, 0, 0, 0, 1]);
        });
        assert_eq!(ExchangeRequest::parse(w.as_bytes()), Err(MailboxError::UnknownMailbox(3)));
        let mut w = TlvWriter::new();
        w.put_nested(TAG_CONTAINER, |w| {
            w.put(TAG_READ, &[0x01, 0, 0]);
        });
        assert_eq!(ExchangeRequest::parse(w.as_bytes()), Err(MailboxError::MalformedOperation));
        let mut w = TlvWriter::new();
        w.put_nested(TAG_CONTAINER, |_| {});
        assert_eq!(ExchangeRequest::parse(w.as_bytes()), Err(MailboxError::OperationCount));
        assert!(ExchangeRequest::parse(&[0xBA, 0x05, 0x87]).is_err());
    }

    #[test]
    fn response_must_match_request() {
        let r = request(false, vec![MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 4 }]);
        assert_eq!(parse_reads(&encode_reads(&[vec![1, 2, 3]]), &r), Err(MailboxError::ResponseMismatch));
        assert_eq!(parse_reads(&[], &r), Err(MailboxError::ResponseMismatch));
        assert_eq!(parse_reads(&encode_reads(&[vec![0; 4], vec![0; 4]]), &r), Err(MailboxError::ResponseMismatch));
    }
}
