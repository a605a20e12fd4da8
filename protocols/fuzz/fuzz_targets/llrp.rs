//! Fuzzes the LLRP codec: the streaming decoder fed in data-derived chunk sizes (the
//! StreamStats accounting must hold at every step), the one-shot views and parameter
//! walk, and re-encoding: whatever parsed must encode and parse back to itself.
#![no_main]

use dagr_protocols::llrp::{Header, Message, MessageDecoder, Params};
use dagr_protocols::stream::StreamDecoder;

fn check_accounting(decoder: &MessageDecoder, buffered_max: usize) {
    let s = decoder.stats();
    let accounted = s.bytes_consumed + s.bytes_skipped;
    assert!(accounted <= s.bytes_in);
    assert!(s.bytes_in - accounted <= buffered_max as u64);
}

fn check_round_trip(message: &Message) {
    let bytes = message.to_vec().expect("a parsed message re-encodes");
    let header = Header::new_checked(&bytes[..]).unwrap();
    assert_eq!(header.length() as usize, bytes.len());
    assert_eq!(&Message::parse(&header).unwrap(), message);
}

/// Returns how many messages decoded and round-tripped.
fn stream(data: &[u8]) -> u64 {
    let limit = 4096;
    let mut records = 0;
    let mut decoder = MessageDecoder::with_limit(limit);
    let mut rest = data;
    let mut step = 0usize;
    while !rest.is_empty() {
        let size = 1 + usize::from(data[step % data.len()]) % 97;
        step += 1;
        let mut chunk = &rest[..size.min(rest.len())];
        rest = &rest[chunk.len()..];
        while !chunk.is_empty() {
            let taken = decoder.push(chunk);
            chunk = &chunk[taken..];
            while let Some(message) = decoder.next_item() {
                check_round_trip(&message);
                records += 1;
            }
            check_accounting(&decoder, limit);
        }
    }
    decoder.finish();
    while let Some(message) = decoder.next_item() {
        check_round_trip(&message);
        records += 1;
    }
    let s = decoder.stats();
    assert_eq!(s.bytes_in, data.len() as u64);
    assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
    records
}

fn one_shot(data: &[u8]) -> u64 {
    let mut records = 0;
    if let Ok(header) = Header::new_checked(data) {
        let _ = header.is_plausible(usize::MAX);
        if let Ok(message) = Message::parse(&header) {
            check_round_trip(&message);
            records += 1;
        }
    }
    for param in Params::new(data) {
        if let Ok(p) = param {
            let _ = (p.param_type(), p.value(), p.custom());
        }
    }
    records
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records = one_shot(data) + stream(data);
    dagr_protocols_fuzz::input_done(records);
});
