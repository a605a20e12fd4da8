//! End-to-end tests across crates (real serial links, the LLRP emulator, the Python peers),
//! one module per former test file, built as one binary (one link of dagr-host instead of
//! nine). `cargo test -p dagr-tests --test end_to_end [MODULE::]`.
mod dataset_values;
mod e2e_llrp;
mod e2e_node;
mod e2e_ti_mmwave;
mod esp32_csi_peers;
mod failures_said;
mod firmware_qemu;
mod http_status;
mod intel5300_peers;
mod live_guard;
mod live_noise;
mod live_outage;
mod llrp_peers;
mod llrp_source;
mod node_peers;
mod online_adapt;
mod recognize_parity;
mod serial_sources;
