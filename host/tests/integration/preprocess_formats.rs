//! Every input format fills its modality's tensor: bytes through the gateway's own decoder
//! (the format table's), records through the synchronizer at chosen times, the window
//! through `preprocess`. Real recorded bytes where `shared/fixtures/real/` has them
//! (ESP32-CSI-Tool, TI, LLRP); rows and records built with the protocol crate's encoders
//! otherwise, checked against the ESP32-CSI-Tool path or against values worked out here
//! (Intel 5300 records are built on the simulator's own table of their subcarriers).
use std::sync::Arc;

use dagr_host::format::{Decoded, Format, Unit};
use dagr_host::pipeline::RecordDecoder;
use dagr_host::preprocess::{
    preprocess, preprocess_into, PreprocessSpec, Preprocessor, TagOrder, Tensors,
    RFID_RSSI_SCALE_DB, WIFI_AMPLITUDE_SCALE_DB,
};
use dagr_host::record::{Payload, Record};
use dagr_host::sync::{SyncConfig, Synchronizer, Window};
use dagr_protocols::csi::esp_csi::{self, C5c6RxCtrl, ChipRxCtrl};
use dagr_protocols::csi::intel5300::Bfee;
use dagr_protocols::csi::{esp32_csi_tool, Iq, RxCtrl};
use dagr_protocols::llrp::{Message, MessageDecoder, TagReport};
use dagr_protocols::node::{self, HeaderRepr, RadarPoint, RfidRead};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};
use dagr_sim::csi::subcarriers::INTEL5300_SUBCARRIERS;

/// Window start: a multiple of the hop, well clear of 0.
const BASE_NS: u64 = 100_000_000_000;
/// WiFi steps and RFID steps of the default spec.
const WIFI_T: usize = 200;
const RFID_T: usize = 60;

fn real(path: &str) -> Vec<u8> {
    let file = format!(
        "{}/../../shared/fixtures/real/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every record the gateway's decoder for `format` makes of `bytes`.
fn decode(format: Format, source: &str, bytes: &[u8]) -> Vec<Record> {
    let mut decoder = RecordDecoder::new(format, Arc::from(source));
    let mut records = Vec::new();
    let mut sink = |d: Decoded| {
        if let Decoded::Record(r) = d {
            records.push(r);
        }
    };
    decoder.feed(bytes, 1, &mut sink);
    decoder.finish(2, &mut sink);
    records
}

/// Every unit the protocol crate's `decoder` makes of `bytes`, the last unterminated one
/// too: what a format's records are made from, for values worked out here.
fn units<D: StreamDecoder>(mut decoder: D, bytes: &[u8]) -> Vec<D::Item> {
    let mut units = Vec::new();
    decode_chunk(&mut decoder, bytes, |unit| units.push(unit));
    decoder.finish();
    decode_chunk(&mut decoder, &[], |unit| units.push(unit));
    units
}

/// The record the gateway makes of one LLRP tag report (in an RO_ACCESS_REPORT).
fn llrp_record(report: TagReport) -> Record {
    let mut records = Vec::new();
    Message::ro_access_report(1, vec![report]).into_decoded(&Arc::from("reader"), 0, &mut |d| {
        if let Decoded::Record(r) = d {
            records.push(r);
        }
    });
    records.remove(0)
}

/// The 2 s window starting at `BASE_NS` holding `records` at their times (s into it).
fn window_of(records: impl IntoIterator<Item = (Record, f64)>) -> Window {
    let mut sync = Synchronizer::new(SyncConfig::default()).unwrap();
    for (record, t) in records {
        sync.push(record, BASE_NS + (t * 1e9).round() as u64);
    }
    sync.flush()
        .into_iter()
        .find(|w| w.start_ns == BASE_NS)
        .expect("the window at BASE_NS")
}

/// `n` times spread over the window, the first at 0.05 s.
fn spread(n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(move |i| 0.05 + 1.9 * i as f64 / n as f64)
}

/// Linear interpolation of samples `(t, v)` onto the default grid, holding the ends,
/// minus the mean, over `scale`: what a row of the tensor should hold, worked out here.
fn expected_row(samples: &[(f64, f64)], steps: usize, scale: f64) -> Vec<f64> {
    let grid: Vec<f64> = (0..steps)
        .map(|k| (k as f64 + 0.5) * 2.0 / steps as f64)
        .collect();
    let at = |g: f64| {
        let after = samples.iter().position(|&(t, _)| t > g);
        match after {
            Some(0) => samples[0].1,
            None => samples[samples.len() - 1].1,
            Some(i) => {
                let ((t0, v0), (t1, v1)) = (samples[i - 1], samples[i]);
                v0 + (v1 - v0) * (g - t0) / (t1 - t0)
            }
        }
    };
    let values: Vec<f64> = grid.iter().map(|&g| at(g)).collect();
    let mean = values.iter().sum::<f64>() / steps as f64;
    values.iter().map(|v| (v - mean) / scale).collect()
}

fn assert_close(got: &[f32], expected: &[f64], tolerance: f64, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (k, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(*g) - e).abs() <= tolerance,
            "{what}, step {k}: {g} vs {e}"
        );
    }
}

