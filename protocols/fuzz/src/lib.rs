//! What every fuzz target shares: a count of the inputs that decoded to at least one
//! record, so that a run which never reaches the round trips (`parse(emit(x)) == x`) is
//! visible, and CI can fail it.
//!
//! With `DAGR_FUZZ_REPORT` unset nothing is printed. With `DAGR_FUZZ_REPORT=1` a line
//!
//! ```text
//! dagr-fuzz: <n> inputs decoded to a record
//! ```
//!
//! goes to stderr each time `n` reaches a power of two (cheap enough to leave on during a
//! timed run; the last line is a lower bound within a factor of two). With
//! `DAGR_FUZZ_REPORT=every` the line is printed for every such input, so the last one is
//! the exact count (for measuring a corpus with `-runs=0`).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Inputs so far that decoded to at least one record.
static DECODED_INPUTS: AtomicU64 = AtomicU64::new(0);

/// How much to print, read once from `DAGR_FUZZ_REPORT`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Report {
    Quiet,
    PowersOfTwo,
    Every,
}

fn report_mode() -> Report {
    static MODE: OnceLock<Report> = OnceLock::new();
    *MODE.get_or_init(|| match std::env::var("DAGR_FUZZ_REPORT").as_deref() {
        Ok("every") => Report::Every,
        Ok(v) if !v.is_empty() && v != "0" => Report::PowersOfTwo,
        _ => Report::Quiet,
    })
}

/// Called once at the end of every fuzz input with the number of records it decoded (and
/// round-tripped); counts the input when that number is not zero.
pub fn input_done(records: u64) {
    if records == 0 {
        return;
    }
    let n = DECODED_INPUTS.fetch_add(1, Ordering::Relaxed) + 1;
    let print = match report_mode() {
        Report::Quiet => false,
        Report::PowersOfTwo => n.is_power_of_two(),
        Report::Every => true,
    };
    if print {
        eprintln!("dagr-fuzz: {n} inputs decoded to a record");
    }
}
