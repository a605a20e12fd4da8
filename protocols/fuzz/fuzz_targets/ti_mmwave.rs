#![no_main]
//! Fuzzes the TI mmWave data-port decoder and the CLI helpers.
//!
//! The input is fed to a small-limit `FrameDecoder` in chunks whose sizes come from the
//! data, checking the `StreamStats` accounting invariant after every chunk; every decoded
//! frame must re-encode and parse back to itself. The same bytes go through the one-shot
//! views (`Frame::parse_bytes`, `HeaderRepr`, `TlvIter`) and, as text, through the `.cfg`
//! parser, the response classifier, `CfgSession` and `RadarParams`.
use dagr_protocols::stream::{decode_chunk, StreamDecoder};
use dagr_protocols::ti_mmwave::cli::{classify_line, CfgSession, RadarParams};
use dagr_protocols::ti_mmwave::tlv::TlvIter;
use dagr_protocols::ti_mmwave::{Frame, FrameDecoder, HeaderRepr, Packet};

fn check_invariant(decoder: &FrameDecoder) {
    let s = decoder.stats();
    assert_eq!(
        s.bytes_in,
        s.bytes_consumed + s.bytes_skipped + decoder.buffered() as u64
    );
    assert!(decoder.buffered() <= decoder.limit());
}

fn check_round_trip(frame: &Frame) {
    let bytes = frame.encode().expect("a decoded frame re-encodes");
    let again = Frame::parse_bytes(&bytes).expect("an encoded frame parses");
    assert_eq!(without_nan(again), without_nan(frame.clone()));
}

/// NaN never equals itself; compare frames with NaN coordinates zeroed.
fn without_nan(mut frame: Frame) -> Frame {
    for p in &mut frame.points {
        for c in [&mut p.x, &mut p.y, &mut p.z, &mut p.v] {
            if c.is_nan() {
                *c = 0.0;
            }
        }
    }
    frame
}

/// Returns how many frames decoded and round-tripped.
fn stream(data: &[u8]) -> u64 {
    let mut records = 0;
    let mut decoder = FrameDecoder::with_limit(4096);
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let size = usize::from(data[i % data.len()]).max(1).min(rest.len());
        i += 1;
        decode_chunk(&mut decoder, &rest[..size], |f| {
            check_round_trip(&f);
            records += 1;
        });
        rest = &rest[size..];
        check_invariant(&decoder);
    }
    decoder.finish();
    while let Some(f) = decoder.next_item() {
        check_round_trip(&f);
        records += 1;
    }
    check_invariant(&decoder);
    assert_eq!(decoder.buffered(), 0);
    records
}

fn one_shot(data: &[u8]) -> u64 {
    let mut records = 0;
    if let Ok(frame) = Frame::parse_bytes(data) {
        check_round_trip(&frame);
        records += 1;
    }
    let packet = Packet::new_unchecked(data);
    if let Ok(header) = HeaderRepr::parse(&packet) {
        let _ = header.to_string();
        for tlv in TlvIter::new(packet.tlv_area(), header.num_tlvs) {
            let _ = tlv.map(|t| t.payload().len());
        }
    }
    records
}

fn text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        let _ = classify_line(line);
    }
    let _ = RadarParams::from_cfg(text);
    let mut session = CfgSession::new(text);
    for _ in 0..64 {
        if session.next_command().is_none() {
            break;
        }
        let _ = session.feed(data);
        let _ = session.feed(b"\nDone\n");
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records = stream(data) + one_shot(data);
    text(data);
    dagr_protocols_fuzz::input_done(records);
});
