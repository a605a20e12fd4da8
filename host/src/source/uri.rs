//! Source URIs: how a user names a device on the command line and in gateway.toml.
//!
//! `esp32-csi:///dev/ttyUSB0?baud=921600`, `esp-csi:///dev/ttyUSB2`,
//! `ti-mmwave:///dev/ttyACM1?cli=/dev/ttyACM0&cfg=FILE`, `node:///dev/ttyUSB1`,
//! `llrp://HOST:5084`, `replay://FILE.mcap`. Any URI may add `name=NAME` to set the source's
//! name (default: scheme and path, e.g. `esp32-csi:/dev/ttyUSB0`).
use crate::format::{Format, Transport};

/// What kind of device a URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// A live device speaking `format` (its scheme is the format's name; the format table
    /// says whether it is on a serial port or at a TCP address).
    Device(Format),
    /// A recorded capture, replayed.
    Replay,
}

/// The URI scheme of replayed captures.
pub const REPLAY_SCHEME: &str = "replay";

/// A parsed source URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUri {
    /// Device kind.
    pub scheme: Scheme,
    /// Serial device path, `HOST:PORT`, or capture file path.
    pub target: String,
    /// `key=value` query parameters, in order (a bare `key` has an empty value).
    pub params: Vec<(String, String)>,
    /// The text the user wrote, for messages.
    pub text: String,
}

/// Why a source URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad source URI {uri:?}: {reason}")]
pub struct UriError {
    /// The URI as given.
    pub uri: String,
    /// What was expected.
    pub reason: String,
}

impl SourceUri {
    /// Parses `scheme://target?key=value&flag&...`.
    pub fn parse(text: &str) -> Result<SourceUri, UriError> {
        let err = |reason: &str| UriError {
            uri: text.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = text.split_once("://").ok_or_else(|| {
            err("expected SCHEME://TARGET, e.g. esp32-csi:///dev/ttyUSB0 or llrp://HOST:5084")
        })?;
        let scheme = match Format::from_name(scheme) {
            Some(format) if format.transport() != Transport::File => Scheme::Device(format),
            _ if scheme == REPLAY_SCHEME => Scheme::Replay,
            _ => {
                return Err(err(&format!(
                    "unknown scheme {scheme:?}; expected {} or {REPLAY_SCHEME}",
                    live_schemes().join(", ")
                )))
            }
        };
        let (target, query) = rest.split_once('?').unwrap_or((rest, ""));
        if target.is_empty() {
            return Err(err("the device, address or file after :// is empty"));
        }
        let mut params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            // A bare `key` is a flag (`replay://x.mcap?max`): its value is empty.
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((k.to_string(), v.to_string()));
        }
        let uri = SourceUri {
            scheme,
            target: target.to_string(),
            params,
            text: text.to_string(),
        };
        if uri.transport() == Some(Transport::Tcp) && uri.llrp_address().is_none() {
            return Err(err("expected llrp://HOST:PORT or llrp://HOST (port 5084)"));
        }
        Ok(uri)
    }

    /// The device format, for a live device.
    pub fn format(&self) -> Option<Format> {
        match self.scheme {
            Scheme::Device(format) => Some(format),
            Scheme::Replay => None,
        }
    }

    /// How the device's bytes arrive, for a live device.
    pub fn transport(&self) -> Option<Transport> {
        self.format().map(Format::transport)
    }

    /// The value of query parameter `key`, if given.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The source's name: `name=` if given, else scheme and target.
    pub fn name(&self) -> String {
        if let Some(name) = self.param("name") {
            return name.to_string();
        }
        let scheme = self.text.split_once("://").map(|(s, _)| s).unwrap_or("");
        format!("{scheme}:{}", self.target)
    }

    /// `HOST:PORT` for an LLRP reader (default port 5084).
    pub fn llrp_address(&self) -> Option<String> {
        let t = self.target.trim_end_matches('/');
        if t.is_empty() {
            return None;
        }
        match t.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Some(t.to_string())
            }
            Some(_) => None,
            None => Some(format!("{t}:5084")),
        }
    }
}

/// The schemes of live devices, in table order.
fn live_schemes() -> Vec<&'static str> {
    Format::ALL
        .into_iter()
        .filter(|f| f.transport() != Transport::File)
        .map(Format::name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_uri_keeps_path_and_query() {
        let u =
            SourceUri::parse("ti-mmwave:///dev/ttyACM1?cli=/dev/ttyACM0&cfg=radar.cfg").unwrap();
        assert_eq!(u.scheme, Scheme::Device(Format::TiMmwave));
        assert_eq!(u.target, "/dev/ttyACM1");
        assert_eq!(u.param("cli"), Some("/dev/ttyACM0"));
        assert_eq!(u.param("cfg"), Some("radar.cfg"));
        assert_eq!(u.name(), "ti-mmwave:/dev/ttyACM1");
    }

    #[test]
    fn llrp_uri_defaults_to_port_5084_and_name_overrides() {
        let u = SourceUri::parse("llrp://10.0.0.5?name=dock").unwrap();
        assert_eq!(u.llrp_address().as_deref(), Some("10.0.0.5:5084"));
        assert_eq!(u.name(), "dock");
        assert_eq!(
            SourceUri::parse("llrp://127.0.0.1:15084")
                .unwrap()
                .llrp_address()
                .as_deref(),
            Some("127.0.0.1:15084")
        );
    }

    #[test]
    fn bad_uris_say_what_was_expected() {
        let e = SourceUri::parse("/dev/ttyUSB0").unwrap_err();
        assert!(e.reason.contains("SCHEME://TARGET"), "{e}");
        let e = SourceUri::parse("zigbee:///dev/x").unwrap_err();
        assert!(e.reason.contains("unknown scheme \"zigbee\""), "{e}");
        let e = SourceUri::parse("esp32-csi://").unwrap_err();
        assert!(e.reason.contains("empty"), "{e}");
        let e = SourceUri::parse("llrp://host:notaport").unwrap_err();
        assert!(e.reason.contains("HOST:PORT"), "{e}");
    }
}
