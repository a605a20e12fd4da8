"""Independent implementation of the dagr node link protocol (protocols/SPEC.md), written
from the spec alone: bitwise CRC-32C, textbook COBS, struct layouts.

  node_frames.py decode FILE        print one JSON object per frame (dagr's JSON schema)
  node_frames.py encode FILE SEED   write random frames of every kind to FILE, print the
                                    JSON objects they must decode to
"""

import json
import math
import random
import struct
import sys

import numpy as np

KINDS = {
    0x01: "csi",
    0x02: "radar",
    0x03: "rfid",
    0x10: "heartbeat",
    0x11: "time_sync_request",
    0x12: "time_sync_response",
    0x20: "command",
    0x21: "ack",
}
MODALITIES = {0: "none", 1: "mmwave", 2: "wifi", 3: "rfid"}
OPCODES = {
    1: "start",
    2: "stop",
    3: "set_rate",
    4: "identify",
    5: "set_node_id",
    6: "set_heartbeat_interval",
    7: "reset_counters",
}
STATUSES = {
    0: "ok",
    1: "unknown_command",
    2: "bad_argument",
    3: "busy",
    4: "unsupported",
    5: "failed",
}
HEARTBEAT = [
    ("uptime_us", "Q"),
    ("samples_produced", "Q"),
    ("frames_sent", "Q"),
    ("dropped_backpressure", "I"),
    ("link_errors", "I"),
    ("crc_errors", "I"),
    ("ring_high_water", "I"),
    ("ring_capacity", "I"),
]


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def cobs_encode(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += b"\xff" + block
                block = bytearray()
    return bytes(out + bytes([len(block) + 1]) + block)


def cobs_decode(data):
    out, i = bytearray(), 0
    while i < len(data):
        code = data[i]
        if code == 0 or i + code > len(data):
            raise ValueError("bad COBS")
        out += data[i + 1 : i + code]
        i += code
        if code != 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def named(table, code):
    return table.get(code, f"unknown({code})")


def f32(x):
    return float(str(np.float32(x)))


def payload_json(kind, p):
    if kind == 0x01:
        rssi, noise, ch, ant, bw, n = struct.unpack_from("<bbBBHH", p)
        iq = [list(struct.unpack_from("<bb", p, 8 + 2 * i)) for i in range(n)]
        return dict(
            rssi=rssi,
            noise_floor=noise,
            channel=ch,
            antenna=ant,
            bandwidth_mhz=bw,
            csi=iq,
        )
    if kind == 0x02:
        frame, n = struct.unpack_from("<IH", p)
        points = []
        for i in range(n):
            x, y, z, v, snr, noise = struct.unpack_from("<ffffhh", p, 6 + 20 * i)
            points.append(
                dict(x=f32(x), y=f32(y), z=f32(z), v=f32(v), snr=snr, noise=noise)
            )
        return dict(frame=frame, points=points)
    if kind == 0x03:
        tags, at = [], 1
        for _ in range(p[0]):
            ant, elen, rssi, ch, phase, dop, seen = struct.unpack_from(
                "<BBhHHhQ", p, at
            )
            epc = p[at + 18 : at + 18 + elen]
            at += 18 + elen
            tags.append(
                dict(
                    epc=epc.hex(),
                    antenna=ant,
                    peak_rssi=rssi / 100,
                    channel=ch,
                    phase_rad=phase * (2 * math.pi) / 4096,
                    doppler_hz=dop / 16,
                    first_seen_us=seen,
                )
            )
        return dict(tags=tags)
    if kind == 0x10:
        fmt = "<" + "".join(t for _, t in HEARTBEAT)
        return dict(zip([k for k, _ in HEARTBEAT], struct.unpack_from(fmt, p)))
    if kind == 0x11:
        return dict(t1=struct.unpack_from("<Q", p)[0])
    if kind == 0x12:
        return dict(zip(["t1", "t2", "t3"], struct.unpack_from("<QQQ", p)))
    if kind == 0x20:
        op, stream, arg = struct.unpack_from("<BBI", p)
        return dict(opcode=named(OPCODES, op), target_stream=stream, arg=arg)
    if kind == 0x21:
        seq, op, status = struct.unpack_from("<IBB", p)
        return dict(
            command_seq=seq,
            opcode=named(OPCODES, op),
            status=named(STATUSES, status),
            ok=status == 0,
        )
    return dict(kind_code=kind, payload_hex=p.hex())


def frame_json(frame):
    body, (crc,) = frame[:-4], struct.unpack("<I", frame[-4:])
    if crc != crc32c(body):
        raise ValueError("CRC")
    version, kind, node, stream, modality, plen, seq, ts = struct.unpack_from(
        "<BBHBBHIQ", body
    )
    assert version >> 4 == 1 and len(body) == 20 + plen
    obj = dict(
        version=f"1.{version & 15}",
        node=node,
        stream=stream,
        modality=named(MODALITIES, modality),
        seq=seq,
        timestamp_us=ts,
        kind=KINDS.get(kind, "unknown"),
    )
    obj.update(payload_json(kind, body[20:]))
    return obj


def decode(path):
    data = open(path, "rb").read()
    for run in data.split(b"\x00"):
        if run:
            print(json.dumps(frame_json(cobs_decode(run)), sort_keys=True))


def random_payload(rng, kind):
    if kind == 0x01:
        n = rng.randrange(0, 509)
        iq = bytes(rng.randrange(256) for _ in range(2 * n))
        fixed = struct.pack(
            "<bbBBHH",
            rng.randrange(-128, 128),
            rng.randrange(-128, 128),
            rng.randrange(256),
            rng.randrange(256),
            rng.choice([20, 40, 80, 160, 320]),
            n,
        )
        return fixed + iq
    if kind == 0x02:
        n = rng.randrange(0, 51)
        pts = b"".join(
            struct.pack(
                "<ffffhh",
                *(rng.uniform(-50, 50) for _ in range(4)),
                rng.randrange(-32768, 32768),
                rng.randrange(-32768, 32768),
            )
            for _ in range(n)
        )
        return struct.pack("<IH", rng.randrange(2**32), n) + pts
    if kind == 0x03:
        reads = []
        for _ in range(rng.randrange(0, 13)):
            epc = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 63)))
            reads.append(
                struct.pack(
                    "<BBhHHhQ",
                    rng.randrange(256),
                    len(epc),
                    rng.randrange(-32768, 32768),
                    rng.randrange(65536),
                    rng.randrange(4096),
                    rng.randrange(-32768, 32768),
                    rng.randrange(2**64),
                )
                + epc
            )
        return bytes([len(reads)]) + b"".join(reads)
    if kind == 0x10:
        return struct.pack(
            "<QQQIIIII",
            *(rng.randrange(2**64) for _ in range(3)),
            *(rng.randrange(2**32) for _ in range(5)),
        )
    if kind == 0x11:
        return struct.pack("<Q", rng.randrange(2**64))
    if kind == 0x12:
        return struct.pack("<QQQ", *(rng.randrange(2**64) for _ in range(3)))
    if kind == 0x20:
        return struct.pack(
            "<BBI", rng.randrange(256), rng.randrange(256), rng.randrange(2**32)
        )
    if kind == 0x21:
        return struct.pack(
            "<IBB", rng.randrange(2**32), rng.randrange(256), rng.randrange(256)
        )
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 1025)))


def encode(path, seed):
    rng = random.Random(seed)
    out = bytearray(b"\x00")
    for kind in list(KINDS) * 3 + [0x7E, 0xC3]:
        payload = random_payload(rng, kind)
        hdr = struct.pack(
            "<BBHBBHIQ",
            0x10,
            kind,
            rng.randrange(65536),
            rng.randrange(256),
            rng.randrange(5),
            len(payload),
            rng.randrange(2**32),
            rng.randrange(2**64),
        )
        frame = hdr + payload
        frame += struct.pack("<I", crc32c(frame))
        print(json.dumps(frame_json(frame), sort_keys=True))
        out += cobs_encode(frame) + b"\x00"
    open(path, "wb").write(out)


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        decode(sys.argv[2])
    else:
        encode(sys.argv[2], int(sys.argv[3]))
