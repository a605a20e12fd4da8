//! `/metrics`: the status board in the Prometheus text exposition format (0.0.4), written
//! by `prometheus-client` from one snapshot per scrape, so its values always agree with
//! the `/status` taken at the same moment.
//!
//! Names (counters get `_total` appended by the encoder): `process_resident_memory_bytes`,
//! `process_cpu_seconds_total` (the process collector's names), `dagr_uptime_seconds`,
//! `dagr_model_info{model,engine}`; per source (label `source`): `dagr_source_connected`,
//! `dagr_source_records_total`, `dagr_source_bytes_total`,
//! `dagr_source_records_per_second`, `dagr_source_gaps_total`,
//! `dagr_source_dropped_events_total`, `dagr_source_connects_total`,
//! `dagr_source_disconnects_total`, `dagr_source_clock_offset_seconds`,
//! `dagr_source_clock_drift_ppm`, `dagr_source_clock_jitter_seconds`,
//! `dagr_reader_info{source,manufacturer,model,firmware}`; per node (labels `source`,
//! `node`): `dagr_node_uptime_seconds`, `dagr_node_dropped_backpressure_total`,
//! `dagr_node_crc_errors_total`; `dagr_sync_records_total`, `dagr_sync_late_records_total`,
//! `dagr_sync_overflow_records_total`, `dagr_sync_windows_total`,
//! `dagr_sync_buffered_records`; `dagr_predictions_total`, `dagr_predictions_partial_total`,
//! `dagr_predictions_absent_total{modality}`, `dagr_predictions_set_aside_total{modality}`,
//! `dagr_head_version` (the head that made the latest prediction, 0 for the model's own),
//! `dagr_prediction_latency_seconds` (a histogram, deadline to prediction);
//! `dagr_events_clients`, `dagr_events_published_total`, `dagr_events_dropped_total`.
use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::status::{GatewayStatus, LatencyHistogram, NodeStatus, SourceHealth};

/// The `Content-Type` of the text this module writes.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The exposition text of `status`.
pub fn render(status: GatewayStatus) -> Result<String, Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(StatusMetrics(status)));
    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)?;
    Ok(text)
}

/// One sample's value: a count since start, seconds used since start, or a level now.
#[derive(Debug, Clone, Copy)]
enum Sample {
    Counter(u64),
    SecondsCounter(f64),
    Gauge(f64),
}

impl EncodeMetric for Sample {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), Error> {
        match *self {
            Sample::Counter(n) => ConstCounter::new(n).encode(encoder),
            Sample::SecondsCounter(s) => ConstCounter::new(s).encode(encoder),
            Sample::Gauge(x) => ConstGauge::new(x).encode(encoder),
        }
    }

    fn metric_type(&self) -> MetricType {
        match self {
            Sample::Counter(_) | Sample::SecondsCounter(_) => MetricType::Counter,
            Sample::Gauge(_) => MetricType::Gauge,
        }
    }
}

/// A metric: its name, its help, and its sample from what it describes (`None`: none).
type Metric<T> = (&'static str, &'static str, fn(&T) -> Option<Sample>);

fn count(n: u64) -> Option<Sample> {
    Some(Sample::Counter(n))
}

fn level(x: f64) -> Option<Sample> {
    Some(Sample::Gauge(x))
}

/// Whole-gateway metrics.
const GATEWAY: &[Metric<GatewayStatus>] = &[
    // The process collector's standard names, so dashboards made for them work.
    (
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        |g| level(g.process.resident_bytes? as f64),
    ),
    (
        "process_cpu_seconds",
        "Total user and system CPU time spent in seconds.",
        |g| Some(Sample::SecondsCounter(g.process.cpu_seconds?)),
    ),
    (
        "dagr_uptime_seconds",
        "Seconds since the gateway started.",
        |g| level(g.uptime_s),
    ),
    ("dagr_sync_records", "Records placed in windows.", |g| {
        count(g.synchronizer.as_ref()?.records)
    }),
    (
        "dagr_sync_late_records",
        "Records dropped because all their windows had gone out.",
        |g| count(g.synchronizer.as_ref()?.late),
    ),
    (
        "dagr_sync_overflow_records",
        "Records dropped because the synchronizer's buffer was full.",
        |g| count(g.synchronizer.as_ref()?.overflow),
    ),
    ("dagr_sync_windows", "Windows emitted.", |g| {
        count(g.synchronizer.as_ref()?.windows)
    }),
    (
        "dagr_sync_buffered_records",
        "Records held by the synchronizer now.",
        |g| level(g.synchronizer.as_ref()?.buffered as f64),
    ),
    ("dagr_predictions", "Predictions made.", |g| {
        count(g.predictions.total)
    }),
    (
        "dagr_predictions_partial",
        "Predictions made with a modality absent.",
        |g| count(g.predictions.partial),
    ),
    (
        "dagr_head_version",
        "Version of the head that made the latest prediction (0: the model's own).",
        |g| level(g.predictions.last_head? as f64),
    ),
    (
        "dagr_events_clients",
        "Clients connected to /events now.",
        |g| level(g.events.clients as f64),
    ),
    (
        "dagr_events_published",
        "Prediction lines published to /events.",
        |g| count(g.events.published),
    ),
    (
        "dagr_events_dropped",
        "Prediction lines dropped for /events clients that fell behind.",
        |g| count(g.events.dropped),
    ),
];

