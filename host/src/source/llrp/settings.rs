//! What an `llrp://` URI configures: `llrp://HOST[:PORT]?keepalive_ms=1000&rospec_id=1`
//! `&retry_ms=100&max_retry_ms=5000` (every parameter optional; `name=` as for any source).
use std::time::Duration;

use crate::source::{ParamError, SourceError, SourceUri};

/// How one LLRP source talks to its reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `HOST:PORT` of the reader.
    pub address: String,
    /// KeepaliveSpec period asked of the reader; three periods without any traffic mean
    /// the reader is gone.
    pub keepalive: Duration,
    /// The ROSpecID this client installs (deleted first in case a previous run left it).
    pub ro_spec_id: u32,
    /// First reconnection delay (doubles on every failure).
    pub first_retry: Duration,
    /// Largest reconnection delay.
    pub max_retry: Duration,
    /// Bound on the TCP connect.
    pub connect_timeout: Duration,
    /// Bound on waiting for the answer to one request.
    pub response_timeout: Duration,
}

/// Query parameters an `llrp://` URI accepts.
const KNOWN: [&str; 5] = [
    "keepalive_ms",
    "rospec_id",
    "retry_ms",
    "max_retry_ms",
    "name",
];

impl Settings {
    /// Reads the settings from an `llrp://` URI; an unknown or malformed parameter is a
    /// [`SourceError::Config`] naming it.
    pub fn from_uri(uri: &SourceUri) -> Result<Settings, SourceError> {
        let config = |problem| SourceError::config(uri, problem);
        let address = uri
            .llrp_address()
            .ok_or_else(|| config(ParamError::Target("llrp://HOST:PORT")))?;
        uri.check_params(&KNOWN).map_err(config)?;
        let number = |key, default, min| {
            uri.number_param(key, default, min, || format!("a whole number >= {min}"))
                .map_err(config)
        };
        let ms = |n: u32| Duration::from_millis(u64::from(n));
        Ok(Settings {
            address,
            keepalive: ms(number("keepalive_ms", 1000, 10)?),
            ro_spec_id: number("rospec_id", 1, 1)?,
            first_retry: ms(number("retry_ms", 100, 1)?),
            max_retry: ms(number("max_retry_ms", 5000, 1)?),
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(3),
        })
    }

    /// No traffic for this long means the connection is dead.
    pub fn silence_limit(&self) -> Duration {
        self.keepalive * 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uri: &str) -> Result<Settings, SourceError> {
        Settings::from_uri(&SourceUri::parse(uri).unwrap())
    }

    #[test]
    fn defaults_apply_and_parameters_override_them() {
        let s = settings("llrp://reader.local").unwrap();
        assert_eq!(s.address, "reader.local:5084");
        assert_eq!(s.keepalive, Duration::from_millis(1000));
        assert_eq!(s.ro_spec_id, 1);
        let s = settings("llrp://127.0.0.1:15084?keepalive_ms=200&rospec_id=7&name=x").unwrap();
        assert_eq!(s.keepalive, Duration::from_millis(200));
        assert_eq!(s.ro_spec_id, 7);
        assert_eq!(s.silence_limit(), Duration::from_millis(600));
    }

    #[test]
    fn bad_parameters_are_named_in_the_error() {
        let e = crate::errors::chain(&settings("llrp://r?rospec_id=0").unwrap_err());
        assert!(e.contains("rospec_id=\"0\"") && e.contains(">= 1"), "{e}");
        let e = crate::errors::chain(&settings("llrp://r?keepalive=5").unwrap_err());
        assert!(e.contains("unknown parameter \"keepalive\""), "{e}");
    }
}
