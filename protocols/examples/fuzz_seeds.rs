//! Writes the fuzz targets' seed corpora (`protocols/fuzz/corpus/<target>/`): real
//! recordings from `../shared/fixtures/real` cut to a few records, and this crate's encoder
//! output for what no recording covers. A fuzz run that starts from these decodes records
//! on its first inputs, so the round trips `parse(emit(x)) == x` run from the first second.
//!
//! `cargo run -p dagr-protocols --example fuzz_seeds` rewrites the corpora; the files are
//! committed, so CI does not run this. Each seed starts with the knob bytes its target
//! reads first (documented in each target), chosen so the record fits the limits they set.
use std::fs;
use std::path::PathBuf;

use dagr_protocols::csi::esp32_csi_tool::{self, Role};
use dagr_protocols::csi::esp_csi::{self, C5c6RxCtrl, ChipRxCtrl};
use dagr_protocols::csi::intel5300::Bfee;
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_protocols::llrp::{Message, RoSpec};
use dagr_protocols::node::{
    emit_frame, encode_frame, Ack, AckStatus, Command, CsiRepr, Epc, FrameDecoder, HeaderRepr,
    Heartbeat, Modality, Opcode, PayloadRepr, RadarPoint, RadarRepr, RfidRead, RfidRepr,
    TimeSyncRequest, TimeSyncResponse, MAX_FRAME_LEN, MAX_WIRE_LEN,
};
use dagr_protocols::stream::StreamDecoder;
use dagr_protocols::ti_mmwave::{Frame, Packet, Point};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = manifest().join("../../shared/fixtures/real").join(rel);
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces `corpus/<target>/` with `seeds`, named `<index>-<what>`.
fn write_corpus(target: &str, seeds: &[(&str, Vec<u8>)]) {
    let dir = manifest().join("fuzz/corpus").join(target);
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("clear the old corpus");
    }
    fs::create_dir_all(&dir).expect("create the corpus directory");
    for (i, (name, bytes)) in seeds.iter().enumerate() {
        fs::write(dir.join(format!("{i:02}-{name}")), bytes).expect("write a seed");
    }
    let total: usize = seeds.iter().map(|(_, b)| b.len()).sum();
    println!("{target}: {} seeds, {total} bytes", seeds.len());
}

fn with_knob(knob: &[u8], body: &[u8]) -> Vec<u8> {
    [knob, body].concat()
}

/// The first `n` lines of `text`, line ends kept.
fn lines(text: &[u8], n: usize) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .take(n)
        .flatten()
        .copied()
        .collect()
}

fn pseudo_iq(n: usize, seed: usize) -> Vec<Iq> {
    (0..n)
        .map(|i| {
            let x = i * 31 + seed * 17;
            Iq {
                re: (x % 61) as i8 - 30,
                im: ((x * 7) % 53) as i8 - 26,
            }
        })
        .collect()
}

/// ESP32-CSI-Tool: knob byte 0 (8 KiB line limit), then console text.
fn esp32_csi_tool() {
    let real = fixture("esp32_csi/example_csi.csv");
    let rx_ctrl = RxCtrl {
        rssi: -60,
        local_timestamp: 1 << 31,
        sig_len: 90,
        ..RxCtrl::ht20(6)
    };
    let wrapped = esp32_csi_tool::CsiRow {
        real_time_set: true,
        real_timestamp: 1.5e6,
        ..esp32_csi_tool::CsiRow::new(
            Role::Passive,
            [0x24, 0x0a, 0xc4, 1, 2, 3],
            rx_ctrl,
            pseudo_iq(64, 1),
        )
    };
    let header = [esp32_csi_tool::field::HEADER.as_bytes(), b"\n"].concat();
    let log = b"I (1234) wifi: connected\r\n".to_vec();
    write_corpus(
        "esp32_csi_tool",
        &[
            ("real-row-1", with_knob(&[0], &lines(&real, 1))),
            ("real-rows-1-3", with_knob(&[0], &lines(&real, 3))),
            (
                "header-log-row",
                with_knob(&[0], &[header, log, lines(&real, 1)].concat()),
            ),
            (
                "encoded-wrapped-timestamp",
                with_knob(&[0], &wrapped.to_line()),
            ),
        ],
    );
}

