//! Property tests for the codec: round trips and robustness on arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use carkey_protocol::codec::{
    Assembled, CommandApdu, Fields, MAX_DEPTH, Node, ResponseApdu, ResponseAssembler, ResponseChunker, StatusWord, Tag,
    TlvWriter, parse_tree, tlv,
};
use proptest::prelude::*;

/// Any tag the codec accepts, primitive or constructed, one or two bytes.
fn any_tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        any::<u8>().prop_filter("one-byte tag", |b| b & 0x1F != 0x1F).prop_map(|b| Tag::new(u16::from(b))),
        (any::<u8>(), 0u8..0x80).prop_map(|(hi, lo)| Tag::new(u16::from_be_bytes([hi | 0x1F, lo]))),
    ]
}

fn tag_with(constructed: bool) -> impl Strategy<Value = Tag> {
    any_tag().prop_map(move |tag| {
        let bit = if tag.raw() > 0xFF { 0x2000 } else { 0x20 };
        let raw = if constructed { tag.raw() | bit } else { tag.raw() & !bit };
        Tag::new(raw)
    })
}

/// Value lengths biased towards the length-form boundaries, filled cheaply
/// so that 70 kB values do not make each case slow.
fn any_value() -> impl Strategy<Value = Vec<u8>> {
    let len = prop_oneof![
        4 => 0usize..300,
        2 => prop::sample::select(vec![
            0x7F, 0x80, 0xFF, 0x100, 0x101, 0xFFFF, 0x1_0000, 0x1_0001, 70_000
        ]),
        1 => 0usize..=70_000,
    ];
    (len, any::<u8>()).prop_map(|(len, seed)| (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect())
}

#[derive(Clone, Debug)]
enum Tree {
    Leaf(Tag, Vec<u8>),
    Branch(Tag, Vec<Tree>),
}

fn any_tree() -> impl Strategy<Value = Tree> {
    let leaf =
        (tag_with(false), prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(tag, value)| Tree::Leaf(tag, value));
    leaf.prop_recursive(MAX_DEPTH as u32 - 1, 64, 4, |inner| {
        (tag_with(true), prop::collection::vec(inner, 0..4)).prop_map(|(tag, children)| Tree::Branch(tag, children))
    })
}

fn write_tree(w: &mut TlvWriter, tree: &Tree) {
    match tree {
        Tree::Leaf(tag, value) => {
            w.put(*tag, value);
        }
        Tree::Branch(tag, children) => {
            w.put_nested(*tag, |w| children.iter().for_each(|c| write_tree(w, c)));
        }
    }
}

fn assert_same(node: &Node<'_>, tree: &Tree) {
    match tree {
        Tree::Leaf(tag, value) => {
            assert_eq!(node.tlv.tag, *tag);
            assert_eq!(node.tlv.value, &value[..]);
            assert!(node.children.is_empty());
        }
        Tree::Branch(tag, children) => {
            assert_eq!(node.tlv.tag, *tag);
            assert_eq!(node.children.len(), children.len());
            for (node, tree) in node.children.iter().zip(children) {
                assert_same(node, tree);
            }
        }
    }
}

fn any_le() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![
        Just(None),
        (1usize..=65_536).prop_map(Some),
        prop::sample::select(vec![1, 255, 256, 257, 65_535, 65_536]).prop_map(Some),
    ]
}

