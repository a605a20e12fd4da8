//! What a serial source URI asks for, checked once at spawn time so that a typo or a
//! missing `.cfg` file stops start-up with a clear message instead of a retry loop.
use std::path::PathBuf;

use crate::clock::WireRate;
use crate::format::{Format, Transport};
use crate::source::{ParamError, SourceError, SourceUri};

/// Data-port speed when the URI gives no `baud=` (every supported device streams at it).
pub const DEFAULT_BAUD: u32 = 921_600;
/// TI config (CLI) port speed when the URI gives no `cli_baud=` (the OOB demo's).
pub const DEFAULT_CLI_BAUD: u32 = 115_200;

/// A checked serial source configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialSettings {
    /// Byte format of the data port.
    pub format: Format,
    /// The data port's device path.
    pub path: String,
    /// The data port's speed, Bd.
    pub baud: u32,
    /// The radar's config port, when the gateway configures the radar itself.
    pub ti_cli: Option<TiCliSettings>,
}

/// How to configure a TI radar over its CLI port before reading frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TiCliSettings {
    /// The CLI port's device path.
    pub path: String,
    /// The CLI port's speed, Bd.
    pub baud: u32,
    /// The `.cfg` file, for messages.
    pub cfg_file: PathBuf,
    /// The `.cfg` text as sent: the file's lines, plus `sensorStart` if the file lacks it.
    pub cfg_text: String,
}

impl SerialSettings {
    /// Checks `uri` (a serial scheme) and reads the `.cfg` file it names, if any.
    pub fn from_uri(uri: &SourceUri) -> Result<SerialSettings, SourceError> {
        let (Some(format), Some(Transport::Serial)) = (uri.format(), uri.transport()) else {
            return Err(SourceError::config(
                uri,
                ParamError::Target("a serial device"),
            ));
        };
        check_known_params(uri, format)?;
        let ti_cli = match format {
            Format::TiMmwave => ti_cli_settings(uri)?,
            _ => None,
        };
        Ok(SerialSettings {
            format,
            path: uri.target.clone(),
            baud: baud_param(uri, "baud", DEFAULT_BAUD)?,
            ti_cli,
        })
    }
}

/// The speed of the link a source URI's bytes cross, for the clock's wire-time model:
/// the data port's baud rate for a serial source (`baud=` or the default), `None` for a
/// TCP source, a file, or text that is no source URI (a simulated stream).
pub fn wire_rate(uri_text: &str) -> Option<WireRate> {
    let uri = SourceUri::parse(uri_text).ok()?;
    if uri.transport()? != Transport::Serial {
        return None;
    }
    baud_param(&uri, "baud", DEFAULT_BAUD)
        .ok()
        .map(WireRate::serial)
}

/// Parameters the data port of `format` reads.
fn known_params(format: Format) -> &'static [&'static str] {
    match format {
        Format::TiMmwave => &["name", "baud", "cli", "cfg", "cli_baud"],
        _ => &["name", "baud"],
    }
}

fn check_known_params(uri: &SourceUri, format: Format) -> Result<(), SourceError> {
    uri.check_params(known_params(format))
        .map_err(|e| SourceError::config(uri, e))
}

/// A positive speed in Bd from parameter `key`, or `default`.
fn baud_param(uri: &SourceUri, key: &'static str, default: u32) -> Result<u32, SourceError> {
    uri.number_param(key, default, 1, || {
        format!("a speed; expected a positive number of Bd, e.g. {default}")
    })
    .map_err(|e| SourceError::config(uri, e))
}

/// `cli=` and `cfg=` go together: without both, the radar is taken as already configured.
fn ti_cli_settings(uri: &SourceUri) -> Result<Option<TiCliSettings>, SourceError> {
    let unpaired = |given, needed| SourceError::config(uri, ParamError::Unpaired { given, needed });
    let (path, cfg) = match (uri.param("cli"), uri.param("cfg")) {
        (None, None) => return Ok(None),
        (Some(path), Some(cfg)) => (path, cfg),
        (Some(_), None) => return Err(unpaired("cli", "cfg=FILE (the .cfg to send to the radar)")),
        (None, Some(_)) => return Err(unpaired("cfg", "cli=PORT (the radar's config port)")),
    };
    if path.is_empty() {
        let empty = ParamError::Empty {
            key: "cli",
            expected: "the config port's path",
        };
        return Err(SourceError::config(uri, empty));
    }
    let cfg_file = PathBuf::from(cfg);
    let text = std::fs::read_to_string(&cfg_file).map_err(|source| {
        let path = cfg_file.clone();
        SourceError::config(uri, ParamError::UnreadableCfg { path, source })
    })?;
    Ok(Some(TiCliSettings {
        path: path.to_string(),
        baud: baud_param(uri, "cli_baud", DEFAULT_CLI_BAUD)?,
        cfg_file,
        cfg_text: with_sensor_start(text),
    }))
}

