//! WiFi CSI to `[270, T]`: per link (WiFi source, in name order) three blocks of 30 rows,
//! one row per picked subcarrier, on a uniform time grid:
//!
//! - block 0, **amplitude**: `10·log10` of the subcarrier's power, each antenna's row first
//!   normalized by its RMS over the picked subcarriers (cancels AGC gain and transmit power),
//!   averaged over the link's antennas (the mean of the antennas' powers, then in dB,
//!   floored at `10·log10(1e-6)`); in units of [`WIFI_AMPLITUDE_SCALE_DB`]. (Averaging in
//!   dB instead keeps more of an antenna in a fade, where a moving body changes the power
//!   most, but it trained a WiFi encoder no better: validation 0.378 against 0.381, one
//!   seed each, `models/reports/wrap-2026-12-05.md`);
//! - blocks 1 and 2, **phase differences** between antennas 1 and 0, and 2 and 1, of one
//!   packet: `arg(H₁ · conj(H₀))`. The antennas of one receiver share its oscillator and
//!   sampling clock, so the per-packet carrier-frequency and timing offsets (which make raw
//!   CSI phase random) cancel, and what is left turns with the paths' geometry: a body's
//!   reflection or shadow moves it, breathing shows at the breathing rate. In units of
//!   [`WIFI_PHASE_SCALE_RAD`].
//!
//! Every row is linearly resampled onto the grid (see [`super::grid`]; a phase row is
//! unwrapped along time first, so that it is interpolated the short way round) and then
//! centred: an amplitude row has the mean of its grid values subtracted, a phase row its
//! circular mean (the mean direction of the window's packets), and is wrapped to ±π. The
//! static channel (which depends on the room, the furniture and where the devices hang)
//! is dropped and what the person changes during the window is kept. A phase row is
//! wrapped rather than left unwrapped because the unwrap cannot be trusted through a deep
//! fade: where a subcarrier's product is noise its phase slips by whole turns, and an
//! unwrapped row wound up by such slips (up to 45 rad in a simulated corpus, against a
//! body's fraction of a radian) would swamp the rows that carry the activity.
//! Rows: `(link · 3 + block) · 30 + s`. A link
//! or antenna pair that sent nothing in the window stays zero (a single-antenna receiver
//! fills block 0 only).
//!
//! Links are the window's known WiFi sources (those the synchronizer had a record from when
//! it cut the window, [`Window::sources`]) in name order, whatever their format; records
//! of a fourth and later source are unused. What each format's record gives (which buffer
//! entries are which subcarrier, which chain is which antenna) is in [`super::csi`]: ESP32-
//! CSI-Tool rows, esp-csi rows, Intel 5300 records and node-link CSI all map here. The
//! antennas of one packet are the link's records with the same time (one record per
//! antenna for the ESP32 formats and node frames, one record for all of them for the
//! Intel 5300); a record without a mapping is unused and counted.
use super::csi::{self, Packet};
use super::grid::{grid_times_into, Series};
use super::packet_cache::{CachedPacket, PacketCache, PacketRows};
use super::{angle, phase_rows};
use super::{
    seconds_into, PreprocessSpec, WIFI_AMPLITUDE_SCALE_DB, WIFI_ANTENNAS, WIFI_BLOCKS, WIFI_LINKS,
    WIFI_PHASE_SCALE_RAD, WIFI_SUBCARRIERS,
};
use crate::record::Modality;
use crate::sync::Window;

/// Highest subcarrier index the legacy LTF fills (`±1..=±26`: 52 used subcarriers).
const LLTF_EDGE: i32 = 26;

/// The 30 subcarriers (802.11 index `k`) read per antenna: evenly spread over the 52 used
/// LLTF subcarriers `−26..=−1, 1..=26` (positions `round(i · 51 / 29)`), standing in for the
/// Intel 5300's 30 grouped subcarriers that XRF55 records.
pub fn picked_subcarriers() -> [i32; WIFI_SUBCARRIERS] {
    let used: Vec<i32> = (-LLTF_EDGE..=LLTF_EDGE).filter(|&k| k != 0).collect();
    let last = (used.len() - 1) as f64;
    let spread = (WIFI_SUBCARRIERS - 1) as f64;
    std::array::from_fn(|i| used[(i as f64 * last / spread).round() as usize])
}