/// WiFi row `(link · 3 + block) · 30 + s`.
fn wifi_row(t: &Tensors, link: usize, block: usize, s: usize) -> &[f32] {
    let at = ((link * 3 + block) * 30 + s) * WIFI_T;
    &t.wifi[at..at + WIFI_T]
}

/// The default spec's 30 subcarriers.
fn picked() -> [i32; 30] {
    PreprocessSpec::default().wifi_subcarriers
}

// ---------------------------------------------------------------- ESP32-CSI-Tool, esp-csi

fn esp32_tool_rows() -> Vec<Record> {
    let rows = decode(
        Format::Esp32Csi,
        "wifi-a",
        &real("esp32_csi/example_csi.csv"),
    );
    assert_eq!(rows.len(), 13);
    rows
}

/// The real ESP32-CSI-Tool rows as the protocol crate decodes them.
fn esp32_tool_csi_rows() -> Vec<esp32_csi_tool::CsiRow> {
    let rows = units(
        esp32_csi_tool::RowDecoder::new(),
        &real("esp32_csi/example_csi.csv"),
    );
    assert_eq!(rows.len(), 13);
    rows
}

#[test]
fn real_esp32_csi_tool_rows_fill_the_power_rows_with_the_db_of_their_lltf_subcarriers() {
    let rows = esp32_tool_rows();
    let times: Vec<f64> = spread(rows.len()).collect();
    let csi: Vec<Vec<Iq>> = esp32_tool_csi_rows()
        .into_iter()
        .map(|row| {
            assert_eq!(row.rx_ctrl.secondary_channel, 1, "an HT40 (above) capture");
            row.csi
        })
        .collect();
    let window = window_of(rows.into_iter().zip(times.iter().copied()));
    let t = preprocess(&window, &PreprocessSpec::default());
    assert_eq!(t.present, [0.0, 1.0, 0.0]);
    // Secondary channel above: the LLTF is k = -32..=31 in order, entry k + 32.
    let power = |h: &[Iq], k: i32| {
        let iq = h[(k + 32) as usize];
        f64::from(iq.re).powi(2) + f64::from(iq.im).powi(2)
    };
    for s in [0, 7, 15, 29] {
        let k = picked()[s];
        let samples: Vec<(f64, f64)> = csi
            .iter()
            .zip(&times)
            .map(|(h, &at)| {
                let rms2 = picked().iter().map(|&k| power(h, k)).sum::<f64>() / 30.0;
                (at, 10.0 * (power(h, k) / rms2).log10())
            })
            .collect();
        let expected = expected_row(&samples, WIFI_T, f64::from(WIFI_AMPLITUDE_SCALE_DB));
        assert_close(wifi_row(&t, 0, 0, s), &expected, 1e-4, &format!("k = {k}"));
    }
    assert!(
        wifi_row(&t, 0, 0, 15).iter().any(|&x| x.abs() > 0.05),
        "the real channel changes"
    );
    assert!(
        t.wifi[30 * WIFI_T..].iter().all(|&x| x == 0.0),
        "one antenna: no phase difference, no other link"
    );
}

/// An esp-csi row (25-column ESP32 layout) carrying an ESP32-CSI-Tool row's buffer.
fn as_esp_csi(row: &esp32_csi_tool::CsiRow, first_word_invalid: bool) -> esp_csi::CsiRow {
    esp_csi::CsiRow {
        first_word_invalid,
        ..esp_csi::CsiRow::new(7, row.mac, ChipRxCtrl::Esp32(row.rx_ctrl), row.csi.clone())
    }
}