/// Metrics of each source (label `source`).
const PER_SOURCE: &[Metric<SourceHealth>] = &[
    (
        "dagr_source_connected",
        "1 while the source's device is connected.",
        |s| level(f64::from(u8::from(s.connected))),
    ),
    ("dagr_source_records", "Records decoded.", |s| {
        count(s.records)
    }),
    ("dagr_source_bytes", "Bytes received.", |s| count(s.bytes)),
    (
        "dagr_source_records_per_second",
        "Records per second over the last seconds.",
        |s| level(s.rate_hz),
    ),
    (
        "dagr_source_gaps",
        "Stalls of a connected source's records.",
        |s| count(s.gaps),
    ),
    (
        "dagr_source_dropped_events",
        "Events dropped on the source's full queue.",
        |s| count(s.dropped_events),
    ),
    ("dagr_source_connects", "Connections made.", |s| {
        count(s.connects)
    }),
    ("dagr_source_disconnects", "Connections lost.", |s| {
        count(s.disconnects)
    }),
    (
        "dagr_source_clock_offset_seconds",
        "Gateway time minus device time.",
        |s| level(s.clock?.offset_s),
    ),
    (
        "dagr_source_clock_drift_ppm",
        "Device clock drift against its nominal rate.",
        |s| level(s.clock?.drift_ppm?),
    ),
    ("dagr_source_clock_jitter_seconds", "Arrival jitter.", |s| {
        level(s.clock?.jitter_s)
    }),
];

/// Metrics of each node heartbeat (labels `source`, `node`).
const PER_NODE: &[Metric<NodeStatus>] = &[
    (
        "dagr_node_uptime_seconds",
        "A node's uptime at its latest heartbeat.",
        |n| level(n.uptime_s),
    ),
    (
        "dagr_node_dropped_backpressure",
        "Samples a node dropped on its full ring.",
        |n| count(n.dropped_backpressure.into()),
    ),
    (
        "dagr_node_crc_errors",
        "CRC errors a node saw on receive.",
        |n| count(n.crc_errors.into()),
    ),
];

/// One snapshot, encoded on scrape.
#[derive(Debug)]
struct StatusMetrics(GatewayStatus);

impl Collector for StatusMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let status = &self.0;
        let no_labels: [(&str, &str); 0] = [];
        for (name, help, value) in GATEWAY {
            family(
                &mut encoder,
                name,
                help,
                value(status).map(|v| (no_labels, v)),
            )?;
        }
        let model = [
            ("model", status.model.name.as_str()),
            ("engine", status.model.engine.as_str()),
        ];
        let info = "The model the gateway runs (value 1).";
        family(
            &mut encoder,
            "dagr_model_info",
            info,
            level(1.0).map(|v| (model, v)),
        )?;
        latency_histogram(&mut encoder, &status.predictions.latency)?;
        let absent = status
            .predictions
            .absent
            .by_modality()
            .map(|(modality, n)| ([("modality", modality.name())], Sample::Counter(n)));
        let help = "Predictions made without a modality (it was absent or masked).";
        family(&mut encoder, "dagr_predictions_absent", help, absent)?;
        let set_aside = status
            .predictions
            .set_aside
            .by_modality()
            .map(|(modality, n)| ([("modality", modality.name())], Sample::Counter(n)));
        let help = "Predictions whose model set a present modality aside (its embedding out of \
                    the norm guard's band: a sensor turned to noise).";
        family(&mut encoder, "dagr_predictions_set_aside", help, set_aside)?;
        for (name, help, value) in PER_SOURCE {
            let samples = status
                .sources
                .iter()
                .filter_map(|s| Some(([("source", s.name.as_str())], value(s)?)));
            family(&mut encoder, name, help, samples)?;
        }
        let readers = status
            .sources
            .iter()
            .filter_map(|s| Some((reader_labels(s)?, Sample::Gauge(1.0))));
        let info = "The RFID reader a source is connected to (value 1).";
        family(&mut encoder, "dagr_reader_info", info, readers)?;
        for (name, help, value) in PER_NODE {
            let samples = status.sources.iter().flat_map(|s| {
                s.nodes.iter().filter_map(|n| {
                    Some((
                        [("source", s.name.clone()), ("node", n.node.to_string())],
                        value(n)?,
                    ))
                })
            });
            family(&mut encoder, name, help, samples)?;
        }
        Ok(())
    }
}

