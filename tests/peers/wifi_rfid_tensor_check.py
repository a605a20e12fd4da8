"""An independent check of `dagr dataset export`'s WiFi and RFID tensor values.

Written from the documented preprocessing only (README's replay section for the input,
host/src/preprocess/{mod,wifi,csi,rfid,grid}.rs module docs for the layout; no code shared
with the gateway). Input: the lines of `dagr replay --max --json` (each record's place in
time is its `mapped_ns`, where the synchronizer puts it) and the exported shard. For every
window the shard marks WiFi (RFID) present, the window's records are those with
`start_ns <= mapped_ns < start_ns + window_ns`, and:

- WiFi `[270, T]`: links are the capture's ESP32-CSI-Tool sources in name order (the
  documented links are the sources the synchronizer knows when it cuts the window: the same
  here, as a simulated capture's sources all start with it); a packet is
  a link's rows with one mapped time, antenna slot `ant`. Each antenna's 30 picked
  subcarriers (LLTF entry `k mod 64`, or `k + 32` with a secondary channel) are divided by
  their RMS. Block 0: `10 log10(max(mean over antennas of |h|^2, 1e-6))`; blocks 1, 2:
  `arg(h1 conj(h0))`, `arg(h2 conj(h1))`, unwrapped along time. Each row is linearly
  resampled onto the cell centres `(k + 1/2) window / T` (ends held); a power row minus the
  mean of its T values, divided by 3 dB; a phase row minus its circular mean (the angle of
  the sum over the window's packets of `b conj(a) / |b conj(a)|`, 0 when that sum is 0),
  wrapped into (-pi, pi], divided by 1 rad. Phase values are compared as angles (their
  difference wrapped), so a value a rounding away from +-pi matches its twin on the other
  side.
- RFID `[46, T]`: tags read in the window in EPC byte order (first 23); row `2 tag` the phase
  track (each read advances it by the wrapped phase step to the latest earlier read on the
  same antenna and channel, at most 0.5 s before, times the time since the tag's previous
  read, over their distance apart; 0 at the first read) / pi, row `2 tag + 1` the Impinj
  peak RSSI (else PeakRSSI) / 6 dB; each resampled as above, minus its mean.

    python wifi_rfid_tensor_check.py REPLAY.jsonl SHARD.safetensors WINDOW_S TOLERANCE

Prints one JSON object per modality: windows compared, the largest absolute difference, and
the same difference for two deliberate mistakes (two rows of the expected tensor swapped;
every record placed one grid step later), which a sound comparison must see.
"""

import json
import math
import sys

import numpy as np
from safetensors_file import read_safetensors

LINKS, ANTENNAS, SUBCARRIERS = 3, 3, 30
TAGS = 23
WIFI_DB_SCALE, WIFI_PHASE_SCALE = 3.0, 1.0
RFID_PHASE_SCALE, RFID_RSSI_SCALE = math.pi, 6.0
MAX_PAIR_GAP_S = 0.5


def picked_subcarriers():
    """30 of the 52 LLTF subcarriers, positions round(i * 51 / 29)."""
    used = [k for k in range(-26, 27) if k != 0]
    return [used[int(math.floor(i * 51 / 29 + 0.5))] for i in range(SUBCARRIERS)]


def wrap(x):
    """x wrapped into (-pi, pi]."""
    y = np.mod(x, 2 * np.pi)
    return np.where(y > np.pi, y - 2 * np.pi, y)


def resample(times, values, grid):
    """Linear interpolation of rows `values[i]` at `times[i]` onto `grid` (the samples
    either side of a grid point: the last at or before it, the first after it; ends
    held); returns [width, len(grid)]."""
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(len(times), -1)
    out = np.empty((values.shape[1], len(grid)))
    for k, g in enumerate(grid):
        after = int(np.searchsorted(times, g, side="right"))
        if after == 0:
            out[:, k] = values[0]
        elif after == len(times):
            out[:, k] = values[-1]
        else:
            t0, t1 = times[after - 1], times[after]
            w = (g - t0) / (t1 - t0) if t1 > t0 else 0.0
            out[:, k] = values[after - 1] + (values[after] - values[after - 1]) * w
    return out


def centred(rows):
    return rows - rows.mean(axis=1, keepdims=True)


