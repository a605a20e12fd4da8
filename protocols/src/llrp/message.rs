//! The owned LLRP message: header fields plus a typed body.
//!
//! Every message a client receives has a typed body; the client's own requests are
//! typed too, so each encoder round-trips through the same parser (and a test reader or
//! simulator can decode what a client sends). A message type this codec does not
//! interpret keeps its body raw: that is never an error.
use alloc::vec::Vec;
use core::fmt;

use super::capabilities::Capabilities;
use super::config::ReaderConfig;
use super::cursor::{FieldReader, Writer};
use super::event::ReaderEvent;
use super::header::Header;
use super::impinj::{subtype, IMPINJ_PEN};
use super::message_type as mt;
use super::param::{Param, Params, RawParam};
use super::rospec::RoSpec;
use super::status::Status;
use super::tag_report::{TagReport, TAG_REPORT_DATA};
use crate::error::Result;

/// What a message carries, by kind of message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// No body: KEEPALIVE, KEEPALIVE_ACK, CLOSE_CONNECTION, ENABLE_EVENTS_AND_REPORTS,
    /// GET_REPORT.
    Empty,
    /// GET_READER_CAPABILITIES: RequestedData (0 = all).
    GetReaderCapabilities {
        /// Which capabilities to return (0 All, 1 General, 2 LLRP, 3 Regulatory, 4 AirProtocol).
        requested_data: u8,
    },
    /// ENABLE/START/STOP/DISABLE/DELETE_ROSPEC: the ROSpecID (0 = all).
    RoSpecId(u32),
    /// ADD_ROSPEC.
    AddRoSpec(RoSpec),
    /// SET_READER_CONFIG.
    SetReaderConfig(ReaderConfig),
    /// A *_RESPONSE carrying only LLRPStatus, or ERROR_MESSAGE.
    Status(Status),
    /// GET_READER_CAPABILITIES_RESPONSE.
    Capabilities(Capabilities),
    /// READER_EVENT_NOTIFICATION.
    ReaderEvent(ReaderEvent),
    /// RO_ACCESS_REPORT: its TagReportData, and other parameters (RFSurveyReportData,
    /// customs) raw.
    RoAccessReport {
        /// One entry per TagReportData, in message order.
        tags: Vec<TagReport>,
        /// Parameters other than TagReportData.
        other: Vec<RawParam>,
    },
    /// IMPINJ_ENABLE_EXTENSIONS (custom message, Impinj subtype 21).
    ImpinjEnableExtensions,
    /// IMPINJ_ENABLE_EXTENSIONS_RESPONSE (custom message, Impinj subtype 22).
    ImpinjEnableExtensionsResponse(Status),
    /// Any other CUSTOM_MESSAGE.
    Custom {
        /// Vendor IANA PEN.
        vendor: u32,
        /// Vendor message subtype.
        subtype: u8,
        /// Vendor payload.
        payload: Vec<u8>,
    },
    /// A message this codec does not interpret: its body bytes.
    Raw(Vec<u8>),
}

/// One LLRP message: type, ID and typed body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// Message type number (see [`message_type`](super::message_type)).
    pub message_type: u16,
    /// Message ID (a response echoes its request's).
    pub id: u32,
    /// The typed body.
    pub body: Body,
}

impl Message {
    /// Parses a whole message (the view must hold `length()` bytes).
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Self> {
        let message_type = header.message_type();
        let body = parse_body(message_type, header.body()?)?;
        Ok(Message {
            message_type,
            id: header.message_id(),
            body,
        })
    }

    /// The LLRP name of this message's type (e.g. `"RO_ACCESS_REPORT"`).
    pub fn name(&self) -> &'static str {
        match (&self.body, self.message_type) {
            (Body::ImpinjEnableExtensions, _) => "IMPINJ_ENABLE_EXTENSIONS",
            (Body::ImpinjEnableExtensionsResponse(_), _) => "IMPINJ_ENABLE_EXTENSIONS_RESPONSE",
            (_, t) => mt::name(t).unwrap_or("UNKNOWN"),
        }
    }

    /// The tag reports, empty for anything but RO_ACCESS_REPORT.
    pub fn tags(&self) -> &[TagReport] {
        match &self.body {
            Body::RoAccessReport { tags, .. } => tags,
            _ => &[],
        }
    }

    /// Writes the message into `buf`; returns the bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = Writer::new(buf);
        self.write(&mut w)?;
        Ok(w.position())
    }

    /// The number of bytes [`emit`](Self::emit) needs.
    pub fn buffer_len(&self) -> Result<usize> {
        let mut w = Writer::measuring();
        self.write(&mut w)?;
        Ok(w.position())
    }

    /// Encodes the message into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out = alloc::vec![0u8; self.buffer_len()?];
        self.emit(&mut out)?;
        Ok(out)
    }

    fn write(&self, w: &mut Writer<'_>) -> Result<()> {
        let start = w.begin_message(self.message_type, self.id)?;
        emit_body(&self.body, w)?;
        w.end_message(start)
    }
}

