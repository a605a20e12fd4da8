//! The reader side of LLRP 1.0.1 as a simulated Impinj reader speaks it, sans-IO: each
//! client request in, the answers out, and whether inventory runs (reports flow).
//!
//! Supported: GET_READER_CAPABILITIES (Impinj, model [`MODEL`]), IMPINJ_ENABLE_EXTENSIONS,
//! SET_READER_CONFIG (its KeepaliveSpec is honoured), ADD/DELETE/ENABLE/DISABLE/START/
//! STOP_ROSPEC, KEEPALIVE_ACK, ENABLE_EVENTS_AND_REPORTS, CLOSE_CONNECTION. Anything else is
//! answered with ERROR_MESSAGE M_UnsupportedMessage. Each connection starts from a fresh
//! reader (no ROSpec installed). Not modelled: ROSpec triggers and durations (a started
//! ROSpec runs until stopped), access specs, GET_READER_CONFIG.
use dagr_protocols::llrp::impinj::IMPINJ_PEN;
use dagr_protocols::llrp::message_type as mt;
use dagr_protocols::llrp::status::code;
use dagr_protocols::llrp::{
    Body, Capabilities, DeviceCapabilities, Message, ReaderEvent, Status, Timestamp,
};

/// ModelName of the simulated reader (Impinj Speedway R420).
pub const MODEL: u32 = 2_001_002;
/// ReaderFirmwareVersion of the simulated reader.
pub const FIRMWARE: &str = "dagr-sim 1";
/// HasUTCClockCapability (bit 14) in GeneralDeviceCapabilities' flags.
const HAS_UTC_CLOCK: u16 = 1 << 14;

/// One ROSpec the client installed.
#[derive(Debug, Clone, Copy)]
struct Installed {
    id: u32,
    enabled: bool,
}

/// What the reader answers, and what it does next.
#[derive(Debug, Default)]
pub struct Answer {
    /// Messages to send, in order.
    pub messages: Vec<Message>,
    /// Close the connection after sending them.
    pub close: bool,
}

/// The reader's protocol state for one connection.
#[derive(Debug)]
pub struct ReaderProtocol {
    antennas: u16,
    specs: Vec<Installed>,
    running: Option<u32>,
    keepalive_ms: u32,
    next_id: u32,
}

impl ReaderProtocol {
    /// A fresh reader with `antennas` antenna ports.
    pub fn new(antennas: u16) -> ReaderProtocol {
        ReaderProtocol {
            antennas,
            specs: Vec::new(),
            running: None,
            keepalive_ms: 0,
            next_id: 1,
        }
    }

    /// The READER_EVENT_NOTIFICATION (ConnectionAttemptEvent Success) a reader sends first.
    pub fn greeting(&mut self, now_utc_us: u64) -> Message {
        let event = ReaderEvent {
            timestamp: Timestamp::Utc(now_utc_us),
            connection_attempt: Some(0),
            ..ReaderEvent::default()
        };
        Message::reader_event_notification(self.reader_id(), event)
    }

    /// The notification refusing a second client (a client connection already exists).
    pub fn refusal(now_utc_us: u64) -> Message {
        let event = ReaderEvent {
            timestamp: Timestamp::Utc(now_utc_us),
            connection_attempt: Some(2),
            ..ReaderEvent::default()
        };
        Message::reader_event_notification(0, event)
    }

    /// A KEEPALIVE, when the client asked for them (period in ms, 0 = none).
    pub fn keepalive_period_ms(&self) -> u32 {
        self.keepalive_ms
    }

    /// A KEEPALIVE message with the reader's next message ID.
    pub fn keepalive(&mut self) -> Message {
        Message::keepalive(self.reader_id())
    }

    /// The running ROSpec's ID, if inventory runs (tag reports flow).
    pub fn running(&self) -> Option<u32> {
        self.running
    }

