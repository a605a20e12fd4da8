//! One clock model per source, created when the source's first record is seen.
use std::collections::HashMap;
use std::sync::Arc;

use super::model::{ClockConfig, ClockModel};
use super::time_sync::SyncRejected;
use super::wire::WireRate;
use crate::clock::TimeSyncExchange;
use crate::record::{DeviceTime, Record};

/// The clock models of every source of a gateway run (or a replay), by source name.
#[derive(Debug, Clone, Default)]
pub struct SourceClocks {
    config: ClockConfig,
    models: HashMap<Arc<str>, ClockModel>,
    wires: HashMap<Arc<str>, WireRate>,
}

impl SourceClocks {
    /// Models with the default tuning.
    pub fn new() -> Self {
        SourceClocks::default()
    }

    /// Models with explicit tuning.
    pub fn with_config(config: ClockConfig) -> Self {
        SourceClocks {
            config,
            ..SourceClocks::default()
        }
    }

    /// Declares the speed of the link `source`'s bytes cross, so each record's wire time
    /// (its byte length at that speed) is taken off its arrival before its clock model
    /// learns from it. Sources never declared get no correction (TCP, unknown links).
    pub fn set_wire(&mut self, source: &Arc<str>, rate: WireRate) {
        self.wires.insert(source.clone(), rate);
    }

    /// When `record`'s first byte arrived: its arrival less its wire time, if its link's
    /// speed is known.
    pub fn first_byte_ns(&self, record: &Record) -> u64 {
        match self.wires.get(&record.source) {
            Some(rate) => rate.first_byte_ns(record.arrival_ns, record.wire_bytes),
            None => record.arrival_ns,
        }
    }

    /// Learns from `record` and returns its device time mapped to gateway ns.
    pub fn map(&mut self, record: &Record) -> u64 {
        let arrival_ns = self.first_byte_ns(record);
        let model = match self.models.get_mut(&record.source) {
            Some(model) => model,
            None => self
                .models
                .entry(record.source.clone())
                .or_insert_with(|| ClockModel::with_config(&record.device_time, self.config)),
        };
        model.observe(record.device_time, arrival_ns)
    }

    /// Learns from a completed time-sync exchange with a node (a
    /// [`SourceEvent::TimeSync`](crate::events::SourceEvent::TimeSync)); the node's model is
    /// created if it has sent no record yet. From then on [`map`](Self::map) places the
    /// node's records by the two-way sync rather than by their arrivals alone. On a link of
    /// known speed each leg's wire time is taken off first
    /// ([`TimeSyncExchange::without_wire_time`]), as for records.
    pub fn time_sync(&mut self, exchange: &TimeSyncExchange) -> Result<(), SyncRejected> {
        let net;
        let exchange = match self.wires.get(&exchange.source) {
            Some(rate) => {
                net = exchange.without_wire_time(*rate);
                &net
            }
            None => exchange,
        };
        let first = DeviceTime::NodeMicros(exchange.t2_us);
        let model = match self.models.get_mut(&exchange.source) {
            Some(model) => model,
            None => self
                .models
                .entry(exchange.source.clone())
                .or_insert_with(|| ClockModel::with_config(&first, self.config)),
        };
        model.time_sync(
            exchange.t1_ns,
            exchange.t2_us,
            exchange.t3_us,
            exchange.t4_ns,
        )
    }

    /// The model of `source`, if it has sent a record or a time-sync answer.
    pub fn get(&self, source: &str) -> Option<&ClockModel> {
        self.models.get(source)
    }

    /// The model of `source`, for changes, if it has sent a record or a time-sync answer.
    pub fn get_mut(&mut self, source: &str) -> Option<&mut ClockModel> {
        self.models.get_mut(source)
    }

    /// Every source's model, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &ClockModel)> {
        self.models.iter()
    }
}
