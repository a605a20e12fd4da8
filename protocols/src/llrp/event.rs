//! ReaderEventNotificationData (TLV 246): what a READER_EVENT_NOTIFICATION reports.
//!
//! The first one on every connection carries a ConnectionAttemptEvent; later ones
//! report ROSpec start/end, antenna (dis)connection, reader exceptions and the
//! connection closing. Events this codec does not interpret are kept raw.
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::cursor::{FieldReader, Writer};
use super::param::{Param, Params, RawParam};
use crate::error::{Error, Result};

/// Parameter type numbers used in reader event notifications.
pub mod ptype {
    /// UTCTimestamp: u64 microseconds since the Unix epoch.
    pub const UTC_TIMESTAMP: u16 = 128;
    /// Uptime: u64 microseconds since boot.
    pub const UPTIME: u16 = 129;
    /// ReaderEventNotificationData.
    pub const NOTIFICATION_DATA: u16 = 246;
    /// ROSpecEvent.
    pub const RO_SPEC_EVENT: u16 = 249;
    /// ReaderExceptionEvent.
    pub const READER_EXCEPTION_EVENT: u16 = 252;
    /// AntennaEvent.
    pub const ANTENNA_EVENT: u16 = 255;
    /// ConnectionAttemptEvent.
    pub const CONNECTION_ATTEMPT_EVENT: u16 = 256;
    /// ConnectionCloseEvent.
    pub const CONNECTION_CLOSE_EVENT: u16 = 257;
}

/// When an event happened, on the reader's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timestamp {
    /// UTCTimestamp, microseconds since the Unix epoch.
    Utc(u64),
    /// Uptime, microseconds since the reader booted (readers without a UTC clock).
    Uptime(u64),
}

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp::Utc(0)
    }
}

/// ROSpecEvent: an ROSpec started, ended or was preempted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RoSpecEvent {
    /// 0 Start_Of_ROSpec, 1 End_Of_ROSpec, 2 Preemption_Of_ROSpec.
    pub event_type: u8,
    /// The ROSpec concerned.
    pub ro_spec_id: u32,
    /// The ROSpec that preempted it (0 otherwise).
    pub preempting_ro_spec_id: u32,
}

/// AntennaEvent: an antenna was disconnected (0) or connected (1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AntennaEvent {
    /// 0 Antenna_Disconnected, 1 Antenna_Connected.
    pub event_type: u8,
    /// The antenna concerned.
    pub antenna_id: u16,
}

/// One READER_EVENT_NOTIFICATION's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ReaderEvent {
    /// When the reader saw the event.
    pub timestamp: Timestamp,
    /// ConnectionAttemptEvent status (0 Success, 1..4 failures).
    pub connection_attempt: Option<u16>,
    /// ConnectionCloseEvent present: the reader is closing the connection.
    pub connection_close: bool,
    /// ROSpecEvent.
    pub ro_spec_event: Option<RoSpecEvent>,
    /// AntennaEvent.
    pub antenna_event: Option<AntennaEvent>,
    /// ReaderExceptionEvent message (its optional sub-parameters are not kept).
    pub reader_exception: Option<String>,
    /// Events not interpreted (hopping, GPI, buffer warnings, customs...).
    pub other: Vec<RawParam>,
}

impl ReaderEvent {
    /// Parses a READER_EVENT_NOTIFICATION body (it holds one ReaderEventNotificationData).
    pub fn parse_body(body: &[u8]) -> Result<Self> {
        for param in Params::new(body) {
            if let Param::Tlv {
                param_type: ptype::NOTIFICATION_DATA,
                value,
                ..
            } = param?
            {
                return Self::parse(value);
            }
        }
        Err(Error::Malformed(
            "event notification without ReaderEventNotificationData",
        ))
    }

