//! Fuzzes the Intel 5300 `.dat` codec: the streaming decoder fed in data-derived chunks
//! (accounting invariant checked), the one-shot views and parsers on the raw bytes, and
//! `parse(emit(x)) == x` for every record that decoded.
#![no_main]

use dagr_protocols::csi::intel5300::{check_bfee_header, Bfee, BfeeDecoder, BfeePacket, Record};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};

fn roundtrip(bfee: &Bfee) {
    let mut bytes = Vec::new();
    bfee.encode_into(&mut bytes)
        .expect("a decoded bfee re-encodes");
    assert_eq!(bytes.len(), bfee.record_len());
    let record = Record::new_checked(&bytes[..]).expect("emitted record frames");
    assert_eq!(
        &Bfee::parse_record(&record).expect("emitted record parses"),
        bfee
    );
}

/// Returns how many records parsed and round-tripped.
fn one_shot(data: &[u8]) -> u64 {
    let mut records = 0;
    let _ = check_bfee_header(data);
    if let Ok(record) = Record::new_checked(data) {
        if let Ok(bfee) = Bfee::parse_record(&record) {
            roundtrip(&bfee);
            records += 1;
        }
    }
    // The payload view on its own, whatever the record header says.
    let payload = data.get(3..).unwrap_or(&[]);
    if let Ok(packet) = BfeePacket::new_checked(payload) {
        let bits = packet.csi_bits();
        for bit in [0usize, 3, 7, 100, 4000, usize::MAX] {
            let _ = bits.i8_at(bit);
        }
        let _ = bits.sample(2, 2, 29);
        if let Ok(bfee) = Bfee::parse(&packet) {
            roundtrip(&bfee);
            records += 1;
        }
    }
    records
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let one_shot_records = one_shot(data);

    // Chunk sizes from the first byte, a small limit from the second.
    let step = 1 + usize::from(data.first().copied().unwrap_or(0) % 61);
    let limit = usize::from(data.get(1).copied().unwrap_or(0)) * 8;
    let mut decoder = BfeeDecoder::with_limit(limit);
    let mut decoded = 0u64;
    for chunk in data.chunks(step) {
        decode_chunk(&mut decoder, chunk, |bfee| {
            decoded += 1;
            roundtrip(&bfee);
        });
    }
    decoder.finish();
    while let Some(bfee) = decoder.next_item() {
        decoded += 1;
        roundtrip(&bfee);
    }
    let s = decoder.stats();
    assert_eq!(s.bytes_in, data.len() as u64);
    assert_eq!(
        s.bytes_in,
        s.bytes_consumed + s.bytes_skipped,
        "nothing left buffered"
    );
    assert_eq!(s.frames_ok, decoded);
    dagr_protocols_fuzz::input_done(decoded + one_shot_records);
});
