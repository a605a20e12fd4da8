//! Throughput of the CSI decoders on realistic console streams, through the streaming
//! decoders in 4 KiB chunks (what a serial reader hands over).
//!
//! * `esp32_csi_tool`: the real ESP32-CSI-Tool recording (128-value rows) interleaved
//!   with 384-value HT40 rows from our encoder and ESP-IDF log lines.
//! * `esp_csi`: esp-csi rows of both layouts from our encoder, with a header and logs.
#[path = "intel5300_bench.rs"]
mod intel5300_bench;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dagr_protocols::csi::esp_csi::{C5c6RxCtrl, ChipRxCtrl};
use dagr_protocols::csi::{esp32_csi_tool, esp_csi, Iq, RxCtrl};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};

/// Stream size each benchmark decodes.
const STREAM_BYTES: usize = 4 << 20;
const CHUNK: usize = 4096;

fn pseudo_iq(seed: usize, n: usize) -> Vec<Iq> {
    (0..n)
        .map(|i| {
            let x = (seed * 131 + i * 17) % 61;
            Iq {
                re: x as i8 - 30,
                im: ((x * 7) % 53) as i8 - 26,
            }
        })
        .collect()
}

fn esp32_csi_tool_stream() -> Vec<u8> {
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/esp32_csi/example_csi.csv"
    ))
    .expect("real ESP32-CSI-Tool recording");
    let mut template =
        esp32_csi_tool::CsiRow::parse_line(real.split(|&b| b == b'\n').next().unwrap())
            .expect("row 1 parses");
    let mut out = Vec::with_capacity(STREAM_BYTES + 8192);
    let mut i = 0usize;
    while out.len() < STREAM_BYTES {
        out.extend_from_slice(&real);
        template.rx_ctrl.local_timestamp = template.rx_ctrl.local_timestamp.wrapping_add(5000);
        template.csi = pseudo_iq(i, 192);
        out.extend_from_slice(&template.to_line());
        out.extend_from_slice(b"I (81234) wifi:station: 3c:71:bf:6d:2a:78 join, AID=1, bgn, 40U\n");
        i += 1;
    }
    out
}

fn esp_csi_stream() -> Vec<u8> {
    let rx_ctrl = RxCtrl {
        rssi: -41,
        noise_floor: -95,
        bandwidth: 1,
        secondary_channel: 2,
        local_timestamp: 1_000_000,
        sig_len: 36,
        ..RxCtrl::ht20(11)
    };
    let c5c6 = C5c6RxCtrl {
        rssi: -50,
        rate: 11,
        noise_floor: -96,
        fft_gain: 12,
        agc_gain: 30,
        channel: 11,
        local_timestamp: 0,
        sig_len: 36,
        rx_state: 0,
    };
    let mut out = Vec::with_capacity(STREAM_BYTES + 8192);
    out.extend_from_slice(esp_csi::field::esp32::HEADER.as_bytes());
    out.push(b'\n');
    let mut i = 0usize;
    while out.len() < STREAM_BYTES {
        let local_timestamp = 1_000_000u32.wrapping_add(10_000 * (i as u32 + 1));
        // Every fifth row comes from a C5/C6 receiver, the others from an ESP32.
        let rx = if i % 5 == 0 {
            ChipRxCtrl::C5C6(C5c6RxCtrl {
                local_timestamp,
                ..c5c6
            })
        } else {
            ChipRxCtrl::Esp32(RxCtrl {
                local_timestamp,
                ..rx_ctrl
            })
        };
        let csi = pseudo_iq(i, if i % 3 == 0 { 64 } else { 192 });
        let row = esp_csi::CsiRow::new(i as u32, [0x1a, 0, 0, 0, 0, 0], rx, csi);
        out.extend_from_slice(&row.to_line());
        if i % 50 == 0 {
            out.extend_from_slice(b"I (81234) csi_recv: fft_force 12, agc_force 30\n");
        }
        i += 1;
    }
    out
}

fn decode_stream<D: StreamDecoder>(mut decoder: D, stream: &[u8]) -> usize {
    let mut values = 0usize;
    for chunk in stream.chunks(CHUNK) {
        decode_chunk(&mut decoder, chunk, |_| values += 1);
    }
    decoder.finish();
    while decoder.next_item().is_some() {
        values += 1;
    }
    values
}

fn bench_csi(c: &mut Criterion) {
    let mut group = c.benchmark_group("csi");
    let tool = esp32_csi_tool_stream();
    group.throughput(Throughput::Bytes(tool.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("esp32_csi_tool", tool.len()),
        &tool,
        |b, s| b.iter(|| decode_stream(esp32_csi_tool::RowDecoder::new(), s)),
    );
    let esp = esp_csi_stream();
    group.throughput(Throughput::Bytes(esp.len() as u64));
    group.bench_with_input(BenchmarkId::new("esp_csi", esp.len()), &esp, |b, s| {
        b.iter(|| decode_stream(esp_csi::RowDecoder::new(), s))
    });
    group.finish();
}

criterion_group!(benches, bench_csi, intel5300_bench::bench_intel5300);
criterion_main!(benches);