    /// Answers one client message.
    pub fn handle(&mut self, request: &Message) -> Answer {
        let id = request.id;
        let mut answer = Answer::default();
        let reply = match (&request.body, request.message_type) {
            (_, mt::GET_READER_CAPABILITIES) => self.capabilities(id),
            (Body::ImpinjEnableExtensions, _) => {
                Message::impinj_enable_extensions_response(id, Status::success())
            }
            (Body::SetReaderConfig(config), _) => {
                if let Some(ms) = config.keepalive_ms {
                    self.keepalive_ms = ms;
                }
                status(mt::SET_READER_CONFIG_RESPONSE, id, Ok(()))
            }
            (Body::AddRoSpec(spec), _) => {
                let result = self.add(spec.id);
                status(mt::ADD_ROSPEC_RESPONSE, id, result)
            }
            (Body::RoSpecId(spec), message_type) => self.rospec_op(message_type, id, *spec),
            (_, mt::KEEPALIVE_ACK | mt::ENABLE_EVENTS_AND_REPORTS) => return answer,
            (_, mt::CLOSE_CONNECTION) => {
                self.running = None;
                answer.close = true;
                status(mt::CLOSE_CONNECTION_RESPONSE, id, Ok(()))
            }
            _ => Message::status_response(
                mt::ERROR_MESSAGE,
                id,
                Status {
                    code: code::UNSUPPORTED_MESSAGE,
                    description: format!("{} is not supported", request.name()),
                    details: Vec::new(),
                },
            ),
        };
        answer.messages.push(reply);
        answer
    }

    fn reader_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn capabilities(&self, id: u32) -> Message {
        let general = DeviceCapabilities {
            max_antennas: self.antennas,
            flags: HAS_UTC_CLOCK,
            manufacturer: IMPINJ_PEN,
            model: MODEL,
            firmware_version: FIRMWARE.to_string(),
            sub_params: Vec::new(),
        };
        Message {
            message_type: mt::GET_READER_CAPABILITIES_RESPONSE,
            id,
            body: Body::Capabilities(Capabilities {
                status: Status::success(),
                general: Some(general),
                other: Vec::new(),
            }),
        }
    }

    fn add(&mut self, spec: u32) -> Result<(), String> {
        if spec == 0 {
            return Err("ROSpecID 0 is reserved".into());
        }
        if self.specs.iter().any(|s| s.id == spec) {
            return Err(format!("ROSpec {spec} already exists"));
        }
        self.specs.push(Installed {
            id: spec,
            enabled: false,
        });
        Ok(())
    }

    /// DELETE/ENABLE/DISABLE/START/STOP_ROSPEC on `spec` (0 = all, where LLRP allows).
    fn rospec_op(&mut self, message_type: u16, id: u32, spec: u32) -> Message {
        let exists = spec == 0 || self.specs.iter().any(|s| s.id == spec);
        let missing = || Err(format!("no ROSpec {spec}"));
        let (response, result) = match message_type {
            mt::DELETE_ROSPEC if exists => {
                self.specs.retain(|s| spec != 0 && s.id != spec);
                if self.running.is_some_and(|r| spec == 0 || r == spec) {
                    self.running = None;
                }
                (mt::DELETE_ROSPEC_RESPONSE, Ok(()))
            }
            mt::DELETE_ROSPEC => (mt::DELETE_ROSPEC_RESPONSE, missing()),
            mt::ENABLE_ROSPEC | mt::DISABLE_ROSPEC => {
                let enable = message_type == mt::ENABLE_ROSPEC;
                let response = if enable {
                    mt::ENABLE_ROSPEC_RESPONSE
                } else {
                    mt::DISABLE_ROSPEC_RESPONSE
                };
                if !exists {
                    (response, missing())
                } else {
                    for s in self.specs.iter_mut().filter(|s| spec == 0 || s.id == spec) {
                        s.enabled = enable;
                    }
                    if !enable {
                        self.running = None;
                    }
                    (response, Ok(()))
                }
            }
            mt::START_ROSPEC => {
                let result = match self.specs.iter().find(|s| s.id == spec) {
                    Some(s) if s.enabled => {
                        self.running = Some(spec);
                        Ok(())
                    }
                    Some(_) => Err(format!("ROSpec {spec} is not enabled")),
                    None => missing(),
                };
                (mt::START_ROSPEC_RESPONSE, result)
            }
            _ => {
                let result = if self.running == Some(spec) {
                    self.running = None;
                    Ok(())
                } else if self.specs.iter().any(|s| s.id == spec) {
                    Err(format!("ROSpec {spec} is not active"))
                } else {
                    missing()
                };
                (mt::STOP_ROSPEC_RESPONSE, result)
            }
        };
        status(response, id, result)
    }
}

