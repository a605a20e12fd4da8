"""Decode an ESP32-CSI-Tool CSV file with csiread and print what it read as JSON.

Usage: csiread_esp32.py FILE MAXLEN

csiread.ESP32 pads every row's value list with zeros up to MAXLEN values (it needs one
width for its array), so MAXLEN must be at least the longest row's value count. Output:
one JSON array with, per row, every column csiread reads (its `dt` table: type, role, mac,
the 19 rx_ctrl columns, real_time_set, real_timestamp, len) under csiread's names, and
"csi": [[re, im], ...] padded to MAXLEN / 2 subcarriers.
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
        row = {}
        for name, kind in data.dt.items():
            if kind is list:
                row[name] = [[int(c.real), int(c.imag)] for c in data.csi[i]]
            else:
                row[name] = kind(getattr(data, name)[i])
        rows.append(row)
    json.dump(rows, sys.stdout)


if __name__ == "__main__":
    main()
