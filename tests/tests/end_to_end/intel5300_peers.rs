//! Intel 5300 `.dat` codec against csiread, an independent implementation (Cython).
//!
//! No real 5300 recording is available, so the files are generated: random bfee records of
//! every shape (Nrx, Ntx in 1..=3) with connector-log (0xC1) records interleaved. csiread
//! must read back exactly what our encoder wrote, our decoder must agree with csiread record
//! by record, and a file packed by the peer script's own encoder must decode to the records
//! it was given (and equal our encoding byte for byte).
//!
//! csiread applies the antenna permutation to its `csi` array (chain `j` lands at index
//! `perm[j]`); our decoder reports chains in RF-chain order and leaves that to the user. The
//! peer script undoes csiread's permutation, which is well defined because the generated
//! `antenna_sel` values hold real permutations of the 3 antennas, as the NIC reports them.
use dagr_host::format::Unit;
use dagr_protocols::csi::intel5300::{Bfee, BfeeDecoder, CODE_CONNECTOR_LOG};
use dagr_protocols::csi::Iq;
use dagr_protocols::stream::{decode_all, StreamDecoder};
use dagr_tests::{run_peer, scratch_dir, scratch_file, ScratchFile};
use serde_json::Value;

const RECORDS: usize = 240;

/// splitmix64: a deterministic source of test values without a dependency.
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

/// The antenna-to-chain permutations a 5300 reports: each of the 3 antennas once.
const PERMS: [[u8; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

/// A random `antenna_sel` holding a real permutation; `unused_bits` fills the top two bits
/// (which `perm` does not carry) with random values.
fn random_antenna_sel(rng: &mut Rng, unused_bits: bool) -> u8 {
    let p = PERMS[(rng.next() % 6) as usize];
    let top = if unused_bits { rng.byte() & 0xC0 } else { 0 };
    top | p[0] | p[1] << 2 | p[2] << 4
}

fn random_bfee(rng: &mut Rng, unused_bits: bool) -> Bfee {
    let nrx = 1 + (rng.next() % 3) as u8;
    let ntx = 1 + (rng.next() % 3) as u8;
    let csi = (0..usize::from(nrx) * usize::from(ntx) * 30)
        .map(|_| Iq {
            re: rng.byte() as i8,
            im: rng.byte() as i8,
        })
        .collect();
    Bfee {
        timestamp_low: rng.next() as u32,
        bfee_count: rng.next() as u16,
        nrx,
        ntx,
        rssi_a: rng.byte(),
        rssi_b: rng.byte(),
        rssi_c: rng.byte(),
        noise: rng.byte() as i8,
        agc: rng.byte(),
        antenna_sel: random_antenna_sel(rng, unused_bits),
        rate: rng.next() as u16,
        csi,
    }
}

/// Random records and the `.dat` bytes holding them, a 0xC1 record after every fifth.
fn generated_file(seed: u64, unused_bits: bool) -> (Vec<Bfee>, Vec<u8>) {
    let mut rng = Rng(seed);
    let records: Vec<Bfee> = (0..RECORDS)
        .map(|_| random_bfee(&mut rng, unused_bits))
        .collect();
    let mut bytes = Vec::new();
    for (i, r) in records.iter().enumerate() {
        r.encode_into(&mut bytes).expect("encode");
        if i % 5 == 4 {
            let payload: Vec<u8> = (0..1 + rng.next() % 40).map(|_| rng.byte()).collect();
            bytes.extend_from_slice(&(payload.len() as u16 + 1).to_be_bytes());
            bytes.push(CODE_CONNECTOR_LOG);
            bytes.extend_from_slice(&payload);
        }
    }
    (records, bytes)
}

fn write_scratch(tag: &str, name: &str, bytes: &[u8]) -> ScratchFile {
    scratch_file(tag, name, bytes)
}

fn csiread_records(path: &str) -> Vec<Value> {
    let out = run_peer("intel5300_csiread.py", &["read", path]);
    serde_json::from_slice::<Vec<Value>>(&out).expect("peer prints a JSON list")
}

fn our_records(bytes: &[u8]) -> (Vec<Bfee>, dagr_protocols::stream::StreamStats) {
    let mut decoder = BfeeDecoder::new();
    let mut out = Vec::new();
    decode_all(&mut decoder, bytes, |b| out.push(b));
    (out, *decoder.stats())
}

#[test]
fn csiread_reads_the_values_we_encode() {
    let (records, bytes) = generated_file(0x5300_0001, true);
    let path = write_scratch("intel5300-a", "encoded.dat", &bytes);
    let peer = csiread_records(path.to_str().unwrap());
    assert_eq!(peer.len(), RECORDS, "csiread bfee count");
    for (i, (ours, theirs)) in records.iter().zip(&peer).enumerate() {
        assert_eq!(
            &ours.to_json(),
            theirs,
            "record {i} differs from what we wrote"
        );
    }
}

#[test]
fn our_decoder_agrees_with_csiread_record_by_record() {
    let (_, bytes) = generated_file(0x5300_0002, true);
    let path = write_scratch("intel5300-b", "encoded.dat", &bytes);
    let peer = csiread_records(path.to_str().unwrap());
    let (ours, stats) = our_records(&bytes);
    assert_eq!(ours.len(), peer.len());
    assert_eq!(stats.frames_rejected, 0);
    assert!(
        stats.bytes_skipped > 0,
        "the 0xC1 records are counted as skipped"
    );
    assert_eq!(stats.bytes_in, stats.bytes_consumed + stats.bytes_skipped);
    for (i, (ours, theirs)) in ours.iter().zip(&peer).enumerate() {
        assert_eq!(
            &ours.to_json(),
            theirs,
            "record {i}: decoder and csiread differ"
        );
    }
}

#[test]
fn file_packed_by_the_peer_decodes_to_its_records_and_matches_our_bytes() {
    // perm carries only 6 bits of antenna_sel, so keep the top two bits clear.
    let (records, _) = generated_file(0x5300_0003, false);
    let json: Vec<Value> = records.iter().map(Unit::to_json).collect();
    let json_path = write_scratch(
        "intel5300-c",
        "records.json",
        &serde_json::to_vec(&json).unwrap(),
    );
    let dat_dir = scratch_dir("intel5300-c-peer");
    let dat_path = dat_dir.join("peer.dat");
    let dat = dat_path.to_str().unwrap();
    run_peer(
        "intel5300_csiread.py",
        &["write", json_path.to_str().unwrap(), dat],
    );
    let peer_bytes = std::fs::read(&dat_path).expect("peer wrote the file");
    let (decoded, stats) = our_records(&peer_bytes);
    assert_eq!(decoded, records);
    assert_eq!(stats.bytes_skipped, 0);
    let mut ours = Vec::new();
    for r in &records {
        r.encode_into(&mut ours).unwrap();
    }
    assert!(
        ours == peer_bytes,
        "our encoding differs from the peer's packing"
    );
}
