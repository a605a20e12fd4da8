"""Decode an ESP32-CSI-Tool CSV file with csiread and print what it read as JSON.

Usage: csiread_esp32.py FILE MAXLEN

csiread.ESP32 pads every row's value list with zeros up to MAXLEN values (it needs one
width for its array), so MAXLEN must be at least the longest row's value count. Output:
one JSON array of {"mac", "rssi", "local_timestamp", "real_timestamp", "len",
"csi": [[re, im], ...]} objects, csi padded to MAXLEN / 2 subcarriers.
"""

import json
import sys

import csiread


def main() -> None:
    path, maxlen = sys.argv[1], int(sys.argv[2])
    data = csiread.ESP32(path, if_report=False, maxlen=maxlen)
    data.read()
    rows = []
    for i in range(data.count):
        csi = data.csi[i]
        rows.append(
            {
                "mac": data.mac[i],
                "rssi": int(data.rssi[i]),
                "local_timestamp": int(data.local_timestamp[i]),
                "real_timestamp": float(data.real_timestamp[i]),
                "len": int(data.len[i]),
                "csi": [[int(c.real), int(c.imag)] for c in csi],
            }
        )
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
