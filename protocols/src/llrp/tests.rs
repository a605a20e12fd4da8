//! Whole-codec tests: the spec's connection log byte for byte, the real Impinj
//! recordings, the Impinj golden vector, and property tests of every encoder through
//! the streaming decoder.
use std::string::String;
use std::vec::Vec;

use proptest::prelude::*;

use super::*;
use crate::stream::{decode_all, StreamDecoder};
use crate::Error;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/llrp/"
    );
    std::fs::read(std::format!("{path}{name}")).expect("real LLRP fixture")
}

fn decode(bytes: &[u8]) -> (Vec<Message>, MessageDecoder) {
    let mut decoder = MessageDecoder::new();
    let mut out = Vec::new();
    decode_all(&mut decoder, bytes, |m| out.push(m));
    (out, decoder)
}

fn decode_one(bytes: &[u8]) -> Message {
    let (mut messages, decoder) = decode(bytes);
    assert_eq!(messages.len(), 1, "stats: {:?}", decoder.stats());
    messages.remove(0)
}

/// The client side of the spec's wire log (§3.4), in order.
fn spec_client_requests() -> Vec<(Message, &'static str)> {
    let keepalive_500 = ReaderConfig {
        keepalive_ms: Some(500),
        ..Default::default()
    };
    std::vec![
        (Message::get_reader_capabilities(1), "04010000000b0000000100"),
        (
            Message::impinj_enable_extensions(2),
            "07ff00000013000000020000651a1500000000"
        ),
        (
            Message::set_reader_config(3, keepalive_500),
            "040300000014000000030000dc000901000001f4"
        ),
        (
            Message::add_rospec(4, RoSpec::impinj_default()),
            // The spec's text carries three stray `00` bytes (after the ROSpec fields and
            // after each stop trigger) that its own length fields (0x8e, 0x84, 0x12, 0x09)
            // exclude; llrpkit re-encodes these 142 bytes identically (tests/llrp_peers).
            "04140000008e00000004 00b10084 00000001 00 00 00b20012 00b30005 00 00b60009 00 00000000
             00b7002e 0001 0000 00b80009 00 00000000 00ba001d 0001 01 00de0016 0000
             014a0010 00 0150000b 40 0020 00000000
             00ed003a 02 0001 00ee000b 1f80 015c0005 00
             03ff0028 0000651a 00000032 03ff000e0000651a00000034 0001 03ff000e0000651a00000035 0001"
        ),
        (Message::enable_rospec(5, 1), "04180000000e0000000500000001"),
        (Message::start_rospec(6, 1), "04160000000e0000000600000001"),
        (Message::keepalive_ack(98), "04480000000a00000062"),
        (Message::stop_rospec(7, 1), "04170000000e0000000700000001"),
        (Message::close_connection(8), "040e0000000a00000008"),
    ]
}

#[test]
fn client_requests_match_the_spec_wire_log_byte_for_byte() {
    for (message, expected) in spec_client_requests() {
        let bytes = message.to_vec().unwrap();
        assert_eq!(bytes, hex(expected), "{}", message.name());
        assert_eq!(message.buffer_len().unwrap(), bytes.len());
    }
}

#[test]
fn client_requests_parse_back_to_the_same_message() {
    for (message, expected) in spec_client_requests() {
        assert_eq!(decode_one(&hex(expected)), message);
    }
}

#[test]
fn add_rospec_from_the_spec_decodes_to_its_documented_fields() {
    let (message, bytes) = spec_client_requests().swap_remove(3);
    let Body::AddRoSpec(spec) = decode_one(&hex(bytes)).body else {
        panic!("not an ADD_ROSPEC: {message:?}");
    };
    assert_eq!((spec.id, spec.priority), (1, 0));
    assert_eq!(spec.start, StartTrigger::Null);
    assert_eq!(spec.antennas, [0]);
    let singulation = spec.antenna_config.unwrap().singulation.unwrap();
    assert_eq!((singulation.session, singulation.tag_population), (1, 32));
    let report = spec.report.unwrap();
    assert_eq!((report.trigger, report.n, report.content), (2, 1, 0x1f80));
    assert!(report.impinj.rf_phase_angle && report.impinj.peak_rssi);
    assert!(!report.impinj.rf_doppler_frequency);
}

