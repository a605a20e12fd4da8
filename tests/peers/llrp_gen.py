"""Builds random reader-side LLRP messages with llrpkit's encoder (an independent
implementation) and writes them as one byte stream, printing the values they carry as
JSON so the Rust decoder can be checked field by field.

usage: llrp_gen.py OUT_FILE SEED REPORTS
stdout: a JSON list, one object per message, in stream order.
"""

import json
import random
import sys

from llrpkit.protocol import BitStr, impinj, messages, params


def status(rng):
    if rng.random() < 0.6:
        return params.LLRPStatus(status_code=0, error_description=""), {
            "code": 0,
            "description": "",
        }
    code = rng.choice([100, 101, 109, 110])
    text = rng.choice(["bad field", "unsupported", "nope \u00e9", ""])
    return params.LLRPStatus(status_code=code, error_description=text), {
        "code": code,
        "description": text,
    }


def maybe(rng, p=0.8):
    return rng.random() < p


def tag_report(rng):
    expect = {}
    if maybe(rng, 0.8):
        epc = bytes(rng.getrandbits(8) for _ in range(12))
        trd = params.TagReportData(epc_parameter=params.EPC_96(epc=epc))
        expect["epc_bits"] = None
    else:
        bits = rng.randint(1, 256)
        epc = bytes(rng.getrandbits(8) for _ in range((bits + 7) // 8))
        trd = params.TagReportData(epc_parameter=params.EPCData(epc=BitStr(bits, epc)))
        expect["epc_bits"] = bits
    expect["epc"] = epc.hex()

    def opt(key, p, make, value):
        if maybe(rng, p):
            setattr(trd, key, make(value))
            return value
        return None

    expect["ro_spec_id"] = opt(
        "ro_spec_id", 0.3, lambda v: params.ROSpecID(ro_spec_id=v), rng.getrandbits(32)
    )
    expect["spec_index"] = opt(
        "spec_index", 0.3, lambda v: params.SpecIndex(spec_index=v), rng.getrandbits(16)
    )
    expect["antenna"] = opt(
        "antenna_id", 0.9, lambda v: params.AntennaID(antenna_id=v), rng.randint(1, 32)
    )
    expect["peak_rssi"] = opt(
        "peak_rssi", 0.9, lambda v: params.PeakRSSI(peak_rssi=v), rng.randint(-90, -20)
    )
    expect["channel"] = opt(
        "channel_index",
        0.8,
        lambda v: params.ChannelIndex(channel_index=v),
        rng.randint(1, 50),
    )
    now = 1_700_000_000_000_000 + rng.getrandbits(40)
    expect["first_seen_utc_us"] = opt(
        "first_seen_timestamp_utc",
        0.9,
        lambda v: params.FirstSeenTimestampUTC(microseconds=v),
        now,
    )
    expect["last_seen_utc_us"] = opt(
        "last_seen_timestamp_utc",
        0.5,
        lambda v: params.LastSeenTimestampUTC(microseconds=v),
        now + rng.randint(0, 10**6),
    )
    expect["first_seen_uptime_us"] = opt(
        "first_seen_timestamp_uptime",
        0.2,
        lambda v: params.FirstSeenTimestampUptime(microseconds=v),
        rng.getrandbits(48),
    )
    expect["tag_seen_count"] = opt(
        "tag_seen_count",
        0.7,
        lambda v: params.TagSeenCount(tag_count=v),
        rng.randint(1, 500),
    )
    expect["access_spec_id"] = opt(
        "access_spec_id",
        0.2,
        lambda v: params.AccessSpecID(access_spec_id=v),
        rng.getrandbits(32),
    )
    expect["pc"] = None
    if maybe(rng, 0.3):
        expect["pc"] = rng.getrandbits(16)
        trd.air_protocol_tag_datas.append(params.C1G2_PC(pc_bits=expect["pc"]))
    expect["impinj_peak_rssi"] = None
    expect["impinj_phase"] = None
    expect["impinj_doppler"] = None
    if maybe(rng, 0.7):
        expect["impinj_peak_rssi"] = rng.randint(-9000, -2000)
        trd.custom.append(impinj.ImpinjPeakRSSI(rssi=expect["impinj_peak_rssi"]))
    if maybe(rng, 0.7):
        expect["impinj_phase"] = rng.randint(0, 4095)
        trd.custom.append(impinj.ImpinjRFPhaseAngle(phase_angle=expect["impinj_phase"]))
    if maybe(rng, 0.7):
        expect["impinj_doppler"] = rng.randint(-320 * 16, 320 * 16)
        trd.custom.append(
            impinj.ImpinjRFDopplerFrequency(doppler_frequency=expect["impinj_doppler"])
        )
    return trd, expect


def ro_access_report(rng):
    pairs = [tag_report(rng) for _ in range(rng.randint(1, 3))]
    msg = messages.RO_ACCESS_REPORT(tag_report_datas=[p for p, _ in pairs])
    return msg, {"type": "RO_ACCESS_REPORT", "tags": [e for _, e in pairs]}


def reader_event(rng):
    utc = 1_700_000_000_000_000 + rng.getrandbits(40)
    data = params.ReaderEventNotificationData(
        timestamp=params.UTCTimestamp(microseconds=utc)
    )
    event = {
        "utc_us": utc,
        "connection_attempt": None,
        "ro_spec_id": None,
        "antenna_id": None,
        "exception": None,
    }
    kind = rng.randrange(4)
    if kind == 0:
        event["connection_attempt"] = rng.randint(0, 4)
        data.connection_attempt_event = params.ConnectionAttemptEvent(
            status=event["connection_attempt"]
        )
    elif kind == 1:
        event["ro_spec_id"] = rng.getrandbits(32)
        data.ro_spec_event = params.ROSpecEvent(
            event_type=rng.randint(0, 2), ro_spec_id=event["ro_spec_id"]
        )
    elif kind == 2:
        event["antenna_id"] = rng.randint(1, 4)
        data.antenna_event = params.AntennaEvent(
            event_type=rng.randint(0, 1), antenna_id=event["antenna_id"]
        )
    else:
        event["exception"] = rng.choice(["antenna fault", "overheat", "temp \u00b0C"])
        data.reader_exception_event = params.ReaderExceptionEvent(
            message=event["exception"]
        )
    msg = messages.READER_EVENT_NOTIFICATION(reader_event_notification_data=data)
    return msg, {"type": "READER_EVENT_NOTIFICATION", "event": event}


def other_message(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return messages.KEEPALIVE(), {"type": "KEEPALIVE"}
    if kind == 1:
        cls = rng.choice(
            [
                messages.ADD_ROSPEC_RESPONSE,
                messages.START_ROSPEC_RESPONSE,
                messages.SET_READER_CONFIG_RESPONSE,
                messages.ERROR_MESSAGE,
            ]
        )
        st, expect = status(rng)
        return cls(llrp_status=st), {"type": cls.__name__, "status": expect}
    if kind == 2:
        st, expect = status(rng)
        msg = impinj.IMPINJ_ENABLE_EXTENSIONS_RESPONSE(llrp_status=st)
        return msg, {"type": "IMPINJ_ENABLE_EXTENSIONS_RESPONSE", "status": expect}
    if kind == 3:
        st, expect = status(rng)
        general = params.GeneralDeviceCapabilities(
            max_number_of_antenna_supported=4,
            device_manufacturer_name=25882,
            model_name=rng.choice([700, 2001002]),
            reader_firmware_version="5.12.1",
            receive_sensitivity_table_entrys=[
                params.ReceiveSensitivityTableEntry(
                    index=1, receive_sensitivity_value=0
                )
            ],
            per_antenna_air_protocols=[
                params.PerAntennaAirProtocol(antenna_id=1, protocol_id=b"\x01")
            ],
            gpio_capabilities=params.GPIOCapabilities(num_gp_is=4, num_gp_os=4),
        )
        msg = messages.GET_READER_CAPABILITIES_RESPONSE(
            llrp_status=st, general_device_capabilities=general
        )
        device = {
            "manufacturer": 25882,
            "model": general.model_name,
            "firmware_version": "5.12.1",
        }
        return msg, {
            "type": "GET_READER_CAPABILITIES_RESPONSE",
            "status": expect,
            "device": device,
        }
    return reader_event(rng)


def main():
    out_file, seed, reports = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    stream = bytearray()
    expected = []
    made = 0
    while made < reports:
        if rng.random() < 0.75:
            msg, expect = ro_access_report(rng)
            made += 1
        else:
            msg, expect = other_message(rng)
        expect["id"] = rng.getrandbits(32)
        stream += msg.to_bytes(message_id=expect["id"])
        expected.append(expect)
    with open(out_file, "wb") as f:
        f.write(stream)
    json.dump(expected, sys.stdout)


if __name__ == "__main__":
    main()