/// The buffers the WiFi tensor is built in, kept between windows so that a steady stream
/// of windows allocates nothing, and the packets the last window computed.
#[derive(Debug, Clone, Default)]
pub struct WifiScratch {
    /// One series per link and block.
    series: Vec<Series>,
    /// The grid's times.
    grid: Vec<f64>,
    /// Per link, the window's records (indices) of the packet being gathered.
    members: [Vec<usize>; WIFI_LINKS],
    /// Packets computed by earlier windows, per link by time.
    packets: PacketCache,
    /// The subcarriers the cached packets were read at.
    subcarriers: Option<[i32; WIFI_SUBCARRIERS]>,
    /// Where those subcarriers sit in the last CSI layout read.
    picks: csi::Picks,
    /// Per link and antenna pair, the sum over the window's packets of each subcarrier's
    /// phase difference as a unit vector `(cos, sin)`: the direction of its circular mean.
    directions: [Directions; WIFI_LINKS * PAIRS],
}

/// Antenna pairs a link's phase differences are taken over (blocks 1 and 2).
const PAIRS: usize = WIFI_BLOCKS - 1;

/// Per subcarrier, a sum of unit vectors `(cos, sin)`.
type Directions = [[f64; 2]; WIFI_SUBCARRIERS];

/// Fills `out` (`[270, T]`, any previous content overwritten) with the WiFi tensor of
/// `window` (see the [module doc](self)); returns how many WiFi records were unused.
pub fn tensor_into(
    window: &Window,
    spec: &PreprocessSpec,
    scratch: &mut WifiScratch,
    out: &mut [f32],
) -> usize {
    out.fill(0.0);
    scratch
        .series
        .resize_with(WIFI_LINKS * WIFI_BLOCKS, Series::default);
    scratch.series.iter_mut().for_each(Series::clear);
    scratch.directions = Default::default();
    if scratch.subcarriers != Some(spec.wifi_subcarriers) {
        scratch.packets.clear();
        scratch.subcarriers = Some(spec.wifi_subcarriers);
    }
    let unused = collect_packets(window, spec, scratch);
    grid_times_into(spec.window_s, spec.wifi_steps, &mut scratch.grid);
    write_rows(&mut scratch.series, &scratch.directions, &scratch.grid, out);
    unused
}

/// The window's first three WiFi sources (by name), one per link slot: each one's name
/// and position in [`Window::sources`].
fn links(window: &Window) -> [Option<(&str, usize)>; WIFI_LINKS] {
    let mut links = [None; WIFI_LINKS];
    let wifi_sources =
        (window.sources.iter().enumerate()).filter(|(_, s)| s.modality == Modality::Wifi);
    for (slot, (place, source)) in links.iter_mut().zip(wifi_sources) {
        *slot = Some((&*source.source, place));
    }
    links
}

/// Groups the window's WiFi records into packets per link (the records of one link with
/// one time) and appends each packet to its link's series; returns the unused records.
fn collect_packets(window: &Window, spec: &PreprocessSpec, scratch: &mut WifiScratch) -> usize {
    let links = links(window);
    scratch
        .packets
        .start_window(&links.map(|l| l.map(|(name, _)| name)), window.start_ns);
    let places = links.map(|l| l.map(|(_, place)| place));
    let mut pending: [Option<u64>; WIFI_LINKS] = [None; WIFI_LINKS];
    let mut unused = 0;
    for r in window.refs_of(Modality::Wifi) {
        let link = r
            .source
            .and_then(|s| places.iter().position(|&p| p == Some(s)));
        let Some(link) = link else {
            unused += 1;
            continue;
        };
        if pending[link].is_some_and(|at| at != r.t_ns) {
            unused += finish_packet(window, spec, scratch, link, pending[link].take());
        }
        pending[link] = Some(r.t_ns);
        scratch.members[link].push(r.index);
    }
    for (link, at) in pending.into_iter().enumerate() {
        unused += finish_packet(window, spec, scratch, link, at);
    }
    unused
}

