//! gateway.toml: every option of `dagr run`, its default, and the rule that flags override
//! the file.
//!
//! [`GatewayConfig::load`] reads a file (unknown keys and wrong types stop start-up with an
//! error naming the file, the key path, its line and what was expected), then checks the
//! values (URIs parse, fractions are fractions, EPCs are hex). With no file the defaults
//! apply ([`GatewayConfig::default`]); `host/gateway.example.toml` lists every option with
//! its default, and a test keeps that file equal to the defaults. [`Overrides`] carries the
//! command line's values, which [`GatewayConfig::apply`] puts over the file's.
//!
//! Relative paths (model directory, replayed captures) are taken from the working
//! directory, as on the command line.
//!
//! The config must not know what the options drive beyond their shapes: it hands out a
//! [`SyncConfig`] (window and hop come from the model), [`SourceUri`]s and a
//! [`SourceQueue`]; `dagr run` composes them.
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use dagr_infer::EngineKind;
use serde::Deserialize;

use crate::events::{OverflowPolicy, SourceQueue, DEFAULT_CAPACITY, DEFAULT_MAX_BYTES};
use crate::source::{SourceUri, UriError};
use crate::sync::SyncConfig;

/// The HTTP port used when none is given (`127.0.0.1:8480`).
pub const DEFAULT_HTTP_PORT: u16 = 8480;

/// Most events one `/events` client may have queued before its oldest are dropped.
pub const DEFAULT_EVENTS_BUFFER: usize = 256;

/// Largest per-source queue accepted (events), so a typo cannot reserve gigabytes.
const MAX_QUEUE_CAPACITY: usize = 1 << 24;

/// Largest `/events` client buffer accepted.
const MAX_EVENTS_BUFFER: usize = 1 << 16;

/// Longest accepted synchronizer lateness, ms.
const MAX_LATENESS_MS: u64 = 60_000;

/// Longest EPC accepted, bytes (496 bits, the Gen2 maximum).
const MAX_EPC_BYTES: usize = 62;

/// Seconds of recent windows kept for labels by default (10 minutes).
pub const DEFAULT_RECENT_S: f64 = 600.0;

/// Labeled windows kept for adaptation by default.
pub const DEFAULT_MAX_LABELED: usize = 5000;

/// Longest span of recent windows accepted, s (a day).
const MAX_RECENT_S: f64 = 86_400.0;

/// Most labeled windows accepted.
const MAX_LABELED: usize = 1_000_000;

/// Shortest write token accepted, characters.
pub const MIN_TOKEN_LEN: usize = 16;

/// Everything `dagr run` can be told, as gateway.toml spells it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Device and capture URIs to read (`--source`), e.g. `esp32-csi:///dev/ttyUSB0`.
    pub sources: Vec<String>,
    /// How predictions are printed on standard output.
    pub output: OutputMode,
    /// The model package and the engine that runs it.
    pub model: ModelConfig,
    /// The HTTP status server.
    pub http: HttpConfig,
    /// How windows are emitted.
    pub sync: SyncSettings,
    /// Each source's event queue.
    pub queue: QueueConfig,
    /// RFID tags the model's rows follow.
    pub rfid: RfidConfig,
    /// Labels and head adaptation on the running gateway.
    pub adapt: AdaptConfig,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            sources: Vec::new(),
            output: OutputMode::Auto,
            model: ModelConfig::default(),
            http: HttpConfig::default(),
            sync: SyncSettings::default(),
            queue: QueueConfig::default(),
            rfid: RfidConfig::default(),
            adapt: AdaptConfig::default(),
        }
    }
}

/// A setting whose value is one of a few names (the enums below), read from a string so
/// that a wrong type says "expected a string" and an unknown name lists the known ones.
trait Named: Sized + Copy + PartialEq + 'static {
    /// Every value with its name.
    const NAMES: &'static [(&'static str, Self)];

    /// The value called `text`.
    fn from_name(text: String) -> Result<Self, String> {
        match Self::NAMES.iter().find(|(name, _)| *name == text) {
            Some((_, value)) => Ok(*value),
            None => {
                let known: Vec<String> =
                    Self::NAMES.iter().map(|(n, _)| format!("`{n}`")).collect();
                Err(format!(
                    "unknown value `{text}`, expected one of {}",
                    known.join(", ")
                ))
            }
        }
    }

    /// This value's name.
    fn name_of(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, value)| *value == self)
            .map_or("", |(name, _)| name)
    }
}