#[test]
fn emit_into_a_short_buffer_is_an_error_not_a_panic() {
    let message = Message::add_rospec(4, RoSpec::impinj_default());
    let mut buf = [0u8; 100];
    assert_eq!(message.emit(&mut buf), Err(Error::BufferTooSmall));
}

/// Found by the seeded fuzzer: a TagReportContentSelector with its 6 reserved bits set
/// used to parse with them kept while emit drops them, so parse(emit(x)) != x.
#[test]
fn reserved_content_selector_bits_are_ignored_so_the_round_trip_holds() {
    let mut bytes = Message::add_rospec(4, RoSpec::impinj_default())
        .to_vec()
        .unwrap();
    // The TagReportContentSelector TLV (type 238): header, then its u16 of flags.
    let at = bytes
        .windows(2)
        .position(|w| w == [0x00, 0xee])
        .expect("a TagReportContentSelector")
        + 4;
    bytes[at + 1] |= 0x3f;
    let message = decode_one(&bytes);
    let Body::AddRoSpec(spec) = &message.body else {
        panic!("{message:?}")
    };
    let content = spec.report.expect("a report spec").content;
    assert_eq!(content & !rospec::content::FLAGS, 0, "{content:#06x}");
    assert_eq!(decode_one(&message.to_vec().unwrap()), message);
}

#[test]
fn reader_replies_from_the_spec_log_decode() {
    let event = decode_one(&hex(
        "043f00000020 00000000 00f6 0016 0080 000c 0005f5e100000000 0100 0006 0000",
    ));
    let Body::ReaderEvent(ev) = &event.body else {
        panic!("{event:?}")
    };
    assert_eq!(ev.connection_attempt, Some(0));
    let ext = decode_one(&hex("07ff00000017000000020000651a16 011f000800000000"));
    assert_eq!(ext.name(), "IMPINJ_ENABLE_EXTENSIONS_RESPONSE");
    assert_eq!(
        ext,
        Message::impinj_enable_extensions_response(2, Status::success())
    );
    let set = decode_one(&hex("040d00000012 00000003 011f000800000000"));
    assert_eq!(set.name(), "SET_READER_CONFIG_RESPONSE");
    assert_eq!(set.body, Body::Status(Status::success()));
}

#[test]
fn real_impinj_capture_holds_45_tag_reports() {
    let bytes = fixture("impinj_ro_access_reports.bin");
    let (messages, decoder) = decode(&bytes);
    let stats = decoder.stats();
    assert_eq!((stats.bytes_skipped, stats.frames_rejected), (0, 0));
    assert_eq!(stats.bytes_consumed, 1991);
    assert!(messages.iter().all(|m| m.name() == "RO_ACCESS_REPORT"));
    let tags: Vec<&TagReport> = messages.iter().flat_map(|m| m.tags()).collect();
    assert_eq!(tags.len(), 45);
    for tag in &tags {
        assert!(
            tag.antenna_id.is_some() && tag.peak_rssi.is_some(),
            "{tag:?}"
        );
        assert!(tag.first_seen_utc_us.is_some() && !tag.epc.as_bytes().is_empty());
    }
    let first = tags[0];
    assert_eq!(std::format!("{}", first.epc), "3005fb63ac1f3841ec880467");
    assert_eq!(first.antenna_id, Some(1));
    assert_eq!(first.peak_rssi, Some(-50));
    assert_eq!(first.first_seen_utc_us, Some(1385585041558537));
    assert_eq!(first.tag_seen_count, Some(1));
    assert_eq!(messages[0].id, 0x4095892f);
}

#[test]
fn real_capture_epc_data_variant_keeps_all_144_bits() {
    let bytes = fixture("impinj_ro_access_reports.bin");
    let (messages, _) = decode(&bytes);
    let long: Vec<&TagReport> = messages
        .iter()
        .flat_map(|m| m.tags())
        .filter(|t| matches!(t.epc, Epc::Data { .. }))
        .collect();
    assert!(!long.is_empty());
    let Epc::Data { bits, bytes } = &long[0].epc else {
        unreachable!()
    };
    assert_eq!((*bits, bytes.len()), (144, 18));
    assert_eq!(
        std::format!("{}", long[0].epc),
        "1fb41f712ac9c37ab79d618173188324001a"
    );
    assert_eq!(long[0].peak_rssi, Some(-17));
}

