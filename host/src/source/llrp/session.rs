//! The LLRP conversation on one connection: the start-up sequence of the wire-format
//! reference (§3.4), the reporting loop (keepalives acknowledged, silence detected), and
//! the clean close (STOP_ROSPEC, CLOSE_CONNECTION).
use std::time::{Duration, Instant};

use dagr_protocols::llrp::impinj::{ContentSelector, IMPINJ_PEN};
use dagr_protocols::llrp::message_type as mt;
use dagr_protocols::llrp::{Body, Message, ReaderConfig, RoSpec, Status};

use super::error::ReaderError;
use super::link::Link;
use super::settings::Settings;
use super::ReaderIdentity;
use crate::events::StopFlag;
use crate::source::SourceContext;

/// Why a connection ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// The gateway asked the source to stop (or stopped listening).
    Stopped,
    /// The reader was lost or refused us (it becomes the `Disconnected` reason).
    Lost(ReaderError),
}

/// How long each step of the clean close waits for its answer.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// One connection to a reader and the client's side of its protocol state.
pub(super) struct Session<'a> {
    link: Link,
    settings: &'a Settings,
    stop: StopFlag,
    next_id: u32,
}

impl<'a> Session<'a> {
    /// Connects over TCP (nothing is said yet).
    pub(super) fn open(settings: &'a Settings, ctx: &SourceContext) -> Result<Self, Ended> {
        Ok(Session {
            link: Link::open(settings, ctx)?,
            settings,
            stop: ctx.stop.clone(),
            next_id: 1,
        })
    }

    /// Runs the start-up sequence up to an active ROSpec; returns who the reader is.
    pub(super) fn start(&mut self) -> Result<ReaderIdentity, Ended> {
        self.await_connection_accepted()?;
        let mut identity = self.capabilities()?;
        identity.impinj_extensions =
            identity.manufacturer == IMPINJ_PEN && self.enable_impinj_extensions()?;
        let config = ReaderConfig {
            keepalive_ms: Some(u32::try_from(self.settings.keepalive.as_millis()).unwrap_or(0)),
            ..ReaderConfig::default()
        };
        self.request(|id| Message::set_reader_config(id, config))?;
        let ro_spec_id = self.settings.ro_spec_id;
        // A previous client may have left our ROSpec installed; a fresh reader answers
        // "no such ROSpec", which is fine.
        self.exchange(|id| Message::delete_rospec(id, ro_spec_id), true)?;
        let spec = ro_spec(ro_spec_id, identity.impinj_extensions);
        self.request(|id| Message::add_rospec(id, spec))?;
        self.request(|id| Message::enable_rospec(id, ro_spec_id))?;
        // Sent even though a real reader could start on ENABLE (llrpkit needs it).
        self.request(|id| Message::start_rospec(id, ro_spec_id))?;
        Ok(identity)
    }

    /// Streams reports until a stop is requested or the reader is lost.
    pub(super) fn run(&mut self) -> Ended {
        loop {
            if self.stop.is_stopped() {
                return Ended::Stopped;
            }
            if let Err(ended) = self.step() {
                return ended;
            }
        }
    }

    /// Stops inventory and closes the connection, waiting briefly for each answer.
    pub(super) fn close(mut self) {
        let ro_spec_id = self.settings.ro_spec_id;
        let _ = self.exchange_within(|id| Message::stop_rospec(id, ro_spec_id), CLOSE_WAIT);
        let _ = self.exchange_within(Message::close_connection, CLOSE_WAIT);
        self.link.shutdown();
    }

    /// One read, then the messages it completed; fails when the reader went silent.
    fn step(&mut self) -> Result<(), Ended> {
        self.link.poll()?;
        while let Some(message) = self.link.next_control() {
            self.handle_unsolicited(message)?;
        }
        let silent = self.link.silent_for();
        if silent > self.settings.silence_limit() {
            return Err(Ended::Lost(ReaderError::Silent {
                address: self.link.address().to_string(),
                silent,
                keepalive: self.settings.keepalive,
            }));
        }
        Ok(())
    }