/// Implements `TryFrom<String>` through [`Named`], for `#[serde(try_from = "String")]`.
macro_rules! named_from_string {
    ($($kind:ty),*) => {$(
        impl TryFrom<String> for $kind {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                <$kind as Named>::from_name(text)
            }
        }
    )*};
}

named_from_string!(OutputMode, Engine, Overflow);

/// How predictions are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum OutputMode {
    /// Human lines on a terminal, JSON lines otherwise.
    Auto,
    /// One JSON object per window (DESIGN.md's fields).
    Json,
    /// One readable line per window.
    Human,
}

impl Named for OutputMode {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("auto", OutputMode::Auto),
        ("json", OutputMode::Json),
        ("human", OutputMode::Human),
    ];
}

/// The model package and its engine (`[model]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// The model package directory (`--model`).
    pub dir: PathBuf,
    /// Which inference engine runs model.onnx.
    pub engine: Engine,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            dir: PathBuf::from("models/reference"),
            engine: Engine::Tract,
        }
    }
}

/// The inference engines a build may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Engine {
    /// tract-onnx, pure Rust (always built).
    Tract,
    /// ONNX Runtime (the `ort` cargo feature).
    Ort,
}

impl Named for Engine {
    const NAMES: &'static [(&'static str, Self)] =
        &[("tract", Engine::Tract), ("ort", Engine::Ort)];
}

impl Engine {
    /// The name gateway.toml and the command line use.
    pub fn name(self) -> &'static str {
        self.name_of()
    }
}

/// `--engine`'s value, as the config names it.
impl From<EngineKind> for Engine {
    fn from(kind: EngineKind) -> Engine {
        match kind {
            EngineKind::Tract => Engine::Tract,
            EngineKind::Ort => Engine::Ort,
        }
    }
}

/// The configured engine, as the inference crate opens it.
impl From<Engine> for EngineKind {
    fn from(engine: Engine) -> EngineKind {
        match engine {
            Engine::Tract => EngineKind::Tract,
            Engine::Ort => EngineKind::Ort,
        }
    }
}

/// The HTTP status server (`[http]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Whether to serve at all (`--http ADDR` turns it on).
    pub enabled: bool,
    /// Where to listen; loopback unless another address is written here.
    pub address: SocketAddr,
    /// Events an `/events` client may lag behind before its oldest are dropped.
    pub events_buffer: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: false,
            address: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_HTTP_PORT)),
            events_buffer: DEFAULT_EVENTS_BUFFER,
        }
    }
}

/// How the synchronizer emits windows (`[sync]`); window length and hop come from the
/// model's model.json.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    /// How long after a window's end its records may still arrive, ms: the window's
    /// deadline.
    pub lateness_ms: u64,
    /// Sub-slots per window for measuring coverage, 1 to 64.
    pub slots: u32,
    /// How many times its nominal rate (model.json's grids, times the links and tags the
    /// tensors hold) each modality's history ring holds over a window, its lateness and a
    /// hop; beyond, new records are dropped and counted.
    pub ring_margin: f64,
    /// Coverage a modality needs in a window to count as present.
    pub min_coverage: MinCoverage,
}

impl Default for SyncSettings {
    fn default() -> Self {
        let sync = SyncConfig::default();
        SyncSettings {
            lateness_ms: sync.lateness_ns / 1_000_000,
            slots: sync.slots,
            ring_margin: crate::sync::RING_MARGIN,
            min_coverage: MinCoverage {
                mmwave: sync.min_coverage[0],
                wifi: sync.min_coverage[1],
                rfid: sync.min_coverage[2],
            },
        }
    }
}

/// Per-modality coverage minimums, fractions of a window's sub-slots
/// (`[sync.min_coverage]`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinCoverage {
    /// Radar.
    pub mmwave: f64,
    /// WiFi CSI.
    pub wifi: f64,
    /// RFID.
    pub rfid: f64,
}

