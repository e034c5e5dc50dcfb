//! BER-TLV encoding as used by ISO 7816-4 and EMV.
//!
//! Decoding is zero-copy: every parsed [`Tlv`] borrows from the input, and
//! keeps the exact bytes it was decoded from in [`Tlv::raw`] because key
//! derivation transcripts hash what the peer actually sent, not a
//! re-encoding of it.
//!
//! Only the subset the protocol needs is supported: one- and two-byte tags
//! and definite lengths of up to three bytes. Anything else is reported as an
//! error rather than guessed at.

use std::collections::HashSet;
use std::fmt;
use std::iter::FusedIterator;

use thiserror::Error;

/// Deepest nesting of constructed TLVs that protocol messages use, with
/// headroom. Pass this to [`parse_tree`] unless there is a reason not to.
pub const MAX_DEPTH: usize = 8;

/// Largest value length the three-byte long form can express.
const MAX_VALUE_LEN: usize = 0xFF_FFFF;

/// Bit of the first tag byte that marks a constructed (nested) TLV.
const CONSTRUCTED_BIT: u8 = 0x20;

/// Low bits of the first tag byte that announce a subsequent tag byte.
const MULTI_BYTE_TAG: u8 = 0x1F;

/// Bit of a subsequent tag byte that announces yet another tag byte.
const MORE_TAG_BYTES: u8 = 0x80;

/// Errors from decoding or encoding TLVs, or from looking up fields.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlvError {
    /// The input ended inside a tag, length or value.
    #[error("TLV truncated")]
    Truncated,
    /// The tag needs three or more bytes; no protocol tag does.
    #[error("TLV tag longer than two bytes")]
    TagTooLong,
    /// Indefinite length (`80`) or a length field of four or more bytes.
    #[error("unsupported TLV length encoding")]
    UnsupportedLength,
    /// Constructed TLVs are nested deeper than the caller allows.
    #[error("TLV nesting too deep")]
    DepthExceeded,
    /// A tag occurs more than once where each tag must be unique.
    #[error("duplicate tag {0}")]
    DuplicateTag(Tag),
    /// A mandatory tag is absent.
    #[error("missing tag {0}")]
    MissingTag(Tag),
    /// A fixed-size field has the wrong length.
    #[error("tag {tag}: expected {expected} bytes, got {actual}")]
    BadLength {
        /// The offending tag.
        tag: Tag,
        /// The length the protocol requires.
        expected: usize,
        /// The length that was received.
        actual: usize,
    },
    /// A value is too long for the three-byte length form.
    #[error("TLV value too long")]
    ValueTooLong,
}

/// A BER-TLV tag of one or two bytes.
///
/// The raw value is the tag bytes read big-endian, so the two-byte tag
/// `7F 66` is `Tag::new(0x7F66)` and the one-byte tag `5C` is
/// `Tag::new(0x5C)`. Tags decoded from input are always well formed; a tag
/// built with [`Tag::new`] is trusted to be, since tags are protocol
/// constants.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Tag(u16);

impl Tag {
    /// Wraps raw tag bytes (big-endian).
    pub const fn new(raw: u16) -> Tag {
        Tag(raw)
    }

    /// The raw tag bytes (big-endian).
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// Whether the value holds nested TLVs rather than plain data.
    pub const fn is_constructed(self) -> bool {
        self.first_byte() & CONSTRUCTED_BIT != 0
    }

    /// Number of bytes the tag occupies on the wire.
    pub const fn encoded_len(self) -> usize {
        if self.0 > 0xFF { 2 } else { 1 }
    }

    /// The byte that carries the class and constructed bits.
    const fn first_byte(self) -> u8 {
        let [hi, lo] = self.0.to_be_bytes();
        if self.0 > 0xFF { hi } else { lo }
    }

    /// Whether the tag decodes back to itself; anything else is a caller bug.
    const fn is_well_formed(self) -> bool {
        let [hi, lo] = self.0.to_be_bytes();
        if self.0 > 0xFF {
            hi & MULTI_BYTE_TAG == MULTI_BYTE_TAG && lo & MORE_TAG_BYTES == 0
        } else {
            lo & MULTI_BYTE_TAG != MULTI_BYTE_TAG
        }
    }

