//! dagr-host: the gateway side of dagr-edge.
//!
//! It composes the pieces: device bytes come in through sources, are decoded by
//! `dagr-protocols`, and leave as records, windows and predictions. One module per stage
//! of the data flow in DESIGN.md, so a reader can follow a record by module name. Today:
//! [`decode`], which turns a recorded byte stream of any supported format into JSON
//! lines or a human summary (`dagr decode`).
#![forbid(unsafe_code)]

pub mod decode;