impl SyncSettings {
    /// The synchronizer's configuration for windows of `window_ns` every `hop_ns` and
    /// `rates_hz` records per second per modality (from the model), with this file's
    /// emission rules.
    pub fn sync_config(&self, window_ns: u64, hop_ns: u64, rates_hz: [f64; 3]) -> SyncConfig {
        let c = self.min_coverage;
        SyncConfig {
            window_ns,
            hop_ns,
            lateness_ns: self.lateness_ms.saturating_mul(1_000_000),
            slots: self.slots,
            min_coverage: [c.mmwave, c.wifi, c.rfid],
            ring_capacity: [1; 3],
        }
        .sized_with(rates_hz, self.ring_margin)
    }
}

/// Each source's event queue (`[queue]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Events a source may queue before drops start.
    pub capacity: usize,
    /// Bytes a source may queue before drops start (decoded records counted by estimate).
    pub max_bytes: usize,
    /// Which event a full queue drops.
    pub overflow: Overflow,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: DEFAULT_CAPACITY,
            max_bytes: DEFAULT_MAX_BYTES,
            overflow: Overflow::DropOldest,
        }
    }
}

impl QueueConfig {
    /// The runtime's shape of a source channel.
    pub fn source_queue(&self) -> SourceQueue {
        SourceQueue {
            capacity: self.capacity,
            max_bytes: self.max_bytes,
            policy: match self.overflow {
                Overflow::DropOldest => OverflowPolicy::DropOldest,
                Overflow::DropNewest => OverflowPolicy::DropNewest,
            },
        }
    }
}

/// What a full queue drops, as gateway.toml spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Overflow {
    /// The oldest queued event (live data stays fresh).
    DropOldest,
    /// The event being sent (what is queued is kept).
    DropNewest,
}

impl Named for Overflow {
    const NAMES: &'static [(&'static str, Self)] = &[
        ("drop-oldest", Overflow::DropOldest),
        ("drop-newest", Overflow::DropNewest),
    ];
}

/// The RFID tags the model's rows follow (`[rfid]`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RfidConfig {
    /// EPCs as hex; row i of the RFID tensor is tag i (an absent tag leaves its row
    /// empty). Empty: rows in EPC order as tags are seen. Normalized to lower case.
    pub tags: Vec<String>,
}

/// Labels and head adaptation on the running gateway (`[adapt]`), over HTTP.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdaptConfig {
    /// The bearer token HTTP writes (`POST /labels`, `/adapt`, `/head/rollback`) must
    /// carry; empty refuses every write.
    pub token: String,
    /// Where accepted heads are kept as complete model packages, and found again at
    /// start; empty keeps them in memory only.
    pub dir: PathBuf,
    /// Seconds of recent windows whose features are kept for labels.
    pub recent_s: f64,
    /// Labeled windows kept for adaptation; beyond, the oldest are dropped (and counted).
    pub max_labeled: usize,
}

impl Default for AdaptConfig {
    fn default() -> Self {
        AdaptConfig {
            token: String::new(),
            dir: PathBuf::new(),
            recent_s: DEFAULT_RECENT_S,
            max_labeled: DEFAULT_MAX_LABELED,
        }
    }
}

impl AdaptConfig {
    /// Windows the recent-windows ring holds for models hopping every `hop_s`.
    pub fn recent_windows(&self, hop_s: f64) -> usize {
        ((self.recent_s / hop_s).ceil() as usize).max(1)
    }
}

/// The command line's values, put over the file's by [`GatewayConfig::apply`]; `None`
/// leaves the file's (or the default) value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--model DIR`.
    pub model: Option<PathBuf>,
    /// `--engine tract|ort`.
    pub engine: Option<Engine>,
    /// `--source URI...`: replaces the file's list.
    pub sources: Option<Vec<String>>,
    /// `--http ADDR`: serves HTTP at ADDR.
    pub http: Option<SocketAddr>,
    /// `--json` / `--human`.
    pub output: Option<OutputMode>,
}