#[test]
fn real_capture_reencodes_byte_for_byte() {
    let bytes = fixture("impinj_ro_access_reports.bin");
    let (messages, _) = decode(&bytes);
    let again: Vec<u8> = messages.iter().flat_map(|m| m.to_vec().unwrap()).collect();
    assert_eq!(again, bytes);
}

#[test]
fn real_reader_event_notification_is_a_successful_connection_attempt() {
    let bytes = fixture("reader_event_notification.bin");
    let message = decode_one(&bytes);
    assert_eq!(message.name(), "READER_EVENT_NOTIFICATION");
    assert_eq!(message.id, 0x0ab288c9);
    let Body::ReaderEvent(ev) = &message.body else {
        panic!("{message:?}")
    };
    assert_eq!(ev.timestamp, Timestamp::Utc(1398936810740479));
    assert_eq!(ev.connection_attempt, Some(0));
    assert_eq!(message.to_vec().unwrap(), bytes);
}

const GOLDEN: &str = "043d00000062 00001234 00f00058 8de2000017010b016210000001 810002 86d3 87001b
    82 00060a2418202240 84 00060a2418202240 880001
    03ff000e0000651a00000039 ee55 03ff000e0000651a00000038 0333 03ff000e0000651a00000044 ffa0";

#[test]
fn impinj_golden_vector_decodes_to_documented_values() {
    let message = decode_one(&hex(GOLDEN));
    assert_eq!(message.id, 0x1234);
    let tag = &message.tags()[0];
    assert_eq!(std::format!("{}", tag.epc), "e2000017010b016210000001");
    assert_eq!(tag.antenna_id, Some(2));
    assert_eq!(tag.peak_rssi, Some(-45));
    assert_eq!(tag.channel_index, Some(27));
    assert_eq!(tag.first_seen_utc_us, Some(1700000000123456));
    assert_eq!(tag.last_seen_utc_us, Some(1700000000123456));
    assert!((tag.impinj_peak_rssi_dbm().unwrap() + 45.23).abs() < 1e-9);
    assert_eq!(tag.impinj_phase, Some(819));
    assert!((tag.phase_rad().unwrap() - 819.0 * core::f64::consts::TAU / 4096.0).abs() < 1e-12);
    assert_eq!(tag.doppler_hz(), Some(-6.0));
}

#[test]
fn impinj_golden_vector_is_reproduced_by_the_encoder() {
    let tag = TagReport {
        epc: Epc::Epc96(hex("e2000017010b016210000001").try_into().unwrap()),
        antenna_id: Some(2),
        peak_rssi: Some(-45),
        channel_index: Some(27),
        first_seen_utc_us: Some(1700000000123456),
        last_seen_utc_us: Some(1700000000123456),
        tag_seen_count: Some(1),
        impinj_peak_rssi: Some(-4523),
        impinj_phase: Some(819),
        impinj_doppler: Some(-96),
        ..Default::default()
    };
    let bytes = Message::ro_access_report(0x1234, std::vec![tag])
        .to_vec()
        .unwrap();
    assert_eq!(bytes, hex(GOLDEN));
}

#[test]
fn unknown_message_type_and_parameters_are_kept_raw() {
    // GET_READER_CONFIG_RESPONSE (no typed decoder) and a report with an unknown TLV.
    let config = decode_one(&hex("040c0000000e00000009 01020304"));
    assert_eq!(config.body, Body::Raw(std::vec![1, 2, 3, 4]));
    let report = decode_one(&hex(
        "043d00000020 00000001 00f00016 8d000000000000000000000001 01f40005 aa",
    ));
    let raw = &report.tags()[0].other[0];
    assert_eq!((raw.param_type, raw.bytes.len()), (500, 5));
}

#[test]
fn unknown_tv_in_a_report_rejects_that_frame_and_decoding_continues() {
    // TagReportData holding TV type 127, whose size no table gives.
    let mut bytes = hex("043d00000011 00000001 00f00007 ff0000");
    bytes.extend(Message::keepalive(5).to_vec().unwrap());
    let (messages, decoder) = decode(&bytes);
    assert_eq!(messages, [Message::keepalive(5)]);
    assert_eq!(decoder.stats().frames_rejected, 1);
    assert_eq!(
        decoder.stats().last_error,
        Some(Error::Unsupported("TV parameter of unknown size"))
    );
}

