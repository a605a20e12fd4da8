//! The HTTP sink: the gateway's health and predictions for people and programs.
//!
//! - `GET /status`: the [`StatusBoard`]'s snapshot as JSON
//!   ([`GatewayStatus`](crate::status::GatewayStatus)'s field names);
//! - `GET /metrics`: the same snapshot in the Prometheus text format ([`metrics`]);
//! - `GET /events`: server-sent events, one `data:` line per prediction, from the
//!   [`PredictionFeed`] the run loop publishes to ([`feed`]);
//! - `GET /healthz`: `200 ok` while the run loop keeps the board fresh, `503` otherwise;
//! - with a [`ControlMount`] ([`start_with_control`]): `POST /labels`, `GET`/`POST /adapt`
//!   and `POST /head/rollback`, writes behind a bearer token ([`control`]).
//!
//! [`start`] binds the address (loopback unless told otherwise) and serves from a thread of
//! its own running a single-threaded tokio runtime with axum: all async code lives inside
//! that thread. The rest of the gateway talks to it only through the board (a lock held to
//! copy a snapshot) and the feed (bounded per-client queues that never make the publisher
//! wait). [`HttpServer::stop`] ends it: event streams close, open connections get
//! [`STOP_GRACE`] to finish, then the runtime and whatever it still holds are dropped.
//!
//! Crates: axum on hyper (the tokio project's HTTP stack) for the server and its SSE
//! framing, prometheus-client (the Prometheus project's Rust client) for the exposition
//! format; no HTTP is parsed or framed here.
//!
//! This module must not know where status comes from nor what a prediction is: it serves
//! the board and forwards lines.
use std::convert::Infallible;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, Stream};
use tokio::sync::watch;

use crate::status::StatusBoard;

pub mod control;
pub mod feed;
pub mod metrics;

pub use control::{Control, ControlMount, Reply, WriteToken};
pub use feed::{PredictionFeed, MAX_EVENT_CLIENTS};

/// How long open connections get to finish after [`HttpServer::stop`].
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// Why the HTTP server could not start or ended badly.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The address could not be bound (in use, not an address of this machine...).
    #[error("cannot listen for HTTP on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server's runtime or thread could not be created.
    #[error("cannot start the HTTP server")]
    Start(#[source] std::io::Error),
    /// Serving failed (the listening socket broke).
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    /// The server's thread panicked: a bug in dagr.
    #[error("the HTTP server's thread panicked")]
    Panicked,
}

/// What every request handler shares.
#[derive(Clone)]
struct AppState {
    board: StatusBoard,
    feed: PredictionFeed,
    stopping: watch::Receiver<bool>,
    control: Option<ControlMount>,
}

/// A running HTTP server; [`stop`](Self::stop) it (dropping it stops it too).
pub struct HttpServer {
    address: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

/// Serves `board` and `feed` on `address` (port 0 picks a free port; see
/// [`HttpServer::local_addr`]).
pub fn start(
    address: SocketAddr,
    board: StatusBoard,
    feed: PredictionFeed,
) -> Result<HttpServer, HttpError> {
    start_with_control(address, board, feed, None)
}

/// [`start`], also serving the control endpoints of `control` when given.
pub fn start_with_control(
    address: SocketAddr,
    board: StatusBoard,
    feed: PredictionFeed,
    control: Option<ControlMount>,
) -> Result<HttpServer, HttpError> {
    let bind_error = |source| HttpError::Bind { address, source };
    let listener = std::net::TcpListener::bind(address).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(HttpError::Start)?;
    let listener = {
        let _inside = runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(bind_error)?
    };
    let (stop, stopping) = watch::channel(false);
    let controlled = control.as_ref().map(|c| c.token.is_set());
    let state = AppState {
        board,
        feed,
        stopping: stopping.clone(),
        control,
    };
    let thread = std::thread::Builder::new()
        .name(format!("http {local}"))
        .spawn(move || runtime.block_on(serve(listener, router(state), stopping)))
        .map_err(HttpError::Start)?;
    match controlled {
        None => tracing::info!("serving /status, /metrics, /events and /healthz on http://{local}"),
        Some(writable) => {
            tracing::info!(
                "serving /status, /metrics, /events, /healthz, /labels, /adapt and \
                 /head/rollback on http://{local}"
            );
            if !writable {
                tracing::info!("label and adaptation writes are refused: no [adapt] token set");
            }
        }
    }
    if !local.ip().is_loopback() {
        tracing::warn!(
            "http://{local} is reachable from other machines; only the control writes ask \
             for a token"
        );
    }
    Ok(HttpServer {
        address: local,
        stop,
        thread: Some(thread),
    })
}

impl HttpServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Closes event streams, lets connections finish for up to [`STOP_GRACE`], and waits
    /// for the server's thread.
    pub fn stop(mut self) -> Result<(), HttpError> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Result<(), HttpError> {
        let _ = self.stop.send(true);
        match self.thread.take().map(JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(error))) => Err(HttpError::Serve(error)),
            Some(Err(_)) => Err(HttpError::Panicked),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.shut_down();
    }
}

