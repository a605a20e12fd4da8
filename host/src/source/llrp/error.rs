//! Why a connection to an LLRP reader ended: the reason a source's `Disconnected` state
//! says, kept typed (with its cause) until it is put into words there.
use std::time::Duration;

/// How a reader was lost or refused us.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// The address did not resolve.
    #[error("cannot resolve {address}")]
    Resolve {
        /// `HOST:PORT`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The address resolved to nothing.
    #[error("{address} resolves to no address")]
    NoAddress {
        /// `HOST:PORT`.
        address: String,
    },
    /// No resolved address accepted a connection (the last attempt's error).
    #[error("cannot connect to {address}")]
    Connect {
        /// `HOST:PORT`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The socket's timeouts or options could not be set.
    #[error("cannot set up {address}")]
    Setup {
        /// `HOST:PORT`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A message of ours could not be encoded (a bug, said rather than hidden).
    #[error("cannot encode {message}")]
    Encode {
        /// The message's name.
        message: &'static str,
        /// Why.
        #[source]
        source: dagr_protocols::Error,
    },
    /// Sending failed.
    #[error("sending {message} to {address}")]
    Send {
        /// The message's name.
        message: &'static str,
        /// `HOST:PORT`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("reading from {address}")]
    Read {
        /// `HOST:PORT`.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The reader closed the TCP connection.
    #[error("{address} closed the connection")]
    Closed {
        /// `HOST:PORT`.
        address: String,
    },
    /// The reader announced it is closing (ConnectionCloseEvent).
    #[error("{address} is closing the connection (ConnectionCloseEvent)")]
    Closing {
        /// `HOST:PORT`.
        address: String,
    },
    /// No whole LLRP message within the silence limit.
    #[error("no message from {address} for {} ms (keepalive period {} ms)", .silent.as_millis(), .keepalive.as_millis())]
    Silent {
        /// `HOST:PORT`.
        address: String,
        /// How long it has been silent.
        silent: Duration,
        /// The keepalive period asked for.
        keepalive: Duration,
    },
    /// The reader refused the connection (ConnectionAttemptEvent status other than 0).
    #[error(
        "{address} refused the connection: ConnectionAttemptEvent status {status} ({meaning})"
    )]
    ConnectionRefused {
        /// `HOST:PORT`.
        address: String,
        /// The event's status.
        status: u16,
        /// What the status means (LLRP 1.0.1 §13.2.6.7).
        meaning: &'static str,
    },
    /// The reader answered a request with an error status.
    #[error("{address} refused {request}: {status}")]
    Refused {
        /// `HOST:PORT`.
        address: String,
        /// The request.
        request: &'static str,
        /// The status, named and described.
        status: String,
    },
    /// No answer to a request in time.
    #[error("{address} sent no answer to {request} within {} ms", .timeout.as_millis())]
    NoAnswer {
        /// `HOST:PORT`.
        address: String,
        /// The request.
        request: &'static str,
        /// How long the gateway waited.
        timeout: Duration,
    },
}