/// `dagr_prediction_latency_seconds`, once a prediction was made.
fn latency_histogram(
    encoder: &mut DescriptorEncoder,
    latency: &LatencyHistogram,
) -> Result<(), Error> {
    if latency.count == 0 {
        return Ok(());
    }
    let help = "Time from a window's deadline (its end plus the allowed lateness) to its \
                prediction.";
    let mut descriptor = encoder.encode_descriptor(
        "dagr_prediction_latency_seconds",
        help,
        None,
        MetricType::Histogram,
    )?;
    let no_labels: [(&str, &str); 0] = [];
    descriptor
        .encode_family(&no_labels)?
        .encode_histogram::<NoLabelSet>(latency.sum_s, latency.count, &latency.buckets(), None)
}

/// The labels of a source's reader identity.
fn reader_labels(source: &SourceHealth) -> Option<[(&'static str, String); 4]> {
    let reader = source.reader.as_ref()?;
    Some([
        ("source", source.name.clone()),
        ("manufacturer", reader.manufacturer.to_string()),
        ("model", reader.model.to_string()),
        ("firmware", reader.firmware.clone()),
    ])
}

/// A metric with one sample per label set; written only when it has a sample.
fn family<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, Sample)>,
) -> Result<(), Error> {
    let mut samples = samples.into_iter().peekable();
    let Some(metric_type) = samples.peek().map(|(_, sample)| sample.metric_type()) else {
        return Ok(());
    };
    let mut descriptor = encoder.encode_descriptor(name, help, None, metric_type)?;
    for (labels, sample) in samples {
        sample.encode(descriptor.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{ModelStatus, StatusBoard};

    /// A board with no source and the tracker that publishes to it.
    fn board_and_tracker() -> (StatusBoard, crate::status::StatusTracker) {
        let board = StatusBoard::new(ModelStatus::default());
        let tracker = crate::status::StatusTracker::new(
            board.clone(),
            crate::clock::GatewayClock::new(),
            &[],
        );
        (board, tracker)
    }

    /// The value of the sample line `name value` in `text`.
    fn sample(text: &str, name: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{text}"))
    }

    #[test]
    fn a_fresh_gateway_exposes_its_totals_without_source_families() {
        let board = StatusBoard::new(ModelStatus {
            name: "reference".into(),
            engine: "ort".into(),
        });
        let text = render(board.snapshot()).unwrap();
        for line in [
            "# TYPE dagr_predictions_total counter\n",
            "dagr_predictions_total 0\n",
            "# TYPE dagr_events_clients gauge\n",
            "dagr_events_clients 0.0\n",
            "dagr_model_info{model=\"reference\",engine=\"ort\"} 1.0\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        assert!(!text.contains("{}"), "no empty label sets:\n{text}");
        assert!(
            !text.contains("dagr_source_"),
            "no source, no family:\n{text}"
        );
        assert!(!text.contains("dagr_sync_"), "no synchronizer yet:\n{text}");
        assert!(
            !text.contains("dagr_head_version "),
            "no prediction yet:\n{text}"
        );
        assert!(
            !text.contains("dagr_prediction_latency"),
            "no prediction, no latency:\n{text}"
        );
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{text}"
        );
        let resident = sample(&text, "process_resident_memory_bytes");
        assert!(resident > 1e6, "{resident} bytes resident:\n{text}");
    }

    #[test]
    fn prediction_latencies_are_a_histogram_with_cumulative_buckets() {
        let (board, mut tracker) = board_and_tracker();
        for ms in [0.5, 3.0, 3.0, 12.0, 40.0, 2000.0] {
            tracker.note_latency(std::time::Duration::from_secs_f64(ms / 1e3));
        }
        tracker.refresh(None);
        let status = board.snapshot();
        assert_eq!(status.predictions.latency.last_s, Some(2.0));
        let text = render(status).unwrap();
        for line in [
            "# TYPE dagr_prediction_latency_seconds histogram\n",
            "dagr_prediction_latency_seconds_count 6\n",
            "dagr_prediction_latency_seconds_bucket{le=\"0.001\"} 1\n",
            "dagr_prediction_latency_seconds_bucket{le=\"0.005\"} 3\n",
            "dagr_prediction_latency_seconds_bucket{le=\"0.015\"} 4\n",
            "dagr_prediction_latency_seconds_bucket{le=\"0.05\"} 5\n",
            "dagr_prediction_latency_seconds_bucket{le=\"1\"} 5\n",
            "dagr_prediction_latency_seconds_bucket{le=\"+Inf\"} 6\n",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
        let sum = sample(&text, "dagr_prediction_latency_seconds_sum");
        assert!((sum - 2.0585).abs() < 1e-9, "sum {sum}");
    }

    #[test]
    fn the_head_of_the_latest_prediction_is_a_gauge() {
        let (board, mut tracker) = board_and_tracker();
        tracker.note_prediction("walking", [true; 3]);
        tracker.note_set_aside([false, false, true]);
        tracker.note_head(3);
        tracker.refresh(None);
        let text = render(board.snapshot()).unwrap();
        assert!(
            text.contains("dagr_predictions_set_aside_total{modality=\"rfid\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE dagr_head_version gauge\n"), "{text}");
        assert!(text.contains("\ndagr_head_version 3.0\n"), "{text}");
    }
}
