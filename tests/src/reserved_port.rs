//! A TCP port on 127.0.0.1 reserved for one test: connections to it are refused while
//! nothing listens on it, a reader emulator can be started, killed and started again on it,
//! and in between no other program can take it. Binding a listener, dropping it and hoping
//! nobody takes the port before the test uses it again is a race on a shared machine.
//!
//! The reservation is a socket bound to the port with `SO_REUSEADDR` that never listens.
//! A connection to a port without a listener is answered with a reset ("connection
//! refused"). A listener that also sets `SO_REUSEADDR` (the llrpkit emulator does, as
//! asyncio servers do on Unix) may bind the port beside it, since it is not listening;
//! the kernel never hands the port to a `bind(0)` or an outgoing connection while it is bound.
use std::net::{Ipv4Addr, SocketAddrV4};

use socket2::{Domain, Socket, Type};

/// A loopback port held until dropped.
pub struct ReservedPort {
    port: u16,
    _socket: Socket,
}

impl ReservedPort {
    /// Reserves a free port.
    pub fn new() -> ReservedPort {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        let any = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0);
        socket.bind(&any.into()).expect("bind a loopback port");
        let port = socket
            .local_addr()
            .expect("the bound address")
            .as_socket()
            .expect("an IP address")
            .port();
        ReservedPort {
            port,
            _socket: socket,
        }
    }

    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Default for ReservedPort {
    fn default() -> Self {
        ReservedPort::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn refused_while_nothing_listens_and_no_plain_listener_can_take_it() {
        let reserved = ReservedPort::new();
        let address = format!("127.0.0.1:{}", reserved.port());
        let err = TcpStream::connect(&address).expect_err("nothing listens there");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
        let plain = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let at = SocketAddrV4::new(Ipv4Addr::LOCALHOST, reserved.port());
        assert!(
            plain.bind(&at.into()).is_err(),
            "taken without SO_REUSEADDR"
        );
    }

    #[test]
    fn a_reusing_listener_serves_on_it_and_after_it_the_port_refuses_again() {
        let reserved = ReservedPort::new();
        let address = format!("127.0.0.1:{}", reserved.port());
        // std's listener sets SO_REUSEADDR on Unix, as the emulator does.
        let listener = TcpListener::bind(&address).expect("a reusing listener binds it");
        TcpStream::connect(&address).expect("served while it listens");
        drop(listener);
        let err = TcpStream::connect(&address).expect_err("refused again");
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    }
}
