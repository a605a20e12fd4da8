//! A TCP port on 127.0.0.1 that certainly refuses connections for as long as a test needs
//! it, without the race of binding a listener, dropping it and hoping nobody takes the port
//! before the test connects to it.
//!
//! The port is the local end of an established loopback connection that the guard keeps
//! open: nothing listens on it (a SYN to it is answered with a reset, "connection
//! refused"), and while the connection lives no listener can bind it (the connecting socket
//! does not share its address: it was never given `SO_REUSEADDR`).
use std::net::{TcpListener, TcpStream};

/// Holds a loopback port that refuses connections until dropped.
pub struct RefusedPort {
    port: u16,
    _client: TcpStream,
    _server: TcpStream,
}

impl RefusedPort {
    /// Takes a port: connects to a listener of our own and keeps both ends of the
    /// connection, then closes the listener (its port is not the one handed out).
    pub fn new() -> RefusedPort {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback listener");
        let client = TcpStream::connect(listener.local_addr().expect("listener address"))
            .expect("connect to our own listener");
        let (server, _) = listener.accept().expect("accept our own connection");
        let port = client.local_addr().expect("the client's address").port();
        RefusedPort {
            port,
            _client: client,
            _server: server,
        }
    }

    /// The refusing port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Default for RefusedPort {
    fn default() -> Self {
        RefusedPort::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_is_refused_and_binding_fails_while_held() {
        let refused = RefusedPort::new();
        let address = format!("127.0.0.1:{}", refused.port());
        let err = TcpStream::connect(&address).expect_err("nothing listens there");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        assert!(TcpListener::bind(&address).is_err(), "the port is held");
    }
}
