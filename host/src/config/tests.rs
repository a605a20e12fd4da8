use super::*;

fn file() -> Origin {
    Origin::File(PathBuf::from("/etc/dagr/gateway.toml"))
}

fn parse(text: &str) -> Result<GatewayConfig, ConfigError> {
    GatewayConfig::parse(text, &file())
}

fn error(text: &str) -> String {
    parse(text)
        .expect_err("the config must be refused")
        .to_string()
}

#[test]
fn the_example_file_documents_exactly_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("gateway.example.toml");
    let example = GatewayConfig::load(&path).unwrap();
    assert_eq!(example, GatewayConfig::default());
}

#[test]
fn an_empty_file_gives_the_defaults_and_the_defaults_are_usable() {
    let config = parse("").unwrap();
    assert_eq!(config, GatewayConfig::default());
    assert!(config.sources.is_empty());
    assert_eq!(config.http.address.to_string(), "127.0.0.1:8480");
    assert!(config.http.address.ip().is_loopback());
    assert!(!config.http.enabled);
    assert_eq!(config.model.dir, PathBuf::from("models/reference"));
    assert_eq!(config.model.engine, Engine::Tract);
    let rates = crate::sync::DEFAULT_RATES_HZ;
    let sync = config.sync.sync_config(2_000_000_000, 500_000_000, rates);
    assert_eq!(sync, SyncConfig::default());
    assert_eq!(config.queue.source_queue(), SourceQueue::default());
}

#[test]
fn an_unknown_key_is_named_with_its_path_file_and_line() {
    assert_eq!(
        error("output = \"json\"\n[http]\nadress = \"127.0.0.1:1\"\n"),
        "/etc/dagr/gateway.toml:3:1: `http.adress`: \
         unknown field `adress`, expected one of `enabled`, `address`, `events_buffer`"
    );
    let nested = error("[sync.min_coverage]\nradar = 0.5\n");
    assert!(nested.contains("`sync.min_coverage.radar`"), "{nested}");
    assert!(nested.contains("unknown field `radar`"), "{nested}");
    let top = error("source = [\"llrp://reader:5084\"]\n");
    assert!(
        top.starts_with("/etc/dagr/gateway.toml:1:1: `source`"),
        "{top}"
    );
}

#[test]
fn a_wrong_type_is_named_with_its_path_and_what_was_expected() {
    let text = error("[sync]\nlateness_ms = \"half a second\"\n");
    assert!(
        text.starts_with("/etc/dagr/gateway.toml:2:15: `sync.lateness_ms`: invalid type: string"),
        "{text}"
    );
    assert!(text.contains("expected u64"), "{text}");

    let text = error("[http]\naddress = \"localhost\"\n");
    assert!(text.contains("`http.address`"), "{text}");
    assert!(text.contains("socket address"), "{text}");

    let text = error("[model]\nengine = \"onnx\"\n");
    assert!(text.contains("`model.engine`"), "{text}");
    assert!(
        text.contains("unknown value `onnx`, expected one of `tract`, `ort`"),
        "{text}"
    );

    let text = error("sources = \"esp32-csi:///dev/ttyUSB0\"\n");
    assert!(text.contains("`sources`"), "{text}");
    assert!(text.contains("expected a sequence"), "{text}");
}

#[test]
fn broken_toml_names_the_line() {
    let text = error("[http\nenabled = true\n");
    assert!(
        text.starts_with("/etc/dagr/gateway.toml:1:"),
        "the line of the unclosed table: {text}"
    );
}

#[test]
fn values_of_the_right_type_but_unusable_are_named() {
    assert_eq!(
        error("sources = [\"llrp://reader:5084\", \"usb:///dev/ttyUSB0\"]\n"),
        "/etc/dagr/gateway.toml: `sources[1]` = \"usb:///dev/ttyUSB0\": expected a source URI \
         (unknown scheme \"usb\"; expected ti-mmwave, esp32-csi, esp-csi, llrp, node or replay)"
    );
    let text = error("[sync.min_coverage]\nmmwave = 0.2\nwifi = 1.5\nrfid = 0.1\n");
    assert_eq!(
        text,
        "/etc/dagr/gateway.toml: `sync.min_coverage.wifi` = 1.5: expected a fraction from 0 to 1"
    );
    let text = error("[sync]\nslots = 0\n");
    assert!(
        text.contains("`sync.slots` = 0: expected 1 to 64"),
        "{text}"
    );
    let text = error("[queue]\ncapacity = 0\n");
    assert!(text.contains("`queue.capacity` = 0"), "{text}");
    let text = error("[http]\nevents_buffer = 0\n");
    assert!(text.contains("`http.events_buffer` = 0"), "{text}");
    let text = error("[adapt]\ntoken = \"short\"\n");
    assert_eq!(
        text,
        "/etc/dagr/gateway.toml: `adapt.token` = a 5-character token: expected empty (writes \
         refused) or at least 16 characters without spaces"
    );
    let text = error("[adapt]\nrecent_s = 0.0\n");
    assert!(
        text.contains("`adapt.recent_s` = 0: expected more than 0"),
        "{text}"
    );
    let text = error("[adapt]\nmax_labeled = 0\n");
    assert!(text.contains("`adapt.max_labeled` = 0"), "{text}");
}