    /// A reader-initiated message: KEEPALIVE is acknowledged with its own ID, a
    /// ConnectionCloseEvent ends the connection, the rest needs no answer.
    fn handle_unsolicited(&mut self, message: Message) -> Result<(), Ended> {
        if message.message_type == mt::KEEPALIVE {
            return self.link.send(&Message::keepalive_ack(message.id));
        }
        match &message.body {
            Body::ReaderEvent(event) if event.connection_close => {
                Err(Ended::Lost(ReaderError::Closing {
                    address: self.link.address().to_string(),
                }))
            }
            _ => Ok(()),
        }
    }

    /// Waits for the READER_EVENT_NOTIFICATION that accepts (or refuses) the connection.
    fn await_connection_accepted(&mut self) -> Result<(), Ended> {
        let event = self.wait_for(
            "the ConnectionAttemptEvent",
            self.settings.response_timeout,
            true,
            |m| matches!(&m.body, Body::ReaderEvent(e) if e.connection_attempt.is_some()),
        )?;
        let status = match &event.body {
            Body::ReaderEvent(e) => e.connection_attempt,
            _ => None,
        };
        match status {
            Some(0) => Ok(()),
            status => {
                let status = status.unwrap_or(u16::MAX);
                Err(Ended::Lost(ReaderError::ConnectionRefused {
                    address: self.link.address().to_string(),
                    status,
                    meaning: connection_attempt_meaning(status),
                }))
            }
        }
    }

    /// GET_READER_CAPABILITIES: the reader's manufacturer, model and firmware.
    fn capabilities(&mut self) -> Result<ReaderIdentity, Ended> {
        let reply = self.request(Message::get_reader_capabilities)?;
        let general = match reply.body {
            Body::Capabilities(caps) => caps.general,
            _ => None,
        };
        Ok(match general {
            Some(g) => ReaderIdentity {
                manufacturer: g.manufacturer,
                model: g.model,
                firmware: g.firmware_version,
                impinj_extensions: false,
            },
            None => ReaderIdentity {
                manufacturer: 0,
                model: 0,
                firmware: String::new(),
                impinj_extensions: false,
            },
        })
    }

    /// IMPINJ_ENABLE_EXTENSIONS; a refusal is tolerated (reports then lack phase).
    fn enable_impinj_extensions(&mut self) -> Result<bool, Ended> {
        let (_, reply) = self.exchange(Message::impinj_enable_extensions, true)?;
        Ok(status_of(&reply).is_some_and(Status::is_success) && !is_error_message(&reply))
    }

    /// Sends a request and returns its answer, failing on an error status.
    fn request(&mut self, build: impl FnOnce(u32) -> Message) -> Result<Message, Ended> {
        let (what, reply) = self.exchange(build, true)?;
        match status_of(&reply) {
            Some(status) if !status.is_success() || is_error_message(&reply) => {
                Err(Ended::Lost(ReaderError::Refused {
                    address: self.link.address().to_string(),
                    request: what,
                    status: describe(status),
                }))
            }
            _ => Ok(reply),
        }
    }

    /// Sends a request and waits for the answer with its ID (any status), within the
    /// response timeout, stopping early on a stop request when `honour_stop`.
    fn exchange(
        &mut self,
        build: impl FnOnce(u32) -> Message,
        honour_stop: bool,
    ) -> Result<(&'static str, Message), Ended> {
        let timeout = self.settings.response_timeout;
        self.send_and_wait(build, timeout, honour_stop)
    }

    /// [`exchange`](Self::exchange) with its own timeout, ignoring the stop flag (for
    /// the close sequence, which runs because of it).
    fn exchange_within(
        &mut self,
        build: impl FnOnce(u32) -> Message,
        timeout: Duration,
    ) -> Result<(&'static str, Message), Ended> {
        self.send_and_wait(build, timeout, false)
    }

    fn send_and_wait(
        &mut self,
        build: impl FnOnce(u32) -> Message,
        timeout: Duration,
        honour_stop: bool,
    ) -> Result<(&'static str, Message), Ended> {
        let id = self.next_id;
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        let request = build(id);
        let what = request.name();
        self.link.send(&request)?;
        let reply = self.wait_for(what, timeout, honour_stop, |m| is_reply_to(m, id))?;
        Ok((what, reply))
    }