/// Serves until asked to stop, then gives open connections [`STOP_GRACE`].
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut signal = stopping.clone();
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = signal.wait_for(|stop| *stop).await;
        })
        .into_future();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        ended = &mut server => return ended,
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    // Past the grace period, connections still open (a client that stopped reading) are
    // dropped with the runtime.
    tokio::time::timeout(STOP_GRACE, server)
        .await
        .unwrap_or(Ok(()))
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/events", get(events))
        .route("/healthz", get(healthz))
        .route("/labels", post(post_labels))
        .route("/adapt", get(get_adapt).post(post_adapt))
        .route("/head/rollback", post(post_rollback))
        .fallback(not_found)
        .with_state(state)
}

async fn status(State(state): State<AppState>) -> Response {
    match serde_json::to_vec(&state.board.snapshot()) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => internal_error(&error),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match metrics::render(state.board.snapshot()) {
        Ok(text) => ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response(),
        Err(error) => internal_error(&error),
    }
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.board.health() {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn events(State(state): State<AppState>) -> Response {
    match state.feed.subscribe() {
        Some(subscription) => Sse::new(event_stream(subscription, state.stopping))
            .keep_alive(KeepAlive::default())
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("at most {MAX_EVENT_CLIENTS} /events clients at once\n"),
        )
            .into_response(),
    }
}

/// A client's lines as events, until the server stops.
fn event_stream(
    subscription: feed::Subscription,
    stopping: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(
        (subscription, stopping),
        |(subscription, mut stopping)| async move {
            let line: Arc<str> = tokio::select! {
                line = subscription.next() => line,
                _ = stopping.wait_for(|stop| *stop) => return None,
            };
            let event = Event::default().data(line.trim_end_matches(['\r', '\n']));
            Some((Ok(event), (subscription, stopping)))
        },
    )
}

/// Runs `write` on the control side once the token checks out.
fn write_with(
    state: &AppState,
    headers: &HeaderMap,
    write: impl FnOnce(&dyn Control) -> Reply,
) -> Response {
    let Some(mount) = &state.control else {
        return no_control();
    };
    match mount.token.refuse(headers) {
        Some(refusal) => refusal,
        None => write(mount.control.as_ref()).into_response(),
    }
}

async fn post_labels(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    write_with(&state, &headers, |c| c.label(&body))
}

async fn post_adapt(State(state): State<AppState>, headers: HeaderMap) -> Response {
    write_with(&state, &headers, |c| c.start_adaptation())
}

async fn post_rollback(State(state): State<AppState>, headers: HeaderMap) -> Response {
    write_with(&state, &headers, |c| c.rollback())
}

async fn get_adapt(State(state): State<AppState>) -> Response {
    match &state.control {
        Some(mount) => mount.control.adaptation().into_response(),
        None => no_control(),
    }
}

fn no_control() -> Response {
    Reply::error(
        404,
        "labels and adaptation are not available on this server",
    )
    .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not found; try /status, /metrics, /events, /healthz, /adapt, /labels or /head/rollback\n",
    )
        .into_response()
}

fn internal_error(error: &dyn std::fmt::Display) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;
    use crate::status::ModelStatus;

    fn board() -> StatusBoard {
        StatusBoard::new(ModelStatus::default())
    }

    /// One request over a plain socket; the whole response as text.
    fn request(address: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(address).unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn healthz_is_503_until_the_run_loop_updates_the_board() {
        let board = board();
        let server = start(
            "127.0.0.1:0".parse().unwrap(),
            board.clone(),
            PredictionFeed::new(4, board.clone()),
        )
        .unwrap();
        let stale = request(server.local_addr(), "/healthz");
        assert!(stale.starts_with("HTTP/1.1 503"), "{stale}");
        assert!(
            stale.ends_with("the run loop has not updated status yet\n"),
            "{stale}"
        );
        crate::status::StatusTracker::new(board, crate::clock::GatewayClock::new(), &[])
            .refresh(None);
        let fresh = request(server.local_addr(), "/healthz");
        assert!(fresh.starts_with("HTTP/1.1 200"), "{fresh}");
        assert!(fresh.ends_with("\r\n\r\nok\n"), "{fresh}");
        let unknown = request(server.local_addr(), "/predictions");
        assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
        server.stop().unwrap();
    }

    #[test]
    fn an_address_in_use_is_named() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = taken.local_addr().unwrap();
        let board = board();
        let Err(error) = start(address, board.clone(), PredictionFeed::new(4, board)) else {
            panic!("the address is taken");
        };
        assert_eq!(
            error.to_string(),
            format!("cannot listen for HTTP on {address}")
        );
        assert!(
            std::error::Error::source(&error).is_some(),
            "the OS error is kept"
        );
    }

    #[test]
    fn stop_ends_open_event_streams() {
        let board = board();
        let server = start(
            "127.0.0.1:0".parse().unwrap(),
            board.clone(),
            PredictionFeed::new(4, board.clone()),
        )
        .unwrap();
        let mut client = TcpStream::connect(server.local_addr()).unwrap();
        client
            .write_all(b"GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while board.snapshot().events.clients == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "client never subscribed"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let asked = std::time::Instant::now();
        server.stop().unwrap();
        assert!(asked.elapsed() < STOP_GRACE, "{:?}", asked.elapsed());
        let mut rest = String::new();
        client.read_to_string(&mut rest).unwrap();
        assert!(rest.starts_with("HTTP/1.1 200"), "{rest}");
        assert!(rest.contains("text/event-stream"), "{rest}");
        assert_eq!(
            board.snapshot().events.clients,
            0,
            "the subscription is gone"
        );
    }
}