/// Appends the packet of `link` at `at` (its records gathered in `scratch.members`) to the
/// link's series, from the cache when an earlier window computed it; returns its records
/// without a mapping.
fn finish_packet(
    window: &Window,
    spec: &PreprocessSpec,
    scratch: &mut WifiScratch,
    link: usize,
    at: Option<u64>,
) -> usize {
    let Some(t_ns) = at else {
        return 0;
    };
    let members = &scratch.members[link];
    let picks = &mut scratch.picks;
    // Read where it is kept: a packet's rows are most of a kilobyte.
    let kept = scratch.packets.get_or_put(link, t_ns, members.len(), || {
        read_packet(window, spec, members, t_ns, picks)
    });
    let Some(packet) = kept else {
        // Not reached: start_window gave every link a slot. Were it, the packet adds nothing.
        scratch.members[link].clear();
        return 0;
    };
    let series = &mut scratch.series[link * WIFI_BLOCKS..(link + 1) * WIFI_BLOCKS];
    push_rows(series, seconds_into(window, t_ns), &packet.rows);
    let directions = &mut scratch.directions[link * PAIRS..(link + 1) * PAIRS];
    add_directions(directions, &packet.rows);
    let unusable = packet.unusable;
    scratch.members[link].clear();
    unusable
}

/// Reads the records `members` of one packet and computes what it adds to the series.
fn read_packet(
    window: &Window,
    spec: &PreprocessSpec,
    members: &[usize],
    t_ns: u64,
    picks: &mut csi::Picks,
) -> CachedPacket {
    let mut packet: Packet = [None; WIFI_ANTENNAS];
    let mut unusable = 0;
    for &i in members {
        let Some(reading) = csi::read(
            &window.records[i].record.payload,
            &spec.wifi_subcarriers,
            picks,
        ) else {
            unusable += 1;
            continue;
        };
        for (held, antenna) in packet.iter_mut().zip(reading) {
            if antenna.is_some() {
                *held = antenna;
            }
        }
    }
    CachedPacket {
        t_ns,
        records: members.len(),
        unusable,
        rows: packet_rows(&packet),
    }
}

/// Resamples every series onto `grid` into its 30 rows of `out`, phase series unwrapped
/// first, each row centred (phase rows about their circular mean, from `directions`, and
/// wrapped) and scaled.
fn write_rows(
    series: &mut [Series],
    directions: &[Directions; WIFI_LINKS * PAIRS],
    grid: &[f64],
    out: &mut [f32],
) {
    let steps = grid.len();
    let block = WIFI_SUBCARRIERS * steps;
    for (channel, s) in series.iter_mut().enumerate() {
        let rows = &mut out[channel * block..(channel + 1) * block];
        // Block 0 is the link's power; blocks 1 and 2 its antenna pairs' phase differences.
        let (link, kind) = (channel / WIFI_BLOCKS, channel % WIFI_BLOCKS);
        let pair = kind.checked_sub(1).map(|p| link * PAIRS + p);
        if pair.is_some() {
            unwrap_columns(s);
        }
        s.resample_into(grid, rows);
        if s.is_empty() {
            continue;
        }
        match pair {
            None => centre_rows(rows, steps, WIFI_AMPLITUDE_SCALE_DB),
            Some(p) => centre_phase_rows(rows, steps, &directions[p], WIFI_PHASE_SCALE_RAD),
        }
    }
}

/// What one packet adds to its link's three series: antenna-averaged power in dB, and
/// the two neighbouring antennas' phase differences.
fn packet_rows(packet: &Packet) -> PacketRows {
    let antennas = packet.iter().flatten().count();
    let mut rows = PacketRows {
        power: None,
        phase_diffs: [None; WIFI_ANTENNAS - 1],
        phase_units: [[[0.0; 2]; WIFI_SUBCARRIERS]; WIFI_ANTENNAS - 1],
    };
    if antennas == 0 {
        return rows;
    }
    rows.power = Some(std::array::from_fn(|s| {
        let p: f32 = packet
            .iter()
            .flatten()
            .map(|a| a[s].0 * a[s].0 + a[s].1 * a[s].1)
            .sum();
        10.0 * (p / antennas as f32).max(1e-6).log10()
    }));
    for (pair, (diff, units)) in (rows.phase_diffs.iter_mut())
        .zip(&mut rows.phase_units)
        .enumerate()
    {
        if let (Some(a), Some(b)) = (&packet[pair], &packet[pair + 1]) {
            // b · conj(a), whose argument is the phase difference.
            let product: [(f32, f32); WIFI_SUBCARRIERS] = std::array::from_fn(|s| {
                let (ar, ai, br, bi) = (a[s].0, a[s].1, b[s].0, b[s].1);
                (br * ar + bi * ai, bi * ar - br * ai)
            });
            *diff = Some(product.map(|(re, im)| angle::atan2(im, re)));
            *units = product.map(|(re, im)| {
                let norm = angle::hypot(re, im);
                if norm > 0.0 {
                    [re / norm, im / norm]
                } else {
                    [0.0, 0.0]
                }
            });
        }
    }
    rows
}

