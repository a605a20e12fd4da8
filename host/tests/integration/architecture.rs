//! The import graph of the gateway library points one way (ARCHITECTURE.md): each module
//! may use only modules listed before it in [`LAYERS`], so there is no import cycle and no
//! arrow pointing back up the data flow. Test code (`#[cfg(test)]` and `tests.rs`) is
//! exempt: a test may build its fixtures with any part of the crate.
//!
//! The simulator is a crate of its own (`host/sim`, `dagr-sim`) under the gateway: it and
//! the label vocabulary it shares (`host/classes`, `dagr-classes`) depend on no other dagr
//! crate but each other and the protocols, and within the gateway's library only
//! `sim_capture` names it, so the library does not carry the physics.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The library's top-level modules, from the bottom of the flow (what everything shares)
/// to the top (what composes the rest). The binary (`cli/`) may use any of them.
const LAYERS: &[&str] = &[
    "errors",
    "classes",
    "record",
    "output",
    "clock",
    "events",
    "format",
    "sync",
    "pipeline",
    "print",
    "preprocess",
    "capture",
    "source",
    "runtime",
    "config",
    "status",
    "http",
    "sim_capture",
    "dataset",
    "recognize",
    "adapt",
    "online",
];

/// The dagr crates each crate under the gateway may depend on (its Cargo.toml).
const CRATES_BELOW_THE_GATEWAY: &[(&str, &[&str])] = &[
    ("classes", &[]),
    ("sim", &["dagr-classes", "dagr-protocols"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file of a module (a file, or a directory with its subdirectories).
fn files_of(module: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{module}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut files = Vec::new();
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The crate modules a file's non-test code names (`crate::NAME`), comments ignored.
fn uses(path: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return found;
    }
    let text = std::fs::read_to_string(path).unwrap();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        if code.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let mut back_arrows = Vec::new();
    for (level, module) in LAYERS.iter().enumerate() {
        for file in files_of(module) {
            for used in uses(&file) {
                if used == *module {
                    continue;
                }
                match LAYERS.iter().position(|m| *m == used) {
                    Some(l) if l < level => {}
                    _ => back_arrows.push(format!(
                        "{} uses crate::{used}",
                        file.strip_prefix(src()).unwrap().display()
                    )),
                }
            }
        }
    }
    assert!(back_arrows.is_empty(), "{back_arrows:#?}");
}

#[test]
fn every_library_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let mut layered: Vec<&str> = LAYERS.to_vec();
    layered.sort_unstable();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort_unstable();
    assert_eq!(declared_sorted, layered, "lib.rs declares {declared:?}");
}

/// The `dagr-*` crates a crate's Cargo.toml names as dependencies (any table).
fn dagr_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    text.lines()
        .filter_map(|l| l.split('=').next())
        .map(str::trim)
        .filter(|name| name.starts_with("dagr-"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_simulator_and_the_class_list_depend_on_nothing_of_the_gateway() {
    let host = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, allowed) in CRATES_BELOW_THE_GATEWAY {
        let manifest = host.join(dir).join("Cargo.toml");
        let used = dagr_dependencies(&manifest);
        let extra: Vec<&String> = used
            .iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(extra.is_empty(), "{}: {extra:?}", manifest.display());
    }
    let gateway = dagr_dependencies(&host.join("Cargo.toml"));
    assert!(
        gateway.contains("dagr-sim") && gateway.contains("dagr-classes"),
        "{gateway:?}"
    );
}

#[test]
fn only_sim_capture_names_the_simulator_in_the_library() {
    let mut naming = Vec::new();
    for module in LAYERS.iter().filter(|m| **m != "sim_capture") {
        for file in files_of(module) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            if file.file_name().is_some_and(|n| n != "tests.rs") && code.contains("dagr_sim") {
                naming.push(file.strip_prefix(src()).unwrap().display().to_string());
            }
        }
    }
    assert!(naming.is_empty(), "{naming:?}");
}

/// Whether `path` is a module its parent declares only for tests (`#[cfg(test)] mod NAME;`
/// in the `mod.rs` beside it).
fn is_test_module(path: &Path) -> bool {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        return false;
    };
    let parent = std::fs::read_to_string(path.with_file_name("mod.rs")).unwrap_or_default();
    parent.contains(&format!("#[cfg(test)]\nmod {stem};"))
}

/// A file's code without its tests (`#[cfg(test)]` onwards) and comments; empty for a file
/// of tests.
fn non_test_code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") || is_test_module(path) {
        return String::new();
    }
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let lines = code.lines().map(|l| l.split("//").next().unwrap_or(""));
    lines.collect::<Vec<_>>().join("\n")
}

/// Where code outside `format/` may name a format, and why: what its device needs beyond
/// decoding (a source that talks back to it), and the twin's formats mapped to the table
/// (`None`: any format).
const FORMATS_NAMED_OUTSIDE_THE_TABLE: &[(&str, Option<&str>)] = &[
    // The radar's CLI port: its URI parameters and configuration.
    ("source/serial/settings.rs", Some("TiMmwave")),
    // Nodes' time-sync requests answered on the same port.
    ("source/serial/link.rs", Some("Node")),
    // The LLRP session the source holds with the reader.
    ("source/llrp/link.rs", Some("Llrp")),
    ("sim_capture.rs", None),
];

#[test]
fn a_format_is_named_only_by_the_table_and_the_sources_that_talk_to_its_device() {
    let mut named = Vec::new();
    for module in LAYERS.iter().filter(|m| **m != "format") {
        for file in files_of(module) {
            let path = file.strip_prefix(src()).unwrap().display().to_string();
            let code = non_test_code(&file);
            for format in dagr_host::format::Format::ALL {
                let allowed = FORMATS_NAMED_OUTSIDE_THE_TABLE.iter().any(|(f, which)| {
                    *f == path && which.is_none_or(|w| w == format!("{format:?}"))
                });
                if !allowed && code.contains(&format!("Format::{format:?}")) {
                    named.push(format!("{path} names Format::{format:?}"));
                }
            }
        }
    }
    assert!(named.is_empty(), "{named:#?}");
}

#[test]
fn records_and_preprocessors_know_no_format_only_modality_payloads() {
    let mut named = Vec::new();
    for module in ["record", "preprocess"] {
        for file in files_of(module) {
            let code = non_test_code(&file);
            for (i, _) in code.match_indices("dagr_protocols::") {
                let path: String = code[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                if path != "dagr_protocols::csi::Iq" {
                    let file = file.strip_prefix(src()).unwrap().display().to_string();
                    named.push(format!("{file} names {path}"));
                }
            }
        }
    }
    assert!(named.is_empty(), "{named:#?}");
}