    fn write_to(self, out: &mut Vec<u8>) {
        let [hi, lo] = self.0.to_be_bytes();
        if self.0 > 0xFF {
            out.push(hi);
        }
        out.push(lo);
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 > 0xFF { write!(f, "{:04X}", self.0) } else { write!(f, "{:02X}", self.0) }
    }
}

/// One decoded TLV, borrowing from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// The value bytes.
    pub value: &'a [u8],
    /// The complete encoding (tag, length and value) exactly as received.
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Iterates over the TLVs inside this one's value.
    ///
    /// Meant for constructed tags; a primitive value is parsed the same way,
    /// which will usually yield an error.
    pub fn children(&self) -> TlvIter<'a> {
        iter(self.value)
    }

    /// Decodes the TLV at the start of `input` and returns it with the rest.
    fn decode_prefix(input: &'a [u8]) -> Result<(Tlv<'a>, &'a [u8]), TlvError> {
        let (tag, after_tag) = split_tag(input)?;
        let (len, after_len) = split_len(after_tag)?;
        let header_len = input.len() - after_len.len();
        let total = header_len.checked_add(len).ok_or(TlvError::Truncated)?;
        let (raw, rest) = input.split_at_checked(total).ok_or(TlvError::Truncated)?;
        let value = raw.get(header_len..).ok_or(TlvError::Truncated)?;
        Ok((Tlv { tag, value, raw }, rest))
    }
}

fn split_tag(input: &[u8]) -> Result<(Tag, &[u8]), TlvError> {
    match input {
        [] => Err(TlvError::Truncated),
        [first, rest @ ..] if first & MULTI_BYTE_TAG != MULTI_BYTE_TAG => Ok((Tag(u16::from(*first)), rest)),
        [_] => Err(TlvError::Truncated),
        [_, second, ..] if second & MORE_TAG_BYTES != 0 => Err(TlvError::TagTooLong),
        [first, second, rest @ ..] => Ok((Tag(u16::from_be_bytes([*first, *second])), rest)),
    }
}

fn split_len(input: &[u8]) -> Result<(usize, &[u8]), TlvError> {
    let (&first, rest) = input.split_first().ok_or(TlvError::Truncated)?;
    match first {
        0x00..=0x7F => Ok((usize::from(first), rest)),
        // Non-minimal long forms (e.g. `81 05`) are accepted: cards send them.
        0x81..=0x83 => {
            let count = usize::from(first & 0x7F);
            let (bytes, rest) = rest.split_at_checked(count).ok_or(TlvError::Truncated)?;
            let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            Ok((len, rest))
        }
        _ => Err(TlvError::UnsupportedLength),
    }
}

/// Appends the minimal BER length encoding of `len`.
///
/// Lengths beyond the three-byte form are still encoded honestly (with more
/// length bytes) so the output is never silently wrong; decoders, including
/// this one, reject it.
fn encode_len(len: usize, out: &mut Vec<u8>) {
    if let Ok(short @ 0x00..=0x7F) = u8::try_from(len) {
        out.push(short);
        return;
    }
    let bytes = len.to_be_bytes();
    let significant = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let len_bytes = bytes.get(significant..).unwrap_or_default();
    // At most size_of::<usize>() bytes, so the count always fits in 7 bits.
    let count = u8::try_from(len_bytes.len()).unwrap_or(0x7F);
    out.push(0x80 | count);
    out.extend_from_slice(len_bytes);
}

/// Appends the encoding of one TLV to `out`.
///
/// Values longer than `0xFF_FFFF` bytes are a caller bug (protocol values
/// stay far below 64 KiB): they trip a debug assertion, and in release builds
/// produce an encoding that decoders reject. Use [`TlvWriter::try_put`] where
/// the length is not known to be bounded.
pub fn encode(tag: Tag, value: &[u8], out: &mut Vec<u8>) {
    debug_assert!(tag.is_well_formed(), "malformed tag {tag}");
    debug_assert!(value.len() <= MAX_VALUE_LEN, "TLV value too long");
    tag.write_to(out);
    encode_len(value.len(), out);
    out.extend_from_slice(value);
}

/// Iterates over a flat sequence of TLVs in `input`.
pub fn iter(input: &[u8]) -> TlvIter<'_> {
    TlvIter { rest: input }
}