/// Where a configuration value came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A gateway.toml file.
    File(PathBuf),
    /// The command line.
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// A configuration that cannot be used: names where, which key and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, has an unknown key or a value of the wrong type.
    #[error("{origin}:{line}:{column}: `{key}`: {message}")]
    Syntax {
        /// The file.
        origin: Origin,
        /// The key path (`http.address`), or `(document)` for a syntax error.
        key: String,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong and expected, as the parser says it.
        message: String,
    },
    /// A value of the right type but unusable.
    #[error("{origin}: `{key}` = {found}: expected {expected}")]
    Value {
        /// Where the value was written.
        origin: Origin,
        /// The key path (`sources[1]`, `sync.min_coverage.wifi`) or flag.
        key: String,
        /// The value as written.
        found: String,
        /// What it must be.
        expected: String,
    },
}

impl GatewayConfig {
    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<GatewayConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        GatewayConfig::parse(&text, &Origin::File(path.to_path_buf()))
    }

    /// Parses and checks config `text` that came from `origin`.
    pub fn parse(text: &str, origin: &Origin) -> Result<GatewayConfig, ConfigError> {
        let syntax = |key: String, error: &toml::de::Error| {
            let (line, column) = error
                .span()
                .map_or((0, 0), |span| line_and_column(text, span.start));
            ConfigError::Syntax {
                origin: origin.clone(),
                key,
                line,
                column,
                message: error.message().trim().to_string(),
            }
        };
        let document = toml::Deserializer::parse(text)
            .map_err(|error| syntax("(document)".to_string(), &error))?;
        let mut config: GatewayConfig = serde_path_to_error::deserialize(document)
            .map_err(|error| syntax(error.path().to_string(), error.inner()))?;
        config.check(origin)?;
        Ok(config)
    }

    /// The configuration `dagr run` uses: the file at `file` (the defaults without one)
    /// with the command line's `overrides` on top.
    pub fn resolve(
        file: Option<&Path>,
        overrides: Overrides,
    ) -> Result<GatewayConfig, ConfigError> {
        let mut config = match file {
            Some(path) => GatewayConfig::load(path)?,
            None => GatewayConfig::default(),
        };
        config.apply(overrides)?;
        Ok(config)
    }

    /// Puts the command line's values over this configuration's and checks them.
    pub fn apply(&mut self, overrides: Overrides) -> Result<(), ConfigError> {
        if let Some(sources) = overrides.sources {
            for uri in &sources {
                SourceUri::parse(uri)
                    .map_err(|e| uri_error(&Origin::CommandLine, "--source", e))?;
            }
            self.sources = sources;
        }
        if let Some(dir) = overrides.model {
            self.model.dir = dir;
        }
        if let Some(engine) = overrides.engine {
            self.model.engine = engine;
        }
        if let Some(address) = overrides.http {
            self.http.enabled = true;
            self.http.address = address;
        }
        if let Some(output) = overrides.output {
            self.output = output;
        }
        Ok(())
    }

    /// The sources as parsed URIs (checked at load and by [`apply`](Self::apply)).
    pub fn source_uris(&self) -> Result<Vec<SourceUri>, UriError> {
        self.sources.iter().map(|s| SourceUri::parse(s)).collect()
    }

    /// Checks every value a type cannot check; lower-cases the EPCs.
    fn check(&mut self, origin: &Origin) -> Result<(), ConfigError> {
        for (i, uri) in self.sources.iter().enumerate() {
            SourceUri::parse(uri).map_err(|e| uri_error(origin, &format!("sources[{i}]"), e))?;
        }
        let bad = |key: &str, found: String, expected: &str| {
            Err(ConfigError::Value {
                origin: origin.clone(),
                key: key.to_string(),
                found,
                expected: expected.to_string(),
            })
        };
        let http = &self.http;
        if !(1..=MAX_EVENTS_BUFFER).contains(&http.events_buffer) {
            let expected = format!("1 to {MAX_EVENTS_BUFFER} events");
            return bad(
                "http.events_buffer",
                http.events_buffer.to_string(),
                &expected,
            );
        }
        let queue = &self.queue;
        if !(1..=MAX_QUEUE_CAPACITY).contains(&queue.capacity) {
            let expected = format!("1 to {MAX_QUEUE_CAPACITY} events");
            return bad("queue.capacity", queue.capacity.to_string(), &expected);
        }
        self.check_sync(origin)?;
        self.check_adapt(origin)?;
        self.check_tags(origin)
    }

    fn check_adapt(&self, origin: &Origin) -> Result<(), ConfigError> {
        let bad = |key: &str, found: String, expected: String| {
            Err(ConfigError::Value {
                origin: origin.clone(),
                key: format!("adapt.{key}"),
                found,
                expected,
            })
        };
        let adapt = &self.adapt;
        let token = &adapt.token;
        if !token.is_empty()
            && (token.chars().count() < MIN_TOKEN_LEN || token.chars().any(char::is_whitespace))
        {
            let expected = format!(
                "empty (writes refused) or at least {MIN_TOKEN_LEN} characters without spaces"
            );
            return bad(
                "token",
                format!("a {}-character token", token.chars().count()),
                expected,
            );
        }
        if !(adapt.recent_s > 0.0 && adapt.recent_s <= MAX_RECENT_S) {
            let expected = format!("more than 0 and at most {MAX_RECENT_S} s");
            return bad("recent_s", adapt.recent_s.to_string(), expected);
        }
        if !(1..=MAX_LABELED).contains(&adapt.max_labeled) {
            let expected = format!("1 to {MAX_LABELED} windows");
            return bad("max_labeled", adapt.max_labeled.to_string(), expected);
        }
        Ok(())
    }

    fn check_sync(&self, origin: &Origin) -> Result<(), ConfigError> {
        let bad = |key: &str, found: String, expected: &str| {
            Err(ConfigError::Value {
                origin: origin.clone(),
                key: format!("sync.{key}"),
                found,
                expected: expected.to_string(),
            })
        };
        let sync = &self.sync;
        if sync.lateness_ms > MAX_LATENESS_MS {
            let expected = format!("at most {MAX_LATENESS_MS} ms");
            return bad("lateness_ms", sync.lateness_ms.to_string(), &expected);
        }
        if !(1..=64).contains(&sync.slots) {
            return bad("slots", sync.slots.to_string(), "1 to 64 sub-slots");
        }
        if !(1.0..=1000.0).contains(&sync.ring_margin) {
            let value = sync.ring_margin.to_string();
            return bad("ring_margin", value, "a factor from 1 to 1000");
        }
        let c = sync.min_coverage;
        for (name, value) in [("mmwave", c.mmwave), ("wifi", c.wifi), ("rfid", c.rfid)] {
            if !(0.0..=1.0).contains(&value) {
                let key = format!("min_coverage.{name}");
                return bad(&key, value.to_string(), "a fraction from 0 to 1");
            }
        }
        Ok(())
    }

    fn check_tags(&mut self, origin: &Origin) -> Result<(), ConfigError> {
        for i in 0..self.rfid.tags.len() {
            let tag = self.rfid.tags[i].to_ascii_lowercase();
            let expected = if tag.is_empty() || tag.len() % 2 != 0 || tag.len() > 2 * MAX_EPC_BYTES
            {
                Some(format!(
                    "an EPC of 1 to {MAX_EPC_BYTES} bytes as an even number of hex digits"
                ))
            } else if !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
                Some("hex digits only (0-9, a-f)".to_string())
            } else if self.rfid.tags[..i]
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&tag))
            {
                Some("each tag once (this EPC is listed earlier)".to_string())
            } else {
                None
            };
            if let Some(expected) = expected {
                return Err(ConfigError::Value {
                    origin: origin.clone(),
                    key: format!("rfid.tags[{i}]"),
                    found: format!("{:?}", self.rfid.tags[i]),
                    expected,
                });
            }
            self.rfid.tags[i] = tag;
        }
        Ok(())
    }
}

/// A URI the source parser refused, as a config error at `key`.
fn uri_error(origin: &Origin, key: &str, error: UriError) -> ConfigError {
    ConfigError::Value {
        origin: origin.clone(),
        key: key.to_string(),
        found: format!("{:?}", error.uri),
        expected: format!("a source URI ({})", error.reason),
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests;
