//! The simulated reader's TCP side: a listener on 127.0.0.1, one client at a time (a
//! second one is refused with ConnectionAttemptEvent status 2 and closed), requests
//! decoded with the protocol crate and answered by [`ReaderProtocol`], KEEPALIVEs when
//! configured, and tag reports while a ROSpec runs. Nothing blocks: the simulation
//! thread calls [`LlrpServer::pump`] between renders.
//!
//! A client that sends no whole LLRP message (no request, no KEEPALIVE_ACK) for the idle
//! timeout is dropped, so a dead or stuck client cannot hold the single client slot
//! forever. The timeout is [`IDLE_TIMEOUT`] by default and at least three of the keepalive
//! periods the client asked for: a client that acknowledges its KEEPALIVEs, like the
//! gateway's LLRP source, is heard from every period and never dropped.
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use dagr_protocols::llrp::{Message, MessageDecoder};
use dagr_protocols::stream::decode_chunk;

use super::llrp_reader::ReaderProtocol;
use super::outbox::{Flushed, Outbox, DEFAULT_LIMIT};

/// How long a client may stay silent before it is dropped (see the [module doc](self)).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The connected client and its reader state.
struct Client {
    stream: TcpStream,
    decoder: MessageDecoder,
    reader: ReaderProtocol,
    outbox: Outbox,
    last_keepalive: Instant,
    /// When the client last sent a whole LLRP message (or connected).
    last_heard: Instant,
    closing: bool,
}

/// A simulated LLRP reader listening on 127.0.0.1.
pub struct LlrpServer {
    listener: TcpListener,
    antennas: u16,
    client: Option<Client>,
    idle_timeout: Duration,
    /// Clients accepted so far.
    pub connections: u64,
    /// Clients dropped because they stayed silent past the idle timeout.
    pub idle_drops: u64,
    /// Report chunks dropped because the client did not read them in time.
    pub dropped_reports: u64,
}

impl LlrpServer {
    /// Listens on 127.0.0.1:`port` (0: any free port) as a reader with `antennas` ports.
    pub fn bind(port: u16, antennas: u16) -> Result<LlrpServer, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        Ok(LlrpServer {
            listener,
            antennas,
            client: None,
            idle_timeout: IDLE_TIMEOUT,
            connections: 0,
            idle_drops: 0,
            dropped_reports: 0,
        })
    }

    /// Drops silent clients after `timeout` instead of [`IDLE_TIMEOUT`] (`dagr sim --serve
    /// --llrp-idle-timeout`).
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.idle_timeout = timeout;
    }

    /// Where clients connect.
    pub fn address(&self) -> Result<SocketAddr, String> {
        self.listener
            .local_addr()
            .map_err(|e| format!("the LLRP listener has no address: {e}"))
    }

    /// True while a client has a ROSpec running: tag reports go out.
    pub fn inventory_running(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|c| c.reader.running().is_some())
    }

    /// Queues encoded RO_ACCESS_REPORTs for the client (only while inventory runs).
    pub fn send_reports(&mut self, bytes: &[u8]) {
        if let Some(client) = self
            .client
            .as_mut()
            .filter(|c| c.reader.running().is_some())
        {
            let before = client.outbox.dropped_chunks;
            client.outbox.push(bytes);
            self.dropped_reports += client.outbox.dropped_chunks - before;
        }
    }

    /// Accepts, reads and answers requests, sends due KEEPALIVEs and queued bytes.
    /// `now_utc_us` is the reader's clock (for event timestamps).
    pub fn pump(&mut self, now_utc_us: u64) {
        self.accept(now_utc_us);
        let Some(client) = self.client.as_mut() else {
            return;
        };
        let alive = client.read_and_answer() && client.keepalive() && client.flush();
        let idle = client.idle_for(self.idle_timeout);
        self.idle_drops += u64::from(alive && idle);
        if !alive || idle || (client.closing && client.outbox.is_empty()) {
            let _ = client.stream.shutdown(std::net::Shutdown::Both);
            self.client = None;
        }
    }

    fn accept(&mut self, now_utc_us: u64) {
        while let Ok((stream, _)) = self.listener.accept() {
            if self.client.is_some() {
                refuse(stream, now_utc_us);
                continue;
            }
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let _ = stream.set_nodelay(true);
            let mut reader = ReaderProtocol::new(self.antennas);
            let mut outbox = Outbox::new(DEFAULT_LIMIT);
            push_message(&mut outbox, &reader.greeting(now_utc_us));
            self.connections += 1;
            self.client = Some(Client {
                stream,
                decoder: MessageDecoder::new(),
                reader,
                outbox,
                last_keepalive: Instant::now(),
                last_heard: Instant::now(),
                closing: false,
            });
        }
    }
}