#[test]
fn esp_csi_rows_of_the_same_buffers_give_the_esp32_csi_tool_tensor() {
    let rows = esp32_tool_rows();
    let times: Vec<f64> = spread(rows.len()).collect();
    let lines: Vec<u8> = esp32_tool_csi_rows()
        .iter()
        .flat_map(|row| as_esp_csi(row, false).to_line())
        .collect();
    let esp_csi_rows = decode(Format::EspCsi, "wifi-a", &lines);
    assert_eq!(esp_csi_rows.len(), 13);
    assert!(matches!(esp_csi_rows[0].payload, Payload::Csi(_)));
    let spec = PreprocessSpec::default();
    let tool = preprocess(&window_of(rows.into_iter().zip(times.clone())), &spec);
    let esp = preprocess(&window_of(esp_csi_rows.into_iter().zip(times)), &spec);
    assert!(tool.wifi.iter().any(|&x| x != 0.0));
    assert_eq!(esp.wifi, tool.wifi);
}

/// A 64-entry secondary-none buffer (`k = 0..=31, -32..=-1`) of a channel that turns
/// `0.2·k` rad and grows `1 + 0.01·k` across the band, rotated by `turn` and with
/// amplitude `gain`: smooth enough that interpolating k = 1 from k = -1 and k = 2 is exact
/// to int8 rounding.
fn smooth_buffer(turn: f64, gain: f64) -> Vec<Iq> {
    (0..64)
        .map(|b| {
            let k = if b < 32 { b as f64 } else { b as f64 - 64.0 };
            let used = k != 0.0 && k.abs() <= 26.0;
            let (a, phi) = (gain * (1.0 + 0.01 * k), 0.2 * k + turn);
            Iq {
                re: if used {
                    (a * phi.cos()).round() as i8
                } else {
                    0
                },
                im: if used {
                    (a * phi.sin()).round() as i8
                } else {
                    0
                },
            }
        })
        .collect()
}

fn esp_csi_record(ant: u8, csi: Vec<Iq>, first_word_invalid: bool) -> Record {
    let rx = RxCtrl {
        ant,
        ..RxCtrl::ht20(6)
    };
    let row = esp_csi::CsiRow {
        first_word_invalid,
        ..esp_csi::CsiRow::new(1, [2; 6], ChipRxCtrl::Esp32(rx), csi)
    };
    let mut records = decode(Format::EspCsi, "wifi-a", &row.to_line());
    records.pop().expect("one row")
}

/// Two antennas over the window; antenna 1 turns 1 rad/s relative to antenna 0.
fn two_antenna_window(junk_first_word: bool, flagged: bool) -> Window {
    let mut records = Vec::new();
    for (i, at) in spread(60).enumerate() {
        for ant in 0..2u8 {
            let mut csi = smooth_buffer(f64::from(ant) * at, 90.0 + 10.0 * (at * 3.0).sin());
            if junk_first_word {
                csi[0] = Iq { re: -48, im: 101 };
                csi[1] = Iq {
                    re: (i % 7) as i8 * 17,
                    im: 5,
                };
            }
            records.push((esp_csi_record(ant, csi, flagged), at));
        }
    }
    window_of(records)
}

#[test]
fn an_esp_csi_first_word_flagged_invalid_is_bridged_from_its_neighbours() {
    let spec = PreprocessSpec::default();
    let clean = preprocess(&two_antenna_window(false, false), &spec);
    let flagged = preprocess(&two_antenna_window(true, true), &spec);
    let trusted = preprocess(&two_antenna_window(true, false), &spec);
    let k1 = picked().iter().position(|&k| k == 1).unwrap();
    // Block 1: antenna 1 − 0 turns 1 rad/s, the same on every subcarrier.
    let times: Vec<(f64, f64)> = spread(60).map(|t| (t, t)).collect();
    let ramp = expected_row(&times, WIFI_T, 1.0);
    for s in [0, k1, 29] {
        assert_close(wifi_row(&clean, 0, 1, s), &ramp, 0.03, "clean phase ramp");
        assert_close(
            wifi_row(&flagged, 0, 1, s),
            &ramp,
            0.03,
            "bridged phase ramp",
        );
    }
    // Bridging restores k = 1 (and so every antenna's RMS) to int8 rounding.
    let worst = flagged
        .wifi
        .iter()
        .zip(&clean.wifi)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        worst < 0.02,
        "flagged rows differ from clean ones by {worst}"
    );
    let junk = wifi_row(&trusted, 0, 0, k1);
    assert!(
        junk.iter()
            .zip(wifi_row(&clean, 0, 0, k1))
            .any(|(a, b)| (a - b).abs() > 0.5),
        "read as printed, the junk word lands in row k = 1"
    );
}

