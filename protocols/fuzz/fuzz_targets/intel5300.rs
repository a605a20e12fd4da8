#![no_main]
// Fuzz target for intel5300: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