/// Adds a packet's phase differences, as unit vectors, to its link's direction sums.
fn add_directions(directions: &mut [Directions], rows: &PacketRows) {
    for (sums, units) in directions.iter_mut().zip(&rows.phase_units) {
        for (sum, unit) in sums.iter_mut().zip(units) {
            sum[0] += f64::from(unit[0]);
            sum[1] += f64::from(unit[1]);
        }
    }
}

/// Appends a packet's rows at time `t` to its link's three series.
fn push_rows(series: &mut [Series], t: f64, rows: &PacketRows) {
    if let Some(power) = &rows.power {
        series[0].push(t, power);
    }
    for (s, diff) in series[1..].iter_mut().zip(&rows.phase_diffs) {
        if let Some(diff) = diff {
            s.push(t, diff);
        }
    }
}

/// Unwraps every column of `series` along time (see [`phase_rows::unwrap_columns`]).
fn unwrap_columns(series: &mut Series) {
    let n = series.len();
    if n >= 2 {
        let width = series.values.len() / n;
        phase_rows::unwrap_columns(&mut series.values, width);
    }
}

/// Subtracts each row's mean (rows of `steps` values) and divides by `scale`.
///
/// The sums run over [`ROW_GROUP`] rows side by side (each row's in its own order, so the
/// same value as summing it alone): the processor overlaps the independent sums instead of
/// waiting on one.
fn centre_rows(rows: &mut [f32], steps: usize, scale: f32) {
    for group in rows.chunks_mut(steps * ROW_GROUP) {
        let n_rows = group.len() / steps;
        // `Iterator::sum`'s start for floats: -0.0 + x is x, also for x = -0.0.
        let mut sums = [-0.0f32; ROW_GROUP];
        for k in 0..steps {
            for (r, sum) in sums[..n_rows].iter_mut().enumerate() {
                *sum += group[r * steps + k];
            }
        }
        for (row, sum) in group.chunks_exact_mut(steps).zip(sums) {
            let mean = sum / steps as f32;
            for x in row.iter_mut() {
                *x = (*x - mean) / scale;
            }
        }
    }
}

/// Rows whose sums [`centre_rows`] runs side by side.
const ROW_GROUP: usize = 8;

/// Turns each phase row (rows of `steps` values, one per subcarrier) by minus its circular
/// mean, the direction of `directions`' sum for that subcarrier (no turn when the sum is
/// zero: no packet had a defined phase), wraps it to ±π and divides by `scale`.
fn centre_phase_rows(rows: &mut [f32], steps: usize, directions: &Directions, scale: f32) {
    let means = directions.map(|[cos_sum, sin_sum]| sin_sum.atan2(cos_sum));
    phase_rows::turn_rows(rows, steps, &means, scale);
}

#[cfg(test)]
mod tests {
    use super::super::grid::wrap_pi;
    use super::*;

    #[test]
    fn thirty_distinct_used_subcarriers_span_the_band() {
        let k = picked_subcarriers();
        assert!(k.windows(2).all(|w| w[0] < w[1]));
        assert!(k.iter().all(|&k| k != 0 && k.abs() <= 26));
        assert_eq!((k[0], k[29]), (-26, 26));
    }

    /// The unwrap and the centring as they were written first, one column or row at a
    /// time: the grouped forms must give the same bits.
    fn unwrap_one_column_at_a_time(series: &mut Series) {
        let n = series.len();
        let width = series.values.len() / n;
        for j in 0..width {
            let mut level = f64::from(series.values[j]);
            for i in 1..n {
                let prev = f64::from(series.values[(i - 1) * width + j]);
                let now = f64::from(series.values[i * width + j]);
                level += wrap_pi(now - wrap_pi(prev));
                series.values[i * width + j] = level as f32;
            }
        }
    }

