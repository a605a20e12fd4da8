"""Decodes a stream of LLRP messages (written by the Rust encoders) with llrpkit's
`decode_message`, an independent implementation, and prints what it decoded as JSON.

usage: llrp_decode.py FILE
stdout: a JSON list, one object per message: {"class", "message_id", "fields"} where
fields is llrpkit's dataclass tree with bytes as hex, enums as ints, BitStr as
{"bit_len", "data"} and every nested parameter as {"class", ...fields}.
"""

import dataclasses
import enum
import json
import sys

from llrpkit.protocol import BitStr, decode_message


def plain(value):
    if isinstance(value, BitStr):
        return {"bit_len": value.bit_len, "data": value.data.hex()}
    if dataclasses.is_dataclass(value):
        out = {"class": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = plain(getattr(value, f.name))
        return out
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def split_messages(data):
    """Yields each message of a stream of whole LLRP messages, by their length fields."""
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 2 : pos + 6], "big")
        yield data[pos : pos + length]
        pos += length


def main():
    data = open(sys.argv[1], "rb").read()
    decoded = []
    for frame in split_messages(data):
        msg = decode_message(frame)
        decoded.append(
            {
                "class": type(msg).__name__,
                "message_id": msg.message_id,
                "fields": plain(msg),
            }
        )
    json.dump(decoded, sys.stdout)


if __name__ == "__main__":
    main()