#[test]
fn c5_c6_esp_csi_rows_have_no_layout_and_are_counted_unused() {
    let rx = ChipRxCtrl::C5C6(C5c6RxCtrl {
        rssi: -40,
        channel: 6,
        ..C5c6RxCtrl::default()
    });
    let line: Vec<u8> = (0..30)
        .flat_map(|_| esp_csi::CsiRow::new(1, [3; 6], rx, smooth_buffer(0.0, 80.0)).to_line())
        .collect();
    let records = decode(Format::EspCsi, "wifi-c6", &line);
    assert_eq!(records.len(), 30);
    let window = window_of(records.into_iter().zip(spread(30)));
    let mut pre = Preprocessor::new();
    let mut t = Tensors::zeros(&PreprocessSpec::default());
    preprocess_into(&window, &PreprocessSpec::default(), &mut pre, &mut t);
    assert_eq!(t.present, [0.0, 1.0, 0.0]);
    assert!(t.wifi.iter().all(|&x| x == 0.0));
    assert_eq!(pre.unused().wifi, 30);
}

// ---------------------------------------------------------------- Intel 5300

/// A bfee whose receive chain `c` is antenna `perm[c]`, antenna `a` turning `rate[a]`
/// rad/s at time `at` over a smooth channel; stream 1 (when `ntx` = 2) is noise.
fn bfee(at: f64, perm: [u8; 3], ntx: u8, count: u16) -> Bfee {
    let rate = [0.0, 1.0, 3.0];
    let ks = INTEL5300_SUBCARRIERS;
    let mut csi = Vec::new();
    for tx in 0..ntx {
        for (chain, &antenna) in perm.iter().enumerate() {
            let antenna = usize::from(antenna);
            for (i, &k) in ks.iter().enumerate() {
                let k = f64::from(k);
                let (a, phi) = (90.0 * (1.0 + 0.01 * k), 0.1 * k + rate[antenna] * at);
                csi.push(if tx == 0 {
                    Iq {
                        re: (a * phi.cos()).round() as i8,
                        im: (a * phi.sin()).round() as i8,
                    }
                } else {
                    Iq {
                        re: (i * 37 % 200) as i8,
                        im: (chain * 71 + i * 13) as i8,
                    }
                });
            }
        }
    }
    Bfee {
        timestamp_low: 1000 * u32::from(count),
        bfee_count: count,
        nrx: 3,
        ntx,
        rssi_a: 40,
        rssi_b: 41,
        rssi_c: 39,
        noise: -92,
        agc: 30,
        antenna_sel: perm[0] | perm[1] << 2 | perm[2] << 4,
        rate: 0x4101,
        csi,
    }
}

fn intel_tensor(perm: [u8; 3], ntx: u8) -> (Tensors, usize) {
    let times: Vec<f64> = spread(150).collect();
    let mut dat = Vec::new();
    for (i, &at) in times.iter().enumerate() {
        bfee(at, perm, ntx, i as u16).encode_into(&mut dat).unwrap();
    }
    let records = decode(Format::Intel5300, "wifi-intel", &dat);
    assert_eq!(records.len(), 150);
    let window = window_of(records.into_iter().zip(times));
    let mut pre = Preprocessor::new();
    let mut t = Tensors::zeros(&PreprocessSpec::default());
    preprocess_into(&window, &PreprocessSpec::default(), &mut pre, &mut t);
    (t, pre.unused().wifi)
}

#[test]
fn intel_5300_chains_fill_their_permuted_antenna_slots_with_the_same_quantities() {
    let times: Vec<(f64, f64)> = spread(150).map(|t| (t, t)).collect();
    let ramp = |slope: f64| {
        let mut r = expected_row(&times, WIFI_T, 1.0);
        r.iter_mut().for_each(|x| *x *= slope);
        r
    };
    for (perm, ntx) in [([0, 1, 2], 1), ([2, 0, 1], 2), ([1, 2, 0], 1)] {
        let (t, unused) = intel_tensor(perm, ntx);
        assert_eq!(t.present, [0.0, 1.0, 0.0]);
        assert_eq!(unused, 0);
        for s in [0, 3, 14, 15, 29] {
            // Antennas turn 0, 1 and 3 rad/s: differences 1−0 = 1 rad/s, 2−1 = 2 rad/s.
            let what = format!("perm {perm:?} ntx {ntx} row {s}");
            assert_close(wifi_row(&t, 0, 1, s), &ramp(1.0), 0.03, &what);
            assert_close(wifi_row(&t, 0, 2, s), &ramp(2.0), 0.03, &what);
            assert_close(wifi_row(&t, 0, 0, s), &ramp(0.0), 0.02, &what);
        }
    }
}

