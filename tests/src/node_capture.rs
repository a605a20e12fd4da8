//! What a node's recording must show, read from `dagr replay --json`: every sensor stream
//! in sequence and the gateway's time-sync requests answered. Shared by the tests that
//! record a node, whether it runs on the host (`dagr-node-sim`) or on QEMU.
use std::collections::BTreeMap;

use serde_json::Value;

fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .get(key)
        .unwrap_or_else(|| panic!("no {key:?} in {value}"))
}

/// A node stream's replayed lines, sorted out.
#[derive(Debug, Default)]
pub struct NodeReplay {
    /// Sequence numbers per (stream id, kind), in replay order.
    pub seqs: BTreeMap<(u64, String), Vec<u64>>,
    /// The node's time-sync responses.
    pub time_sync_answers: Vec<Value>,
}

impl NodeReplay {
    /// Sorts `lines`, checking that every one comes from `source` with a positive time and
    /// every sensor frame from node `node`.
    pub fn read(lines: &[Value], source: &str, node: u64) -> NodeReplay {
        let mut replay = NodeReplay::default();
        for line in lines {
            assert_eq!(field(line, "source"), source, "{line}");
            assert!(field(line, "t").as_f64().unwrap() > 0.0, "{line}");
            let kind = field(line, "kind").as_str().unwrap();
            match kind {
                "csi" | "radar" | "rfid" => {
                    assert_eq!(field(line, "node"), node, "{line}");
                    let key = (field(line, "stream").as_u64().unwrap(), kind.to_string());
                    replay
                        .seqs
                        .entry(key)
                        .or_default()
                        .push(field(line, "seq").as_u64().unwrap());
                }
                "time_sync_response" => replay.time_sync_answers.push(line.clone()),
                _ => {}
            }
        }
        replay
    }

    /// Asserts that CSI, radar and RFID each came with at least 10 frames and no gap in
    /// their sequence numbers, and that at least two time-sync requests were answered with
    /// `t1` echoed and `t2 <= t3` on the node's clock (the gateway asks once a second).
    pub fn assert_streams_unbroken_and_time_synced(&self) {
        let kinds: Vec<&str> = self.seqs.keys().map(|(_, k)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["csi", "radar", "rfid"],
            "streams {:?}",
            self.seqs.keys()
        );
        for ((stream, kind), seq) in &self.seqs {
            assert!(
                seq.len() >= 10,
                "{kind} on stream {stream}: {} frames",
                seq.len()
            );
            let gaps: Vec<_> = seq.windows(2).filter(|w| w[1] != w[0] + 1).collect();
            assert!(
                gaps.is_empty(),
                "{kind} on stream {stream}: seq jumps {gaps:?}"
            );
        }
        let answers = &self.time_sync_answers;
        assert!(answers.len() >= 2, "{answers:?}");
        for answer in answers {
            let t = |k| field(answer, k).as_u64().unwrap();
            assert!(t("t1") > 0 && t("t2") <= t("t3"), "{answer}");
        }
    }
}

/// The wire length of the last node frame each chunk completes, bytes: from the previous
/// frame's 0x00 delimiter (exclusive) through its own (COBS framing: a zero byte only ends a
/// frame), found in the raw bytes without the gateway's decoder; `None` for a chunk that
/// ends no frame.
pub fn last_frame_bytes<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Option<u64>> {
    let (mut position, mut previous_zero) = (0u64, None::<u64>);
    let mut lengths = Vec::new();
    for chunk in chunks {
        let mut last = None;
        for (i, _) in chunk.iter().enumerate().filter(|(_, b)| **b == 0) {
            let at = position + i as u64;
            last = Some(previous_zero.map_or(at + 1, |p| at - p));
            previous_zero = Some(at);
        }
        lengths.push(last);
        position += chunk.len() as u64;
    }
    lengths
}

/// The median of `values` (the upper one of an even count); `None` when empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_frame_bytes_span_chunks_and_count_the_delimiter() {
        let chunks: [&[u8]; 4] = [b"\x03ab\x00\x02c", b"d", b"\x00", b"\x01\x00\x02x\x00"];
        assert_eq!(last_frame_bytes(chunks), [Some(4), None, Some(4), Some(3)]);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
    }
}
