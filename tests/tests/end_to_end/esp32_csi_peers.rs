//! ESP32-CSI-Tool rows decoded by us and by csiread (an independent implementation) agree
//! in every column csiread reads (all 25 and the CSI): on the real recording, and on 1200
//! random rows written by our encoder (random MACs, every rx_ctrl column, timestamps across
//! the `%d` wrap, 128- and 384-value rows).
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Role, RowDecoder};
use dagr_protocols::csi::{Iq, RxCtrl};
use dagr_protocols::stream::decode_all;
use dagr_tests::{fixture, run_peer, scratch_file};
use serde_json::Value;

/// SplitMix64: a fixed-seed generator so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn random_row(rng: &mut Rng) -> CsiRow {
    let values = if rng.next() % 3 == 0 { 384 } else { 128 };
    let mut mac = [0u8; 6];
    mac.iter_mut().for_each(|b| *b = rng.byte());
    let role = [Role::Ap, Role::Sta, Role::Passive][(rng.next() % 3) as usize];
    let rx_ctrl = RxCtrl {
        rssi: rng.byte() as i8,
        rate: rng.byte() % 32,
        sig_mode: rng.byte() % 2,
        mcs: rng.byte() % 8,
        bandwidth: rng.byte() % 2,
        smoothing: rng.byte() % 2,
        not_sounding: rng.byte() % 2,
        aggregation: rng.byte() % 2,
        stbc: rng.byte() % 2,
        fec_coding: rng.byte() % 2,
        sgi: rng.byte() % 2,
        noise_floor: -((rng.byte() % 100) as i8),
        ampdu_cnt: rng.byte(),
        channel: 1 + rng.byte() % 13,
        secondary_channel: rng.byte() % 3,
        local_timestamp: rng.next() as u32,
        ant: rng.byte() % 2,
        sig_len: (rng.next() % 4096) as u16,
        rx_state: 0,
    };
    let real_time_set = rng.next() % 2 == 0;
    let real_timestamp = (rng.next() % 100_000_000) as f64 / 1000.0;
    let len = if rng.next() % 2 == 0 {
        384
    } else {
        values as u16
    };
    let csi = (0..values / 2)
        .map(|_| Iq {
            re: rng.byte() as i8,
            im: rng.byte() as i8,
        })
        .collect();
    CsiRow {
        real_time_set,
        real_timestamp,
        len,
        ..CsiRow::new(role, mac, rx_ctrl, csi)
    }
}

fn ours(bytes: &[u8]) -> Vec<CsiRow> {
    let mut rows = Vec::new();
    decode_all(&mut RowDecoder::new(), bytes, |r| rows.push(r));
    rows
}

fn mac_text(mac: &[u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02X}")).collect();
    parts.join(":")
}

/// Every column of `row` under csiread's names, as csiread reads them (`local_timestamp`
/// as the `%d` text it parses, so the u32 from 2^31 on is negative).
fn columns(row: &CsiRow) -> serde_json::Map<String, Value> {
    let rx = &row.rx_ctrl;
    let value = serde_json::json!({
        "type": "CSI_DATA",
        "role": row.role.as_str(),
        "mac": mac_text(&row.mac),
        "rssi": rx.rssi,
        "rate": rx.rate,
        "sig_mode": rx.sig_mode,
        "mcs": rx.mcs,
        "bandwidth": rx.bandwidth,
        "smoothing": rx.smoothing,
        "not_sounding": rx.not_sounding,
        "aggregation": rx.aggregation,
        "stbc": rx.stbc,
        "fec_coding": rx.fec_coding,
        "sgi": rx.sgi,
        "noise_floor": rx.noise_floor,
        "ampdu_cnt": rx.ampdu_cnt,
        "channel": rx.channel,
        "secondary_channel": rx.secondary_channel,
        "local_timestamp": rx.local_timestamp as i32,
        "ant": rx.ant,
        "sig_len": rx.sig_len,
        "rx_state": rx.rx_state,
        "real_time_set": u8::from(row.real_time_set),
        "real_timestamp": row.real_timestamp,
        "len": row.len,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a json! object literal"),
    }
}

/// Compares every column both sides read (csiread's whole column table, checked to be
/// the same set of names as ours); csiread pads csi to `maxlen / 2` with zeros.
fn assert_same(ours: &[CsiRow], peer: &Value, maxlen: usize) {
    let peer = peer.as_array().expect("peer prints an array");
    assert_eq!(ours.len(), peer.len(), "row count");
    for (i, (row, p)) in ours.iter().zip(peer).enumerate() {
        let p = p.as_object().expect("peer rows are objects");
        let expected = columns(row);
        let mut peer_names: Vec<&String> = p.keys().filter(|k| *k != "csi").collect();
        let mut our_names: Vec<&String> = expected.keys().collect();
        peer_names.sort();
        our_names.sort();
        assert_eq!(peer_names, our_names, "row {i}: the columns csiread reads");
        for (name, value) in &expected {
            let got = &p[name];
            if name == "real_timestamp" {
                assert_eq!(got.as_f64(), value.as_f64(), "row {i} {name}");
            } else {
                assert_eq!(got, value, "row {i} {name}");
            }
        }
        let mut expected: Vec<[i64; 2]> = row
            .csi
            .iter()
            .map(|iq| [i64::from(iq.re), i64::from(iq.im)])
            .collect();
        expected.resize(maxlen / 2, [0, 0]);
        let got: Vec<[i64; 2]> = serde_json::from_value(p["csi"].clone()).unwrap();
        assert_eq!(got, expected, "row {i} csi");
    }
}

#[test]
fn real_recording_decodes_like_csiread() {
    let path = dagr_tests::fixtures_dir().join("esp32_csi/example_csi.csv");
    let rows = ours(&fixture("esp32_csi/example_csi.csv"));
    assert_eq!(rows.len(), 13);
    let peer = run_peer("csiread_esp32.py", &[path.to_str().unwrap(), "128"]);
    assert_same(&rows, &serde_json::from_slice(&peer).unwrap(), 128);
}

#[test]
fn encoded_random_rows_decode_like_csiread() {
    let mut rng = Rng(0xE532_C51D);
    let rows: Vec<CsiRow> = (0..1200).map(|_| random_row(&mut rng)).collect();
    assert!(rows.iter().any(|r| r.csi.len() == 192) && rows.iter().any(|r| r.csi.len() == 64));
    assert!(
        rows.iter().any(|r| r.rx_ctrl.local_timestamp >= 1 << 31),
        "exercise the %d wrap"
    );
    let bytes: Vec<u8> = rows.iter().flat_map(CsiRow::to_line).collect();
    let path = scratch_file("esp32-csi-peers", "random.csv", &bytes);
    let decoded = ours(&bytes);
    assert_eq!(decoded, rows, "our decoder reads our encoder back");
    let peer = run_peer("csiread_esp32.py", &[path.to_str().unwrap(), "384"]);
    assert_same(&decoded, &serde_json::from_slice(&peer).unwrap(), 384);
}
