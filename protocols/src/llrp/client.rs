//! Constructors for the messages a dagr client sends, and for the reader-side messages
//! that tests and the simulator's reader need. Encode any of them with
//! [`Message::emit`] (into `&mut [u8]`) or [`Message::to_vec`].
use alloc::vec::Vec;

use super::config::ReaderConfig;
use super::event::ReaderEvent;
use super::message::{Body, Message};
use super::message_type as mt;
use super::rospec::RoSpec;
use super::status::Status;
use super::tag_report::TagReport;

impl Message {
    fn with_body(message_type: u16, id: u32, body: Body) -> Self {
        Message {
            message_type,
            id,
            body,
        }
    }

    /// GET_READER_CAPABILITIES asking for all capabilities.
    pub fn get_reader_capabilities(id: u32) -> Self {
        Self::with_body(
            mt::GET_READER_CAPABILITIES,
            id,
            Body::GetReaderCapabilities { requested_data: 0 },
        )
    }

    /// IMPINJ_ENABLE_EXTENSIONS: needed before an Impinj reader sends phase/Doppler.
    pub fn impinj_enable_extensions(id: u32) -> Self {
        Self::with_body(mt::CUSTOM_MESSAGE, id, Body::ImpinjEnableExtensions)
    }

    /// SET_READER_CONFIG.
    pub fn set_reader_config(id: u32, config: ReaderConfig) -> Self {
        Self::with_body(mt::SET_READER_CONFIG, id, Body::SetReaderConfig(config))
    }

    /// ADD_ROSPEC.
    pub fn add_rospec(id: u32, spec: RoSpec) -> Self {
        Self::with_body(mt::ADD_ROSPEC, id, Body::AddRoSpec(spec))
    }

    /// ENABLE_ROSPEC.
    pub fn enable_rospec(id: u32, ro_spec_id: u32) -> Self {
        Self::with_body(mt::ENABLE_ROSPEC, id, Body::RoSpecId(ro_spec_id))
    }

    /// START_ROSPEC.
    pub fn start_rospec(id: u32, ro_spec_id: u32) -> Self {
        Self::with_body(mt::START_ROSPEC, id, Body::RoSpecId(ro_spec_id))
    }

    /// STOP_ROSPEC.
    pub fn stop_rospec(id: u32, ro_spec_id: u32) -> Self {
        Self::with_body(mt::STOP_ROSPEC, id, Body::RoSpecId(ro_spec_id))
    }

    /// DISABLE_ROSPEC.
    pub fn disable_rospec(id: u32, ro_spec_id: u32) -> Self {
        Self::with_body(mt::DISABLE_ROSPEC, id, Body::RoSpecId(ro_spec_id))
    }

    /// DELETE_ROSPEC (ROSpecID 0 = all).
    pub fn delete_rospec(id: u32, ro_spec_id: u32) -> Self {
        Self::with_body(mt::DELETE_ROSPEC, id, Body::RoSpecId(ro_spec_id))
    }

    /// KEEPALIVE_ACK (send it with the KEEPALIVE's ID).
    pub fn keepalive_ack(id: u32) -> Self {
        Self::with_body(mt::KEEPALIVE_ACK, id, Body::Empty)
    }

    /// CLOSE_CONNECTION.
    pub fn close_connection(id: u32) -> Self {
        Self::with_body(mt::CLOSE_CONNECTION, id, Body::Empty)
    }

    /// ENABLE_EVENTS_AND_REPORTS.
    pub fn enable_events_and_reports(id: u32) -> Self {
        Self::with_body(mt::ENABLE_EVENTS_AND_REPORTS, id, Body::Empty)
    }

    /// Reader side: KEEPALIVE.
    pub fn keepalive(id: u32) -> Self {
        Self::with_body(mt::KEEPALIVE, id, Body::Empty)
    }

    /// Reader side: RO_ACCESS_REPORT with these tag reports.
    pub fn ro_access_report(id: u32, tags: Vec<TagReport>) -> Self {
        let body = Body::RoAccessReport {
            tags,
            other: Vec::new(),
        };
        Self::with_body(mt::RO_ACCESS_REPORT, id, body)
    }

    /// Reader side: READER_EVENT_NOTIFICATION.
    pub fn reader_event_notification(id: u32, event: ReaderEvent) -> Self {
        Self::with_body(mt::READER_EVENT_NOTIFICATION, id, Body::ReaderEvent(event))
    }

    /// Reader side: a status-only response (`message_type` e.g. ADD_ROSPEC_RESPONSE) or
    /// ERROR_MESSAGE.
    pub fn status_response(message_type: u16, id: u32, status: Status) -> Self {
        Self::with_body(message_type, id, Body::Status(status))
    }

    /// Reader side: IMPINJ_ENABLE_EXTENSIONS_RESPONSE.
    pub fn impinj_enable_extensions_response(id: u32, status: Status) -> Self {
        let body = Body::ImpinjEnableExtensionsResponse(status);
        Self::with_body(mt::CUSTOM_MESSAGE, id, body)
    }
}
