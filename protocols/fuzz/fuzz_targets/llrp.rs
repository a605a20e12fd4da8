#![no_main]
// Fuzz target for llrp: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
