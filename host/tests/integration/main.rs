//! The gateway's integration tests, one module per former test file, built as one binary
//! (each test binary links all of dagr-host: one link instead of fourteen).
//! `cargo test -p dagr-host --test integration [MODULE::]`. The live virtual-device tests
//! (`sim_serve.rs`, devices paced by the wall clock) stay a binary of their own, so the
//! CPU-heavy tests here cannot slow their devices below the rates they check.
mod adapt_cli;
mod adapt_package;
mod architecture;
mod capture_crash;
mod capture_damage;
mod capture_replay;
mod capture_support;
mod cli;
mod dataset_export;
mod decode_esp32_csi;
mod decode_esp_csi;
mod decode_intel5300;
mod decode_llrp;
mod decode_node;
mod decode_ti_mmwave;
mod disk_full;
mod outputs;
mod preprocess_formats;
mod sim_capture;
mod sim_devices;
mod sim_realism;
mod speed_floors;
mod xrf55_loader;