def antenna_values(row, subcarriers):
    """One ESP32-CSI-Tool row's 30 subcarriers divided by their RMS, or None."""
    csi = row["csi"]
    if len(csi) < 64 or row["ant"] >= ANTENNAS:
        return None

    def entry(k):
        return k % 64 if row["secondary_channel"] == 0 else k + 32

    h = np.array([complex(*csi[entry(k)]) for k in subcarriers])
    rms = math.sqrt(float(np.sum(np.abs(h) ** 2)) / SUBCARRIERS)
    return h / rms if rms > 0 else None


def wifi_tensor(records, start_ns, window_s, steps, link_names, subcarriers, shift):
    """The expected [270, steps] WiFi tensor of one window."""
    grid = (np.arange(steps) + 0.5) * window_s / steps
    out = np.zeros((LINKS * 3 * SUBCARRIERS, steps))
    for link, name in enumerate(link_names):
        packets = {}
        for r in records:
            if r["source"] == name:
                packets.setdefault(r["mapped_ns"][0], []).append(r)
        power, diffs = [], [[], []]
        directions = [np.zeros(SUBCARRIERS, complex), np.zeros(SUBCARRIERS, complex)]
        for at in sorted(packets):
            t = (at - start_ns) * 1e-9 + shift
            ants = [None] * ANTENNAS
            for row in packets[at]:
                h = antenna_values(row, subcarriers)
                if h is not None:
                    ants[row["ant"]] = h
            present = [h for h in ants if h is not None]
            if not present:
                continue
            p = np.mean([np.abs(h) ** 2 for h in present], axis=0)
            power.append((t, 10 * np.log10(np.maximum(p, 1e-6))))
            for pair in range(2):
                a, b = ants[pair], ants[pair + 1]
                if a is not None and b is not None:
                    product = b * np.conj(a)
                    diffs[pair].append((t, np.angle(product)))
                    size = np.abs(product)
                    directions[pair] += np.where(size > 0, product / size, 0)
        series = [(power, WIFI_DB_SCALE, False)]
        series += [(d, WIFI_PHASE_SCALE, True) for d in diffs]
        for block, (samples, scale, phase) in enumerate(series):
            if not samples:
                continue
            times = [t for t, _ in samples]
            values = np.array([v for _, v in samples])
            if phase:
                values = np.unwrap(values, axis=0)
                mean = np.angle(directions[block - 1])[:, None]
                rows = wrap(resample(times, values, grid) - mean) / scale
            else:
                rows = centred(resample(times, values, grid)) / scale
            at = (link * 3 + block) * SUBCARRIERS
            out[at : at + SUBCARRIERS] = rows
    return out


def phase_track(reads):
    """The documented phase track of one tag's reads (by time), rad."""
    track, level, last_on = [], 0.0, {}
    for i, (t, phase, link, _) in enumerate(reads):
        if phase is None:
            track.append(level)
            continue
        partner = last_on.get(link)
        if partner is not None:
            pt, pphase = reads[partner][0], reads[partner][1]
            if 0 < t - pt <= MAX_PAIR_GAP_S:
                rate = float(wrap(phase - pphase)) / (t - pt)
                level += rate * (t - reads[i - 1][0])
        last_on[link] = i
        track.append(level)
    return track


def rfid_tensor(records, start_ns, window_s, steps, shift):
    """The expected [46, steps] RFID tensor of one window."""
    grid = (np.arange(steps) + 0.5) * window_s / steps
    tags = {}
    for r in records:
        for tag, at in zip(r["tags"], r["mapped_ns"]):
            rssi = tag.get("impinj_peak_rssi_dbm")
            if rssi is None:
                rssi = tag.get("peak_rssi")
            phase = tag.get("phase_rad")
            if phase is None and rssi is None:
                continue
            t = (at - start_ns) * 1e-9 + shift
            link = (tag.get("channel") or 0, tag.get("antenna") or 0)
            tags.setdefault(bytes.fromhex(tag["epc"]), []).append(
                (t, phase, link, rssi)
            )
    out = np.zeros((TAGS * 2, steps))
    for row, epc in enumerate(sorted(tags)[:TAGS]):
        reads = sorted(tags[epc], key=lambda read: read[0])
        track = phase_track(reads)
        times = [read[0] for read in reads]
        out[2 * row] = centred(resample(times, track, grid))[0] / RFID_PHASE_SCALE
        rssi = [(read[0], read[3]) for read in reads if read[3] is not None]
        if rssi:
            rows = resample([t for t, _ in rssi], [v for _, v in rssi], grid)
            out[2 * row + 1] = centred(rows)[0] / RFID_RSSI_SCALE
    return out


