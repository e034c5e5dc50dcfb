//! Fuzz harnesses for `carkey-protocol`.
//!
//! This one file is the whole logic of every fuzz target. The cargo-fuzz binaries in
//! `fuzz_targets/` are one-line wrappers around it, and the crate's stable test
//! `tests/fuzz_corpus.rs` includes it with `#[path]` to replay the committed corpus
//! through exactly the same code, without libFuzzer.
//!
//! A harness takes the raw fuzzer input. It may only panic through an assertion that
//! states a protocol invariant (or if its own fixed keys were invalid); any other panic
//! is a bug in the crate.
//!
//! | target               | input                                                        |
//! |----------------------|--------------------------------------------------------------|
//! | `apdu_tlv`           | raw bytes, fed to every decoder and parser                   |
//! | `reader_responses`   | plan byte, then responses as `len(1) ‖ bytes`, repeated      |
//! | `reader_vs_endpoint` | plan byte, then `(response index, offset, xor)` byte triples |

// A fuzz harness reports a broken invariant by panicking; that is its whole purpose.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::LazyLock;

use carkey_protocol::codec::{
    self, Assembled, CommandApdu, Fields, MAX_DEPTH, Node, ResponseApdu, ResponseAssembler, ResponseChunker, StatusWord,
};
use carkey_protocol::crypto::keys::EphemeralKeyPair;
use carkey_protocol::crypto::{Secret32, SigningKeyPair};
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::loopback;
use carkey_protocol::mailbox::{self, ExchangeRequest, MailboxId, MailboxOp, Mailboxes};
use carkey_protocol::messages::{
    Auth0Command, Auth0Flow, Auth0Response, Auth1Command, Auth1Response, ControlFlow, ControlFlowStatus,
    CryptogramPlaintext, SelectResponse,
};
use carkey_protocol::reader::{
    self, KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, Step, TransactionKind,
    TransactionPlan,
};

/// One fuzz target: its name (the cargo-fuzz binary and corpus directory), its harness
/// and the generator of its seed corpus.
#[derive(Clone, Copy)]
pub struct Target {
    /// Binary and corpus directory name.
    pub name: &'static str,
    /// The harness.
    pub run: fn(&[u8]),
    /// Seed inputs: real protocol messages in this target's input format.
    pub seeds: fn() -> Vec<Vec<u8>>,
}

/// Every target, for the corpus replay test.
pub const TARGETS: [Target; 3] = [
    Target { name: "apdu_tlv", run: apdu_tlv, seeds: apdu_tlv_seeds },
    Target { name: "reader_responses", run: reader_responses, seeds: reader_responses_seeds },
    Target { name: "reader_vs_endpoint", run: reader_vs_endpoint, seeds: reader_vs_endpoint_seeds },
];

// ---------------------------------------------------------------------------------------
// apdu_tlv: every decoder of untrusted bytes, with round-trip invariants.
// ---------------------------------------------------------------------------------------

/// Feeds `data` to the TLV, APDU, chaining, message and mailbox decoders. None may
/// panic, and whatever decodes must survive a re-encoding unchanged.
pub fn apdu_tlv(data: &[u8]) {
    tlv_invariants(data);
    command_apdu_invariants(data);
    response_apdu_invariants(data);
    chaining_invariants(data);
    message_invariants(data);
    mailbox_invariants(data);
}