/// Iterator over a flat concatenation of TLVs.
///
/// Yields each TLV in order; after the first error it stops, because the
/// position of anything that follows a malformed TLV is unknown.
#[derive(Clone, Debug)]
pub struct TlvIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TlvIter<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match Tlv::decode_prefix(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(err) => {
                self.rest = &[];
                Some(Err(err))
            }
        }
    }
}

impl FusedIterator for TlvIter<'_> {}

/// A TLV with its nested TLVs decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node<'a> {
    /// The TLV itself.
    pub tlv: Tlv<'a>,
    /// Decoded children; always empty for primitive tags.
    pub children: Vec<Node<'a>>,
}

/// Decodes `input` as a tree, descending into every constructed tag.
///
/// `max_depth` is the number of TLV levels allowed: `1` permits only
/// top-level TLVs (constructed ones must then be empty). It also bounds the
/// recursion, so pass [`MAX_DEPTH`] rather than an input-derived value.
pub fn parse_tree(input: &[u8], max_depth: usize) -> Result<Vec<Node<'_>>, TlvError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let child_depth = max_depth.checked_sub(1).ok_or(TlvError::DepthExceeded)?;
    iter(input)
        .map(|tlv| {
            let tlv = tlv?;
            let children = if tlv.tag.is_constructed() { parse_tree(tlv.value, child_depth)? } else { Vec::new() };
            Ok(Node { tlv, children })
        })
        .collect()
}

/// A validated flat set of TLVs with unique tags, for reading messages.
///
/// Unknown tags are kept: whether to ignore or reject them is the caller's
/// decision, and [`Fields::tags`] lets it check.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    tlvs: Vec<Tlv<'a>>,
}

impl<'a> Fields<'a> {
    /// Decodes `input`, rejecting malformed TLVs and repeated tags.
    ///
    /// Repeats are an error rather than "last one wins" so that two parties
    /// can never disagree about which value a message carried.
    pub fn parse(input: &'a [u8]) -> Result<Fields<'a>, TlvError> {
        let mut seen = HashSet::new();
        let tlvs = iter(input)
            .map(|tlv| {
                let tlv = tlv?;
                if seen.insert(tlv.tag) { Ok(tlv) } else { Err(TlvError::DuplicateTag(tlv.tag)) }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Fields { tlvs })
    }

    /// The value of `tag`, if present.
    pub fn get(&self, tag: Tag) -> Option<&'a [u8]> {
        self.get_tlv(tag).map(|tlv| tlv.value)
    }

    /// The whole TLV for `tag`, if present (for its raw bytes).
    pub fn get_tlv(&self, tag: Tag) -> Option<Tlv<'a>> {
        self.tlvs.iter().find(|tlv| tlv.tag == tag).copied()
    }

    /// The value of a mandatory `tag`.
    pub fn require(&self, tag: Tag) -> Result<&'a [u8], TlvError> {
        self.get(tag).ok_or(TlvError::MissingTag(tag))
    }

    /// The value of a mandatory `tag` that must be exactly `N` bytes long.
    pub fn require_array<const N: usize>(&self, tag: Tag) -> Result<&'a [u8; N], TlvError> {
        to_array(tag, self.require(tag)?)
    }

    /// The value of an optional `tag` that, if present, must be `N` bytes.
    pub fn optional_array<const N: usize>(&self, tag: Tag) -> Result<Option<&'a [u8; N]>, TlvError> {
        self.get(tag).map(|value| to_array(tag, value)).transpose()
    }

    /// All tags, in the order they appeared.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        self.tlvs.iter().map(|tlv| tlv.tag)
    }
}

fn to_array<const N: usize>(tag: Tag, value: &[u8]) -> Result<&[u8; N], TlvError> {
    value.try_into().map_err(|_| TlvError::BadLength { tag, expected: N, actual: value.len() })
}

/// Builds a sequence of TLVs, always in minimal length form.
#[derive(Clone, Debug, Default)]
pub struct TlvWriter {
    buf: Vec<u8>,
}