#[test]
fn oversized_length_is_skipped_as_garbage() {
    let mut bytes = hex("043d00100000 00000001");
    bytes.extend(Message::keepalive(7).to_vec().unwrap());
    let mut decoder = MessageDecoder::with_limit(64);
    let mut out = Vec::new();
    decode_all(&mut decoder, &bytes, |m| out.push(m));
    assert_eq!(out, [Message::keepalive(7)]);
    assert_eq!(decoder.stats().bytes_skipped, 10);
}

#[test]
fn truncated_last_message_is_counted_as_skipped_at_finish() {
    let mut bytes = Message::keepalive(1).to_vec().unwrap();
    bytes.extend(&hex(GOLDEN)[..40]);
    let (messages, decoder) = decode(&bytes);
    assert_eq!(messages.len(), 1);
    assert_eq!(decoder.stats().bytes_skipped, 40);
    assert_eq!(decoder.stats().bytes_in, 50);
}

#[test]
fn full_buffer_without_a_frame_still_makes_progress() {
    let mut decoder = MessageDecoder::with_limit(16);
    let garbage = [0x04u8; 100];
    let mut taken = 0;
    while taken < garbage.len() {
        taken += decoder.push(&garbage[taken..]);
        while decoder.next_item().is_some() {}
    }
    decoder.finish();
    assert!(decoder.next_item().is_none());
    assert_eq!(decoder.stats().bytes_skipped, 100);
}

// ---- property tests ----

fn arb_epc() -> impl Strategy<Value = Epc> {
    prop_oneof![
        any::<[u8; 12]>().prop_map(Epc::Epc96),
        (1u16..=496).prop_flat_map(|bits| {
            proptest::collection::vec(any::<u8>(), usize::from(bits).div_ceil(8))
                .prop_map(move |bytes| Epc::Data { bits, bytes })
        }),
    ]
}

fn arb_tag() -> impl Strategy<Value = TagReport> {
    let ids = (
        any::<Option<u32>>(),
        any::<Option<u16>>(),
        any::<Option<u16>>(),
        any::<Option<u16>>(),
        any::<Option<i8>>(),
        any::<Option<u16>>(),
    );
    let times = (
        any::<Option<u64>>(),
        any::<Option<u64>>(),
        any::<Option<u64>>(),
        any::<Option<u64>>(),
        any::<Option<u16>>(),
    );
    let air = (
        any::<Option<u16>>(),
        any::<Option<u16>>(),
        any::<Option<u16>>(),
        any::<Option<u16>>(),
        any::<Option<u32>>(),
    );
    let impinj = (
        any::<Option<i16>>(),
        proptest::option::of(0u16..4096),
        any::<Option<i16>>(),
        proptest::option::of(proptest::collection::vec(any::<u16>(), 0..8)),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6)),
    );
    (arb_epc(), ids, times, air, impinj).prop_map(|(epc, ids, times, air, imp)| TagReport {
        epc,
        ro_spec_id: ids.0,
        spec_index: ids.1,
        inventory_parameter_spec_id: ids.2,
        antenna_id: ids.3,
        peak_rssi: ids.4,
        channel_index: ids.5,
        first_seen_utc_us: times.0,
        first_seen_uptime_us: times.1,
        last_seen_utc_us: times.2,
        last_seen_uptime_us: times.3,
        tag_seen_count: times.4,
        c1g2_pc: air.0,
        c1g2_crc: air.1,
        c1g2_xpc_w1: air.2,
        c1g2_xpc_w2: air.3,
        access_spec_id: air.4,
        impinj_peak_rssi: imp.0,
        impinj_phase: imp.1,
        impinj_doppler: imp.2,
        impinj_tid: imp.3,
        other: imp.4.map_or_else(Vec::new, |payload| {
            let mut bytes = std::vec![0x01, 0xf4, 0, 4 + payload.len() as u8];
            bytes.extend(payload);
            std::vec![RawParam {
                param_type: 500,
                bytes
            }]
        }),
    })
}

fn arb_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 é]{0,24}"
}