    /// Reads until a message satisfies `wanted`, handling the others as unsolicited.
    fn wait_for(
        &mut self,
        what: &'static str,
        timeout: Duration,
        honour_stop: bool,
        wanted: impl Fn(&Message) -> bool,
    ) -> Result<Message, Ended> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(message) = self.link.next_control() {
                if wanted(&message) {
                    return Ok(message);
                }
                self.handle_unsolicited(message)?;
            }
            if honour_stop && self.stop.is_stopped() {
                return Err(Ended::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(Ended::Lost(ReaderError::NoAnswer {
                    address: self.link.address().to_string(),
                    request: what,
                    timeout,
                }));
            }
            self.link.poll()?;
        }
    }
}

/// The ROSpec this client installs: the reference one with our ID, and the Impinj
/// selector (phase, peak RSSI, Doppler) only when the extensions are on.
fn ro_spec(id: u32, impinj: bool) -> RoSpec {
    let mut spec = RoSpec::impinj_default();
    spec.id = id;
    if let Some(report) = spec.report.as_mut() {
        report.impinj = if impinj {
            ContentSelector {
                rf_phase_angle: true,
                peak_rssi: true,
                rf_doppler_frequency: true,
                ..ContentSelector::default()
            }
        } else {
            ContentSelector::default()
        };
    }
    spec
}

/// An answer to request `id`: same ID, and not one of the reader-initiated messages
/// (whose IDs the reader picks freely).
fn is_reply_to(message: &Message, id: u32) -> bool {
    message.id == id
        && !matches!(
            message.message_type,
            mt::RO_ACCESS_REPORT | mt::KEEPALIVE | mt::READER_EVENT_NOTIFICATION
        )
}

fn is_error_message(message: &Message) -> bool {
    message.message_type == mt::ERROR_MESSAGE
}

/// The LLRPStatus of an answer, when it carries one.
fn status_of(reply: &Message) -> Option<&Status> {
    match &reply.body {
        Body::Status(s) | Body::ImpinjEnableExtensionsResponse(s) => Some(s),
        Body::Capabilities(c) => Some(&c.status),
        _ => None,
    }
}

/// `status 100 (M_ParameterError): <description>`.
fn describe(status: &Status) -> String {
    let name = match status.code {
        0 => "M_Success",
        100 => "M_ParameterError",
        101 => "M_FieldError",
        102 => "M_UnexpectedParameter",
        103 => "M_MissingParameter",
        104 => "M_DuplicateParameter",
        105 => "M_OverflowParameter",
        106 => "M_OverflowField",
        107 => "M_UnknownParameter",
        108 => "M_UnknownField",
        109 => "M_UnsupportedMessage",
        110 => "M_UnsupportedVersion",
        111 => "M_UnsupportedParameter",
        _ => "status",
    };
    format!("{name} {}: {}", status.code, status.description)
}

/// ConnectionAttemptEvent status meanings (LLRP 1.0.1 §13.2.6.7).
fn connection_attempt_meaning(status: u16) -> &'static str {
    match status {
        1 => "a reader-initiated connection already exists",
        2 => "a client-initiated connection already exists",
        3 => "failed for a reason other than an existing connection",
        4 => "another connection was attempted",
        _ => "unknown status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impinj_readers_get_phase_rssi_and_doppler_others_only_standard_fields() {
        let spec = ro_spec(7, true);
        assert_eq!(spec.id, 7);
        let impinj = spec.report.unwrap().impinj;
        assert!(impinj.rf_phase_angle && impinj.peak_rssi && impinj.rf_doppler_frequency);
        assert!(ro_spec(7, false).report.unwrap().impinj.is_empty());
    }

    #[test]
    fn reader_initiated_messages_are_never_taken_for_answers() {
        assert!(is_reply_to(&Message::keepalive_ack(5), 5));
        assert!(!is_reply_to(&Message::keepalive(5), 5));
        assert!(!is_reply_to(&Message::ro_access_report(5, vec![]), 5));
        assert!(!is_reply_to(&Message::keepalive_ack(6), 5));
    }
}
