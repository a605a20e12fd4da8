//! The node core in a thread, attached to one end of a pty pair; the test is the host.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{assert_consecutive, is_csi, is_heartbeat, Host};
use dagr_firmware::sim::{self, SimOptions};
use dagr_protocols::node::{AckStatus, Opcode, Payload};
use serialport::{SerialPort, TTYPort};

const NODE: u16 = 9;

#[test]
fn core_streams_answers_time_sync_and_stops_on_command_over_a_pty() {
    let (mut master, mut slave) = TTYPort::pair().expect("pty pair");
    master.set_timeout(Duration::from_millis(20)).unwrap();
    slave.set_timeout(sim::READ_TIMEOUT).unwrap();
    let writer = slave.try_clone_native().unwrap();
    let options = SimOptions {
        node_id: NODE,
        csi_rate_hz: Some(200.0),
        radar: false,
        rfid: false,
        duration: Some(Duration::from_secs(20)),
        heartbeat_ms: 100,
    };
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let node = s.spawn(|| sim::run(slave, writer, &options, &stop));
        let mut host = Host::new(master);

        let first = host.read_until(Duration::from_secs(5), |fs| {
            fs.iter().filter(|f| is_csi(f)).count() >= 40
                && fs.iter().filter(|f| is_heartbeat(f)).count() >= 2
        });
        assert_consecutive(&first, 0);
        assert_consecutive(&first, 0xFF);
        assert!(first.iter().all(|f| f.header.node == NODE));

        let t1 = 0x1234_5678_9ABC;
        host.time_sync(NODE, t1);
        let answer = host.read_until(Duration::from_secs(3), |fs| {
            fs.iter()
                .any(|f| matches!(f.payload, Payload::TimeSyncResponse(_)))
        });
        let response = answer
            .iter()
            .find_map(|f| match f.payload {
                Payload::TimeSyncResponse(r) => Some((f.header, r)),
                _ => None,
            })
            .expect("a time-sync response within 3 s");
        assert_eq!(response.1.t1, t1);
        assert!(response.1.t2 <= response.1.t3);
        assert_eq!(response.0.timestamp_us, response.1.t3);

        let stop_seq = host.command(NODE, Opcode::Stop, 0xFF, 0);
        let acked = host.read_until(Duration::from_secs(3), |fs| {
            fs.iter()
                .any(|f| matches!(f.payload, Payload::Ack(a) if a.command_seq == stop_seq))
        });
        let ack = acked
            .iter()
            .find_map(|f| match f.payload {
                Payload::Ack(a) => Some(a),
                _ => None,
            })
            .expect("an ack");
        assert_eq!((ack.opcode, ack.status), (Opcode::Stop, AckStatus::Ok));
        host.read_for(Duration::from_millis(200)); // samples captured before the stop drain
        let after = host.read_for(Duration::from_millis(500));
        assert_eq!(
            after.iter().filter(|f| is_csi(f)).count(),
            0,
            "CSI after stop"
        );
        assert!(after.iter().any(is_heartbeat), "the node still lives");

        stop.store(true, Ordering::Relaxed);
        let report = node.join().unwrap().expect("node ran without port errors");
        assert!(report.counters.frames_sent >= 40);
        assert_eq!(
            (report.counters.link_errors, report.counters.crc_errors),
            (0, 0)
        );
    });
}
