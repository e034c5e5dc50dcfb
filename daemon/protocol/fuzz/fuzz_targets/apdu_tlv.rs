//! TLV, APDU, chaining, message and mailbox decoders on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| carkey_protocol_fuzz::harness::apdu_tlv(data));