impl TlvWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a TLV. See [`encode`] for the length limit.
    pub fn put(&mut self, tag: Tag, value: &[u8]) -> &mut Self {
        encode(tag, value, &mut self.buf);
        self
    }

    /// Appends a TLV, or fails with [`TlvError::ValueTooLong`] (writing
    /// nothing) if the value exceeds the three-byte length form.
    pub fn try_put(&mut self, tag: Tag, value: &[u8]) -> Result<&mut Self, TlvError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(TlvError::ValueTooLong);
        }
        Ok(self.put(tag, value))
    }

    /// Appends a TLV with a one-byte value.
    pub fn put_u8(&mut self, tag: Tag, v: u8) -> &mut Self {
        self.put(tag, &[v])
    }

    /// Appends already-encoded TLV bytes verbatim, e.g. a [`Tlv::raw`]
    /// that must be echoed byte for byte.
    pub fn put_raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(encoded);
        self
    }

    /// Appends a constructed TLV whose value is whatever `f` writes.
    pub fn put_nested(&mut self, tag: Tag, f: impl FnOnce(&mut TlvWriter)) -> &mut Self {
        let mut inner = TlvWriter::new();
        f(&mut inner);
        self.put(tag, &inner.buf)
    }

    /// The encoded bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes encoded so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    const T5C: Tag = Tag::new(0x5C);
    const T80: Tag = Tag::new(0x80);
    const TA5: Tag = Tag::new(0xA5);
    const T7F66: Tag = Tag::new(0x7F66);

    fn one(input: &[u8]) -> Tlv<'_> {
        let mut it = iter(input);
        let tlv = it.next().unwrap().unwrap();
        assert!(it.next().is_none());
        tlv
    }

    fn err(input: &[u8]) -> TlvError {
        iter(input).find_map(Result::err).unwrap()
    }

    #[test]
    fn tag_properties() {
        assert_eq!(T5C.encoded_len(), 1);
        assert_eq!(T7F66.encoded_len(), 2);
        assert!(!T5C.is_constructed());
        assert!(TA5.is_constructed());
        assert!(T7F66.is_constructed());
        assert!(!Tag::new(0x5F20).is_constructed());
        assert_eq!(T7F66.to_string(), "7F66");
        assert_eq!(T5C.to_string(), "5C");
        assert_eq!(Tag::new(0x01).to_string(), "01");
        assert_eq!(T7F66.raw(), 0x7F66);
    }

    #[test]
    fn decodes_short_tlv() {
        let input = [0x5C, 0x02, 0x01, 0x00];
        let tlv = one(&input);
        assert_eq!(tlv.tag, T5C);
        assert_eq!(tlv.value, &[0x01, 0x00]);
        assert_eq!(tlv.raw, &input);
    }

    #[test]
    fn decodes_two_byte_tag() {
        let input = [0x7F, 0x66, 0x03, 0x02, 0x01, 0x00];
        let tlv = one(&input);
        assert_eq!(tlv.tag, T7F66);
        assert_eq!(tlv.value, &[0x02, 0x01, 0x00]);
    }

    #[test]
    fn zero_and_ff_are_ordinary_tags() {
        assert_eq!(one(&[0x00, 0x00]).tag, Tag::new(0x00));
        // 0xFF has all low bits set, so it starts a two-byte tag.
        assert_eq!(one(&[0xFF, 0x01, 0x00]).tag, Tag::new(0xFF01));
    }

    #[test]
    fn encodes_long_lengths_minimally() {
        for (len, header) in [
            (0x7F, &[0x5C, 0x7F][..]),
            (0x80, &[0x5C, 0x81, 0x80]),
            (0xFF, &[0x5C, 0x81, 0xFF]),
            (0x100, &[0x5C, 0x82, 0x01, 0x00]),
            (0xFFFF, &[0x5C, 0x82, 0xFF, 0xFF]),
            (0x1_0000, &[0x5C, 0x83, 0x01, 0x00, 0x00]),
        ] {
            let value = vec![0xAB; len];
            let mut out = Vec::new();
            encode(T5C, &value, &mut out);
            assert_eq!(&out[..header.len()], header, "len {len:#x}");
            assert_eq!(out.len(), header.len() + len);
            let tlv = one(&out);
            assert_eq!(tlv.value, &value[..]);
            assert_eq!(tlv.raw, &out[..]);
        }
    }

    #[test]
    fn accepts_non_minimal_lengths() {
        assert_eq!(one(&[0x5C, 0x81, 0x01, 0xAA]).value, &[0xAA]);
        assert_eq!(one(&[0x5C, 0x82, 0x00, 0x01, 0xAA]).value, &[0xAA]);
        assert_eq!(one(&[0x5C, 0x83, 0x00, 0x00, 0x00]).value, &[] as &[u8]);
    }

    #[test]
    fn writer_builds_nested_structures() {
        let mut w = TlvWriter::new();
        w.put_nested(TA5, |w| {
            w.put(T80, &[0x01, 0x02]).put_u8(T5C, 0x07);
        });
        assert_eq!(w.as_bytes(), &[0xA5, 0x07, 0x80, 0x02, 0x01, 0x02, 0x5C, 0x01, 0x07]);

        let tree = parse_tree(w.as_bytes(), MAX_DEPTH).unwrap();
        assert_eq!(tree.len(), 1);
        let a5 = &tree[0];
        assert_eq!(a5.tlv.tag, TA5);
        assert_eq!(a5.children.len(), 2);
        assert_eq!(a5.children[0].tlv.tag, T80);
        assert_eq!(a5.children[0].tlv.raw, &[0x80, 0x02, 0x01, 0x02]);
        assert_eq!(a5.children[1].tlv.value, &[0x07]);
        assert!(a5.children[1].children.is_empty());

        let children: Vec<_> = a5.tlv.children().map(Result::unwrap).collect();
        assert_eq!(children, vec![a5.children[0].tlv, a5.children[1].tlv]);
    }

    #[test]
    fn put_raw_is_verbatim() {
        let original = [0x5C, 0x81, 0x01, 0xAA];
        let tlv = one(&original);
        let mut w = TlvWriter::default();
        w.put_raw(tlv.raw).put(T80, &[]);
        assert_eq!(w.into_bytes(), vec![0x5C, 0x81, 0x01, 0xAA, 0x80, 0x00]);
    }

    #[test]
    fn raw_spans_each_tlv_exactly() {
        let input = [0x5C, 0x01, 0xAA, 0x7F, 0x66, 0x00, 0x80, 0x81, 0x01, 0xBB];
        let raws: Vec<_> = iter(&input).map(|t| t.unwrap().raw).collect();
        assert_eq!(raws, vec![&input[0..3], &input[3..6], &input[6..10]]);
    }

    #[test]
    fn truncation_errors() {
        assert_eq!(err(&[0x5C]), TlvError::Truncated);
        assert_eq!(err(&[0x7F]), TlvError::Truncated);
        assert_eq!(err(&[0x5C, 0x02, 0x01]), TlvError::Truncated);
        assert_eq!(err(&[0x5C, 0x81]), TlvError::Truncated);
        assert_eq!(err(&[0x5C, 0x82, 0x01]), TlvError::Truncated);
        assert_eq!(err(&[0x5C, 0x83, 0xFF, 0xFF, 0xFF]), TlvError::Truncated);
    }

    #[test]
    fn rejects_three_byte_tags() {
        assert_eq!(err(&[0x7F, 0x81, 0x01, 0x00]), TlvError::TagTooLong);
    }

    #[test]
    fn rejects_unsupported_lengths() {
        assert_eq!(err(&[0x5C, 0x80, 0x00, 0x00]), TlvError::UnsupportedLength);
        assert_eq!(err(&[0x5C, 0x84, 0, 0, 0, 1, 0]), TlvError::UnsupportedLength);
        assert_eq!(err(&[0x5C, 0xFF]), TlvError::UnsupportedLength);
    }

    #[test]
    fn iterator_stops_after_first_error() {
        let input = [0x5C, 0x00, 0x5C, 0x80, 0x5C, 0x00];
        let mut it = iter(&input);
        assert!(it.next().unwrap().is_ok());
        assert_eq!(it.next(), Some(Err(TlvError::UnsupportedLength)));
        assert_eq!(it.next(), None);
        assert_eq!(it.next(), None);
    }

    fn nested(levels: usize) -> Vec<u8> {
        let mut bytes = vec![0x5C, 0x00];
        for _ in 1..levels {
            let mut w = TlvWriter::new();
            w.put(TA5, &bytes);
            bytes = w.into_bytes();
        }
        bytes
    }

    #[test]
    fn depth_limit() {
        assert!(parse_tree(&nested(MAX_DEPTH), MAX_DEPTH).is_ok());
        assert_eq!(parse_tree(&nested(MAX_DEPTH + 1), MAX_DEPTH), Err(TlvError::DepthExceeded));
        assert_eq!(parse_tree(&[0x5C, 0x00], 0), Err(TlvError::DepthExceeded));
        assert_eq!(parse_tree(&[], 0), Ok(Vec::new()));
        // An empty constructed value at the deepest level has no children to
        // descend into.
        assert!(parse_tree(&[0xA5, 0x00], 1).is_ok());
    }

    #[test]
    fn parse_tree_reports_nested_errors() {
        assert_eq!(parse_tree(&[0xA5, 0x02, 0x5C, 0x05], MAX_DEPTH), Err(TlvError::Truncated));
        // Primitive values are not parsed, however they look.
        let tree = parse_tree(&[0x5C, 0x02, 0x5C, 0x05], MAX_DEPTH).unwrap();
        assert!(tree[0].children.is_empty());
    }

    #[test]
    fn fields_lookup() {
        let mut w = TlvWriter::new();
        w.put(T5C, &[1, 2, 3, 4]).put(T7F66, &[9]).put(Tag::new(0x99), &[]);
        let bytes = w.into_bytes();
        let fields = Fields::parse(&bytes).unwrap();

        assert_eq!(fields.get(T5C), Some(&[1, 2, 3, 4][..]));
        assert_eq!(fields.get(T80), None);
        assert_eq!(fields.get_tlv(T7F66).unwrap().raw, &[0x7F, 0x66, 0x01, 0x09]);
        assert_eq!(fields.require(T7F66), Ok(&[9][..]));
        assert_eq!(fields.require(T80), Err(TlvError::MissingTag(T80)));
        assert_eq!(fields.require_array::<4>(T5C), Ok(&[1, 2, 3, 4]));
        assert_eq!(fields.require_array::<3>(T5C), Err(TlvError::BadLength { tag: T5C, expected: 3, actual: 4 }));
        assert_eq!(fields.require_array::<4>(T80), Err(TlvError::MissingTag(T80)));
        assert_eq!(fields.optional_array::<1>(T7F66), Ok(Some(&[9])));
        assert_eq!(fields.optional_array::<1>(T80), Ok(None));
        assert_eq!(fields.optional_array::<2>(T7F66), Err(TlvError::BadLength { tag: T7F66, expected: 2, actual: 1 }));
        assert_eq!(fields.tags().collect::<Vec<_>>(), vec![T5C, T7F66, Tag::new(0x99)]);
    }

    #[test]
    fn fields_reject_duplicates_and_malformed_input() {
        assert_eq!(Fields::parse(&[0x5C, 0x00, 0x80, 0x00, 0x5C, 0x01, 0x00]).err(), Some(TlvError::DuplicateTag(T5C)));
        assert_eq!(Fields::parse(&[0x5C, 0x00, 0x80]).err(), Some(TlvError::Truncated));
        assert_eq!(Fields::parse(&[]).unwrap().tags().count(), 0);
    }

    #[test]
    fn try_put_rejects_oversized_values() {
        let mut w = TlvWriter::new();
        let big = vec![0; MAX_VALUE_LEN + 1];
        assert_eq!(w.try_put(T5C, &big).err(), Some(TlvError::ValueTooLong));
        assert!(w.as_bytes().is_empty());

        let max = vec![0; MAX_VALUE_LEN];
        w.try_put(T5C, &max).unwrap();
        assert_eq!(&w.as_bytes()[..5], &[0x5C, 0x83, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn oversized_length_encoding_is_rejected_by_decoder() {
        let mut out = vec![0x5C];
        encode_len(MAX_VALUE_LEN + 1, &mut out);
        assert_eq!(out, vec![0x5C, 0x84, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(err(&out), TlvError::UnsupportedLength);
    }

    #[test]
    fn error_messages() {
        assert_eq!(TlvError::Truncated.to_string(), "TLV truncated");
        assert_eq!(TlvError::MissingTag(T5C).to_string(), "missing tag 5C");
        assert_eq!(TlvError::DuplicateTag(T7F66).to_string(), "duplicate tag 7F66");
        assert_eq!(
            TlvError::BadLength { tag: T5C, expected: 32, actual: 31 }.to_string(),
            "tag 5C: expected 32 bytes, got 31"
        );
    }
}