fn parse_body(message_type: u16, body: &[u8]) -> Result<Body> {
    Ok(match message_type {
        mt::KEEPALIVE
        | mt::KEEPALIVE_ACK
        | mt::CLOSE_CONNECTION
        | mt::ENABLE_EVENTS_AND_REPORTS
        | mt::GET_REPORT
            if body.is_empty() =>
        {
            Body::Empty
        }
        mt::GET_READER_CAPABILITIES if body.len() == 1 => Body::GetReaderCapabilities {
            requested_data: body[0],
        },
        mt::ADD_ROSPEC => Body::AddRoSpec(RoSpec::parse_body(body)?),
        mt::DELETE_ROSPEC
        | mt::START_ROSPEC
        | mt::STOP_ROSPEC
        | mt::ENABLE_ROSPEC
        | mt::DISABLE_ROSPEC
            if body.len() == 4 =>
        {
            Body::RoSpecId(FieldReader::new(body).u32()?)
        }
        mt::SET_READER_CONFIG => Body::SetReaderConfig(ReaderConfig::parse(body)?),
        t if mt::is_status_only(t) => Body::Status(Status::find_in(body)?),
        mt::GET_READER_CAPABILITIES_RESPONSE => Body::Capabilities(Capabilities::parse(body)?),
        mt::READER_EVENT_NOTIFICATION => Body::ReaderEvent(ReaderEvent::parse_body(body)?),
        mt::RO_ACCESS_REPORT => parse_report(body)?,
        mt::CUSTOM_MESSAGE => parse_custom(body)?,
        _ => Body::Raw(body.to_vec()),
    })
}

fn parse_report(body: &[u8]) -> Result<Body> {
    let mut tags = Vec::new();
    let mut other = Vec::new();
    for param in Params::new(body) {
        match param? {
            Param::Tlv {
                param_type: TAG_REPORT_DATA,
                value,
                ..
            } => tags.push(TagReport::parse(value)?),
            p => other.push(RawParam::from_param(&p)),
        }
    }
    Ok(Body::RoAccessReport { tags, other })
}

fn parse_custom(body: &[u8]) -> Result<Body> {
    let mut r = FieldReader::new(body);
    let vendor = r.u32()?;
    let sub = r.u8()?;
    let payload = r.rest();
    Ok(match (vendor, sub) {
        (IMPINJ_PEN, subtype::ENABLE_EXTENSIONS) if payload == [0, 0, 0, 0] => {
            Body::ImpinjEnableExtensions
        }
        (IMPINJ_PEN, subtype::ENABLE_EXTENSIONS_RESPONSE) => {
            Body::ImpinjEnableExtensionsResponse(Status::find_in(payload)?)
        }
        _ => Body::Custom {
            vendor,
            subtype: sub,
            payload: payload.to_vec(),
        },
    })
}

fn emit_body(body: &Body, w: &mut Writer<'_>) -> Result<()> {
    match body {
        Body::Empty => Ok(()),
        Body::GetReaderCapabilities { requested_data } => w.u8(*requested_data),
        Body::RoSpecId(id) => w.u32(*id),
        Body::AddRoSpec(spec) => spec.emit(w),
        Body::SetReaderConfig(config) => config.emit(w),
        Body::Status(status) => status.emit(w),
        Body::Capabilities(caps) => caps.emit(w),
        Body::ReaderEvent(event) => event.emit(w),
        Body::RoAccessReport { tags, other } => {
            for tag in tags {
                tag.emit(w)?;
            }
            other.iter().try_for_each(|raw| raw.emit(w))
        }
        Body::ImpinjEnableExtensions => {
            emit_custom_head(w, IMPINJ_PEN, subtype::ENABLE_EXTENSIONS)?;
            w.u32(0)
        }
        Body::ImpinjEnableExtensionsResponse(status) => {
            emit_custom_head(w, IMPINJ_PEN, subtype::ENABLE_EXTENSIONS_RESPONSE)?;
            status.emit(w)
        }
        Body::Custom {
            vendor,
            subtype,
            payload,
        } => {
            emit_custom_head(w, *vendor, *subtype)?;
            w.bytes(payload)
        }
        Body::Raw(bytes) => w.bytes(bytes),
    }
}

fn emit_custom_head(w: &mut Writer<'_>, vendor: u32, sub: u8) -> Result<()> {
    w.u32(vendor)?;
    w.u8(sub)
}

impl fmt::Display for Message {
    /// `NAME id N: details`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} id {}", self.name(), self.id)?;
        match &self.body {
            Body::RoAccessReport { tags, .. } => {
                write!(f, ": {} tag(s)", tags.len())?;
                for (i, tag) in tags.iter().enumerate() {
                    write!(f, "{} {tag}", if i == 0 { "" } else { ";" })?;
                }
                Ok(())
            }
            Body::ReaderEvent(ev) => write!(f, ": {ev}"),
            Body::Status(s) | Body::ImpinjEnableExtensionsResponse(s) => write!(f, ": {s}"),
            Body::Capabilities(c) => {
                write!(f, ": {}", c.status)?;
                if let Some(g) = &c.general {
                    write!(f, " manufacturer {} model {}", g.manufacturer, g.model)?;
                }
                Ok(())
            }
            Body::RoSpecId(id) => write!(f, ": rospec {id}"),
            Body::Raw(b) => write!(f, ": {} body bytes", b.len()),
            Body::Custom {
                vendor, subtype, ..
            } => write!(f, ": vendor {vendor} subtype {subtype}"),
            _ => Ok(()),
        }
    }
}
