"""Decodes a stream of LLRP messages with sllurp's `LLRPMessage`, a second independent
implementation (beside llrpkit), and prints what it decoded as JSON.

usage: sllurp_decode.py FILE
stdout: a JSON list, one object per message: sllurp's `msgdict` ({NAME: {...}}) with
bytes shown as ASCII text (sllurp keeps EPCs as hex digits in bytes) and enums as their
names.
"""

import json
import sys

from sllurp.llrp import LLRPMessage


def plain(value):
    if isinstance(value, (bytes, bytearray)):
        return value.decode("ascii")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def main():
    data = open(sys.argv[1], "rb").read()
    decoded = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos + 2 : pos + 6], "big")
        decoded.append(plain(LLRPMessage(msgbytes=data[pos : pos + length]).msgdict))
        pos += length
    json.dump(decoded, sys.stdout)


if __name__ == "__main__":
    main()
