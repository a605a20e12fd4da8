//! `/metrics`: the status board in the Prometheus text exposition format (0.0.4), written
//! by `prometheus-client` from one snapshot per scrape, so its values always agree with
//! the `/status` taken at the same moment.
//!
//! Names (counters get `_total` appended by the encoder): `dagr_uptime_seconds`,
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
//! `dagr_sync_buffered_records`; `dagr_predictions_total`, `dagr_predictions_partial_total`;
//! `dagr_events_clients`, `dagr_events_published_total`, `dagr_events_dropped_total`.
use std::fmt::Error;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::status::{GatewayStatus, SourceHealth};

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

/// One snapshot, encoded on scrape.
#[derive(Debug)]
struct StatusMetrics(GatewayStatus);

/// A metric without labels.
fn single(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: impl EncodeMetric,
) -> Result<(), Error> {
    let descriptor = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
    metric.encode(descriptor)
}

/// A metric with one sample per label set; written only when there is a sample.
fn family<L: EncodeLabelSet, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: Vec<(L, M)>,
) -> Result<(), Error> {
    let Some(metric_type) = samples.first().map(|(_, m)| m.metric_type()) else {
        return Ok(());
    };
    let mut descriptor = encoder.encode_descriptor(name, help, None, metric_type)?;
    for (labels, metric) in &samples {
        metric.encode(descriptor.encode_family(labels)?)?;
    }
    Ok(())
}

/// A counter per source.
fn source_counter(
    encoder: &mut DescriptorEncoder,
    sources: &[SourceHealth],
    name: &str,
    help: &str,
    value: impl Fn(&SourceHealth) -> u64,
) -> Result<(), Error> {
    let samples = sources
        .iter()
        .map(|s| ([("source", s.name.as_str())], ConstCounter::new(value(s))))
        .collect();
    family(encoder, name, help, samples)
}

/// A gauge per source that has a value.
fn source_gauge(
    encoder: &mut DescriptorEncoder,
    sources: &[SourceHealth],
    name: &str,
    help: &str,
    value: impl Fn(&SourceHealth) -> Option<f64>,
) -> Result<(), Error> {
    let samples = sources
        .iter()
        .filter_map(|s| Some(([("source", s.name.as_str())], ConstGauge::new(value(s)?))))
        .collect();
    family(encoder, name, help, samples)
}

impl Collector for StatusMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), Error> {
        let status = &self.0;
        let e = &mut encoder;
        single(
            e,
            "dagr_uptime_seconds",
            "Seconds since the gateway started.",
            ConstGauge::new(status.uptime_s),
        )?;
        let model = [
            ("model", status.model.name.as_str()),
            ("engine", status.model.engine.as_str()),
        ];
        family(
            e,
            "dagr_model_info",
            "The model the gateway runs (value 1).",
            vec![(model, ConstGauge::new(1i64))],
        )?;
        encode_sources(e, &status.sources)?;
        encode_nodes(e, &status.sources)?;
        if let Some(sync) = status.synchronizer {
            single(
                e,
                "dagr_sync_records",
                "Records placed in windows.",
                ConstCounter::new(sync.records),
            )?;
            single(
                e,
                "dagr_sync_late_records",
                "Records dropped because all their windows had gone out.",
                ConstCounter::new(sync.late),
            )?;
            single(
                e,
                "dagr_sync_overflow_records",
                "Records dropped because the synchronizer's buffer was full.",
                ConstCounter::new(sync.overflow),
            )?;
            single(
                e,
                "dagr_sync_windows",
                "Windows emitted.",
                ConstCounter::new(sync.windows),
            )?;
            single(
                e,
                "dagr_sync_buffered_records",
                "Records held by the synchronizer now.",
                ConstGauge::new(sync.buffered as i64),
            )?;
        }
        let p = &status.predictions;
        single(
            e,
            "dagr_predictions",
            "Predictions made.",
            ConstCounter::new(p.total),
        )?;
        single(
            e,
            "dagr_predictions_partial",
            "Predictions made with a modality absent.",
            ConstCounter::new(p.partial),
        )?;
        let ev = status.events;
        single(
            e,
            "dagr_events_clients",
            "Clients connected to /events now.",
            ConstGauge::new(ev.clients as i64),
        )?;
        single(
            e,
            "dagr_events_published",
            "Prediction lines published to /events.",
            ConstCounter::new(ev.published),
        )?;
        single(
            e,
            "dagr_events_dropped",
            "Prediction lines dropped for /events clients that fell behind.",
            ConstCounter::new(ev.dropped),
        )
    }
}