#[test]
fn a_missing_coverage_minimum_is_an_error_not_a_silent_zero() {
    let text = error("[sync.min_coverage]\nmmwave = 0.5\n");
    assert!(text.contains("`sync.min_coverage`"), "{text}");
    assert!(text.contains("missing field `wifi`"), "{text}");
}

#[test]
fn rfid_tags_are_hex_epcs_listed_once_and_kept_in_order_in_lower_case() {
    let config = parse("[rfid]\ntags = [\"E2000017\", \"00ff\"]\n").unwrap();
    assert_eq!(config.rfid.tags, ["e2000017", "00ff"]);
    let text = error("[rfid]\ntags = [\"e200\", \"e20g\"]\n");
    assert!(
        text.contains("`rfid.tags[1]` = \"e20g\": expected hex digits"),
        "{text}"
    );
    let text = error("[rfid]\ntags = [\"e20\"]\n");
    assert!(text.contains("`rfid.tags[0]`"), "{text}");
    assert!(text.contains("even number of hex digits"), "{text}");
    let text = error("[rfid]\ntags = [\"e200\", \"E200\"]\n");
    assert!(text.contains("`rfid.tags[1]`"), "{text}");
    assert!(text.contains("each tag once"), "{text}");
}

#[test]
fn flags_override_the_file_and_leave_the_rest() {
    let mut config = parse(
        "sources = [\"llrp://reader:5084\"]\noutput = \"human\"\n\
         [model]\ndir = \"/opt/models/a\"\nengine = \"ort\"\n[sync]\nlateness_ms = 250\n",
    )
    .unwrap();
    config
        .apply(Overrides {
            sources: Some(vec!["esp32-csi:///dev/ttyUSB0".into()]),
            model: Some(PathBuf::from("/opt/models/b")),
            http: Some("127.0.0.1:9000".parse().unwrap()),
            ..Overrides::default()
        })
        .unwrap();
    assert_eq!(config.sources, ["esp32-csi:///dev/ttyUSB0"]);
    assert_eq!(config.model.dir, PathBuf::from("/opt/models/b"));
    assert_eq!(config.model.engine, Engine::Ort, "not overridden");
    assert_eq!(config.output, OutputMode::Human, "not overridden");
    assert!(config.http.enabled);
    assert_eq!(config.http.address.port(), 9000);
    assert_eq!(config.sync.lateness_ms, 250);
    assert_eq!(config.source_uris().unwrap()[0].target, "/dev/ttyUSB0");
}

#[test]
fn a_bad_source_flag_is_named_as_a_flag() {
    let mut config = GatewayConfig::default();
    let text = config
        .apply(Overrides {
            sources: Some(vec!["llrp:reader".into()]),
            ..Overrides::default()
        })
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("command line: `--source` = \"llrp:reader\""),
        "{text}"
    );
    assert!(
        config.sources.is_empty(),
        "a refused override changes nothing"
    );
}

#[test]
fn an_unreadable_file_is_named() {
    let text = GatewayConfig::load(Path::new("/nonexistent/gateway.toml"))
        .unwrap_err()
        .to_string();
    assert_eq!(text, "cannot read config file /nonexistent/gateway.toml");
}

#[test]
fn every_table_refuses_unknown_keys_and_wrong_types_by_path() {
    let tables = [
        ("", "sources", "[\"replay://a.mcap\"]"),
        ("model", "engine", "\"tract\""),
        ("http", "events_buffer", "256"),
        ("sync", "lateness_ms", "500"),
        ("sync.min_coverage", "wifi", "0.25"),
        ("queue", "overflow", "\"drop-oldest\""),
        ("rfid", "tags", "[]"),
        ("adapt", "max_labeled", "100"),
    ];
    for (table, key, good) in tables {
        let header = if table.is_empty() {
            String::new()
        } else {
            format!("[{table}]\n")
        };
        let path = |key: &str| {
            if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            }
        };
        let coverage = "mmwave = 0.25\nrfid = 0.25\n";
        let rest = if table == "sync.min_coverage" {
            coverage
        } else {
            ""
        };

        let good_text = format!("{header}{key} = {good}\n{rest}");
        assert!(parse(&good_text).is_ok(), "{good_text}");

        let unknown = error(&format!("{header}{key} = {good}\n{rest}colour = 1\n"));
        assert!(
            unknown.contains(&format!("`{}`: unknown field `colour`", path("colour"))),
            "{unknown}"
        );

        let wrong = error(&format!("{header}{key} = true\n{rest}"));
        assert!(
            wrong.contains(&format!("`{}`: invalid type: boolean `true`", path(key))),
            "{wrong}"
        );
        assert!(wrong.starts_with("/etc/dagr/gateway.toml:"), "{wrong}");
        assert!(
            wrong.contains(", expected "),
            "says what was expected: {wrong}"
        );
    }
}

#[test]
fn resolve_takes_the_defaults_without_a_file_and_the_flags_over_them() {
    let config = GatewayConfig::resolve(
        None,
        Overrides {
            output: Some(OutputMode::Json),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(config.output, OutputMode::Json);
    assert_eq!(config.model, ModelConfig::default());
    let missing =
        GatewayConfig::resolve(Some(Path::new("/nonexistent.toml")), Overrides::default());
    assert!(matches!(missing, Err(ConfigError::Read { .. })));
}
