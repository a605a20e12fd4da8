//! SET_READER_CONFIG: the reader-wide settings a client sends after connecting
//! (keepalive period, which events to notify, optional factory reset).
use alloc::vec::Vec;

use super::cursor::{FieldReader, Writer};
use super::param::{Params, RawParam};
use crate::error::Result;

/// Parameter type numbers of SET_READER_CONFIG.
pub mod ptype {
    /// ReaderEventNotificationSpec.
    pub const READER_EVENT_NOTIFICATION_SPEC: u16 = 244;
    /// EventNotificationState.
    pub const EVENT_NOTIFICATION_STATE: u16 = 245;
    /// KeepaliveSpec.
    pub const KEEPALIVE_SPEC: u16 = 220;
}

/// One EventNotificationState: turn notifications of `event_type` on or off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EventNotification {
    /// LLRP event type (0 HoppingEvent .. 8 AntennaEvent; see LLRP 1.0.1 §12.2.1).
    pub event_type: u16,
    /// Whether the reader should send it.
    pub enabled: bool,
}

/// A SET_READER_CONFIG request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReaderConfig {
    /// ResetToFactoryDefault: the reader resets before applying the rest.
    pub reset_to_factory_default: bool,
    /// ReaderEventNotificationSpec entries (empty = spec not sent).
    pub event_notifications: Vec<EventNotification>,
    /// KeepaliveSpec: `Some(ms)` = periodic KEEPALIVE every `ms`, `None` = not sent.
    pub keepalive_ms: Option<u32>,
    /// Other configuration parameters, raw (emitted after the ones above).
    pub other: Vec<RawParam>,
}

impl ReaderConfig {
    /// Parses a SET_READER_CONFIG body.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(body);
        let mut config = ReaderConfig {
            reset_to_factory_default: r.u8()? & 0x80 != 0,
            ..Default::default()
        };
        for param in Params::new(r.rest()) {
            let param = param?;
            match param.param_type() {
                ptype::READER_EVENT_NOTIFICATION_SPEC => {
                    for state in Params::new(param.value()) {
                        let mut f = FieldReader::new(state?.value());
                        config.event_notifications.push(EventNotification {
                            event_type: f.u16()?,
                            enabled: f.u8()? & 0x80 != 0,
                        });
                    }
                }
                ptype::KEEPALIVE_SPEC => {
                    let mut f = FieldReader::new(param.value());
                    let periodic = f.u8()? == 1;
                    let ms = f.u32()?;
                    config.keepalive_ms = periodic.then_some(ms);
                }
                _ => config.other.push(RawParam::from_param(&param)),
            }
        }
        Ok(config)
    }

    /// Emits the body in the parameter order LLRP requires.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(if self.reset_to_factory_default {
            0x80
        } else {
            0
        })?;
        if !self.event_notifications.is_empty() {
            let spec = w.begin_tlv(ptype::READER_EVENT_NOTIFICATION_SPEC)?;
            for n in &self.event_notifications {
                let t = w.begin_tlv(ptype::EVENT_NOTIFICATION_STATE)?;
                w.u16(n.event_type)?;
                w.u8(if n.enabled { 0x80 } else { 0 })?;
                w.end_tlv(t)?;
            }
            w.end_tlv(spec)?;
        }
        if let Some(ms) = self.keepalive_ms {
            let t = w.begin_tlv(ptype::KEEPALIVE_SPEC)?;
            w.u8(1)?;
            w.u32(ms)?;
            w.end_tlv(t)?;
        }
        for raw in &self.other {
            raw.emit(w)?;
        }
        Ok(())
    }
}
