#![no_main]
// Fuzz target for node: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