/// esp-csi: knob byte 0 (8 KiB line limit), then console text of both layouts.
fn esp_csi() {
    let esp32 = esp_csi::CsiRow {
        first_word_invalid: true,
        ..esp_csi::CsiRow::new(
            7,
            [0x1a, 0, 0, 0, 0, 1],
            ChipRxCtrl::Esp32(RxCtrl {
                rssi: -41,
                bandwidth: 1,
                secondary_channel: 2,
                local_timestamp: 1_234_567,
                sig_len: 36,
                ..RxCtrl::ht20(11)
            }),
            pseudo_iq(64, 2),
        )
    };
    let c5c6 = esp_csi::CsiRow::new(
        u32::MAX - 1,
        [0x1a, 0, 0, 0, 0, 2],
        ChipRxCtrl::C5C6(C5c6RxCtrl {
            rssi: -50,
            rate: 11,
            noise_floor: -96,
            fft_gain: 12,
            agc_gain: 30,
            channel: 11,
            local_timestamp: (-5i32) as u32,
            sig_len: 36,
            rx_state: 0,
        }),
        pseudo_iq(26, 3),
    );
    let header = [esp_csi::field::esp32::HEADER.as_bytes(), b"\n"].concat();
    let log = b"I (300) csi_recv: ================ CSI RECV ================\r\n".to_vec();
    write_corpus(
        "esp_csi",
        &[
            ("encoded-esp32-layout", with_knob(&[0], &esp32.to_line())),
            ("encoded-c5c6-layout", with_knob(&[0], &c5c6.to_line())),
            (
                "header-log-both-layouts",
                with_knob(
                    &[0],
                    &[header, log, esp32.to_line(), c5c6.to_line()].concat(),
                ),
            ),
        ],
    );
}

/// Intel 5300: bfee records as the driver logs them (no knob: the target reads its chunk
/// size and limit from the record's own first bytes, and the limit is raised to fit).
fn intel5300() {
    let bfee = |nrx: u8, ntx: u8, ts: u32| Bfee {
        timestamp_low: ts,
        bfee_count: 7,
        nrx,
        ntx,
        rssi_a: 33,
        rssi_b: 34,
        rssi_c: 35,
        noise: -92,
        agc: 41,
        antenna_sel: 0b10_01_00,
        rate: 0x4101,
        csi: pseudo_iq(30 * usize::from(nrx) * usize::from(ntx), usize::from(nrx)),
    };
    let encode = |records: &[Bfee]| {
        let mut out = Vec::new();
        for r in records {
            r.encode_into(&mut out).expect("encodes");
        }
        out
    };
    write_corpus(
        "intel5300",
        &[
            ("encoded-1x1", encode(&[bfee(1, 1, 0x0102_0304)])),
            ("encoded-3x1", encode(&[bfee(3, 1, 5_000)])),
            (
                "encoded-3x3-then-2x2",
                encode(&[bfee(3, 3, u32::MAX - 10), bfee(2, 2, 20)]),
            ),
        ],
    );
}

/// LLRP: the real Impinj capture and reader event, and a client's requests as we encode
/// them (no knob: the target reads chunk sizes from the bytes themselves).
fn llrp() {
    let encoded = [
        Message::get_reader_capabilities(1),
        Message::impinj_enable_extensions(2),
        Message::add_rospec(4, RoSpec::impinj_default()),
        Message::enable_rospec(5, 1),
        Message::start_rospec(6, 1),
        Message::keepalive(7),
    ];
    let requests: Vec<u8> = encoded
        .iter()
        .flat_map(|m| m.to_vec().expect("encodes"))
        .collect();
    let reports = fixture("llrp/impinj_ro_access_reports.bin");
    let first_report = {
        let len = u32::from_be_bytes(reports[2..6].try_into().expect("4 bytes")) as usize;
        reports[..len].to_vec()
    };
    write_corpus(
        "llrp",
        &[
            ("real-impinj-ro-access-reports", reports),
            ("real-impinj-first-report", first_report),
            (
                "real-reader-event-notification",
                fixture("llrp/reader_event_notification.bin"),
            ),
            ("encoded-client-requests", requests),
        ],
    );
}

