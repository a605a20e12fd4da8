//! dagr-host: the gateway side of dagr-edge.
//!
//! It composes the pieces: device bytes come in through [`source`]s, are decoded by
//! `dagr-protocols` into [`record::Record`]s ([`ingest`]), and leave as records, windows
//! and predictions. One module per stage of the data flow in DESIGN.md, so a reader can
//! follow a record by module name. [`decode`] is `dagr decode`: a recorded byte stream of
//! any supported format to JSON lines or a human summary.
#![forbid(unsafe_code)]

pub mod capture;
pub mod classes;
pub mod clock;
pub mod dataset;
pub mod events;
pub mod format;
pub mod pipeline;
pub mod preprocess;
pub mod print;
pub mod record;
pub mod runtime;
pub mod sim;
pub mod source;
pub mod sync;
