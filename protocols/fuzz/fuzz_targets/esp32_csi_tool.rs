#![no_main]
// Fuzz target for esp32_csi_tool: being written.
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
