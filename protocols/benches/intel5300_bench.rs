//! Criterion benchmark of the Intel 5300 `.dat` decoder, to be included by `benches/csi.rs`
//! (`#[path = "intel5300_bench.rs"] mod intel5300_bench;` and `bench_intel5300` in its group).
use criterion::{black_box, Criterion, Throughput};
use dagr_protocols::csi::intel5300::{Bfee, BfeeDecoder};
use dagr_protocols::csi::Iq;
use dagr_protocols::stream::{decode_all, decode_chunk, StreamDecoder};

/// A `.dat` stream as `log_to_file` writes it on a typical 5300 setup: `records` bfee
/// records, 3 receive chains and 1 stream (every tenth with 2 streams), counters and clock
/// advancing, CSI varying.
pub fn intel5300_stream(records: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(records * 300);
    for i in 0..records {
        let ntx = if i % 10 == 9 { 2 } else { 1 };
        let csi = (0..3 * ntx * 30)
            .map(|k| Iq {
                re: ((i * 7 + k * 13) % 256) as u8 as i8,
                im: ((i * 11 + k * 5) % 256) as u8 as i8,
            })
            .collect();
        let bfee = Bfee {
            timestamp_low: (i as u32).wrapping_mul(1000),
            bfee_count: i as u16,
            nrx: 3,
            ntx: ntx as u8,
            rssi_a: 40,
            rssi_b: 38,
            rssi_c: 42,
            noise: -93,
            agc: 35,
            antenna_sel: 0b10_01_00,
            rate: 0x4101,
            csi,
        };
        bfee.encode_into(&mut out).expect("well-formed bfee");
    }
    out
}

/// Decodes a 2000-record stream through the streaming decoder, in 4 KiB reads.
pub fn bench_intel5300(c: &mut Criterion) {
    let stream = intel5300_stream(2000);
    let mut group = c.benchmark_group("intel5300");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("decode_2000_bfee_4k_chunks", |b| {
        b.iter(|| {
            let mut decoder = BfeeDecoder::new();
            let mut samples = 0usize;
            for chunk in black_box(&stream).chunks(4096) {
                decode_chunk(&mut decoder, chunk, |bfee| samples += bfee.csi.len());
            }
            decoder.finish();
            while let Some(bfee) = decoder.next_item() {
                samples += bfee.csi.len();
            }
            samples
        })
    });
    group.bench_function("decode_2000_bfee_one_shot", |b| {
        b.iter(|| {
            let mut decoder = BfeeDecoder::new();
            let mut records = 0usize;
            decode_all(&mut decoder, black_box(&stream), |_| records += 1);
            records
        })
    });
    group.finish();
}