#[test]
fn an_intel_5300_packet_gives_the_tensor_of_the_esp32_rows_of_the_same_channel() {
    // The same smooth channel (a 30 ns reflector that moves), once as ESP32 rows of three
    // antennas, once as 5300 records: the power rows agree to interpolation and int8
    // rounding.
    let h = |k: f64, antenna: usize, at: f64| {
        let delay = 30e-9 + 20e-9 * at + 0.3e-9 * antenna as f64;
        let phi = -std::f64::consts::TAU * k * 312_500.0 * delay;
        (50.0 + 35.0 * phi.cos(), 35.0 * phi.sin())
    };
    let iq = |(re, im): (f64, f64)| Iq {
        re: re.round() as i8,
        im: im.round() as i8,
    };
    let times: Vec<f64> = spread(100).collect();
    let mut esp = Vec::new();
    let mut dat = Vec::new();
    for (i, &at) in times.iter().enumerate() {
        for antenna in 0..3u8 {
            let buffer = (0..64)
                .map(|b| {
                    let k = if b < 32 { b } else { b - 64 };
                    iq(h(f64::from(k), usize::from(antenna), at))
                })
                .collect();
            let row = esp32_csi_tool::CsiRow::new(
                esp32_csi_tool::Role::Sta,
                [1; 6],
                RxCtrl {
                    ant: antenna,
                    ..RxCtrl::ht20(6)
                },
                buffer,
            );
            esp.push((
                decode(Format::Esp32Csi, "wifi-a", &row.to_line()).remove(0),
                at,
            ));
        }
        let mut b = bfee(at, [0, 1, 2], 1, i as u16);
        let ks = INTEL5300_SUBCARRIERS;
        b.csi = (0..3)
            .flat_map(|a| ks.iter().map(move |&k| iq(h(f64::from(k), a, at))))
            .collect();
        b.encode_into(&mut dat).unwrap();
    }
    let intel = decode(Format::Intel5300, "wifi-a", &dat);
    let spec = PreprocessSpec::default();
    let from_esp = preprocess(&window_of(esp), &spec);
    let from_intel = preprocess(&window_of(intel.into_iter().zip(times)), &spec);
    let (mut worst, mut biggest) = (0.0f32, 0.0f32);
    for (a, b) in from_esp.wifi.iter().zip(&from_intel.wifi) {
        worst = worst.max((a - b).abs());
        biggest = biggest.max(a.abs());
    }
    assert!(biggest > 0.3, "the channel moves: {biggest}");
    assert!(worst < 0.1, "ESP32 and 5300 tensors differ by {worst}");
}

// ---------------------------------------------------------------- node link

fn node_wire(seq: u32, modality: node::Modality, ts_us: u64, payload: node::Payload) -> Vec<u8> {
    node::Frame {
        header: HeaderRepr::new(3, 0, modality, seq, ts_us),
        payload,
    }
    .to_wire()
    .unwrap()
}

#[test]
fn node_csi_frames_give_the_tensor_of_the_esp32_rows_they_carry() {
    let rows = esp32_tool_rows();
    let times: Vec<f64> = spread(rows.len()).collect();
    let mut wire = Vec::new();
    for (i, row) in esp32_tool_csi_rows().iter().enumerate() {
        // The real rows are HT40 (LLTF in ascending order): a 40 MHz node frame.
        let csi = node::Csi {
            rssi: row.rx_ctrl.rssi,
            noise_floor: row.rx_ctrl.noise_floor,
            channel: row.rx_ctrl.channel,
            antenna: row.rx_ctrl.ant,
            bandwidth_mhz: 40,
            iq: row.csi.clone(),
        };
        let frame = node_wire(
            i as u32,
            node::Modality::Wifi,
            1000 * i as u64,
            node::Payload::Csi(csi),
        );
        wire.extend(frame);
    }
    let node_records = decode(Format::Node, "wifi-a", &wire);
    assert_eq!(node_records.len(), 13);
    let spec = PreprocessSpec::default();
    let tool = preprocess(&window_of(rows.into_iter().zip(times.clone())), &spec);
    let nodes = preprocess(&window_of(node_records.into_iter().zip(times)), &spec);
    assert!(tool.wifi.iter().any(|&x| x != 0.0));
    assert_eq!(nodes.wifi, tool.wifi);
}