def swapped_rows(expected, tolerance):
    """`expected` with its first two rows that differ by more than `tolerance` swapped."""
    for a in range(expected.shape[0]):
        for b in range(a + 1, expected.shape[0]):
            if np.abs(expected[a] - expected[b]).max() > 10 * tolerance:
                swapped = expected.copy()
                swapped[[a, b]] = swapped[[b, a]]
                return swapped
    return expected


def difference(got, expected, angular):
    """Largest |got - expected|, taken as an angle difference (wrapped) on the rows
    `angular` marks (their scale is 1 rad)."""
    d = got - expected
    d[angular] = wrap(d[angular])
    return float(np.abs(d).max())


def compare(name, tensor, present, starts, build, window_s, tolerance, angular):
    """Builds every present window's tensor and reports the differences; `angular`: the
    rows compared as angles."""
    steps = tensor.shape[2]
    report = {"windows": 0, "max_diff": 0.0, "swapped_rows": None, "shifted": None}
    swap_diffs, shift_diffs = [], []
    for w in range(tensor.shape[0]):
        if present[w] != 1.0:
            continue
        start_ns = int(round(starts[w] * 1e9))
        got = tensor[w].astype(np.float64)
        expected = build(start_ns, steps, 0.0)
        report["windows"] += 1
        report["max_diff"] = max(report["max_diff"], difference(got, expected, angular))
        if report["windows"] <= 3:
            swap = swapped_rows(expected, tolerance)
            swap_diffs.append(difference(got, swap, angular))
            later = build(start_ns, steps, window_s / steps)
            shift_diffs.append(difference(got, later, angular))
    if swap_diffs:
        report["swapped_rows"] = min(swap_diffs)
        report["shifted"] = min(shift_diffs)
    report["nonzero"] = int(np.count_nonzero(tensor))
    return name, report


def wifi_phase_rows():
    """The WiFi tensor's phase-difference rows (blocks 1 and 2 of every link)."""
    rows = np.zeros(LINKS * 3 * SUBCARRIERS, bool)
    for link in range(LINKS):
        rows[(link * 3 + 1) * SUBCARRIERS : (link * 3 + 3) * SUBCARRIERS] = True
    return rows


def main():
    replay, shard, window_s, tolerance = sys.argv[1:5]
    window_s, tolerance = float(window_s), float(tolerance)
    window_ns = int(round(window_s * 1e9))
    wifi, rfid = [], []
    for line in open(replay):
        record = json.loads(line)
        if "mapped_ns" not in record:
            continue
        if record.get("modality") == "wifi":
            wifi.append(record)
        elif record.get("modality") == "rfid" and "tags" in record:
            rfid.append(record)
    link_names = sorted({r["source"] for r in wifi})[:LINKS]
    subcarriers = picked_subcarriers()
    arrays = read_safetensors(shard)
    starts, present = arrays["start_s"], arrays["present"]

    def within(records, start_ns):
        end = start_ns + window_ns
        return [r for r in records if any(start_ns <= t < end for t in r["mapped_ns"])]

    def wifi_of(start_ns, steps, shift):
        records = within(wifi, start_ns)
        return wifi_tensor(
            records, start_ns, window_s, steps, link_names, subcarriers, shift
        )

    def rfid_of(start_ns, steps, shift):
        end = start_ns + window_ns
        records = []
        for r in within(rfid, start_ns):
            kept = [
                (tag, t)
                for tag, t in zip(r["tags"], r["mapped_ns"])
                if start_ns <= t < end
            ]
            records.append(
                {"tags": [tag for tag, _ in kept], "mapped_ns": [t for _, t in kept]}
            )
        return rfid_tensor(records, start_ns, window_s, steps, shift)

    reports = dict(
        [
            compare(
                "wifi",
                arrays["wifi"],
                present[:, 1],
                starts,
                wifi_of,
                window_s,
                tolerance,
                wifi_phase_rows(),
            ),
            compare(
                "rfid",
                arrays["rfid"],
                present[:, 2],
                starts,
                rfid_of,
                window_s,
                tolerance,
                np.zeros(2 * TAGS, bool),
            ),
        ]
    )
    reports["subcarriers"] = subcarriers
    print(json.dumps(reports))


if __name__ == "__main__":
    main()
