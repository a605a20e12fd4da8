//! Streaming-decoder throughput on a realistic LLRP stream: RO_ACCESS_REPORTs with one
//! Impinj-extended TagReportData each (as a reader sends with N = 1), plus the real
//! Impinj recording.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dagr_protocols::llrp::{Epc, Message, MessageDecoder, TagReport};
use dagr_protocols::stream::decode_all;

fn impinj_reports(count: u32) -> Vec<u8> {
    (0..count)
        .flat_map(|i| {
            let mut epc = [0xe2, 0, 0, 0x17, 1, 0x0b, 1, 0x62, 0x10, 0, 0, 0];
            epc[10..].copy_from_slice(&(i as u16).to_be_bytes());
            let tag = TagReport {
                epc: Epc::Epc96(epc),
                antenna_id: Some((i % 4) as u16 + 1),
                peak_rssi: Some(-40 - (i % 30) as i8),
                channel_index: Some((i % 50) as u16 + 1),
                first_seen_utc_us: Some(1_700_000_000_000_000 + u64::from(i) * 1000),
                last_seen_utc_us: Some(1_700_000_000_000_000 + u64::from(i) * 1000),
                tag_seen_count: Some(1),
                impinj_peak_rssi: Some(-4523),
                impinj_phase: Some((i % 4096) as u16),
                impinj_doppler: Some(-96),
                ..Default::default()
            };
            Message::ro_access_report(i, vec![tag]).to_vec().unwrap()
        })
        .collect()
}

fn count_tags(bytes: &[u8]) -> usize {
    let mut decoder = MessageDecoder::new();
    let mut tags = 0;
    decode_all(&mut decoder, bytes, |m| tags += m.tags().len());
    tags
}

fn bench(c: &mut Criterion) {
    let stream = impinj_reports(10_000);
    let mut group = c.benchmark_group("llrp");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.bench_function("impinj_ro_access_reports_10k", |b| {
        b.iter(|| assert_eq!(count_tags(&stream), 10_000))
    });
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/llrp/impinj_ro_access_reports.bin"
    ))
    .expect("real LLRP recording");
    group.throughput(Throughput::Bytes(real.len() as u64));
    group.bench_function("real_capture_45_reports", |b| {
        b.iter(|| assert_eq!(count_tags(&real), 45))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