/// A status-only response: M_Success, or M_ParameterError with `why`.
fn status(message_type: u16, id: u32, result: Result<(), String>) -> Message {
    let status = match result {
        Ok(()) => Status::success(),
        Err(why) => Status {
            code: code::PARAMETER_ERROR,
            description: why,
            details: Vec::new(),
        },
    };
    Message::status_response(message_type, id, status)
}

#[cfg(test)]
mod tests {
    use super::*;

    use dagr_protocols::llrp::{ReaderConfig, RoSpec};

    fn only(answer: Answer) -> Message {
        assert_eq!(answer.messages.len(), 1);
        answer.messages.into_iter().next().unwrap()
    }

    fn code_of(message: &Message) -> u16 {
        match &message.body {
            Body::Status(s) | Body::ImpinjEnableExtensionsResponse(s) => s.code,
            Body::Capabilities(c) => c.status.code,
            other => panic!("no status in {other:?}"),
        }
    }

    #[test]
    fn the_gateway_start_up_sequence_is_answered_and_starts_inventory() {
        let mut reader = ReaderProtocol::new(4);
        let hello = reader.greeting(5);
        assert!(matches!(&hello.body, Body::ReaderEvent(e) if e.connection_attempt == Some(0)));
        let caps = only(reader.handle(&Message::get_reader_capabilities(1)));
        let Body::Capabilities(c) = &caps.body else {
            panic!("{caps:?}")
        };
        let general = c.general.as_ref().unwrap();
        assert_eq!(
            (caps.id, general.manufacturer, general.model),
            (1, IMPINJ_PEN, MODEL)
        );
        let ext = only(reader.handle(&Message::impinj_enable_extensions(2)));
        assert_eq!((ext.id, code_of(&ext)), (2, 0));
        let config = ReaderConfig {
            keepalive_ms: Some(1000),
            ..ReaderConfig::default()
        };
        let set = only(reader.handle(&Message::set_reader_config(3, config)));
        assert_eq!(
            (set.message_type, code_of(&set)),
            (mt::SET_READER_CONFIG_RESPONSE, 0)
        );
        assert_eq!(reader.keepalive_period_ms(), 1000);
        let delete = only(reader.handle(&Message::delete_rospec(4, 9)));
        assert_ne!(code_of(&delete), 0, "a fresh reader has no ROSpec 9");
        let mut spec = RoSpec::impinj_default();
        spec.id = 9;
        for (i, message) in [
            Message::add_rospec(5, spec),
            Message::enable_rospec(6, 9),
            Message::start_rospec(7, 9),
        ]
        .iter()
        .enumerate()
        {
            let reply = only(reader.handle(message));
            assert_eq!((reply.id, code_of(&reply)), (5 + i as u32, 0), "{reply:?}");
        }
        assert_eq!(reader.running(), Some(9));
        let stop = only(reader.handle(&Message::stop_rospec(8, 9)));
        assert_eq!(
            (stop.message_type, code_of(&stop)),
            (mt::STOP_ROSPEC_RESPONSE, 0)
        );
        assert_eq!(reader.running(), None);
        let close = reader.handle(&Message::close_connection(9));
        assert!(close.close);
        assert_eq!(
            close.messages[0].message_type,
            mt::CLOSE_CONNECTION_RESPONSE
        );
    }

    #[test]
    fn a_rospec_must_be_enabled_before_it_starts() {
        let mut reader = ReaderProtocol::new(1);
        let mut spec = RoSpec::impinj_default();
        spec.id = 3;
        only(reader.handle(&Message::add_rospec(1, spec)));
        let start = only(reader.handle(&Message::start_rospec(2, 3)));
        assert_eq!(code_of(&start), code::PARAMETER_ERROR);
        assert_eq!(reader.running(), None);
    }

    #[test]
    fn an_unsupported_request_gets_an_error_message() {
        let mut reader = ReaderProtocol::new(1);
        let request = Message {
            message_type: mt::GET_ROSPECS,
            id: 4,
            body: Body::Empty,
        };
        let reply = only(reader.handle(&request));
        assert_eq!((reply.message_type, reply.id), (mt::ERROR_MESSAGE, 4));
        assert_eq!(code_of(&reply), code::UNSUPPORTED_MESSAGE);
    }
}
