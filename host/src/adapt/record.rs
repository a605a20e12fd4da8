//! What model.json records about an adaptation (its `adaptation` object): the data, the
//! work done, the held-out scores before and after, the gate's verdict, the settings, the
//! package it started from and when.
use std::time::{SystemTime, UNIX_EPOCH};

use dagr_head::Scores;
use serde_json::{json, Value};

use super::band::{FollowedBand, FOLLOW_RULE};
use super::{AdaptOutcome, AdaptSettings};

/// The `adaptation` object of an adapted package's model.json.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptationRecord {
    /// Where the labeled windows came from: capture paths, or `"online labels"`.
    pub data: Vec<String>,
    /// Labeled windows used.
    pub windows: usize,
    /// Windows per class, by class name (classes with none left out).
    pub per_class: Vec<(String, usize)>,
    /// Epochs run.
    pub epochs: u32,
    /// Optimizer steps taken.
    pub steps: u32,
    /// The epoch whose parameters were kept (0: the starting ones).
    pub best_epoch: u32,
    /// Held-out scores of the starting head.
    pub before: Option<Scores>,
    /// Held-out scores of the adapted head.
    pub after: Option<Scores>,
    /// The validation gate's verdict (false only when written anyway, `--accept-worse`).
    pub accepted: bool,
    /// The settings, as [`AdaptSettings::to_json`] states them.
    pub settings: Value,
    /// The source package's model.json `name`.
    pub parent: String,
    /// When the adaptation finished, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub utc: String,
    /// The norm guard's band carried over to the adapted head (`None`: the source had
    /// none).
    pub norm_band: Option<FollowedBand>,
}

impl AdaptationRecord {
    /// The record of `outcome`, adapted from the package named `parent` (classes
    /// `classes`) on `data` under `settings`, stamped now.
    pub fn new(
        data: Vec<String>,
        outcome: &AdaptOutcome,
        settings: &AdaptSettings,
        parent: &str,
        classes: &[String],
    ) -> Self {
        let per_class = classes
            .iter()
            .zip(&outcome.per_class)
            .filter(|(_, &n)| n > 0)
            .map(|(c, &n)| (c.clone(), n))
            .collect();
        AdaptationRecord {
            data,
            windows: outcome.windows,
            per_class,
            epochs: outcome.report.epochs,
            steps: outcome.report.steps,
            best_epoch: outcome.report.best_epoch,
            before: outcome.report.before,
            after: outcome.report.after,
            accepted: outcome.accepted,
            settings: settings.to_json(),
            parent: parent.to_string(),
            utc: utc_now(),
            norm_band: outcome.norm_band,
        }
    }

    /// The JSON object model.json holds.
    pub fn to_json(&self) -> Value {
        let scores = |s: &Option<Scores>| match s {
            Some(s) => json!({"accuracy": s.accuracy, "loss": s.loss}),
            None => Value::Null,
        };
        let per_class: serde_json::Map<String, Value> = self
            .per_class
            .iter()
            .map(|(c, n)| (c.clone(), json!(n)))
            .collect();
        let norm_band = self.norm_band.map_or(Value::Null, |b| {
            json!({
                "source_bounds": b.source,
                "bounds": b.bounds,
                "ratio": b.ratio,
                "windows": b.windows,
                "rule": FOLLOW_RULE,
            })
        });
        json!({
            "parent": self.parent,
            "utc": self.utc,
            "data": self.data,
            "windows": self.windows,
            "per_class": per_class,
            "epochs": self.epochs,
            "steps": self.steps,
            "best_epoch": self.best_epoch,
            "validation": {"before": scores(&self.before), "after": scores(&self.after)},
            "accepted": self.accepted,
            "settings": self.settings,
            "norm_band": norm_band,
        })
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_string(secs)
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
fn utc_string(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_date(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The calendar date `days` after 1970-01-01: count 400-year eras from 0000-03-01 (a
/// year starting in March puts the leap day last), then the year of the era, the day of
/// that year and its month.
fn civil_date(days: u64) -> (u64, u64, u64) {
    const DAYS_0000_03_01_TO_1970: u64 = 719_468;
    let z = days + DAYS_0000_03_01_TO_1970;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_strings_of_known_instants() {
        assert_eq!(utc_string(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_string(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_string(1_796_400_000 + 3661), "2026-12-04T17:01:01Z");
    }
}
