//! Decoding throughput of the node link protocol: a realistic mixed stream (an ESP32 CSI
//! node at 100 packets of 64 subcarriers, radar frames of 20 points, RFID batches and a
//! heartbeat now and then) through `FrameDecoder`, fed in 4 KiB chunks as a serial reader
//! would; plus the no-alloc encoder the firmware runs.
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use dagr_protocols::csi::Iq;
use dagr_protocols::node::{
    encode_frame, Csi, Epc, Frame, FrameDecoder, HeaderRepr, Heartbeat, Modality, Payload,
    PayloadRepr, Radar, RadarPoint, RfidRead, MAX_WIRE_LEN,
};
use dagr_protocols::stream::decode_all;

fn csi(seq: u32) -> Frame {
    let iq = (0..64)
        .map(|i: i32| Iq {
            re: ((i * 7 + seq as i32) % 100 - 50) as i8,
            im: ((i * 13) % 90 - 45) as i8,
        })
        .collect();
    Frame {
        header: HeaderRepr::new(1, 0, Modality::Wifi, seq, u64::from(seq) * 10_000),
        payload: Payload::Csi(Csi {
            rssi: -50,
            noise_floor: -92,
            channel: 6,
            antenna: 0,
            bandwidth_mhz: 20,
            iq,
        }),
    }
}

fn radar(seq: u32) -> Frame {
    let points = (0..20)
        .map(|i| RadarPoint {
            x: i as f32 * 0.1,
            y: 1.0 + i as f32 * 0.05,
            z: 0.2,
            v: -0.3,
            snr: 200 + i,
            noise: 90,
        })
        .collect();
    Frame {
        header: HeaderRepr::new(2, 0, Modality::Mmwave, seq, u64::from(seq) * 50_000),
        payload: Payload::Radar(Radar {
            frame_number: seq,
            points,
        }),
    }
}

fn rfid(seq: u32) -> Frame {
    let read = |i: u8| RfidRead {
        antenna: 1 + i % 4,
        peak_rssi_cdbm: -6000 + i16::from(i) * 10,
        channel: u16::from(i % 50),
        phase: u16::from(i) * 97 % 4096,
        doppler: -16,
        first_seen_us: u64::from(seq) * 1000,
        epc: Epc::new(&[
            0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x05, 0x2A, 0x44, 0x12, i,
        ])
        .expect("12 bytes"),
    };
    Frame {
        header: HeaderRepr::new(3, 0, Modality::Rfid, seq, u64::from(seq) * 20_000),
        payload: Payload::Rfid((0..8).map(read).collect()),
    }
}

/// About one second of a three-node site, repeated to ~1 MiB.
fn stream() -> Vec<u8> {
    let mut out = vec![0u8];
    let mut seq = 0u32;
    while out.len() < 1 << 20 {
        for i in 0..100 {
            out.extend(csi(seq + i).to_wire().expect("encodes"));
            if i % 5 == 0 {
                out.extend(radar(seq + i).to_wire().expect("encodes"));
                out.extend(rfid(seq + i).to_wire().expect("encodes"));
            }
        }
        let hb = Frame {
            header: HeaderRepr::new(1, 0xFF, Modality::Wifi, seq, 0),
            payload: Payload::Heartbeat(Heartbeat::default()),
        };
        out.extend(hb.to_wire().expect("encodes"));
        seq += 100;
    }
    out
}

fn decode(c: &mut Criterion) {
    let bytes = stream();
    let mut group = c.benchmark_group("node");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode_stream_4k_chunks", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut frames = 0usize;
            for chunk in bytes.chunks(4096) {
                dagr_protocols::stream::decode_chunk(&mut decoder, chunk, |f| {
                    frames += black_box(&f).header.seq as usize & 1;
                });
            }
            frames
        })
    });
    group.bench_function("decode_stream_one_shot", |b| {
        b.iter(|| {
            let mut decoder = FrameDecoder::new();
            let mut frames = 0usize;
            decode_all(&mut decoder, &bytes, |_| frames += 1);
            frames
        })
    });
    group.finish();

    let frame = csi(7);
    let wire_len = frame.to_wire().expect("encodes").len();
    let mut group = c.benchmark_group("node_encode");
    group.throughput(Throughput::Bytes(wire_len as u64));
    group.bench_function("encode_csi_64_no_alloc", |b| {
        let Payload::Csi(csi) = &frame.payload else {
            unreachable!()
        };
        let mut tx = [0u8; MAX_WIRE_LEN];
        b.iter(|| {
            encode_frame(
                black_box(&frame.header),
                &PayloadRepr::Csi(csi.as_repr()),
                &mut tx,
            )
            .expect("fits")
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
