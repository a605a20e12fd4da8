#![no_main]
// Fuzz target for ti_mmwave: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
