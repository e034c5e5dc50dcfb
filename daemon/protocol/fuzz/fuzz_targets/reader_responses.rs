//! The reader state machine fed arbitrary responses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| carkey_protocol_fuzz::harness::reader_responses(data));