fn tlv_invariants(data: &[u8]) {
    let mut consumed = 0usize;
    let mut failed = false;
    let mut tags = HashSet::new();
    let mut unique = true;
    for item in codec::tlv::iter(data) {
        let Ok(tlv) = item else {
            failed = true;
            continue;
        };
        // `raw` is exactly the next bytes of the input and ends with the value.
        let end = consumed + tlv.raw.len();
        assert_eq!(data.get(consumed..end), Some(tlv.raw), "raw is not the consumed input");
        assert!(tlv.raw.ends_with(tlv.value), "value is not the tail of raw");
        consumed = end;
        unique &= tags.insert(tlv.tag);

        // Re-encoding decodes to the same TLV, and minimal encoding is never longer.
        let mut encoded = Vec::new();
        codec::tlv::encode(tlv.tag, tlv.value, &mut encoded);
        let again: Vec<_> = codec::tlv::iter(&encoded).collect();
        assert_eq!(again.len(), 1, "re-encoded TLV is not one TLV");
        if let Some(Ok(t)) = again.first() {
            assert_eq!((t.tag, t.value, t.raw), (tlv.tag, tlv.value, &encoded[..]));
        } else {
            panic!("re-encoded TLV {} does not decode: {again:?}", tlv.tag);
        }
        assert!(encoded.len() <= tlv.raw.len(), "minimal encoding is longer than the input");
    }
    if !failed {
        assert_eq!(consumed, data.len(), "iterator stopped early without an error");
    }

    // A tree decodes only if the flat sequence does, and covers the input exactly.
    if let Ok(tree) = codec::parse_tree(data, MAX_DEPTH) {
        assert!(!failed, "parse_tree accepted what iter rejected");
        assert_eq!(concat_raw(&tree), data);
        check_tree(&tree, MAX_DEPTH);
    }

    // Fields accepts exactly the well-formed inputs with unique tags.
    match Fields::parse(data) {
        Ok(fields) => {
            assert!(!failed && unique, "Fields accepted a malformed or repeated TLV");
            for tlv in codec::tlv::iter(data).flatten() {
                assert_eq!(fields.get_tlv(tlv.tag), Some(tlv));
            }
            assert_eq!(fields.tags().count(), tags.len());
        }
        Err(err) => assert!(failed || !unique, "Fields rejected a valid unique TLV sequence: {err}"),
    }
}

