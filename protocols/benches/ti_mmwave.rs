//! Throughput of the TI mmWave data-port decoder on the real IWR1642 recordings.
//!
//! The stream is both real recordings repeated to ~7 MiB (736/704-byte frames with 3-4
//! points, side info, a 256-bin range profile, stats and temperature), pushed through
//! `FrameDecoder` in 4 KiB chunks as a serial reader would deliver them.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};
use dagr_protocols::ti_mmwave::FrameDecoder;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/real/ti_mmwave/"
);

fn realistic_stream() -> Vec<u8> {
    let mut one = Vec::new();
    for name in [
        "xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat",
        "xwr16xx_processed_stream_2020_06_26T15_06_28_775.dat",
    ] {
        one.extend(std::fs::read(format!("{DIR}{name}")).expect("real TI recording"));
    }
    one.repeat(50)
}

fn decode_stream(c: &mut Criterion) {
    let stream = realistic_stream();
    let mut group = c.benchmark_group("ti_mmwave");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("frame_decoder_4k_chunks", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut points = 0usize;
            for chunk in stream.chunks(4096) {
                decode_chunk(&mut decoder, black_box(chunk), |f| points += f.points.len());
            }
            decoder.finish();
            assert_eq!(decoder.stats().bytes_skipped, 0);
            black_box(points)
        })
    });
    group.finish();
}

criterion_group!(benches, decode_stream);
criterion_main!(benches);
