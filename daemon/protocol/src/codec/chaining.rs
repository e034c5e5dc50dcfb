//! Response chaining with `61xx` and GET RESPONSE (ISO 7816-4).
//!
//! When a response is longer than the reader asked for, the endpoint sends
//! the first part with `61xx` ("xx more bytes available") and the reader
//! fetches the rest with GET RESPONSE. [`ResponseChunker`] is the endpoint
//! half and [`ResponseAssembler`] the reader half.

use thiserror::Error;

use super::apdu::{CommandApdu, ResponseApdu, StatusWord};

/// Status word high byte meaning "more response bytes available".
const SW1_BYTES_REMAINING: u16 = 0x6100;

/// Largest chunk a `61xx` can announce; also what an Le of 0 stands for.
const MAX_SHORT_LE: usize = 256;

/// Rounds always allowed on top of the size-based part budget.
const EXTRA_PARTS: usize = 64;

/// Average bytes per part the assembler assumes when budgeting parts. Well
/// behaved peers send 256; this leaves ample room for small chunks while
/// still bounding peers that make no progress.
const MIN_AVERAGE_PART: usize = 32;

/// Errors from reassembling a chained response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChainError {
    /// The reassembled response would exceed the configured maximum.
    #[error("chained response too large")]
    TooLarge,
    /// The peer kept announcing more data for too many rounds.
    #[error("too many chained response parts")]
    TooManyParts,
    /// A part's length differs from what the previous `61xx` announced.
    #[error("chained response part of {actual} bytes, {announced} announced")]
    LengthMismatch {
        /// Bytes announced by the previous `61xx` (256 for `6100`).
        announced: usize,
        /// Bytes received.
        actual: usize,
    },
}

/// What to do after feeding a response to a [`ResponseAssembler`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assembled {
    /// The full response: all data received, with the final status word.
    Complete(ResponseApdu),
    /// Send this GET RESPONSE and feed its answer back.
    NeedMore(CommandApdu),
}

/// Reader side: collects `61xx` parts into one response.
///
/// Both the total size and the number of rounds are bounded, so a peer that
/// answers `6100` forever (with or without data) cannot keep the reader
/// busy. After a complete response or an error the assembler is reset and
/// can be reused.
///
/// GET RESPONSE always asks for up to 256 bytes (`Le = 00`) and each part must
/// be exactly as long as the previous `61xx` announced (`xx`, or 256 for `00`).
/// A conforming endpoint always satisfies this, and it means a corrupted `xx`
/// is detected instead of silently changing how the rest is fetched.
#[derive(Clone, Debug)]
pub struct ResponseAssembler {
    max_total: usize,
    max_parts: usize,
    data: Vec<u8>,
    parts: usize,
    announced: Option<usize>,
}

impl ResponseAssembler {
    /// An assembler accepting responses of up to `max_total` data bytes.
    pub fn new(max_total: usize) -> Self {
        Self {
            max_total,
            max_parts: (max_total / MIN_AVERAGE_PART).saturating_add(EXTRA_PARTS),
            data: Vec::new(),
            parts: 0,
            announced: None,
        }
    }

    /// Takes the next response from the peer (the answer to the original
    /// command first, then the answers to each GET RESPONSE).
    pub fn feed(&mut self, response: ResponseApdu) -> Result<Assembled, ChainError> {
        self.parts += 1;
        if self.parts > self.max_parts {
            self.reset();
            return Err(ChainError::TooManyParts);
        }
        if response.data.len() > self.max_total.saturating_sub(self.data.len()) {
            self.reset();
            return Err(ChainError::TooLarge);
        }
        if let Some(announced) = self.announced.take()
            && response.data.len() != announced
        {
            self.reset();
            return Err(ChainError::LengthMismatch { announced, actual: response.data.len() });
        }
        self.data.extend_from_slice(&response.data);
        match response.sw.bytes_available() {
            Some(more) => {
                self.announced = Some(more);
                Ok(Assembled::NeedMore(CommandApdu::get_response(MAX_SHORT_LE)))
            }
            None => {
                let data = std::mem::take(&mut self.data);
                self.reset();
                Ok(Assembled::Complete(ResponseApdu::new(data, response.sw)))
            }
        }
    }

    fn reset(&mut self) {
        self.data = Vec::new();
        self.parts = 0;
        self.announced = None;
    }
}

