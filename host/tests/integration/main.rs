//! The gateway's integration tests, one module per former test file, built as one binary
//! (each test binary links all of dagr-host: one link instead of fourteen).
//! `cargo test -p dagr-host --test integration [MODULE::]`. The live virtual-device tests
//! (`sim_serve.rs`, devices paced by the wall clock) stay a binary of their own, so the
//! CPU-heavy tests here cannot slow their devices below the rates they check.
//!
//! Modules that run the simulator (`dagr sim`, or `dagr-sim` itself) build only with the
//! `sim` feature (on by default); `--no-default-features` runs the rest.
#[cfg(feature = "sim")]
mod adapt_cli;
mod adapt_package;
mod architecture;
#[cfg(feature = "sim")]
mod capture_crash;
#[cfg(feature = "sim")]
mod capture_damage;
mod capture_replay;
mod capture_support;
mod cli;
#[cfg(feature = "sim")]
mod dataset_export;
mod decode_esp32_csi;
mod decode_esp_csi;
mod decode_intel5300;
mod decode_llrp;
mod decode_node;
mod decode_ti_mmwave;
#[cfg(feature = "sim")]
mod disk_full;
#[cfg(feature = "sim")]
mod outputs;
#[cfg(feature = "sim")]
mod preprocess_formats;
#[cfg(feature = "sim")]
mod sim_capture;
#[cfg(feature = "sim")]
mod sim_devices;
#[cfg(feature = "sim")]
mod sim_ht40;
#[cfg(feature = "sim")]
mod sim_realism;
#[cfg(feature = "sim")]
mod speed_floors;
mod support;
mod xrf55_loader;
