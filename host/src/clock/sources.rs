//! One clock model per source, created when the source's first record is seen.
use std::collections::HashMap;
use std::sync::Arc;

use super::model::{ClockConfig, ClockModel};
use crate::record::Record;

/// The clock models of every source of a gateway run (or a replay), by source name.
#[derive(Debug, Clone, Default)]
pub struct SourceClocks {
    config: ClockConfig,
    models: HashMap<Arc<str>, ClockModel>,
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
            models: HashMap::new(),
        }
    }

    /// Learns from `record` and returns its device time mapped to gateway ns.
    pub fn map(&mut self, record: &Record) -> u64 {
        let model = match self.models.get_mut(&record.source) {
            Some(model) => model,
            None => self
                .models
                .entry(record.source.clone())
                .or_insert_with(|| ClockModel::with_config(&record.device_time, self.config)),
        };
        model.observe(record.device_time, record.arrival_ns)
    }

    /// The model of `source`, if it has sent a record.
    pub fn get(&self, source: &str) -> Option<&ClockModel> {
        self.models.get(source)
    }

    /// The model of `source` (time-sync answers go here), if it has sent a record.
    pub fn get_mut(&mut self, source: &str) -> Option<&mut ClockModel> {
        self.models.get_mut(source)
    }

    /// Every source's model, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &ClockModel)> {
        self.models.iter()
    }
}
