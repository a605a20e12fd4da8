//! A virtual serial port: a pseudo-terminal whose slave path a client opens as it would
//! open `/dev/ttyUSB0`, and whose master this process reads and writes without blocking.
//!
//! Only the master is kept open: while no client has the slave open, the master reports a
//! hang-up, so a device knows nobody listens and loses what it sends (as a UART does),
//! instead of queueing stale bytes for the next client.
use std::io::{ErrorKind, Read};
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use serialport::{SerialPort, TTYPort};

use super::outbox::{Flushed, Outbox, DEFAULT_LIMIT};

/// One pseudo-terminal and the bytes waiting to go out on it.
pub struct VirtualPort {
    master: TTYPort,
    path: String,
    outbox: Outbox,
    listened: bool,
}

/// What became of the client since the last [`VirtualPort::attachment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// No client has the port open.
    Closed,
    /// A client opened the port since the last pump.
    Opened,
    /// The client that had it open still has it.
    Open,
}

impl VirtualPort {
    /// Creates a pseudo-terminal pair and keeps its master.
    pub fn create() -> Result<VirtualPort, String> {
        let (mut master, slave) =
            TTYPort::pair().map_err(|e| format!("cannot create a pseudo-terminal: {e}"))?;
        let path = slave
            .name()
            .ok_or("the pseudo-terminal has no slave path")?;
        drop(slave);
        master
            .set_timeout(Duration::ZERO)
            .map_err(|e| format!("{path}: cannot make the master non-blocking: {e}"))?;
        // serialport polls for room, then writes with a blocking call: a write larger than
        // the room left would wait for a client that stopped reading (and hang the device
        // thread). With O_NONBLOCK a full pseudo-terminal takes part and says WouldBlock.
        let fd = master.as_raw_fd();
        fcntl(fd, FcntlArg::F_GETFL)
            .map(OFlag::from_bits_truncate)
            .and_then(|flags| fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)))
            .map_err(|e| format!("{path}: cannot make the master non-blocking: {e}"))?;
        Ok(VirtualPort {
            master,
            path,
            outbox: Outbox::new(DEFAULT_LIMIT),
            listened: false,
        })
    }

    /// The path a client opens.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Queues bytes for the client: dropped whole when the client does not keep up, lost
    /// when nobody has the port open (as on a UART).
    pub fn send(&mut self, bytes: &[u8]) {
        if self.listened {
            self.outbox.push(bytes);
        }
    }

    /// Looks whether a client has the port open. Call it before queueing a tick's bytes,
    /// so a client that just opened gets them (after whatever the device prints on open).
    pub fn attachment(&mut self) -> Attachment {
        let open = self.is_attached();
        let was = std::mem::replace(&mut self.listened, open);
        if !open {
            self.outbox.clear();
        }
        match (was, open) {
            (_, false) => Attachment::Closed,
            (false, true) => Attachment::Opened,
            (true, true) => Attachment::Open,
        }
    }

    /// Writes what is queued, as far as the client takes it now.
    pub fn flush(&mut self) {
        if self.outbox.flush_to(&mut self.master) == Flushed::NoClient {
            self.listened = false;
        }
    }

    /// Bytes the client wrote, if any (empty when nothing came or nobody is there).
    pub fn receive(&mut self, into: &mut Vec<u8>) {
        let mut buf = [0u8; 512];
        loop {
            match self.master.read(&mut buf) {
                Ok(n) if n > 0 => into.extend_from_slice(&buf[..n]),
                _ => return,
            }
        }
    }

    /// Chunks dropped because the client did not read them in time.
    pub fn dropped_chunks(&self) -> u64 {
        self.outbox.dropped_chunks
    }

    /// True while a client has the slave open: an empty write then reports no hang-up.
    fn is_attached(&mut self) -> bool {
        // serialport polls for POLLOUT before writing; a hang-up (no slave open) is a
        // broken pipe, a full buffer a time-out.
        match std::io::Write::write(&mut self.master, &[]) {
            Ok(_) => true,
            Err(e) => e.kind() == ErrorKind::TimedOut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;

    fn open(path: &str) -> Box<dyn SerialPort> {
        serialport::new(path, 921_600)
            .timeout(Duration::from_millis(200))
            .open()
            .unwrap()
    }

    #[test]
    fn a_client_that_stops_reading_never_blocks_the_device() {
        let mut port = VirtualPort::create().unwrap();
        let client = open(port.path());
        assert_eq!(port.attachment(), Attachment::Opened);
        // Far more than a pseudo-terminal buffers, in chunks of a few frames.
        for _ in 0..48 {
            port.send(&[0x5a; 4096]);
        }
        let (done, flushed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            port.flush();
            let _ = done.send(port);
        });
        let port = flushed
            .recv_timeout(Duration::from_secs(5))
            .expect("flush blocked on a pseudo-terminal its client does not read");
        assert!(port.outbox.bytes_sent > 0, "the client's buffer took some");
        assert!(!port.outbox.is_empty(), "the rest waits for the client");
        drop(client);
    }

    #[test]
    fn bytes_sent_while_nobody_listens_are_lost_and_a_client_gets_only_fresh_ones() {
        let mut port = VirtualPort::create().unwrap();
        assert_eq!(port.attachment(), Attachment::Closed);
        port.send(b"stale\n");
        port.flush();
        let mut client = open(port.path());
        assert_eq!(port.attachment(), Attachment::Opened);
        port.send(b"fresh\n");
        port.flush();
        assert_eq!(port.attachment(), Attachment::Open);
        let mut buf = [0u8; 64];
        let n = client.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"fresh\n");
        client.write_all(b"sensorStart\n").unwrap();
        let mut got = Vec::new();
        for _ in 0..50 {
            port.receive(&mut got);
            if got.len() >= 12 {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(got, b"sensorStart\n");
        drop(client);
        assert_eq!(port.attachment(), Attachment::Closed);
    }
}