    /// Parses the value of a ReaderEventNotificationData.
    pub fn parse(value: &[u8]) -> Result<Self> {
        let mut ev = ReaderEvent::default();
        let mut timestamp = None;
        for param in Params::new(value) {
            let param = param?;
            let mut r = FieldReader::new(param.value());
            match param.param_type() {
                ptype::UTC_TIMESTAMP => timestamp = Some(Timestamp::Utc(r.u64()?)),
                ptype::UPTIME => timestamp = Some(Timestamp::Uptime(r.u64()?)),
                ptype::CONNECTION_ATTEMPT_EVENT => ev.connection_attempt = Some(r.u16()?),
                ptype::CONNECTION_CLOSE_EVENT => ev.connection_close = true,
                ptype::RO_SPEC_EVENT => {
                    ev.ro_spec_event = Some(RoSpecEvent {
                        event_type: r.u8()?,
                        ro_spec_id: r.u32()?,
                        preempting_ro_spec_id: r.u32()?,
                    })
                }
                ptype::ANTENNA_EVENT => {
                    ev.antenna_event = Some(AntennaEvent {
                        event_type: r.u8()?,
                        antenna_id: r.u16()?,
                    })
                }
                ptype::READER_EXCEPTION_EVENT => {
                    ev.reader_exception = Some(String::from(r.utf8v()?))
                }
                _ => ev.other.push(RawParam::from_param(&param)),
            }
        }
        ev.timestamp = timestamp.ok_or(Error::Malformed("reader event without a timestamp"))?;
        Ok(ev)
    }

    /// Emits the ReaderEventNotificationData parameter (events in LLRP's order).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let data = w.begin_tlv(ptype::NOTIFICATION_DATA)?;
        let (t, us) = match self.timestamp {
            Timestamp::Utc(us) => (ptype::UTC_TIMESTAMP, us),
            Timestamp::Uptime(us) => (ptype::UPTIME, us),
        };
        let p = w.begin_tlv(t)?;
        w.u64(us)?;
        w.end_tlv(p)?;
        if let Some(e) = self.ro_spec_event {
            let p = w.begin_tlv(ptype::RO_SPEC_EVENT)?;
            w.u8(e.event_type)?;
            w.u32(e.ro_spec_id)?;
            w.u32(e.preempting_ro_spec_id)?;
            w.end_tlv(p)?;
        }
        if let Some(msg) = &self.reader_exception {
            let p = w.begin_tlv(ptype::READER_EXCEPTION_EVENT)?;
            w.utf8v(msg)?;
            w.end_tlv(p)?;
        }
        if let Some(e) = self.antenna_event {
            let p = w.begin_tlv(ptype::ANTENNA_EVENT)?;
            w.u8(e.event_type)?;
            w.u16(e.antenna_id)?;
            w.end_tlv(p)?;
        }
        if let Some(status) = self.connection_attempt {
            let p = w.begin_tlv(ptype::CONNECTION_ATTEMPT_EVENT)?;
            w.u16(status)?;
            w.end_tlv(p)?;
        }
        if self.connection_close {
            let p = w.begin_tlv(ptype::CONNECTION_CLOSE_EVENT)?;
            w.end_tlv(p)?;
        }
        for raw in &self.other {
            raw.emit(w)?;
        }
        w.end_tlv(data)
    }
}

impl fmt::Display for ReaderEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.timestamp {
            Timestamp::Utc(us) => write!(f, "utc {us} us")?,
            Timestamp::Uptime(us) => write!(f, "uptime {us} us")?,
        }
        if let Some(s) = self.connection_attempt {
            write!(f, " connection attempt status {s}")?;
        }
        if self.connection_close {
            write!(f, " connection close")?;
        }
        if let Some(e) = self.ro_spec_event {
            write!(f, " rospec {} event {}", e.ro_spec_id, e.event_type)?;
        }
        if let Some(e) = self.antenna_event {
            write!(f, " antenna {} event {}", e.antenna_id, e.event_type)?;
        }
        if let Some(m) = &self.reader_exception {
            write!(f, " exception \"{m}\"")?;
        }
        Ok(())
    }
}
