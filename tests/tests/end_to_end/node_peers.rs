//! The node link protocol against an independent implementation written from SPEC.md
//! alone (tests/peers/node_frames.py: bitwise CRC-32C, textbook COBS, struct layouts).
//! Both directions: Python decodes our committed test vector, and we decode frames of
//! every kind that Python encoded from random values.
use dagr_host::format::Unit;
use dagr_protocols::node::FrameDecoder;
use dagr_protocols::stream::{decode_all, StreamDecoder};
use dagr_tests::{run_peer, scratch_dir};
use serde_json::Value;

fn json_lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Equal JSON values, floats within 1 ulp-ish: serde_json's default float parser (without
/// its `float_roundtrip` feature) may land one ulp off the value Python printed.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Compares record by record and field by field, so a failure names what differs.
fn assert_same(ours: &[Value], theirs: &[Value], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: record count");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            panic!("{what}: record {i} is not an object");
        };
        let keys: std::collections::BTreeSet<_> = a.keys().chain(b.keys()).collect();
        for k in keys {
            let (x, y) = (
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            );
            let (xs, ys) = (x.to_string(), y.to_string());
            assert!(
                same(x, y),
                "{what}: record {i} field {k}: ours {:.300} theirs {:.300}",
                xs,
                ys
            );
        }
    }
}

fn ours(path: &std::path::Path) -> (Vec<Value>, FrameDecoder) {
    let bytes = std::fs::read(path).unwrap();
    let mut decoder = FrameDecoder::new();
    let mut out = Vec::new();
    decode_all(&mut decoder, &bytes, |f| out.push(f.to_json()));
    (out, decoder)
}

#[test]
fn spec_only_python_decoder_reads_our_test_vector_identically() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocols/testdata/node/stream.bin");
    let theirs = json_lines(&run_peer(
        "node_frames.py",
        &["decode", path.to_str().unwrap()],
    ));
    let (ours, _) = ours(&path);
    assert_eq!(theirs.len(), 10);
    assert_same(&ours, &theirs, "stream.bin");
}

#[test]
fn frames_encoded_by_the_spec_only_python_encoder_decode_identically() {
    for seed in ["1", "2", "3"] {
        let dir = scratch_dir(&format!("node-peer-{seed}"));
        let path = dir.join("python.bin");
        let expected = json_lines(&run_peer(
            "node_frames.py",
            &["encode", path.to_str().unwrap(), seed],
        ));
        let (ours, decoder) = ours(&path);
        assert_eq!(expected.len(), 26);
        assert_eq!(decoder.stats().frames_rejected, 0, "seed {seed}");
        assert_same(&ours, &expected, &format!("seed {seed}"));
    }
}
