#![no_main]
// Fuzz target for esp_csi: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
