//! The simulated field's wire format, shared by the reader and every phone simulator.
//!
//! A Unix stream socket carries a byte stream, so APDUs need framing. Each frame is
//!
//! ```text
//! type (1 byte) ‖ length (2 bytes, big endian) ‖ payload (length bytes)
//! ```
//!
//! with type [`FrameType::Command`] (`0x01`, reader → phone) or [`FrameType::Response`]
//! (`0x02`, phone → reader). A length of 0 or above [`MAX_PAYLOAD_LEN`], an unknown type
//! and a frame travelling in the wrong direction are malformed. The format is small on
//! purpose: a Python script or `socat` can play the phone (see the crate README).
//!
//! This module is pure (no I/O) and never panics on any input: it is fed bytes from a
//! peer that may be broken or hostile.

/// Bytes before the payload: type and length.
pub const HEADER_LEN: usize = 3;

/// Largest payload of one frame. The protocol's APDUs stay below 2 KiB plus header and
/// status word (extended length, 2048-byte data fields); 4096 leaves room without letting
/// a peer make the other side buffer more than a page.
pub const MAX_PAYLOAD_LEN: usize = 4096;

/// The two kinds of frame, which also fix the direction they travel in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    /// A command APDU, reader → phone.
    Command,
    /// A response APDU, phone → reader.
    Response,
}

impl FrameType {
    /// The type byte on the wire.
    pub const fn to_byte(self) -> u8 {
        match self {
            Self::Command => 0x01,
            Self::Response => 0x02,
        }
    }

    /// Parses a type byte.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0x01 => Some(Self::Command),
            0x02 => Some(Self::Response),
            _ => None,
        }
    }

    /// Human name, for error messages.
    const fn name(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Response => "response",
        }
    }
}

impl core::fmt::Display for FrameType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why bytes are not a valid frame. After any of these the stream is out of step and the
/// connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The type byte is neither 0x01 nor 0x02.
    #[error("unknown frame type {0:#04x}")]
    UnknownType(u8),
    /// A valid type, but not the one this side may receive.
    #[error("{got} frame received where a {expected} frame was expected")]
    WrongDirection {
        /// What this side accepts.
        expected: FrameType,
        /// What arrived.
        got: FrameType,
    },
    /// A frame must carry an APDU, so at least one byte.
    #[error("empty frame")]
    Empty,
    /// The announced (or, when encoding, the given) payload is longer than
    /// [`MAX_PAYLOAD_LEN`].
    #[error("frame payload of {0} bytes exceeds the maximum of {MAX_PAYLOAD_LEN}")]
    TooLong(usize),
}