fn concat_raw(nodes: &[Node<'_>]) -> Vec<u8> {
    nodes.iter().flat_map(|n| n.tlv.raw.iter().copied()).collect()
}

fn check_tree(nodes: &[Node<'_>], depth_left: usize) {
    assert!(depth_left > 0 || nodes.is_empty(), "tree deeper than allowed");
    for node in nodes {
        if node.tlv.tag.is_constructed() {
            assert_eq!(concat_raw(&node.children), node.tlv.value, "children do not cover the value");
            check_tree(&node.children, depth_left.saturating_sub(1));
        } else {
            assert!(node.children.is_empty(), "primitive TLV with children");
        }
    }
}

fn command_apdu_invariants(data: &[u8]) {
    if let Ok(command) = CommandApdu::decode(data) {
        // Whatever decodes is encodable, decodes back to itself, and the encoder picks
        // a form no longer than the one received.
        let encoded = match command.encode() {
            Ok(encoded) => encoded,
            Err(err) => panic!("decoded command does not encode: {err}: {command:?}"),
        };
        assert_eq!(CommandApdu::decode(&encoded).as_ref(), Ok(&command), "command round trip");
        assert!(encoded.len() <= data.len(), "re-encoded command is longer than the input");
    }

    // The other direction: any data and Le the encoder accepts decode back.
    let (le_bytes, payload) = data.split_first_chunk::<2>().map_or((&[0, 0], data), |(le, rest)| (le, rest));
    let le = match u16::from_be_bytes(*le_bytes) {
        0 => None,
        le => Some(usize::from(le)),
    };
    let command = CommandApdu { cla: 0x80, ins: 0x10, p1: 0x01, p2: 0x02, data: payload.to_vec(), le };
    match command.encode() {
        Ok(encoded) => assert_eq!(CommandApdu::decode(&encoded).as_ref(), Ok(&command), "built command round trip"),
        Err(err) => panic!("command with {} data bytes and Le {le:?} does not encode: {err}", payload.len()),
    }
}

fn response_apdu_invariants(data: &[u8]) {
    match ResponseApdu::decode(data) {
        Ok(response) => assert_eq!(response.encode(), data, "response round trip"),
        Err(_) => assert!(data.len() < 2, "a response of {} bytes was rejected", data.len()),
    }
}

/// Splits `data[1..]` with the endpoint's chunker (Le = `data[0]`, 0 meaning 256) and
/// reassembles it with the reader's assembler.
fn chaining_invariants(data: &[u8]) {
    let Some((&le, payload)) = data.split_first() else {
        return;
    };
    let original = ResponseApdu::ok(payload.to_vec());
    let mut chunker = ResponseChunker::new();
    let mut assembler = ResponseAssembler::new(reader::MAX_RESPONSE_LEN);
    let mut response = chunker.respond(original.clone(), usize::from(le));
    // Every round moves at least one byte, so this bounds an honest transfer.
    for _ in 0..=payload.len() + 1 {
        match assembler.feed(response) {
            Ok(Assembled::Complete(full)) => {
                assert_eq!(full, original, "chained response reassembled wrongly");
                assert!(!chunker.has_pending(), "chunker still has data after the last part");
                return;
            }
            Ok(Assembled::NeedMore(get_response)) => {
                assert!(get_response.encode().is_ok(), "GET RESPONSE does not encode");
                let Some(next_le) = get_response.le else {
                    panic!("GET RESPONSE without Le");
                };
                response = chunker.get_response(next_le);
            }
            Err(err) => {
                // A well-behaved peer (256-byte parts) within the size limit must get through.
                assert!(
                    le != 0 || payload.len() > reader::MAX_RESPONSE_LEN,
                    "honest chained response of {} bytes refused: {err}",
                    payload.len()
                );
                return;
            }
        }
    }
    panic!("chained transfer of {} bytes with Le {le} did not finish", payload.len());
}

fn message_invariants(data: &[u8]) {
    if let Ok(select) = SelectResponse::parse(data) {
        let _ = select.choose_version();
        assert_eq!(SelectResponse::parse(&select.encode()).as_ref(), Ok(&select), "SELECT response round trip");
    }
    if let Ok(auth0) = Auth0Command::parse(data) {
        assert_eq!(Auth0Command::parse(&auth0.to_apdu().data).as_ref(), Ok(&auth0), "AUTH0 command round trip");
    }
    if let Ok(auth0) = Auth0Response::parse(data) {
        assert_eq!(Auth0Response::parse(&auth0.encode()).as_ref(), Ok(&auth0), "AUTH0 response round trip");
    }
    if let Ok(auth1) = Auth1Command::parse(data) {
        assert_eq!(Auth1Command::parse(&auth1.to_apdu().data).as_ref(), Ok(&auth1), "AUTH1 command round trip");
    }
    if let Ok(auth1) = Auth1Response::parse(data) {
        assert_eq!(Auth1Response::parse(&auth1.encode()).as_ref(), Ok(&auth1), "AUTH1 response round trip");
    }
    if let Ok(content) = CryptogramPlaintext::parse(data) {
        let encoded = content.encode();
        assert_eq!(encoded.len(), 48, "cryptogram plaintext must be 48 bytes");
        assert_eq!(CryptogramPlaintext::parse(&encoded), Ok(content), "cryptogram plaintext round trip");
    }
    if let Ok(control) = ControlFlow::parse(data) {
        assert_eq!(ControlFlow::parse(&control.to_apdu().data), Ok(control), "CONTROL FLOW round trip");
    }
}

fn mailbox_invariants(data: &[u8]) {
    let _ = mailbox::parse_reads(data, &exchange_request());
    let Ok(request) = ExchangeRequest::parse(data) else {
        return;
    };
    assert!(
        (1..=mailbox::MAX_OPERATIONS).contains(&request.ops.len()),
        "request with {} operations accepted",
        request.ops.len()
    );
    assert_eq!(ExchangeRequest::parse(&request.encode()).as_ref(), Ok(&request), "EXCHANGE request round trip");

    // Applying it, as the endpoint would: reads come back with the requested sizes, and
    // an atomic request that fails changes nothing.
    let before = Mailboxes::default();
    let mut after = before.clone();
    match after.apply(&request) {
        Ok(reads) => {
            assert!(reads.iter().map(Vec::len).eq(request.read_lengths()), "read sizes differ from the request");
            assert_eq!(mailbox::parse_reads(&mailbox::encode_reads(&reads), &request), Ok(reads));
        }
        Err(_) if request.atomic => assert_eq!(after, before, "failed atomic request changed a mailbox"),
        Err(_) => {}
    }
}

// ---------------------------------------------------------------------------------------
// The fixed vehicle and phone of the state-machine targets.
// ---------------------------------------------------------------------------------------

/// The vehicle's long-term private key.
const VEHICLE_PRIVATE: [u8; 32] = [0x11; 32];
/// The enrolled phone key that the endpoint of `reader_vs_endpoint` holds.
const ENDPOINT_PRIVATE: [u8; 32] = [0x22; 32];
/// A second enrolled key that no endpoint here holds (the fast search tries it first).
const DECOY_PRIVATE: [u8; 32] = [0x33; 32];
/// The reader's ephemeral private key: every session is deterministic on its side.
const READER_EPHEMERAL_PRIVATE: [u8; 32] = [0x44; 32];
const TRANSACTION_ID: [u8; 16] = [0x55; 16];
const K_PERSISTENT: [u8; 32] = [0x66; 32];
const DECOY_K_PERSISTENT: [u8; 32] = [0x77; 32];
const GROUP_ID: [u8; 16] = [0x0A; 16];
const SLOT: KeySlot = KeySlot([0x07; 8]);
const DECOY_SLOT: KeySlot = KeySlot([0x09; 8]);
const SIGNALING: u16 = 0x0005;

/// A vehicle with two enrolled keys that both have a K_persistent, and the credential
/// one phone holds for it.
struct Fixture {
    config: ReaderConfig,
    directory: MemoryDirectory,
    credential: Credential,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let vehicle_key = SigningKeyPair::from_private_bytes(&VEHICLE_PRIVATE).expect("valid vehicle key");
    let endpoint_key = SigningKeyPair::from_private_bytes(&ENDPOINT_PRIVATE).expect("valid endpoint key");
    let decoy_key = SigningKeyPair::from_private_bytes(&DECOY_PRIVATE).expect("valid decoy key");

    let mut reader_id = [0xC0; 32];
    if let Some(group) = reader_id.first_chunk_mut::<16>() {
        *group = GROUP_ID;
    }
    let mut directory = MemoryDirectory::new();
    directory.enroll(SLOT, endpoint_key.public().clone());
    directory.enroll(DECOY_SLOT, decoy_key.public().clone());
    directory.record_use(SLOT, Some(Secret32::new(K_PERSISTENT)));
    directory.record_use(DECOY_SLOT, Some(Secret32::new(DECOY_K_PERSISTENT)));

    let mut credential = Credential::new(GROUP_ID, vehicle_key.public().clone(), endpoint_key, SLOT.0);
    credential.signaling = SIGNALING;
    let fill = ExchangeRequest {
        ops: vec![
            MailboxOp::Write { mailbox: MailboxId::Private, offset: 0, data: (0x80..0xA0).collect() },
            MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 0, data: (0x20..0x60).collect() },
        ],
        atomic: true,
    };
    credential.mailboxes.apply(&fill).expect("fixture mailbox writes are in range");

    Fixture { config: ReaderConfig { vehicle_key, reader_id, policy: 0x01 }, directory, credential }
});