fn radar_point(x: f32, snr: i16) -> RadarPoint {
    RadarPoint {
        x,
        y: 1.5,
        z: 0.25,
        v: -0.5,
        snr,
        noise: 40,
    }
}

#[test]
fn node_radar_payloads_of_one_frame_are_merged_strongest_first() {
    // Frame 9 in two payloads (as a node splits a frame of more than 50 points), frame 10
    // alone in a later slot; a heartbeat-free stream of radar payloads.
    let payload = |frame_number, points| {
        node::Payload::Radar(node::Radar {
            frame_number,
            points,
        })
    };
    let mut wire = node_wire(
        0,
        node::Modality::Mmwave,
        5_000,
        payload(
            9,
            (0..50)
                .map(|i| radar_point(0.01 * i as f32, 100 + i as i16))
                .collect(),
        ),
    );
    wire.extend(node_wire(
        1,
        node::Modality::Mmwave,
        5_000,
        payload(9, vec![radar_point(4.0, 400), radar_point(-4.0, 120)]),
    ));
    wire.extend(node_wire(
        2,
        node::Modality::Mmwave,
        1_000_000,
        payload(10, vec![radar_point(2.5, 90)]),
    ));
    let records = decode(Format::Node, "radar-node", &wire);
    assert_eq!(records.len(), 3);
    // 0.52 s is slot 10 of 40; coverage needs records in a quarter of the 20 sub-slots,
    // and the window starts at the first record's (frame 10 again, at 0.05 s).
    let mut timed: Vec<(Record, f64)> = records.into_iter().zip([0.52, 0.52, 1.51]).collect();
    let filler = timed[2].0.clone();
    timed.push((filler.clone(), 0.05));
    timed.extend((0..8).map(|i| (filler.clone(), 1.05 + 0.1 * i as f64)));
    let window = window_of(timed);
    let t = preprocess(&window, &PreprocessSpec::default());
    assert_eq!(t.present, [1.0, 0.0, 0.0]);
    let at = |slot: usize, p: usize, f: usize| t.mmwave[(slot * 64 + p) * 5 + f];
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    assert!(
        close(at(10, 0, 0), 4.0 / 5.0),
        "the second payload's snr 400 leads"
    );
    assert!(close(at(10, 0, 4), 40.0 / 30.0), "snr 400 = 40 dB, / 30 dB");
    assert!(
        close(at(10, 1, 0), 0.49 / 5.0),
        "then the first payload's snr 149"
    );
    assert!(
        close(at(10, 30, 0), 0.2 / 5.0),
        "snr 120 of the first payload..."
    );
    assert!(
        close(at(10, 31, 0), -4.0 / 5.0),
        "...before the second's (arrival order)"
    );
    assert!(close(at(10, 51, 4), 10.0 / 30.0), "snr 100 last");
    assert!(
        (0..5).all(|f| at(10, 52, f) == 0.0),
        "52 points, zero after"
    );
    assert!(close(at(30, 0, 0), 2.5 / 5.0));
    assert!(close(at(30, 0, 3), -0.5 / 2.0));
}

fn rfid_read(epc_last: u8, phase: u16, first_seen_us: u64, rssi_cdbm: i16) -> RfidRead {
    let mut epc = [0x30u8; 12];
    epc[11] = epc_last;
    RfidRead {
        antenna: 1,
        peak_rssi_cdbm: rssi_cdbm,
        channel: 4,
        phase,
        doppler: 0,
        first_seen_us,
        epc: node::Epc::new(&epc).unwrap(),
    }
}

/// The LLRP tag report of the same read.
fn llrp_report(read: &RfidRead) -> TagReport {
    let mut epc = [0u8; 12];
    epc.copy_from_slice(read.epc.as_bytes());
    TagReport {
        epc: dagr_protocols::llrp::Epc::Epc96(epc),
        antenna_id: Some(u16::from(read.antenna)),
        channel_index: Some(read.channel),
        impinj_phase: Some(read.phase),
        impinj_peak_rssi: Some(read.peak_rssi_cdbm),
        ..Default::default()
    }
}