/// Encodes one frame.
pub fn encode(kind: FrameType, payload: &[u8]) -> Result<Vec<u8>, FrameError> {
    if payload.is_empty() {
        return Err(FrameError::Empty);
    }
    let len = u16::try_from(payload.len())
        .ok()
        .filter(|len| usize::from(*len) <= MAX_PAYLOAD_LEN)
        .ok_or(FrameError::TooLong(payload.len()))?;
    let mut frame = Vec::with_capacity(HEADER_LEN.saturating_add(payload.len()));
    frame.push(kind.to_byte());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// Incremental decoder for one direction of a stream.
///
/// Feed it whatever the socket returned with [`FrameDecoder::extend`], then take complete
/// frames with [`FrameDecoder::next_frame`]. A bad header is reported as soon as its
/// bytes arrive, without waiting for a payload that may never come, so a broken peer
/// costs no timeout. The buffer holds at most one frame plus whatever the caller fed
/// beyond it.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    expected: FrameType,
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder that accepts only frames of type `expected` (the other side's
    /// direction): a reader expects responses, a phone expects commands.
    pub const fn new(expected: FrameType) -> Self {
        Self { expected, buffer: Vec::new() }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete frame's payload, `None` if more bytes are needed, or why the
    /// bytes are malformed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(len) = self.check_header()? else { return Ok(None) };
        let end = HEADER_LEN.saturating_add(len);
        if self.buffer.len() < end {
            return Ok(None);
        }
        let payload = self.buffer.get(HEADER_LEN..end).map(<[u8]>::to_vec).unwrap_or_default();
        self.buffer.drain(..end);
        Ok(Some(payload))
    }

    /// Validates as much of the header as has arrived; the payload length once known.
    fn check_header(&self) -> Result<Option<usize>, FrameError> {
        let Some(&type_byte) = self.buffer.first() else { return Ok(None) };
        let got = FrameType::from_byte(type_byte).ok_or(FrameError::UnknownType(type_byte))?;
        if got != self.expected {
            return Err(FrameError::WrongDirection { expected: self.expected, got });
        }
        let Some(&[hi, lo]) = self.buffer.get(1..HEADER_LEN) else { return Ok(None) };
        match usize::from(u16::from_be_bytes([hi, lo])) {
            0 => Err(FrameError::Empty),
            len if len > MAX_PAYLOAD_LEN => Err(FrameError::TooLong(len)),
            len => Ok(Some(len)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn decode_all(expected: FrameType, bytes: &[u8]) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut decoder = FrameDecoder::new(expected);
        decoder.extend(bytes);
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame()? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn encodes_header_big_endian() {
        assert_eq!(encode(FrameType::Command, &[0xAA; 0x0102]).unwrap()[..4], [0x01, 0x01, 0x02, 0xAA]);
        assert_eq!(encode(FrameType::Response, &[0x90, 0x00]).unwrap(), [0x02, 0x00, 0x02, 0x90, 0x00]);
    }

    #[test]
    fn encode_refuses_empty_and_oversized() {
        assert_eq!(encode(FrameType::Command, &[]), Err(FrameError::Empty));
        assert!(encode(FrameType::Command, &[0; MAX_PAYLOAD_LEN]).is_ok());
        assert_eq!(encode(FrameType::Command, &[0; MAX_PAYLOAD_LEN + 1]), Err(FrameError::TooLong(4097)));
        assert_eq!(encode(FrameType::Command, &[0; 70_000]), Err(FrameError::TooLong(70_000)));
    }

    #[test]
    fn header_errors_are_reported_as_soon_as_their_bytes_arrive() {
        assert_eq!(decode_all(FrameType::Response, &[0x07]), Err(FrameError::UnknownType(0x07)));
        assert_eq!(
            decode_all(FrameType::Response, &[0x01]),
            Err(FrameError::WrongDirection { expected: FrameType::Response, got: FrameType::Command })
        );
        assert_eq!(decode_all(FrameType::Command, &[0x01, 0x00, 0x00]), Err(FrameError::Empty));
        assert_eq!(decode_all(FrameType::Command, &[0x01, 0x10, 0x01]), Err(FrameError::TooLong(4097)));
        assert_eq!(decode_all(FrameType::Command, &[0x01, 0x00]), Ok(vec![]));
    }

    #[test]
    fn waits_for_the_whole_payload() {
        let mut decoder = FrameDecoder::new(FrameType::Command);
        decoder.extend(&[0x01, 0x00, 0x03, 0xAA, 0xBB]);
        assert_eq!(decoder.next_frame(), Ok(None));
        decoder.extend(&[0xCC, 0x01]);
        assert_eq!(decoder.next_frame(), Ok(Some(vec![0xAA, 0xBB, 0xCC])));
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.buffered(), 1);
    }

    proptest! {
        #[test]
        fn round_trip_in_any_split(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..=MAX_PAYLOAD_LEN), 1..4),
            split in any::<prop::sample::Index>(),
            command in any::<bool>(),
        ) {
            let kind = if command { FrameType::Command } else { FrameType::Response };
            let mut wire = Vec::new();
            for payload in &payloads {
                wire.extend(encode(kind, payload).unwrap());
            }
            let cut = split.index(wire.len() + 1);
            let mut decoder = FrameDecoder::new(kind);
            let mut frames = Vec::new();
            for part in [&wire[..cut], &wire[cut..]] {
                decoder.extend(part);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    frames.push(frame);
                }
            }
            prop_assert_eq!(frames, payloads);
            prop_assert_eq!(decoder.buffered(), 0);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            // A plausible header first (any type byte, lengths around the limits) so the
            // decoder also reaches its payload states, then arbitrary bytes.
            type_byte in prop_oneof![Just(0x01u8), Just(0x02u8), any::<u8>()],
            len in prop_oneof![0u16..8, 4090u16..4100, any::<u16>()],
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..512), 0..16),
            command in any::<bool>(),
        ) {
            let kind = if command { FrameType::Command } else { FrameType::Response };
            let mut decoder = FrameDecoder::new(kind);
            decoder.extend(&[type_byte]);
            decoder.extend(&len.to_be_bytes());
            for chunk in &chunks {
                decoder.extend(chunk);
                while let Ok(Some(frame)) = decoder.next_frame() {
                    prop_assert!(!frame.is_empty() && frame.len() <= MAX_PAYLOAD_LEN);
                }
            }
        }
    }
}
