//! The gateway's control endpoints as the HTTP sink sees them: labels, adaptation and
//! rollback of the head, answered by whatever implements [`Control`] (the online
//! adaptation of `dagr run`), behind a bearer token for every write.
//!
//! - `POST /labels`: a JSON body naming a class and a span of recent windows;
//! - `POST /adapt`: starts adapting the head on the labeled windows; `GET /adapt`: its state;
//! - `POST /head/rollback`: puts the previous head back.
//!
//! Writes need `Authorization: Bearer TOKEN` with the configured token ([`WriteToken`]);
//! with no token configured they are refused with how to enable them. Reads need nothing.
//! This module knows the routes and the token, not what a label or a head is: the
//! [`Control`] answers with a status code and a JSON body.
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An answer of the control side: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status code (200, 202, 400, 409, 422...).
    pub status: u16,
    /// The JSON body; errors carry an `"error"` message.
    pub body: Value,
}

impl Reply {
    /// A success with `body`.
    pub fn ok(body: Value) -> Reply {
        Reply { status: 200, body }
    }

    /// A refusal with `status` and `message` (as `{"error": message}`).
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = format!("{}\n", self.body);
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// What answers the control endpoints; called from the HTTP server's thread, so each
/// call must be quick (copying, not training: adaptation runs on a thread of its own).
pub trait Control: Send + Sync + 'static {
    /// `POST /labels` with `body` (the raw request body).
    fn label(&self, body: &[u8]) -> Reply;
    /// `POST /adapt`.
    fn start_adaptation(&self) -> Reply;
    /// `GET /adapt`.
    fn adaptation(&self) -> Reply;
    /// `POST /head/rollback`.
    fn rollback(&self) -> Reply;
}

/// The token writes must carry (`None`: writes are off).
#[derive(Clone)]
pub struct WriteToken(Option<Arc<str>>);

impl std::fmt::Debug for WriteToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        let shown = if self.0.is_some() { "set" } else { "none" };
        f.debug_tuple("WriteToken").field(&shown).finish()
    }
}

impl WriteToken {
    /// The token `token` (empty: writes refused).
    pub fn new(token: &str) -> WriteToken {
        WriteToken((!token.is_empty()).then(|| Arc::from(token)))
    }

    /// Whether writes are possible at all (a token is configured).
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// `None` when `headers` carry the token; otherwise the refusal to send.
    pub(super) fn refuse(&self, headers: &HeaderMap) -> Option<Response> {
        let Some(token) = &self.0 else {
            return Some(
                Reply::error(
                    403,
                    "writes are off on this gateway: set `token` (at least 16 characters) \
                     in the [adapt] table of gateway.toml and restart, then send \
                     `Authorization: Bearer TOKEN`",
                )
                .into_response(),
            );
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let message = match given {
            Some(given) if same_secret(given.trim().as_bytes(), token.as_bytes()) => return None,
            Some(_) => "wrong token in `Authorization: Bearer TOKEN`",
            None => "this write needs the header `Authorization: Bearer TOKEN` (gateway.toml [adapt] token)",
        };
        let mut response = Reply::error(401, message).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        Some(response)
    }
}

/// Compares two secrets in time that depends on their lengths only, not on where they
/// first differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    let differ = a
        .iter()
        .zip(b)
        .fold(u8::from(a.len() != b.len()), |acc, (x, y)| acc | (x ^ y));
    differ == 0
}

/// The control side and its token, handed to [`start_with_control`](super::start_with_control).
#[derive(Clone)]
pub struct ControlMount {
    /// What answers.
    pub control: Arc<dyn Control>,
    /// What writes must carry.
    pub token: WriteToken,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(auth) = auth {
            h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_the_configured_token_lets_a_write_through() {
        let token = WriteToken::new("0123456789abcdef");
        assert!(token
            .refuse(&headers(Some("Bearer 0123456789abcdef")))
            .is_none());
        for bad in [
            None,
            Some("Bearer 0123456789abcdeX"),
            Some("Bearer 0123"),
            Some("Basic x"),
        ] {
            let refused = token.refuse(&headers(bad)).expect("refused");
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        }
    }

    #[test]
    fn without_a_token_every_write_is_refused_with_how_to_enable_it() {
        let refused = WriteToken::new("")
            .refuse(&headers(Some("Bearer ")))
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(format!("{:?}", WriteToken::new("0123456789abcdef")).contains("set"));
        assert!(!format!("{:?}", WriteToken::new("0123456789abcdef")).contains("0123"));
    }
}