impl Client {
    /// Reads what the client sent and queues the answers; false when it hung up.
    fn read_and_answer(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return false,
                Ok(n) => {
                    let mut requests = Vec::new();
                    decode_chunk(&mut self.decoder, &buf[..n], |m| requests.push(m));
                    if !requests.is_empty() {
                        self.last_heard = Instant::now();
                    }
                    for request in &requests {
                        let answer = self.reader.handle(request);
                        for message in &answer.messages {
                            push_message(&mut self.outbox, message);
                        }
                        self.closing |= answer.close;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// True when the client sent no whole message for `timeout`, or for three of the
    /// keepalive periods it asked for when that is longer.
    fn idle_for(&self, timeout: Duration) -> bool {
        let periods = Duration::from_millis(u64::from(self.reader.keepalive_period_ms()) * 3);
        self.last_heard.elapsed() > timeout.max(periods)
    }

    /// Queues a KEEPALIVE when one is due; always true.
    fn keepalive(&mut self) -> bool {
        let period = self.reader.keepalive_period_ms();
        if period > 0 && self.last_keepalive.elapsed() >= Duration::from_millis(period.into()) {
            self.last_keepalive = Instant::now();
            let keepalive = self.reader.keepalive();
            push_message(&mut self.outbox, &keepalive);
        }
        true
    }

    /// Sends what the socket takes now; false when the client is gone.
    fn flush(&mut self) -> bool {
        self.outbox.flush_to(&mut self.stream) == Flushed::Ok
    }
}

fn push_message(outbox: &mut Outbox, message: &Message) {
    if let Ok(bytes) = message.to_vec() {
        outbox.push(&bytes);
    }
}

/// Tells a second client that a client connection already exists, then closes.
fn refuse(mut stream: TcpStream, now_utc_us: u64) {
    if let Ok(bytes) = ReaderProtocol::refusal(now_utc_us).to_vec() {
        let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = stream.write_all(&bytes);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;

    use dagr_protocols::llrp::message_type as mt;
    use dagr_protocols::llrp::{Body, ReaderConfig};

    /// Pumps the server until `client` has received one whole message.
    fn next_message(server: &mut LlrpServer, client: &mut TcpStream) -> Message {
        client
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        let mut decoder = MessageDecoder::new();
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut buf = [0u8; 1024];
        loop {
            assert!(Instant::now() < deadline, "no message from the reader");
            server.pump(42);
            if let Ok(n) = client.read(&mut buf) {
                let mut got = Vec::new();
                decode_chunk(&mut decoder, &buf[..n], |m| got.push(m));
                if let Some(message) = got.into_iter().next() {
                    return message;
                }
            }
        }
    }

    fn connection_attempt(message: &Message) -> Option<u16> {
        match &message.body {
            Body::ReaderEvent(event) => event.connection_attempt,
            _ => None,
        }
    }

    #[test]
    fn the_first_client_is_greeted_and_a_second_is_refused_while_it_stays() {
        let mut server = LlrpServer::bind(0, 2).unwrap();
        let address = server.address().unwrap();
        let mut first = TcpStream::connect(address).unwrap();
        assert_eq!(
            connection_attempt(&next_message(&mut server, &mut first)),
            Some(0)
        );
        let mut second = TcpStream::connect(address).unwrap();
        assert_eq!(
            connection_attempt(&next_message(&mut server, &mut second)),
            Some(2)
        );
        assert_eq!(server.connections, 1);
        first
            .write_all(&Message::get_reader_capabilities(7).to_vec().unwrap())
            .unwrap();
        let reply = next_message(&mut server, &mut first);
        assert_eq!(
            (reply.message_type, reply.id),
            (mt::GET_READER_CAPABILITIES_RESPONSE, 7)
        );
        assert!(!server.inventory_running());
    }

    /// Pumps the server until `client` reads end of stream; returns how long that took.
    fn pump_until_closed(server: &mut LlrpServer, client: &mut TcpStream, poke: &[u8]) -> Duration {
        client
            .set_read_timeout(Some(Duration::from_millis(5)))
            .unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            assert!(started.elapsed() < Duration::from_secs(3), "never closed");
            server.pump(42);
            if !poke.is_empty() && client.write_all(poke).is_err() {
                return started.elapsed();
            }
            match client.read(&mut buf) {
                Ok(0) => return started.elapsed(),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return started.elapsed(),
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_client_sending_no_whole_message_is_dropped_after_the_idle_timeout_and_frees_the_slot() {
        let mut server = LlrpServer::bind(0, 2).unwrap();
        server.set_idle_timeout(Duration::from_millis(300));
        let address = server.address().unwrap();
        let mut garbage = TcpStream::connect(address).unwrap();
        assert_eq!(
            connection_attempt(&next_message(&mut server, &mut garbage)),
            Some(0)
        );
        // A byte every 20 ms is traffic, but never an LLRP message: it keeps nothing alive.
        let closed_after = pump_until_closed(&mut server, &mut garbage, &[0xff]);
        assert!(
            closed_after >= Duration::from_millis(250),
            "{closed_after:?}"
        );
        assert_eq!(server.idle_drops, 1);
        let mut next = TcpStream::connect(address).unwrap();
        assert_eq!(
            connection_attempt(&next_message(&mut server, &mut next)),
            Some(0)
        );
        assert_eq!(server.connections, 2);
    }

    #[test]
    fn a_client_that_acknowledges_its_keepalives_outlives_the_idle_timeout() {
        let mut server = LlrpServer::bind(0, 2).unwrap();
        server.set_idle_timeout(Duration::from_millis(200));
        let address = server.address().unwrap();
        let mut client = TcpStream::connect(address).unwrap();
        next_message(&mut server, &mut client);
        let config = ReaderConfig {
            keepalive_ms: Some(50),
            ..ReaderConfig::default()
        };
        let request = Message::set_reader_config(1, config).to_vec().unwrap();
        client.write_all(&request).unwrap();
        assert_eq!(
            next_message(&mut server, &mut client).message_type,
            mt::SET_READER_CONFIG_RESPONSE
        );
        let mut acked = 0;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            let message = next_message(&mut server, &mut client);
            assert_eq!(message.message_type, mt::KEEPALIVE);
            client
                .write_all(&Message::keepalive_ack(message.id).to_vec().unwrap())
                .unwrap();
            acked += 1;
        }
        assert!(acked >= 10, "{acked} keepalives in 1 s at 50 ms");
        assert_eq!((server.idle_drops, server.connections), (0, 1));
        client
            .write_all(&Message::get_reader_capabilities(9).to_vec().unwrap())
            .unwrap();
        let reply = next_message(&mut server, &mut client);
        assert_eq!(reply.message_type, mt::GET_READER_CAPABILITIES_RESPONSE);
    }
}