/// Node link: COBS frames as a node sends them, one seed per payload kind, all kinds in a
/// row, and one un-stuffed frame for the one-shot parser.
///
/// The target reads its first byte as the decoder limit (256 + 16 × byte) and then feeds
/// the whole input, that byte included, to the streaming decoder. So each streamed seed is
/// the knob 0x40 (limit 1280, above the largest wire frame) and a delimiter: the decoder
/// skips the run `[0x40]` as a partial frame before its first delimiter and then meets the
/// frames on their boundaries. Without that delimiter the knob byte would become part of
/// the first frame's COBS run and break it (the seeds before this fix: 1 of 6 decoded).
fn node() {
    let iq = pseudo_iq(64, 4);
    let (points, reads) = (radar_points(), rfid_reads());
    let frames = node_frames(&iq, &points, &reads);
    let mut seeds = Vec::new();
    let mut all = NODE_KNOB.to_vec();
    for (name, header, payload) in &frames {
        let mut wire = [0u8; MAX_WIRE_LEN];
        let n = encode_frame(header, payload, &mut wire).expect("encodes");
        seeds.push((*name, with_knob(&NODE_KNOB, &wire[..n])));
        all.extend_from_slice(&wire[..n]);
    }
    for ((name, seed), (_, header, payload)) in seeds.iter().zip(&frames) {
        let expected = [emit(header, payload)];
        assert_eq!(streamed_node_frames(seed), expected, "{name}");
    }
    let expected: Vec<Vec<u8>> = frames.iter().map(|(_, h, p)| emit(h, p)).collect();
    assert_eq!(streamed_node_frames(&all), expected, "all kinds in a row");
    seeds.push(("encoded-all-kinds-in-a-row", all));
    // Un-stuffed, the radar frame is what the target's one-shot `Frame::parse` reads; its
    // first byte (the version, 0x10) is the knob.
    let (_, header, payload) = &frames[1];
    let raw = emit(header, payload);
    dagr_protocols::node::Frame::parse(&raw).expect("the raw radar frame parses");
    seeds.push(("raw-radar-frame", raw));
    write_corpus("node", &seeds);
}

/// The node target's knob byte and a delimiter (see [`node`]).
const NODE_KNOB: [u8; 2] = [0x40, 0x00];

/// Two radar points, one of them with a negative x and a zero velocity.
fn radar_points() -> [RadarPoint; 2] {
    [
        RadarPoint {
            x: 1.0,
            y: 2.5,
            z: 0.25,
            v: -0.5,
            snr: 120,
            noise: 40,
        },
        RadarPoint {
            x: -0.75,
            y: 3.0,
            z: 1.0,
            v: 0.0,
            snr: 95,
            noise: 38,
        },
    ]
}

/// Two tag reads with 96-bit EPCs on two antennas.
fn rfid_reads() -> [RfidRead; 2] {
    let read = |epc: &[u8], antenna: u8, first_seen_us: u64| RfidRead {
        antenna,
        peak_rssi_cdbm: -5_250,
        channel: 7,
        phase: 1_234,
        doppler: -48,
        first_seen_us,
        epc: Epc::new(epc).expect("a 12-byte EPC"),
    };
    [
        read(
            &[
                0xE2, 0x80, 0x11, 0x70, 0, 0, 0x02, 0x0A, 0xB1, 0x3C, 0x55, 0x01,
            ],
            1,
            1_000_700,
        ),
        read(
            &[
                0x30, 0x08, 0x33, 0xB2, 0xDD, 0xD9, 0x01, 0x40, 0, 0, 0, 0x07,
            ],
            2,
            1_000_750,
        ),
    ]
}

