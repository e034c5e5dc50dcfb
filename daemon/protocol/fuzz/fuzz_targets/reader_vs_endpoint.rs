//! A real reader/endpoint transaction with fuzzer-chosen bytes flipped in transit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| carkey_protocol_fuzz::harness::reader_vs_endpoint(data));
