#![no_main]
//! Fuzzes ESP32-CSI-Tool rows: the streaming decoder (chunk sizes and line limit taken from
//! the input) must keep its byte accounting, and every line the view accepts must survive
//! parse -> emit -> parse unchanged.
use dagr_protocols::csi::esp32_csi_tool::{CsiRow, Row, RowDecoder};
use dagr_protocols::stream::{decode_chunk, StreamDecoder};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&knob, input)) = data.split_first() else {
        return;
    };
    let limit = if knob & 1 == 0 {
        8 * 1024
    } else {
        16 + usize::from(knob) * 4
    };
    let mut decoder = RowDecoder::with_limit(limit);
    let mut records = 0u64;
    let mut rest = input;
    let mut sizes = data.iter().cycle();
    while !rest.is_empty() {
        let size = (usize::from(*sizes.next().unwrap_or(&1)) % 97 + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        rest = tail;
        decode_chunk(&mut decoder, chunk, |row| {
            check_round_trip(&row);
            records += 1;
        });
        let s = decoder.stats();
        assert!(s.bytes_consumed + s.bytes_skipped <= s.bytes_in);
    }
    decoder.finish();
    while let Some(row) = decoder.next_item() {
        check_round_trip(&row);
        records += 1;
    }
    let s = decoder.stats();
    assert_eq!(s.bytes_in, input.len() as u64);
    assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped, "{s:?}");

    for line in input.split(|&b| b == b'\n') {
        let Ok(view) = Row::new_checked(line) else {
            assert!(
                CsiRow::parse_line(line).is_err(),
                "parse_line is no more lenient than the view"
            );
            continue;
        };
        let _ = (view.values().count(), view.real_timestamp_text());
        let row = CsiRow::parse(&view).expect("a checked view parses");
        let one_pass = CsiRow::parse_line(line).expect("what the view accepts, parse_line accepts");
        assert_eq!(one_pass, row, "view path and one-pass path agree");
        assert_eq!(row.csi.len() * 2, view.value_count());
        check_round_trip(&row);
        records += 1;
    }
    dagr_protocols_fuzz::input_done(records);
});

fn check_round_trip(row: &CsiRow) {
    let line = row.to_line();
    assert_eq!(line.len(), row.buffer_len());
    let again = CsiRow::parse_line(&line).expect("emitted rows parse");
    assert_eq!(&again, row);
}