fn arb_event() -> impl Strategy<Value = ReaderEvent> {
    (
        prop_oneof![
            any::<u64>().prop_map(Timestamp::Utc),
            any::<u64>().prop_map(Timestamp::Uptime)
        ],
        proptest::option::of(0u16..5),
        any::<bool>(),
        any::<Option<(u8, u32, u32)>>(),
        any::<Option<(u8, u16)>>(),
        proptest::option::of(arb_text()),
    )
        .prop_map(|(timestamp, attempt, close, ro, ant, exc)| ReaderEvent {
            timestamp,
            connection_attempt: attempt,
            connection_close: close,
            ro_spec_event: ro.map(
                |(event_type, ro_spec_id, preempting_ro_spec_id)| RoSpecEvent {
                    event_type,
                    ro_spec_id,
                    preempting_ro_spec_id,
                },
            ),
            antenna_event: ant.map(|(event_type, antenna_id)| AntennaEvent {
                event_type,
                antenna_id,
            }),
            reader_exception: exc,
            other: Vec::new(),
        })
}

fn arb_stop() -> impl Strategy<Value = StopTrigger> {
    prop_oneof![
        Just(StopTrigger::Null),
        any::<u32>().prop_map(StopTrigger::Duration)
    ]
}

fn arb_rospec() -> impl Strategy<Value = RoSpec> {
    let start = prop_oneof![
        Just(StartTrigger::Null),
        Just(StartTrigger::Immediate),
        any::<(u32, u32)>().prop_map(|(offset_ms, period_ms)| StartTrigger::Periodic {
            offset_ms,
            period_ms
        }),
    ];
    let config = proptest::option::of(
        (
            any::<u16>(),
            any::<bool>(),
            any::<Option<(u16, u16)>>(),
            proptest::option::of((0u8..4, any::<u16>(), any::<u32>())),
        )
            .prop_map(|(antenna_id, state_aware, rf, s)| AntennaConfig {
                antenna_id,
                state_aware,
                rf_control: rf.map(|(mode_index, tari)| RfControl { mode_index, tari }),
                singulation: s.map(
                    |(session, tag_population, tag_transit_time_ms)| Singulation {
                        session,
                        tag_population,
                        tag_transit_time_ms,
                    },
                ),
            }),
    );
    let report = proptest::option::of(
        (
            0u8..3,
            any::<u16>(),
            any::<u16>(),
            any::<Option<u8>>(),
            any::<[bool; 4]>(),
        )
            .prop_map(
                |(trigger, n, content, epc_memory_selector, imp)| ReportSpec {
                    trigger,
                    n,
                    content: content & 0xffc0,
                    epc_memory_selector,
                    impinj: impinj::ContentSelector {
                        serialized_tid: imp[0],
                        rf_phase_angle: imp[1],
                        peak_rssi: imp[2],
                        rf_doppler_frequency: imp[3],
                    },
                },
            ),
    );
    (
        any::<(u32, u8, u16)>(),
        start,
        arb_stop(),
        proptest::collection::vec(any::<u16>(), 0..5),
        arb_stop(),
        config,
        report,
    )
        .prop_map(
            |((id, priority, inv), start, stop, antennas, ai_stop, config, report)| RoSpec {
                id,
                priority,
                start,
                stop,
                antennas,
                ai_stop,
                inventory_parameter_spec_id: inv,
                antenna_config: config,
                report,
            },
        )
}

fn arb_config() -> impl Strategy<Value = ReaderConfig> {
    (
        any::<bool>(),
        proptest::collection::vec(any::<(u16, bool)>(), 0..4),
        any::<Option<u32>>(),
    )
        .prop_map(|(reset, events, keepalive_ms)| ReaderConfig {
            reset_to_factory_default: reset,
            event_notifications: events
                .into_iter()
                .map(|(event_type, enabled)| EventNotification {
                    event_type,
                    enabled,
                })
                .collect(),
            keepalive_ms,
            other: Vec::new(),
        })
}

fn arb_status() -> impl Strategy<Value = Status> {
    (any::<u16>(), arb_text()).prop_map(|(code, description)| Status {
        code,
        description,
        details: Vec::new(),
    })
}