/// The mailbox operations of plans that ask for an EXCHANGE.
fn exchange_request() -> ExchangeRequest {
    ExchangeRequest {
        ops: vec![
            MailboxOp::Read { mailbox: MailboxId::Private, offset: 0, len: 16 },
            MailboxOp::Read { mailbox: MailboxId::Confidential, offset: 8, len: 32 },
            MailboxOp::Set { mailbox: MailboxId::Private, offset: 512, len: 8, value: 0xEE },
        ],
        atomic: true,
    }
}

/// What the honest endpoint's mailboxes answer to [`exchange_request`].
fn expected_reads(credential: &Credential) -> Vec<Vec<u8>> {
    let mut mailboxes = credential.mailboxes.clone();
    mailboxes.apply(&exchange_request()).expect("fixture reads are in range")
}

/// Bit 0 of the plan byte: fast (1) or standard (0). Bit 1: with an EXCHANGE.
fn plan(selector: u8) -> TransactionPlan {
    let plan = if selector & 1 == 0 { TransactionPlan::standard() } else { TransactionPlan::fast() };
    if selector & 2 == 0 { plan } else { plan.with_exchange(exchange_request()) }
}

fn prepared() -> PreparedTransaction {
    let ephemeral = EphemeralKeyPair::from_private_bytes(&READER_EPHEMERAL_PRIVATE).expect("valid ephemeral key");
    PreparedTransaction::from_parts(ephemeral, TRANSACTION_ID)
}

