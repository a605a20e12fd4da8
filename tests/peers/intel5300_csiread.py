"""Independent side of the Intel 5300 `.dat` cross-check.

`read DAT`   parses DAT with csiread.Intel and prints one JSON object per bfee record
             (field names as `dagr decode --json`; csi as [tx][rx][subcarrier] -> [re, im],
             chains in RF-chain order: csiread's antenna permutation is undone).
`write JSON DAT`  packs the records of JSON (a list of such objects) into DAT with this
             script's own bit packer, so the Rust decoder can read a file it did not write.
"""

import json
import struct
import sys

import csiread

SUBCARRIERS = 30
CODE_BFEE = 0xBB


def read(path):
    data = csiread.Intel(path, nrxnum=3, ntxnum=3, if_report=False)
    data.read()
    records = []
    for i in range(data.count):
        nrx, ntx = int(data.Nrx[i]), int(data.Ntx[i])
        perm = [int(p) for p in data.perm[i]]
        if sorted(perm) != [0, 1, 2]:
            sys.exit(f"record {i}: perm {perm} is not a permutation of the 3 antennas")
        # csiread stores chain j at index perm[j]; report chains in RF-chain order.
        csi = data.csi[i][:, perm, :]  # (30, 3, ntx_max) complex
        nested = [
            [
                [
                    [int(csi[s, rx, tx].real), int(csi[s, rx, tx].imag)]
                    for s in range(SUBCARRIERS)
                ]
                for rx in range(nrx)
            ]
            for tx in range(ntx)
        ]
        records.append(
            {
                "timestamp_low": int(data.timestamp_low[i]),
                "bfee_count": int(data.bfee_count[i]),
                "nrx": nrx,
                "ntx": ntx,
                "rssi_a": int(data.rssi_a[i]),
                "rssi_b": int(data.rssi_b[i]),
                "rssi_c": int(data.rssi_c[i]),
                "noise": int(data.noise[i]),
                "agc": int(data.agc[i]),
                "rate": int(data.rate[i]),
                "perm": perm,
                "csi": nested,
            }
        )
    json.dump(records, sys.stdout)


def pack_csi(record):
    nrx, ntx = record["nrx"], record["ntx"]
    total_bits = SUBCARRIERS * (nrx * ntx * 16 + 3)
    value = 0  # the whole bitstream as one integer, bit 0 = LSB of byte 0
    bit = 0
    for s in range(SUBCARRIERS):
        bit += 3
        for rx in range(nrx):
            for tx in range(ntx):
                re, im = record["csi"][tx][rx][s]
                value |= (re & 0xFF) << bit
                value |= (im & 0xFF) << (bit + 8)
                bit += 16
    return value.to_bytes((total_bits + 7) // 8, "little")


def write(json_path, dat_path):
    with open(json_path) as f:
        records = json.load(f)
    out = bytearray()
    for r in records:
        csi = pack_csi(r)
        sel = r["perm"][0] | r["perm"][1] << 2 | r["perm"][2] << 4
        payload = struct.pack(
            "<IHHBBBBBbBBHH",
            r["timestamp_low"],
            r["bfee_count"],
            0,
            r["nrx"],
            r["ntx"],
            r["rssi_a"],
            r["rssi_b"],
            r["rssi_c"],
            r["noise"],
            r["agc"],
            sel,
            len(csi),
            r["rate"],
        )
        payload += csi
        out += struct.pack(">HB", len(payload) + 1, CODE_BFEE) + payload
    with open(dat_path, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(sys.argv[2])
    elif sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"usage: {sys.argv[0]} read DAT | write JSON DAT")