#[test]
fn node_rfid_batches_give_the_tensor_of_the_same_reads_as_llrp_reports() {
    // Batches of 4 reads every 0.1 s (two tags, 25 ms apart); each batch's frame is
    // stamped with its last read's time, and the reads keep their own times.
    let mut wire = Vec::new();
    let mut llrp = Vec::new();
    for batch in 0..19u64 {
        let reads: Vec<RfidRead> = (0..4u64)
            .map(|i| {
                let n = batch * 4 + i;
                let turn = (n * 37 % 4096) as u16;
                let rssi = -5000 + (n as i16 % 9) * 40;
                rfid_read(1 + (i % 2) as u8, turn, 50_000 + n * 25_000, rssi)
            })
            .collect();
        let sent_us = reads[3].first_seen_us;
        for read in &reads {
            let t = 0.05 + (read.first_seen_us - 50_000) as f64 * 1e-6;
            llrp.push((llrp_record(llrp_report(read)), t));
        }
        let t_frame = 0.05 + (sent_us - 50_000) as f64 * 1e-6;
        wire.push((node::Payload::Rfid(reads), sent_us, t_frame));
    }
    let node_records: Vec<(Record, f64)> = wire
        .into_iter()
        .enumerate()
        .map(|(i, (payload, sent_us, t))| {
            let bytes = node_wire(i as u32, node::Modality::Rfid, sent_us, payload);
            (decode(Format::Node, "reader", &bytes).remove(0), t)
        })
        .collect();
    let spec = PreprocessSpec::default();
    let from_llrp = preprocess(&window_of(llrp), &spec);
    let from_node = preprocess(&window_of(node_records), &spec);
    assert_eq!(from_node.present, [0.0, 0.0, 1.0]);
    assert!(from_llrp.rfid[..4 * RFID_T].iter().any(|&x| x.abs() > 0.01));
    for (a, b) in from_llrp.rfid.iter().zip(&from_node.rfid) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

// ---------------------------------------------------------------- LLRP, TI (real bytes)

#[test]
fn real_impinj_reports_without_phase_still_fill_their_rssi_rows() {
    let records = decode(
        Format::Llrp,
        "reader",
        &real("llrp/impinj_ro_access_reports.bin"),
    );
    assert_eq!(records.len(), 45);
    let mut by_tag: std::collections::BTreeMap<Vec<u8>, Vec<(f64, f64)>> = Default::default();
    let times: Vec<f64> = spread(45).collect();
    let messages = units(
        MessageDecoder::new(),
        &real("llrp/impinj_ro_access_reports.bin"),
    );
    assert_eq!(messages.iter().map(|m| m.tags().len()).sum::<usize>(), 45);
    let tags = messages.iter().flat_map(Message::tags);
    for (tag, &at) in tags.zip(&times) {
        assert!(tag.phase_rad().is_none(), "this reader sent no phase");
        let dbm = f64::from(tag.peak_rssi.expect("PeakRSSI"));
        by_tag
            .entry(tag.epc.as_bytes().to_vec())
            .or_default()
            .push((at, dbm / f64::from(RFID_RSSI_SCALE_DB)));
    }
    let window = window_of(records.into_iter().zip(times));
    let t = preprocess(&window, &PreprocessSpec::default());
    assert_eq!(t.present, [0.0, 0.0, 1.0]);
    for (row, samples) in by_tag.values().take(23).enumerate() {
        let at = (2 * row + 1) * RFID_T;
        let expected = expected_row(samples, RFID_T, 1.0);
        assert_close(&t.rfid[at..at + RFID_T], &expected, 1e-5, "RSSI row");
        let phase = &t.rfid[2 * row * RFID_T..(2 * row + 1) * RFID_T];
        assert!(phase.iter().all(|&x| x == 0.0), "no phase, flat track");
    }
}

#[test]
fn real_ti_frames_fill_their_slots_strongest_point_first() {
    let records = decode(
        Format::TiMmwave,
        "radar",
        &real("ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat"),
    );
    assert_eq!(records.len(), 101);
    // One frame per 50 ms slot, as the radar sends them.
    let timed = records
        .into_iter()
        .take(40)
        .enumerate()
        .map(|(i, r)| (r, 0.01 + 0.05 * i as f64));
    let t = preprocess(&window_of(timed), &PreprocessSpec::default());
    assert_eq!(t.present, [1.0, 0.0, 0.0]);
    // Frame 370: points (x, y) (0.0095, 0.3053) snr 247, (0.0177, 0.5669) snr 303,
    // (0, 0.8289) snr 281, (0, 1.0907) snr 212 (wire-formats.md §1.5).
    let at = |p: usize, f: usize| t.mmwave[p * 5 + f];
    let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
    assert!(close(at(0, 1), 0.5669 / 5.0), "snr 303 first: {}", at(0, 1));
    assert!(close(at(0, 4), 30.3 / 30.0));
    assert!(close(at(1, 1), 0.8289 / 5.0), "snr 281 second");
    assert!(close(at(2, 1), 0.3053 / 5.0), "snr 247 third");
    assert!(close(at(3, 1), 1.0907 / 5.0), "snr 212 last");
    assert!((0..5).all(|f| at(4, f) == 0.0), "four points only");
}

// ---------------------------------------------------------------- tag order

/// Reads of tags `epc_last` (RSSI falling 1 dB per read) every 40 ms over the window.
fn tag_reads(tags: &[u8]) -> Vec<(Record, f64)> {
    (0..45)
        .flat_map(|i| {
            tags.iter().map(move |&tag| {
                let read = rfid_read(tag, 0, 0, -4000 - 10 * i as i16 * i16::from(tag));
                (
                    llrp_record(llrp_report(&read)),
                    0.02 + 0.04 * i as f64 + 0.001 * f64::from(tag),
                )
            })
        })
        .collect()
}

fn epc_hex(tag: u8) -> String {
    format!("{}{tag:02x}", "30".repeat(11))
}

#[test]
fn a_tag_list_fixes_rows_and_a_missing_tag_shifts_no_other() {
    let spec = PreprocessSpec::default();
    let order = TagOrder::from_hex(&[epc_hex(9), epc_hex(2), epc_hex(5)]).unwrap();
    let mut listed = Preprocessor::with_tag_order(order);
    let mut t = Tensors::zeros(&spec);
    let rssi_row = |t: &Tensors, row: usize| t.rfid[(2 * row + 1) * RFID_T..][..RFID_T].to_vec();
    // All three listed tags and one unlisted (7): rows follow the list, 7 is unused.
    preprocess_into(
        &window_of(tag_reads(&[2, 5, 7, 9])),
        &spec,
        &mut listed,
        &mut t,
    );
    // Tag n's RSSI falls 0.1·n dB per read: 4.4·n dB over the window (/ 6 dB).
    let fall = |row: usize| {
        let r = rssi_row(&t, row);
        f64::from(r[RFID_T - 1] - r[0])
    };
    for (row, tag) in [(0, 9.0), (1, 2.0), (2, 5.0)] {
        let expected = -4.4 * tag / f64::from(RFID_RSSI_SCALE_DB);
        assert!((fall(row) - expected).abs() < 1e-3, "row {row}: tag {tag}");
    }
    assert_eq!(listed.unused().rfid, 45, "tag 7's reads");
    assert!(t.rfid[6 * RFID_T..].iter().all(|&x| x == 0.0));
    let with_all = t.clone();
    // Tag 2 (row 1) missing: its rows are zero, 9 and 5 keep theirs exactly.
    preprocess_into(&window_of(tag_reads(&[5, 9])), &spec, &mut listed, &mut t);
    assert!(t.rfid[2 * RFID_T..4 * RFID_T].iter().all(|&x| x == 0.0));
    assert_eq!(t.rfid[..2 * RFID_T], with_all.rfid[..2 * RFID_T]);
    assert_eq!(
        t.rfid[4 * RFID_T..6 * RFID_T],
        with_all.rfid[4 * RFID_T..6 * RFID_T]
    );
    // Without a list, EPC order: 5 and 9 take rows 0 and 1.
    let epc_order = preprocess(&window_of(tag_reads(&[5, 9])), &spec);
    assert_eq!(
        epc_order.rfid[..2 * RFID_T],
        with_all.rfid[4 * RFID_T..6 * RFID_T]
    );
    assert_eq!(
        epc_order.rfid[2 * RFID_T..4 * RFID_T],
        with_all.rfid[..2 * RFID_T]
    );
}
