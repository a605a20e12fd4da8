//! The `dagr-node-sim` binary on a pty: what it writes decodes, and it exits on its own.
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_consecutive, is_heartbeat, Host};
use dagr_protocols::node::{Modality, Payload};
use serialport::{SerialPort, TTYPort};

#[test]
fn node_sim_writes_decodable_csi_radar_rfid_and_heartbeats_then_exits() {
    let (mut master, slave) = TTYPort::pair().expect("pty pair");
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let path = slave.name().expect("pty slave path");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dagr-node-sim"))
        .args([
            "--port",
            &path,
            "--node-id",
            "4",
            "--csi-rate",
            "100",
            "--radar",
            "--rfid",
        ])
        .args(["--duration", "1", "--heartbeat-ms", "200"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("dagr-node-sim starts");
    let mut host = Host::new(master);
    let frames = host.read_for(Duration::from_millis(1_500));
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("dagr-node-sim did not exit after --duration 1");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(slave);
    assert!(status.success(), "exit status {status}");

    let count = |m: Modality| {
        frames
            .iter()
            .filter(|f| f.header.modality == m && f.header.stream != 0xFF)
            .count()
    };
    let (csi, radar, rfid) = (
        count(Modality::Wifi),
        count(Modality::Mmwave),
        count(Modality::Rfid),
    );
    assert!(
        (60..=110).contains(&csi),
        "~100 CSI frames in 1 s, got {csi}"
    );
    assert!(
        (12..=22).contains(&radar),
        "~20 radar frames in 1 s, got {radar}"
    );
    assert!(
        (6..=11).contains(&rfid),
        "~10 RFID rounds in 1 s, got {rfid}"
    );
    assert!(frames.iter().filter(|f| is_heartbeat(f)).count() >= 4);
    assert!(frames.iter().all(|f| f.header.node == 4));
    for stream in [0, 1, 2, 0xFF] {
        assert_consecutive(&frames, stream);
    }
    let reads = frames.iter().find_map(|f| match &f.payload {
        Payload::Rfid(r) => Some(r.len()),
        _ => None,
    });
    assert_eq!(reads, Some(3));
}

#[test]
fn node_sim_names_the_port_it_cannot_open() {
    let out = Command::new(env!("CARGO_BIN_EXE_dagr-node-sim"))
        .args(["--port", "/dev/dagr-no-such-port", "--radar"])
        .output()
        .expect("dagr-node-sim runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open serial port /dev/dagr-no-such-port"),
        "{err}"
    );
}

#[test]
fn node_sim_exits_cleanly_on_sigterm() {
    let (mut master, slave) = TTYPort::pair().expect("pty pair");
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let path = slave.name().expect("pty slave path");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dagr-node-sim"))
        .args(["--port", &path, "--csi-rate", "50"])
        .stderr(Stdio::null())
        .spawn()
        .expect("dagr-node-sim starts");
    let mut host = Host::new(master);
    let first = host.read_until(Duration::from_secs(5), |fs| fs.iter().any(is_heartbeat));
    assert!(first.iter().any(is_heartbeat), "node is up");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(3);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("dagr-node-sim ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "exit status {status}");
}