fn arb_message() -> impl Strategy<Value = Message> {
    let status_types = prop_oneof![Just(4u16), Just(13), 30u16..=35, 50u16..=53, Just(100)];
    prop_oneof![
        4 => (any::<u32>(), proptest::collection::vec(arb_tag(), 0..4))
            .prop_map(|(id, tags)| Message::ro_access_report(id, tags)),
        1 => (any::<u32>(), arb_event()).prop_map(|(id, e)| Message::reader_event_notification(id, e)),
        1 => (status_types, any::<u32>(), arb_status())
            .prop_map(|(t, id, s)| Message::status_response(t, id, s)),
        1 => (any::<u32>(), arb_status())
            .prop_map(|(id, s)| Message::impinj_enable_extensions_response(id, s)),
        1 => (any::<u32>(), arb_rospec()).prop_map(|(id, spec)| Message::add_rospec(id, spec)),
        1 => (any::<u32>(), arb_config()).prop_map(|(id, c)| Message::set_reader_config(id, c)),
        1 => (any::<u32>(), any::<u32>(), 0usize..5).prop_map(|(id, spec, which)| {
            [
                Message::enable_rospec,
                Message::start_rospec,
                Message::stop_rospec,
                Message::disable_rospec,
                Message::delete_rospec,
            ][which](id, spec)
        }),
        1 => (any::<u32>(), 0usize..6).prop_map(|(id, which)| {
            [
                Message::get_reader_capabilities,
                Message::impinj_enable_extensions,
                Message::keepalive_ack,
                Message::keepalive,
                Message::close_connection,
                Message::enable_events_and_reports,
            ][which](id)
        }),
        1 => (any::<u32>(), arb_status(), proptest::option::of((any::<(u16, u16, u32, u32)>(), arb_text())))
            .prop_map(|(id, status, general)| Message {
                message_type: message_type::GET_READER_CAPABILITIES_RESPONSE,
                id,
                body: Body::Capabilities(Capabilities {
                    status,
                    general: general.map(|((max_antennas, flags, manufacturer, model), fw)| {
                        DeviceCapabilities {
                            max_antennas,
                            flags,
                            manufacturer,
                            model,
                            firmware_version: fw,
                            sub_params: Vec::new(),
                        }
                    }),
                    other: Vec::new(),
                }),
            }),
        1 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(id, b)| Message {
            message_type: message_type::GET_READER_CONFIG_RESPONSE,
            id,
            body: Body::Raw(b),
        }),
    ]
}

fn encode_all(messages: &[Message]) -> Vec<Vec<u8>> {
    messages.iter().map(|m| m.to_vec().unwrap()).collect()
}

proptest! {
    #[test]
    fn every_encoder_round_trips_through_the_decoder(message in arb_message()) {
        let bytes = message.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), message.buffer_len().unwrap());
        let header = Header::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(header.length() as usize, bytes.len());
        prop_assert_eq!(Message::parse(&header).unwrap(), message);
    }

    #[test]
    fn random_chunking_matches_one_shot_decode(
        messages in proptest::collection::vec(arb_message(), 1..6),
        cuts in proptest::collection::vec(1usize..64, 1..40),
    ) {
        let stream: Vec<u8> = encode_all(&messages).concat();
        let mut decoder = MessageDecoder::new();
        let mut out = Vec::new();
        let mut rest = &stream[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() { break; }
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            crate::stream::decode_chunk(&mut decoder, chunk, |m| out.push(m));
            rest = tail;
        }
        decoder.finish();
        while let Some(m) = decoder.next_item() { out.push(m); }
        prop_assert_eq!(out, messages);
        prop_assert_eq!(decoder.stats().bytes_consumed, stream.len() as u64);
    }

    #[test]
    fn garbage_between_messages_is_skipped_and_counted(
        messages in proptest::collection::vec(arb_message(), 1..6),
        garbage in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 6),
    ) {
        let mut stream = Vec::new();
        for (frame, junk) in encode_all(&messages).iter().zip(&garbage) {
            stream.extend(junk);
            stream.extend(frame);
        }
        stream.extend(&garbage[5]);
        let (out, decoder) = decode(&stream);
        let stats = decoder.stats();
        let junk_len: usize = garbage[..messages.len()].iter().chain([&garbage[5]]).map(Vec::len).sum();
        prop_assert_eq!(out, messages);
        prop_assert_eq!(stats.bytes_skipped, junk_len as u64);
        prop_assert_eq!(stats.bytes_in, stats.bytes_consumed + stats.bytes_skipped);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_keep_the_accounting(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (_, decoder) = decode(&bytes);
        let s = decoder.stats();
        prop_assert_eq!(s.bytes_in, bytes.len() as u64);
        prop_assert_eq!(s.bytes_in, s.bytes_consumed + s.bytes_skipped);
    }
}
