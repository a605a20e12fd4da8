//! Decoder throughput on a file: the figure the peer-comparison scripts in `bench/` put
//! beside csiread's, llrpkit's and sllurp's.
//!
//! `cargo run --release -p dagr-protocols --example throughput -- FORMAT FILE [RUNS]`
//! reads FILE into memory, decodes it RUNS times (default 5) through the streaming decoder,
//! and prints one JSON line: `{"records": N, "bytes": B, "median_s": S}`.
use std::time::Instant;

use dagr_protocols::csi::{esp32_csi_tool, esp_csi, intel5300};
use dagr_protocols::stream::{decode_all, StreamDecoder};
use dagr_protocols::{llrp, node, ti_mmwave};

fn count<D: StreamDecoder>(mut decoder: D, input: &[u8]) -> u64 {
    let mut n = 0u64;
    decode_all(&mut decoder, input, |item| {
        std::hint::black_box(&item);
        n += 1;
    });
    n
}

fn decode_once(format: &str, input: &[u8]) -> Result<u64, String> {
    Ok(match format {
        "ti-mmwave" => count(ti_mmwave::FrameDecoder::new(), input),
        "esp32-csi" => count(esp32_csi_tool::RowDecoder::new(), input),
        "esp-csi" => count(esp_csi::RowDecoder::new(), input),
        "intel5300" => count(intel5300::BfeeDecoder::new(), input),
        "llrp" => count(llrp::MessageDecoder::new(), input),
        "node" => count(node::FrameDecoder::new(), input),
        other => return Err(format!("unknown format {other:?}")),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: throughput FORMAT FILE [RUNS]");
        std::process::exit(2);
    }
    let input = std::fs::read(&args[1]).unwrap_or_else(|e| {
        eprintln!("throughput: cannot read {}: {e}", args[1]);
        std::process::exit(2)
    });
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let mut times = Vec::with_capacity(runs);
    let mut records = 0;
    for _ in 0..runs {
        let start = Instant::now();
        records = decode_once(&args[0], &input).unwrap_or_else(|e| {
            eprintln!("throughput: {e}");
            std::process::exit(2)
        });
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"records\": {records}, \"bytes\": {}, \"median_s\": {median:.6}}}",
        input.len()
    );
}