fn encode_sources(e: &mut DescriptorEncoder, sources: &[SourceHealth]) -> Result<(), Error> {
    let connected = |s: &SourceHealth| Some(if s.connected { 1.0 } else { 0.0 });
    source_gauge(
        e,
        sources,
        "dagr_source_connected",
        "1 while the source's device is connected.",
        connected,
    )?;
    source_counter(e, sources, "dagr_source_records", "Records decoded.", |s| {
        s.records
    })?;
    source_counter(e, sources, "dagr_source_bytes", "Bytes received.", |s| {
        s.bytes
    })?;
    source_gauge(
        e,
        sources,
        "dagr_source_records_per_second",
        "Records per second over the last seconds.",
        |s| Some(s.rate_hz),
    )?;
    source_counter(
        e,
        sources,
        "dagr_source_gaps",
        "Stalls of a connected source's records.",
        |s| s.gaps,
    )?;
    source_counter(
        e,
        sources,
        "dagr_source_dropped_events",
        "Events dropped on the source's full queue.",
        |s| s.dropped_events,
    )?;
    source_counter(
        e,
        sources,
        "dagr_source_connects",
        "Connections made.",
        |s| s.connects,
    )?;
    source_counter(
        e,
        sources,
        "dagr_source_disconnects",
        "Connections lost.",
        |s| s.disconnects,
    )?;
    source_gauge(
        e,
        sources,
        "dagr_source_clock_offset_seconds",
        "Gateway time minus device time.",
        |s| Some(s.clock?.offset_s),
    )?;
    source_gauge(
        e,
        sources,
        "dagr_source_clock_drift_ppm",
        "Device clock drift against its nominal rate.",
        |s| s.clock?.drift_ppm,
    )?;
    source_gauge(
        e,
        sources,
        "dagr_source_clock_jitter_seconds",
        "Arrival jitter.",
        |s| Some(s.clock?.jitter_s),
    )?;
    let readers: Vec<_> = sources
        .iter()
        .filter_map(|s| {
            let r = s.reader.as_ref()?;
            let labels = vec![
                ("source", s.name.clone()),
                ("manufacturer", r.manufacturer.to_string()),
                ("model", r.model.to_string()),
                ("firmware", r.firmware.clone()),
            ];
            Some((labels, ConstGauge::new(1i64)))
        })
        .collect();
    family(
        e,
        "dagr_reader_info",
        "The RFID reader a source is connected to (value 1).",
        readers,
    )
}

fn encode_nodes(e: &mut DescriptorEncoder, sources: &[SourceHealth]) -> Result<(), Error> {
    let nodes: Vec<_> = sources
        .iter()
        .flat_map(|s| {
            s.nodes.iter().map(move |n| {
                (
                    [("source", s.name.clone()), ("node", n.node.to_string())],
                    *n,
                )
            })
        })
        .collect();
    let each = |value: &dyn Fn(&crate::status::NodeStatus) -> f64| {
        nodes
            .iter()
            .map(|(l, n)| (l.clone(), ConstGauge::new(value(n))))
            .collect::<Vec<_>>()
    };
    family(
        e,
        "dagr_node_uptime_seconds",
        "A node's uptime at its latest heartbeat.",
        each(&|n| n.uptime_s),
    )?;
    let counter = |value: &dyn Fn(&crate::status::NodeStatus) -> u64| {
        nodes
            .iter()
            .map(|(l, n)| (l.clone(), ConstCounter::new(value(n))))
            .collect::<Vec<_>>()
    };
    family(
        e,
        "dagr_node_dropped_backpressure",
        "Samples a node dropped on its full ring.",
        counter(&|n| u64::from(n.dropped_backpressure)),
    )?;
    family(
        e,
        "dagr_node_crc_errors",
        "CRC errors a node saw on receive.",
        counter(&|n| u64::from(n.crc_errors)),
    )
}
