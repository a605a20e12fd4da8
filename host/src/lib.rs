//! dagr-host: the gateway side of dagr-edge.
//!
//! Device bytes come in through [`source`]s (or a replayed [`capture`]), are decoded by the
//! [`format`](mod@format) table's decoders into [`record::Record`]s, mapped onto gateway time by
//! [`clock`] models and cut into windows by the [`sync`]hronizer — one [`pipeline`] that
//! record, replay, dataset export and (next) `dagr run` share — then [`preprocess`]ed into
//! tensors. The [`runtime`] starts and supervises sources and feeds their [`events`] to a
//! sink (the capture recorder today). [`print`](mod@print) shows decoded units as JSON lines,
//! [`classes`] is the label vocabulary, [`dataset`] exports training data, [`sim`] is the
//! digital twin.
//!
//! ARCHITECTURE.md at the repository root draws the flow, says what each module must not
//! know, and where new work goes; `tests/integration/architecture.rs` checks that imports point down
//! the flow only.
// One module allows it: the WiFi phase rows' four-lane loops (`preprocess::phase_rows`),
// whose intrinsics load and store through pointers behind a run-time processor check.
#![deny(unsafe_code)]

pub mod adapt;
pub mod capture;
pub mod classes;
pub mod clock;
pub mod config;
pub mod dataset;
pub mod errors;
pub mod events;
pub mod format;
pub mod http;
pub mod online;
pub mod output;
pub mod pipeline;
pub mod preprocess;
pub mod print;
pub mod recognize;
pub mod record;
pub mod runtime;
#[cfg(feature = "sim")]
pub mod sim_capture;
pub mod source;
pub mod status;
pub mod sync;