    fn centre_one_row_at_a_time(rows: &mut [f32], steps: usize, scale: f32) {
        for row in rows.chunks_exact_mut(steps) {
            let mean = row.iter().sum::<f32>() / steps as f32;
            row.iter_mut().for_each(|x| *x = (*x - mean) / scale);
        }
    }

    /// Phase-like values: turning at a few speeds, wrapped, with a column of zeros.
    fn wrapped_phases(n: usize, width: usize) -> Series {
        let mut s = Series::default();
        for i in 0..n {
            let row: Vec<f32> = (0..width)
                .map(|j| match j {
                    0 => -0.0,
                    _ => wrap_pi(0.37 * (j as f64) * i as f64 + (j as f64).sin() * 9.0) as f32,
                })
                .collect();
            s.push(i as f64 * 0.01, &row);
        }
        s
    }

    #[test]
    fn grouped_unwrap_and_centring_equal_the_one_at_a_time_forms_bit_for_bit() {
        // 30 columns (a link) and 70 (more than one group); 200 and 13 rows (a last group
        // of rows shorter than the others).
        for (n, width) in [(200, 30), (57, 70), (2, 3)] {
            let mut grouped = wrapped_phases(n, width);
            let mut alone = grouped.clone();
            unwrap_columns(&mut grouped);
            unwrap_one_column_at_a_time(&mut alone);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&grouped.values), bits(&alone.values), "{n} x {width}");
            let turned = grouped.values.iter().any(|v| v.abs() > 10.0);
            assert!(turned || n < 10, "{n} x {width}: unwrapped past ±π");
        }
        for (rows, steps) in [(90, 200), (13, 7), (1, 5)] {
            let mut values = wrapped_phases(rows, steps).values;
            values[..steps].fill(-0.0);
            let mut alone = values.clone();
            centre_rows(&mut values, steps, 0.7);
            centre_one_row_at_a_time(&mut alone, steps, 0.7);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&values), bits(&alone), "{rows} x {steps}");
        }
    }

    #[test]
    fn antenna_powers_are_averaged_linearly_and_phase_units_follow_the_differences() {
        // Antenna 0 flat; antenna 1 20 dB down on subcarrier 0 and turned by 0.5 rad on
        // every subcarrier; antenna 2 absent.
        let mut one = [(1.0f32, 0.0f32); WIFI_SUBCARRIERS];
        one[0] = (0.1, 0.0);
        let turned = one.map(|(re, _)| (re * 0.5f32.cos(), re * 0.5f32.sin()));
        let rows = packet_rows(&[Some([(1.0, 0.0); WIFI_SUBCARRIERS]), Some(turned), None]);
        let power = rows.power.unwrap();
        // The mean of the linear powers, in dB: 10·log10((1 + 0.01) / 2).
        assert!(
            (power[0] - 10.0 * 0.505f32.log10()).abs() < 1e-4,
            "{}",
            power[0]
        );
        assert!(power[1].abs() < 1e-5);
        let diff = rows.phase_diffs[0].unwrap();
        assert!(diff.iter().all(|d| (d - 0.5).abs() < 1e-5), "{diff:?}");
        for [c, s] in rows.phase_units[0] {
            assert!((c - 0.5f32.cos()).abs() < 1e-5 && (s - 0.5f32.sin()).abs() < 1e-5);
        }
        assert!(rows.phase_diffs[1].is_none());
        assert!(
            rows.phase_units[1].iter().all(|u| *u == [0.0, 0.0]),
            "absent pair"
        );
    }

    #[test]
    fn phase_columns_unwrap_through_several_turns() {
        let mut s = Series::default();
        for i in 0..100 {
            let p = wrap_pi(0.4 * f64::from(i)) as f32;
            s.push(f64::from(i), &[p, -p]);
        }
        unwrap_columns(&mut s);
        let last = &s.values[198..200];
        assert!((f64::from(last[0]) - 0.4 * 99.0).abs() < 1e-3, "{last:?}");
        assert!((f64::from(last[1]) + 0.4 * 99.0).abs() < 1e-3, "{last:?}");
    }
}