/// The phone: holds the fixture credential, and K_persistent for the vehicle if asked.
fn endpoint(with_context: bool) -> Endpoint {
    let mut endpoint = Endpoint::new();
    endpoint.add_credential(FIXTURE.credential.clone());
    if with_context {
        endpoint.contexts().insert(GROUP_ID, Secret32::new(K_PERSISTENT));
    }
    endpoint
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

// ---------------------------------------------------------------------------------------
// reader_responses: the reader state machine against arbitrary responses.
// ---------------------------------------------------------------------------------------

/// Splits `len(1) ‖ bytes` records; a length beyond the end takes what is left.
fn split_responses(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let (response, tail) = tail.split_at_checked(usize::from(len)).unwrap_or((tail, &[]));
        rest = tail;
        Some(response)
    })
}

/// Runs a reader session on the responses in `data` (see the module docs for the
/// format), answering an authentication or a failure with CONTROL FLOW as the daemon
/// would, until it errs, finishes or the input runs out.
pub fn reader_responses(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let fixture = &*FIXTURE;
    let mut session = ReaderSession::new(&fixture.config, prepared(), plan(selector));
    assert!(session.start().is_ok(), "a new session must start");
    let mut responses = split_responses(rest);
    while let Some(response) = responses.next() {
        match session.handle_response(response, &fixture.directory) {
            Ok(Step::Transmit(command)) => {
                assert!(CommandApdu::decode(&command).is_ok(), "the reader sent a malformed command");
            }
            Ok(Step::Authenticated(outcome)) => {
                // Only reachable with the endpoint's keys (i.e. from seeds that replay a
                // real transaction); the decision is the daemon's, so exercise both.
                // Bit 2 of the signaling bitmap: exercise a follow-up EXCHANGE first.
                if outcome.signaling & 2 != 0 {
                    let command = session.exchange(carkey_protocol::attestation::private_mailbox::read_termination());
                    assert!(command.is_ok(), "no follow-up EXCHANGE after authentication");
                    continue;
                }
                let status =
                    if outcome.signaling & 1 == 0 { ControlFlowStatus::Success } else { ControlFlowStatus::Denied };
                assert!(session.control_flow(status, 0).is_some(), "no CONTROL FLOW after authentication");
            }
            Ok(Step::MailboxData(_)) => {
                assert!(
                    session.control_flow(ControlFlowStatus::Success, 0).is_some(),
                    "no CONTROL FLOW after EXCHANGE"
                );
            }
            Ok(Step::Unenrolled(_)) => {
                assert!(
                    session.control_flow(ControlFlowStatus::Denied, 0).is_some(),
                    "no CONTROL FLOW when unenrolled"
                );
            }
            Ok(Step::Finished) => {
                assert!(session.is_over(), "finished session is not over");
                return;
            }
            Err(_) => {
                // Either the endpoint can be told (and its acknowledgement ends the
                // session), or the session is over.
                match session.control_flow(ControlFlowStatus::Failure, 0x01) {
                    Some(_) => {
                        if let Some(ack) = responses.next() {
                            let _ = session.handle_response(ack, &fixture.directory);
                        }
                    }
                    None => assert!(session.is_over(), "failed session neither over nor decided"),
                }
                return;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// reader_vs_endpoint: a real transaction with bytes flipped on the way to the reader.
// ---------------------------------------------------------------------------------------

/// One `(response index, byte offset, xor)` triple.
#[derive(Clone, Copy, Debug)]
struct Flip {
    index: usize,
    offset: usize,
    xor: u8,
}

/// Runs a real reader against a real endpoint holding a key (and a fast context) for
/// the vehicle, XOR-ing bytes of the endpoint's responses as the input says: byte 0
/// picks the plan, then each `(index, offset, xor)` triple flips `response[index]` at
/// `offset % len` (indices count responses from 0, modulo 4, as `loopback::run_with`
/// does). All responses reach the reader before it decides, so every flip is "before
/// the authentication decision".
///
/// Invariants asserted:
///
/// 1. No flip changed anything ⇒ the transaction succeeds, fast whenever fast was asked.
/// 2. Success ⇒ the reader learned the truth: the enrolled slot, the endpoint's key,
///    its signaling bitmap and its real mailbox contents.
/// 3. Success ⇒ every response that a flip changed was changed in a way the protocol
///    lets through, which is exactly:
///    * SELECT (index 0): the status word is intact and the parsed FCI is identical,
///      including the byte-exact `A5` TLV that the key schedule hashes. (The reader
///      ignores unknown FCI tags and the DF name is optional, so e.g. a retagged `84`
///      is harmless.)
///    * AUTH0 (index 1): the status word, the ephemeral key's x coordinate (all that
///      the ECDH and the transcript use) and the vendor extension are intact; the
///      cryptogram may differ only if the outcome is a standard transaction, since a
///      cryptogram that does not open legitimately falls back to the standard flow.
///    * Nothing else: AUTH1 and EXCHANGE responses are sealed on the secure channel.
pub fn reader_vs_endpoint(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let flips: Vec<Flip> = rest
        .chunks_exact(3)
        .filter_map(|triple| match *triple {
            [index, offset, xor] => Some(Flip { index: usize::from(index % 4), offset: usize::from(offset), xor }),
            _ => None,
        })
        .collect();

    let fixture = &*FIXTURE;
    let plan = plan(selector);
    let mut phone = endpoint(true);
    let mut session = ReaderSession::new(&fixture.config, prepared(), plan.clone());
    // (as sent by the endpoint, as delivered to the reader), per response index.
    let mut log: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let result = loopback::run_with(&mut session, &mut phone, &fixture.directory, &mut rng(), |index, response| {
        let original = response.clone();
        for flip in flips.iter().filter(|f| f.index == index) {
            let len = response.len();
            if let Some(byte) = response.get_mut(flip.offset.checked_rem(len).unwrap_or(0)) {
                *byte ^= flip.xor;
            }
        }
        log.push((original, response.clone()));
    });

    let changed: Vec<usize> = log.iter().enumerate().filter(|(_, (sent, got))| sent != got).map(|(i, _)| i).collect();
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(err) => {
            assert!(!changed.is_empty(), "untampered transaction failed: {err}");
            return;
        }
    };

    if plan.flow == Auth0Flow::Standard {
        assert_eq!(outcome.kind, TransactionKind::Standard, "standard plan ended in a fast transaction");
    } else if changed.is_empty() {
        assert_eq!(outcome.kind, TransactionKind::Fast, "untampered fast transaction fell back to standard");
    }
    let credential = &fixture.credential;
    assert_eq!(outcome.slot, SLOT, "wrong slot");
    assert_eq!(&outcome.endpoint, credential.endpoint_key.public(), "wrong endpoint key");
    assert_eq!(outcome.signaling, SIGNALING, "wrong signaling bitmap");
    let reads = if plan.exchange.is_some() { expected_reads(credential) } else { Vec::new() };
    assert_eq!(outcome.mailbox_reads, reads, "wrong mailbox contents");
    match outcome.kind {
        TransactionKind::Standard => {
            assert_eq!(outcome.reported_key_slot, Some(SLOT.0), "wrong reported key slot");
            assert!(outcome.new_k_persistent.is_some(), "standard transaction without K_persistent");
        }
        TransactionKind::Fast => assert!(outcome.new_k_persistent.is_none(), "fast transaction rotated K_persistent"),
    }

    for index in changed {
        let Some((sent, got)) = log.get(index) else {
            continue;
        };
        assert!(
            harmless_change(index, sent, got, outcome.kind),
            "reader accepted a {:?} transaction although response {index} was altered:\n  sent {}\n  got  {}",
            outcome.kind,
            hex(sent),
            hex(got),
        );
    }
}

/// Whether delivering `got` instead of `sent` as response `index` may still end in a
/// successful `kind` transaction (rule 3 of [`reader_vs_endpoint`]).
fn harmless_change(index: usize, sent: &[u8], got: &[u8], kind: TransactionKind) -> bool {
    let (Ok(sent), Ok(got)) = (ResponseApdu::decode(sent), ResponseApdu::decode(got)) else {
        return false;
    };
    if sent.sw != got.sw || sent.sw != StatusWord::OK {
        return false;
    }
    match index {
        0 => matches!(
            (SelectResponse::parse(&sent.data), SelectResponse::parse(&got.data)),
            (Ok(a), Ok(b)) if a == b
        ),
        1 => matches!(
            (Auth0Response::parse(&sent.data), Auth0Response::parse(&got.data)),
            (Ok(a), Ok(b)) if a.endpoint_ephemeral.x() == b.endpoint_ephemeral.x()
                && a.vendor_extension == b.vendor_extension
                && (a.cryptogram == b.cryptogram || kind == TransactionKind::Standard)
        ),
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

// ---------------------------------------------------------------------------------------
// Seed corpora: real messages, in each target's input format.
// ---------------------------------------------------------------------------------------

/// Every command and response of one transaction driven to its end (CONTROL FLOW and
/// its acknowledgement included).
struct Recording {
    commands: Vec<Vec<u8>>,
    responses: Vec<Vec<u8>>,
}

fn record(selector: u8, phone: &mut Endpoint) -> Recording {
    let fixture = &*FIXTURE;
    let mut session = ReaderSession::new(&fixture.config, prepared(), plan(selector));
    let mut rng = rng();
    let mut recording = Recording { commands: Vec::new(), responses: Vec::new() };
    let mut next = session.start().ok();
    while let Some(command) = next.take() {
        let response = phone.process(&command, &mut rng);
        next = match session.handle_response(&response, &fixture.directory) {
            Ok(Step::Transmit(command)) => Some(command),
            Ok(Step::Authenticated(_)) => session.control_flow(ControlFlowStatus::Success, 0),
            Ok(Step::Unenrolled(_)) => session.control_flow(ControlFlowStatus::Denied, 0),
            Ok(Step::MailboxData(_)) => session.control_flow(ControlFlowStatus::Success, 0),
            Ok(Step::Finished) => None,
            Err(_) => session.control_flow(ControlFlowStatus::Failure, 0x01),
        };
        recording.commands.push(command);
        recording.responses.push(response);
        if recording.commands.len() >= 16 {
            break;
        }
    }
    phone.field_off();
    recording
}

/// The transactions the seeds are taken from: every plan against a phone with a fast
/// context, fast plans against one without (fallback to standard), and a phone with no
/// key for this vehicle.
fn recordings() -> Vec<(u8, Recording)> {
    let mut recordings = Vec::new();
    for selector in 0..4 {
        recordings.push((selector, record(selector, &mut endpoint(true))));
    }
    for selector in [1, 3] {
        recordings.push((selector, record(selector, &mut endpoint(false))));
    }
    recordings.push((3, record(3, &mut Endpoint::new())));
    recordings
}

fn apdu_tlv_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (_, recording) in recordings() {
        for bytes in recording.commands.iter().chain(&recording.responses) {
            seeds.push(bytes.clone());
            // The data fields alone, which the message parsers expect.
            if let Ok(command) = CommandApdu::decode(bytes) {
                seeds.push(command.data);
            }
            if let Ok(response) = ResponseApdu::decode(bytes) {
                seeds.push(response.data);
            }
        }
    }
    seeds.push(
        CryptogramPlaintext { signaling: SIGNALING, credential_timestamp: [1; 20], revocation_timestamp: [2; 20] }
            .encode(),
    );
    seeds.push(exchange_request().encode());
    seeds.push(mailbox::encode_reads(&expected_reads(&FIXTURE.credential)));
    // A chained transfer: Le 16 over 100 bytes.
    seeds.push([&[0x10][..], &[0x5A; 100]].concat());
    dedup(seeds)
}

fn reader_responses_seeds() -> Vec<Vec<u8>> {
    let seeds = recordings()
        .into_iter()
        .map(|(selector, recording)| {
            let mut seed = vec![selector];
            for response in &recording.responses {
                let len = u8::try_from(response.len()).expect("responses fit the one-byte length");
                seed.push(len);
                seed.extend_from_slice(response);
            }
            seed
        })
        .collect();
    dedup(seeds)
}

fn reader_vs_endpoint_seeds() -> Vec<Vec<u8>> {
    vec![
        // Clean transactions, every plan.
        vec![0],
        vec![1],
        vec![2],
        vec![3],
        // A flipped cryptogram byte: fast falls back to standard.
        vec![1, 1, 100, 0x01],
        // A flipped A5 byte in the SELECT response, a flipped AUTH1 response byte.
        vec![3, 0, 20, 0x80],
        vec![0, 2, 50, 0x01],
        // A retagged DF name (84 → 85): harmless.
        vec![1, 0, 2, 0x01],
    ]
}

fn dedup(mut seeds: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    seeds.sort();
    seeds.dedup();
    seeds.retain(|s| !s.is_empty());
    seeds
}