/// One frame of every payload kind the protocol defines, named for its seed.
fn node_frames<'a>(
    iq: &'a [Iq],
    points: &'a [RadarPoint],
    reads: &'a [RfidRead],
) -> Vec<(&'static str, HeaderRepr, PayloadRepr<'a>)> {
    let heartbeat = Heartbeat {
        uptime_us: 5_000_000,
        samples_produced: 4_000,
        frames_sent: 4_010,
        ring_high_water: 3,
        ring_capacity: 32,
        ..Heartbeat::default()
    };
    vec![
        (
            "encoded-csi",
            HeaderRepr::new(1, 2, Modality::Wifi, 41, 1_000_000),
            PayloadRepr::Csi(CsiRepr {
                rssi: -45,
                noise_floor: -92,
                channel: 6,
                antenna: 0,
                bandwidth_mhz: 20,
                iq,
            }),
        ),
        (
            "encoded-radar",
            HeaderRepr::new(1, 1, Modality::Mmwave, 7, 1_000_500),
            PayloadRepr::Radar(RadarRepr {
                frame_number: 99,
                points,
            }),
        ),
        (
            "encoded-rfid",
            HeaderRepr::new(1, 3, Modality::Rfid, 12, 1_000_800),
            PayloadRepr::Rfid(RfidRepr { reads }),
        ),
        (
            "encoded-heartbeat",
            HeaderRepr::new(1, 0, Modality::None, 3, 5_000_000),
            PayloadRepr::Heartbeat(heartbeat),
        ),
        (
            "encoded-time-sync-request",
            HeaderRepr::new(1, 0, Modality::None, 0, 0),
            PayloadRepr::TimeSyncRequest(TimeSyncRequest {
                t1: 1_700_000_000_000_000,
            }),
        ),
        (
            "encoded-time-sync-response",
            HeaderRepr::new(1, 0, Modality::None, 4, 5_000_100),
            PayloadRepr::TimeSyncResponse(TimeSyncResponse {
                t1: 1_700_000_000_000_000,
                t2: 5_000_050,
                t3: 5_000_090,
            }),
        ),
        (
            "encoded-command",
            HeaderRepr::new(1, 0xFF, Modality::None, 43, 5_100_000),
            PayloadRepr::Command(Command {
                opcode: Opcode::SetRate,
                stream: 0,
                arg: 20_000,
            }),
        ),
        (
            "encoded-ack",
            HeaderRepr::new(1, 0xFF, Modality::None, 13, 5_100_300),
            PayloadRepr::Ack(Ack {
                command_seq: 43,
                opcode: Opcode::SetRate,
                status: AckStatus::Ok,
            }),
        ),
    ]
}

/// The un-stuffed bytes of a frame (header, payload, CRC).
fn emit(header: &HeaderRepr, payload: &PayloadRepr<'_>) -> Vec<u8> {
    let mut raw = [0u8; MAX_FRAME_LEN];
    let n = emit_frame(header, payload, &mut raw).expect("emits");
    raw[..n].to_vec()
}

/// What the node target's streaming decoder makes of `seed` (limit from its first byte),
/// each frame re-emitted as un-stuffed bytes.
fn streamed_node_frames(seed: &[u8]) -> Vec<Vec<u8>> {
    let limit = 256 + usize::from(seed[0]) * 16;
    let mut decoder = FrameDecoder::with_limit(limit);
    let mut rest = seed;
    let mut frames = Vec::new();
    let mut drain = |decoder: &mut FrameDecoder| {
        while let Some(frame) = decoder.next_item() {
            let mut raw = [0u8; MAX_FRAME_LEN];
            let n = frame.emit(&mut raw).expect("re-emits");
            frames.push(raw[..n].to_vec());
        }
    };
    while !rest.is_empty() {
        let taken = decoder.push(rest);
        rest = &rest[taken..];
        drain(&mut decoder);
    }
    decoder.finish();
    drain(&mut decoder);
    assert_eq!(decoder.stats().frames_rejected, 0, "no frame rejected");
    frames
}

/// TI mmWave: the first packets of both real xwr16xx recordings, and an SDK 3.x frame from
/// our encoder (no knob: the target reads chunk sizes from the bytes themselves).
fn ti_mmwave() {
    let packets = |data: &[u8], n: usize| -> Vec<u8> {
        let mut at = 0;
        for _ in 0..n {
            at += Packet::new_checked(&data[at..])
                .expect("a packet")
                .total_packet_len() as usize;
        }
        data[..at].to_vec()
    };
    let first = fixture("ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat");
    let second = fixture("ti_mmwave/xwr16xx_processed_stream_2020_06_26T15_06_28_775.dat");
    let sdk3 = Frame::new(
        12,
        vec![
            Point {
                x: 0.5,
                y: 1.5,
                z: 0.0,
                v: 0.25,
                ..Point::default()
            },
            Point {
                x: -1.0,
                y: 2.0,
                z: 0.5,
                v: -0.75,
                ..Point::default()
            },
        ],
    )
    .encode()
    .expect("encodes");
    write_corpus(
        "ti_mmwave",
        &[
            ("real-xwr16xx-first-packet", packets(&first, 1)),
            ("real-xwr16xx-two-packets", packets(&second, 2)),
            ("encoded-sdk3-frame", sdk3),
        ],
    );
}

fn main() {
    esp32_csi_tool();
    esp_csi();
    intel5300();
    llrp();
    node();
    ti_mmwave();
}
