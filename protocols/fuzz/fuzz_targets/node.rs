#![no_main]
//! Fuzzes the node link protocol: the streaming decoder in data-derived chunks (checking
//! the StreamStats accounting and the buffer bound), the one-shot COBS / frame parsers, and
//! re-encoding of everything that parsed (parse(emit(x)) == x).
use dagr_protocols::node::{cobs, decode_frame, Frame, FrameDecoder, MAX_FRAME_LEN, MAX_WIRE_LEN};
use dagr_protocols::stream::StreamDecoder;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records = stream_in_chunks(data) + one_shot(data);
    dagr_protocols_fuzz::input_done(records);
});

/// Returns how many frames decoded and round-tripped.
fn stream_in_chunks(data: &[u8]) -> u64 {
    let mut records = 0;
    let limit = 256 + usize::from(data.first().copied().unwrap_or(0)) * 16;
    let mut decoder = FrameDecoder::with_limit(limit);
    let mut rest = data;
    let mut sizes = data.iter().cycle().map(|&b| usize::from(b % 67) + 1);
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        let mut chunk = chunk;
        while !chunk.is_empty() {
            let taken = decoder.push(chunk);
            chunk = &chunk[taken..];
            while let Some(frame) = decoder.next_item() {
                check_round_trip(&frame);
                records += 1;
            }
        }
        assert!(decoder.buffered() <= limit);
        rest = tail;
    }
    decoder.finish();
    while let Some(frame) = decoder.next_item() {
        check_round_trip(&frame);
        records += 1;
    }
    let s = decoder.stats();
    assert_eq!(decoder.buffered(), 0);
    assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
    assert_eq!(s.bytes_in, data.len() as u64);
    records
}

fn one_shot(data: &[u8]) -> u64 {
    let mut records = 0;
    let mut scratch = [0u8; 4096];
    if let Ok(len) = cobs::decode(data, &mut scratch) {
        let mut again = [0u8; 4096 + 32];
        let n = cobs::encode(&scratch[..len], &mut again).expect("room for the encoding");
        let mut back = [0u8; 4096];
        let m = cobs::decode(&again[..n], &mut back).expect("own encoding decodes");
        assert_eq!(&back[..m], &scratch[..len]);
    }
    if let Ok(frame) = Frame::parse(data) {
        check_round_trip(&frame);
        records += 1;
    }
    let mut copy = data.to_vec();
    let _ = decode_frame(&mut copy);
    records
}

fn check_round_trip(frame: &Frame) {
    let mut raw = [0u8; MAX_FRAME_LEN];
    let n = frame.emit(&mut raw).expect("a parsed frame re-emits");
    let reparsed = Frame::parse(&raw[..n]).expect("re-emitted frame parses");
    // Compared as bytes: radar points may be NaN, which is never == itself.
    let mut again = [0u8; MAX_FRAME_LEN];
    let m = reparsed.emit(&mut again).expect("re-emits");
    assert_eq!(&again[..m], &raw[..n]);
    assert_eq!(reparsed.header, frame.header);
    let mut wire = [0u8; MAX_WIRE_LEN];
    let w = frame.encode(&mut wire).expect("fits the wire buffer");
    assert_eq!(wire[w - 1], 0);
}