/// Endpoint side: splits a long response into `61xx` chunks.
#[derive(Clone, Debug, Default)]
pub struct ResponseChunker {
    pending: Option<Pending>,
}

/// A response that has only partly been sent.
#[derive(Clone, Debug)]
struct Pending {
    data: Vec<u8>,
    sent: usize,
    sw: StatusWord,
}

impl ResponseChunker {
    /// A chunker with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `response` to a command that allowed `le` bytes (0 means 256).
    ///
    /// A response that fits is returned unchanged and drops anything still
    /// pending, since the reader has moved on to a new command. Otherwise the
    /// first `le` bytes go out with `61xx` and the rest waits for
    /// [`ResponseChunker::get_response`].
    pub fn respond(&mut self, response: ResponseApdu, le: usize) -> ResponseApdu {
        let le = effective_le(le);
        if response.data.len() <= le {
            self.clear();
            return response;
        }
        let pending = self.pending.insert(Pending { data: response.data, sent: 0, sw: response.sw });
        let (chunk, done) = pending.next_chunk(le);
        if done {
            self.clear();
        }
        chunk
    }

    /// Answers GET RESPONSE for `le` bytes (0 means 256): the next chunk, the
    /// last one carrying the original status word. Without anything pending
    /// the command is out of sequence.
    pub fn get_response(&mut self, le: usize) -> ResponseApdu {
        let Some(pending) = self.pending.as_mut() else {
            return ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let (chunk, done) = pending.next_chunk(effective_le(le));
        if done {
            self.clear();
        }
        chunk
    }

    /// Whether part of a response is waiting for GET RESPONSE.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Drops any pending remainder.
    pub fn clear(&mut self) {
        self.pending = None;
    }
}

impl Pending {
    /// The next chunk of at most `le` bytes, and whether it is the last.
    fn next_chunk(&mut self, le: usize) -> (ResponseApdu, bool) {
        let remaining = self.data.get(self.sent..).unwrap_or_default();
        let (chunk, rest) = remaining.split_at_checked(le).unwrap_or((remaining, &[]));
        self.sent += chunk.len();
        if rest.is_empty() {
            (ResponseApdu::new(chunk.to_vec(), self.sw), true)
        } else {
            (ResponseApdu::new(chunk.to_vec(), bytes_remaining(rest.len())), false)
        }
    }
}

fn effective_le(le: usize) -> usize {
    if le == 0 { MAX_SHORT_LE } else { le }
}

/// `61xx` announcing `remaining` bytes, capped at 256 (sent as `6100`).
fn bytes_remaining(remaining: usize) -> StatusWord {
    // 256 is the only capped value that does not fit in a byte; it is 00.
    let xx = u8::try_from(remaining.min(MAX_SHORT_LE)).unwrap_or(0);
    StatusWord(SW1_BYTES_REMAINING | u16::from(xx))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// Plays reader and endpoint against each other until complete.
    fn transfer(original: &ResponseApdu, le: usize, max_total: usize) -> Result<ResponseApdu, ChainError> {
        let mut chunker = ResponseChunker::new();
        let mut assembler = ResponseAssembler::new(max_total);
        let mut response = chunker.respond(original.clone(), le);
        for _ in 0..1000 {
            match assembler.feed(response)? {
                Assembled::Complete(full) => {
                    assert!(!chunker.has_pending());
                    return Ok(full);
                }
                Assembled::NeedMore(cmd) => {
                    assert_eq!(cmd.ins, 0xC0);
                    response = chunker.get_response(cmd.le.unwrap());
                }
            }
        }
        panic!("transfer did not finish");
    }

    #[test]
    fn chunks_and_reassembles_700_bytes() {
        let original = ResponseApdu::new(sample(700), StatusWord::OK);
        let mut chunker = ResponseChunker::new();

        let first = chunker.respond(original.clone(), 256);
        assert_eq!(first.data, &original.data[..256]);
        assert_eq!(first.sw, StatusWord(0x6100));
        assert!(chunker.has_pending());

        let second = chunker.get_response(256);
        assert_eq!(second.data, &original.data[256..512]);
        assert_eq!(second.sw, StatusWord(0x61BC));

        let third = chunker.get_response(0xBC);
        assert_eq!(third, ResponseApdu::ok(original.data[512..].to_vec()));
        assert!(!chunker.has_pending());

        let mut assembler = ResponseAssembler::new(1024);
        assert_eq!(assembler.feed(first).unwrap(), Assembled::NeedMore(CommandApdu::get_response(256)));
        assert_eq!(assembler.feed(second).unwrap(), Assembled::NeedMore(CommandApdu::get_response(256)));
        assert_eq!(assembler.feed(third).unwrap(), Assembled::Complete(original.clone()));

        assert_eq!(transfer(&original, 256, 1024), Ok(original));
    }

    #[test]
    fn small_responses_pass_through() {
        let mut chunker = ResponseChunker::new();
        let response = ResponseApdu::new(sample(10), StatusWord::WRONG_DATA);
        assert_eq!(chunker.respond(response.clone(), 10), response);
        assert_eq!(chunker.respond(response.clone(), 0), response);
        assert!(!chunker.has_pending());
    }

    #[test]
    fn chained_response_keeps_final_status_word() {
        let original = ResponseApdu::new(sample(300), StatusWord(0x6310));
        assert_eq!(transfer(&original, 100, 1024), Ok(original));
    }

    #[test]
    fn get_response_without_pending_data() {
        let mut chunker = ResponseChunker::default();
        assert_eq!(chunker.get_response(256), ResponseApdu::status(StatusWord::CONDITIONS_NOT_SATISFIED));
    }

    #[test]
    fn new_response_drops_pending_remainder() {
        let mut chunker = ResponseChunker::new();
        chunker.respond(ResponseApdu::ok(sample(300)), 0);
        assert!(chunker.has_pending());
        let short = ResponseApdu::ok(vec![1]);
        assert_eq!(chunker.respond(short.clone(), 0), short);
        assert!(!chunker.has_pending());

        chunker.respond(ResponseApdu::ok(sample(300)), 0);
        chunker.clear();
        assert!(!chunker.has_pending());
    }

    #[test]
    fn endless_chaining_is_stopped() {
        // One byte at a time, each part announcing one more: lengths are consistent,
        // so only the part budget stops it.
        let mut assembler = ResponseAssembler::new(4096);
        let err = (0..10_000).find_map(|_| assembler.feed(ResponseApdu::new(vec![0], StatusWord(0x6101))).err());
        assert_eq!(err, Some(ChainError::TooManyParts));
    }

    #[test]
    fn part_length_must_match_the_announcement() {
        let mut assembler = ResponseAssembler::new(4096);
        assembler.feed(ResponseApdu::new(sample(256), StatusWord(0x6110))).unwrap();
        assert_eq!(
            assembler.feed(ResponseApdu::ok(sample(0x11))),
            Err(ChainError::LengthMismatch { announced: 0x10, actual: 0x11 })
        );
        // `6100` announces 256 bytes; an empty part is a lie, not an endless loop.
        assembler.feed(ResponseApdu::new(sample(10), StatusWord(0x6100))).unwrap();
        assert_eq!(
            assembler.feed(ResponseApdu::status(StatusWord(0x6100))),
            Err(ChainError::LengthMismatch { announced: 256, actual: 0 })
        );
        // After an error the assembler starts afresh.
        let ok = ResponseApdu::ok(sample(5));
        assert_eq!(assembler.feed(ok.clone()), Ok(Assembled::Complete(ok)));
    }

    #[test]
    fn oversize_is_stopped_and_assembler_is_reusable() {
        let mut assembler = ResponseAssembler::new(300);
        let part = ResponseApdu::new(sample(200), StatusWord(0x6100));
        assert!(matches!(assembler.feed(part.clone()), Ok(Assembled::NeedMore(_))));
        assert_eq!(assembler.feed(part), Err(ChainError::TooLarge));

        let small = ResponseApdu::ok(sample(300));
        assert_eq!(assembler.feed(small.clone()), Ok(Assembled::Complete(small)));
        assert_eq!(assembler.feed(ResponseApdu::ok(sample(301))), Err(ChainError::TooLarge));
    }

    #[test]
    fn short_first_part_then_full_parts() {
        // The command's Le may be small; every GET RESPONSE then asks for 256.
        let original = ResponseApdu::ok(sample(1024));
        assert_eq!(transfer(&original, 16, 1024), Ok(original));
    }
}