/// The radar only streams after `sensorStart`; a `.cfg` saved without it gets it appended.
fn with_sensor_start(mut text: String) -> String {
    let starts =
        dagr_protocols::ti_mmwave::cli::parse_cfg(&text).any(|l| l.command() == "sensorStart");
    if !starts {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("sensorStart\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uri: &str) -> Result<SerialSettings, String> {
        SerialSettings::from_uri(&SourceUri::parse(uri).unwrap())
            .map_err(|e| crate::errors::chain(&e))
    }

    #[test]
    fn wire_rates_come_from_the_serial_uri_and_tcp_has_none() {
        let baud = |u: &str| wire_rate(u).map(|r| r.baud);
        assert_eq!(baud("ti-mmwave:///dev/ttyACM1"), Some(921_600));
        assert_eq!(baud("node:///dev/x?baud=115200"), Some(115_200));
        assert_eq!(baud("esp32-csi:///dev/x?baud=fast"), None);
        assert_eq!(baud("llrp://10.0.0.5:5084"), None);
        assert_eq!(baud("sim://radar"), None);
        assert_eq!(baud(""), None);
    }

    #[test]
    fn serial_uris_default_to_921600_baud() {
        for uri in [
            "esp32-csi:///dev/x",
            "esp-csi:///dev/x",
            "node:///dev/x",
            "ti-mmwave:///dev/x",
        ] {
            let s = settings(uri).unwrap();
            assert_eq!(
                (s.path.as_str(), s.baud, s.ti_cli),
                ("/dev/x", 921_600, None)
            );
        }
        assert_eq!(settings("node:///dev/x?baud=115200").unwrap().baud, 115_200);
    }

    #[test]
    fn bad_speeds_and_unknown_parameters_are_named() {
        let e = settings("esp32-csi:///dev/x?baud=fast").unwrap_err();
        assert!(e.contains("baud=\"fast\" is not a speed"), "{e}");
        let e = settings("node:///dev/x?baud=0").unwrap_err();
        assert!(e.contains("baud=\"0\""), "{e}");
        let e = settings("esp32-csi:///dev/x?buad=9600").unwrap_err();
        assert!(e.contains("unknown parameter \"buad\""), "{e}");
        let e = settings("node:///dev/x?cli=/dev/y").unwrap_err();
        assert!(e.contains("unknown parameter \"cli\""), "{e}");
    }

    #[test]
    fn ti_cli_needs_a_readable_cfg_and_names_the_file() {
        let e = settings("ti-mmwave:///dev/x?cli=/dev/y&cfg=/nonexistent/radar.cfg").unwrap_err();
        assert!(
            e.contains("cannot read radar config /nonexistent/radar.cfg"),
            "{e}"
        );
        let e = settings("ti-mmwave:///dev/x?cli=/dev/y").unwrap_err();
        assert!(e.contains("cli= needs cfg=FILE"), "{e}");
        let e = settings("ti-mmwave:///dev/x?cfg=a.cfg").unwrap_err();
        assert!(e.contains("cfg= needs cli=PORT"), "{e}");
    }

    #[test]
    fn ti_cli_reads_the_cfg_and_its_port_speed() {
        let dir = std::env::temp_dir().join(format!("dagr-serial-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("radar.cfg");
        std::fs::write(&cfg, "sensorStop\nflushCfg").unwrap();
        let uri = format!(
            "ti-mmwave:///dev/x?cli=/dev/y&cfg={}&cli_baud=9600",
            cfg.display()
        );
        let cli = settings(&uri).unwrap().ti_cli.unwrap();
        assert_eq!((cli.path.as_str(), cli.baud), ("/dev/y", 9600));
        assert_eq!(cli.cfg_text, "sensorStop\nflushCfg\nsensorStart\n");
        let e = settings(&format!("{uri}x")).unwrap_err();
        assert!(e.contains("cli_baud=\"9600x\""), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_cfg_that_starts_the_sensor_is_sent_unchanged() {
        let text = "% comment\nsensorStop\nsensorStart\n".to_string();
        assert_eq!(with_sensor_start(text.clone()), text);
        assert_eq!(with_sensor_start(String::new()), "sensorStart\n");
    }
}