/// Status words that end a chain (anything but `61xx`).
fn final_sw() -> impl Strategy<Value = StatusWord> {
    any::<u16>().prop_filter("not 61xx", |sw| sw >> 8 != 0x61).prop_map(StatusWord)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tlv_round_trip(entries in prop::collection::vec((any_tag(), any_value()), 0..4)) {
        let mut w = TlvWriter::new();
        for (tag, value) in &entries {
            w.put(*tag, value);
        }
        let bytes = w.into_bytes();

        let parsed: Vec<_> = tlv::iter(&bytes).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        let mut raw_concat = Vec::new();
        for (tlv, (tag, value)) in parsed.iter().zip(&entries) {
            prop_assert_eq!(tlv.tag, *tag);
            prop_assert_eq!(tlv.value, &value[..]);
            raw_concat.extend_from_slice(tlv.raw);

            let mut single = Vec::new();
            tlv::encode(*tag, value, &mut single);
            prop_assert_eq!(tlv.raw, &single[..]);
        }
        prop_assert_eq!(raw_concat, bytes.clone());

        let mut tags: Vec<_> = entries.iter().map(|(t, _)| *t).collect();
        tags.sort();
        tags.dedup();
        let fields = Fields::parse(&bytes);
        if tags.len() == entries.len() {
            let fields = fields.unwrap();
            for (tag, value) in &entries {
                prop_assert_eq!(fields.require(*tag).unwrap(), &value[..]);
            }
        } else {
            prop_assert!(fields.is_err());
        }
    }

    #[test]
    fn nested_writer_output_parses(trees in prop::collection::vec(any_tree(), 0..4)) {
        let mut w = TlvWriter::new();
        for tree in &trees {
            write_tree(&mut w, tree);
        }
        let nodes = parse_tree(w.as_bytes(), MAX_DEPTH).unwrap();
        prop_assert_eq!(nodes.len(), trees.len());
        for (node, tree) in nodes.iter().zip(&trees) {
            assert_same(node, tree);
        }
    }

    #[test]
    fn decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = tlv::iter(&bytes).count();
        let _ = parse_tree(&bytes, MAX_DEPTH);
        let _ = parse_tree(&bytes, usize::MAX);
        let _ = Fields::parse(&bytes);
        let _ = CommandApdu::decode(&bytes);
        let _ = ResponseApdu::decode(&bytes);
    }

    #[test]
    fn mutated_tlvs_never_panic(
        trees in prop::collection::vec(any_tree(), 1..3),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut w = TlvWriter::new();
        for tree in &trees {
            write_tree(&mut w, tree);
        }
        let mut bytes = w.into_bytes();
        if !bytes.is_empty() {
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = parse_tree(&bytes, MAX_DEPTH);
        let _ = Fields::parse(&bytes);
        let _ = tlv::iter(&bytes).count();
    }

    #[test]
    fn command_apdu_round_trip(
        header in any::<[u8; 4]>(),
        data in prop::collection::vec(any::<u8>(), 0..=600),
        le in any_le(),
    ) {
        let [cla, ins, p1, p2] = header;
        let apdu = CommandApdu { cla, ins, p1, p2, data, le };
        let encoded = apdu.encode().unwrap();

        let short = apdu.data.len() <= 255 && le.is_none_or(|le| le <= 256);
        let lc_len = match (apdu.data.is_empty(), short) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 3,
        };
        let le_len = match (le, short, apdu.data.is_empty()) {
            (None, _, _) => 0,
            (Some(_), true, _) => 1,
            (Some(_), false, true) => 3,
            (Some(_), false, false) => 2,
        };
        prop_assert_eq!(encoded.len(), 4 + lc_len + apdu.data.len() + le_len);
        prop_assert_eq!(CommandApdu::decode(&encoded).unwrap(), apdu);
    }

    #[test]
    fn response_apdu_round_trip(
        data in prop::collection::vec(any::<u8>(), 0..600),
        sw in any::<u16>(),
    ) {
        let response = ResponseApdu::new(data, StatusWord(sw));
        prop_assert_eq!(ResponseApdu::decode(&response.encode()).unwrap(), response);
    }

    #[test]
    fn chunker_assembler_round_trip(
        len in 0usize..=3000,
        seed in any::<u8>(),
        le in 1usize..=256,
        sw in final_sw(),
    ) {
        let data: Vec<u8> = (0..len).map(|i| (i as u8) ^ seed).collect();
        let original = ResponseApdu::new(data, sw);
        let mut chunker = ResponseChunker::new();
        let mut assembler = ResponseAssembler::new(3000);

        let mut response = chunker.respond(original.clone(), le);
        let mut rounds = 0;
        let full = loop {
            prop_assert!(response.data.len() <= 256);
            match assembler.feed(response).unwrap() {
                Assembled::Complete(full) => break full,
                Assembled::NeedMore(cmd) => {
                    rounds += 1;
                    prop_assert!(rounds <= 3000 / 256 + 2);
                    // The GET RESPONSE must itself be a valid command.
                    let cmd = CommandApdu::decode(&cmd.encode().unwrap()).unwrap();
                    response = chunker.get_response(cmd.le.unwrap());
                }
            }
        };
        prop_assert_eq!(full, original);
        prop_assert!(!chunker.has_pending());
    }
}
