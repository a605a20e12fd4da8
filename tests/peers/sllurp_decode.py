"""Decodes a stream of LLRP messages with sllurp's `LLRPMessage`, a second independent
implementation (beside llrpkit), and prints what it decoded as JSON.

usage: sllurp_decode.py FILE
stdout: a JSON list, one object per message: sllurp's `msgdict` ({NAME: {...}}) with
bytes shown as ASCII text (sllurp keeps EPCs as hex digits in bytes) and enums as their
names.
"""

import json
import sys

from llrp_decode import split_messages
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
    decoded = [
        plain(LLRPMessage(msgbytes=frame).msgdict) for frame in split_messages(data)
    ]
    json.dump(decoded, sys.stdout)


if __name__ == "__main__":
    main()
