//! The owned record of one data-port packet: header fields, points with their side info,
//! and every other TLV, plus the encoder that writes it back as a valid packet.
use alloc::vec::Vec;
use core::fmt;

use super::header::{HeaderLayout, HeaderRepr, Packet, SEGMENT_LEN};
use super::payload::{Complex16, Complex16Array, Stats, TemperatureStats, U16Array};
use super::points::{
    metres_to_q, q_to_metres, CartesianPoint, PointCloud, QFormatObject, QFormatObjects, SideInfo,
    SideInfoList, DESCR_LEN, OBJECT_LEN, POINT_LEN, SIDE_INFO_LEN,
};
use super::tlv::{Tlv, TlvIter, TlvType, TL_LEN};
use crate::error::{Error, Result};

/// `version` the encoder writes by default: SDK 3.4.0.3, as in the real recordings.
pub const DEFAULT_VERSION: u32 = 0x0304_0003;
/// `platform` the encoder writes by default: xwr16xx.
pub const DEFAULT_PLATFORM: u32 = 0xA1642;
/// `xyzQFormat` the encoder uses for SDK 1.x/2.x frames that do not name one.
pub const DEFAULT_Q_FORMAT: u16 = 9;

/// Bin indices an SDK 1.x/2.x Q-format object carries besides its coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BinIndices {
    /// `rangeIdx`.
    pub range_idx: u16,
    /// `dopplerIdx` (signed).
    pub doppler_idx: i16,
    /// `peakVal`.
    pub peak_val: u16,
}

/// One detected point, whichever SDK produced it.
///
/// SDK 1.x/2.x objects carry no velocity, only a Doppler bin index whose scale depends on the
/// radar configuration; for them `v` is `NaN` ("unknown", shown as JSON `null`) until
/// [`Frame::apply_doppler_resolution`] is given the m/s per bin (see `cli::RadarParams`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// Metres.
    pub x: f32,
    /// Metres.
    pub y: f32,
    /// Metres.
    pub z: f32,
    /// Radial velocity, m/s (positive = moving away); `NaN` when unknown.
    pub v: f32,
    /// TLV 7 `snr` of the same index (0.1 dB), if the frame had TLV 7.
    pub snr: Option<i16>,
    /// TLV 7 `noise` of the same index (0.1 dB), if the frame had TLV 7.
    pub noise: Option<i16>,
    /// Range/Doppler bin and peak of an SDK 1.x/2.x Q-format object.
    pub bins: Option<BinIndices>,
}

/// A TLV this codec does not interpret (or a repeat of a known one): kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawTlv {
    /// `type`.
    pub tlv_type: u32,
    /// The payload (`length` bytes).
    pub payload: Vec<u8>,
}

/// One decoded data-port packet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    /// Header `version` (Major<<24 | Minor<<16 | Bugfix<<8 | Build).
    pub version: u32,
    /// Header `platform` (e.g. 0xA1642).
    pub platform: u32,
    /// Header `frameNumber`.
    pub frame_number: u32,
    /// Header `timeCpuCycles`.
    pub time_cpu_cycles: u32,
    /// Header `numDetectedObj`, as sent (the encoder writes it unchanged).
    pub num_detected_obj: u32,
    /// Header `subFrameNumber`; `None` for 36-byte headers.
    pub subframe: Option<u32>,
    /// TLV 1 points paired with TLV 7 side info by index.
    pub points: Vec<Point>,
    /// TLV 1 `xyzQFormat` of an SDK 1.x/2.x frame.
    pub xyz_q_format: Option<u16>,
    /// TLV 2: log-magnitude per range bin at Doppler 0.
    pub range_profile: Option<Vec<u16>>,
    /// TLV 3: log-magnitude per range bin at the maximum Doppler bin.
    pub noise_profile: Option<Vec<u16>>,
    /// TLV 4: azimuth static heatmap, range-major over virtual antennas.
    pub azimuth_heatmap: Option<Vec<Complex16>>,
    /// TLV 5: range-Doppler heatmap, range-major.
    pub range_doppler_heatmap: Option<Vec<u16>>,
    /// TLV 6: processing statistics.
    pub stats: Option<Stats>,
    /// TLV 8: azimuth/elevation static heatmap.
    pub azimuth_elevation_heatmap: Option<Vec<Complex16>>,
    /// TLV 9: temperature statistics.
    pub temperature: Option<TemperatureStats>,
    /// Unknown TLV types, and repeats of known ones, in arrival order.
    pub other_tlvs: Vec<RawTlv>,
}

/// One TLV the encoder will write, in the order the SDK 3.x firmware writes them.
enum Section<'a> {
    Points,
    SideInfo,
    U16(TlvType, &'a [u16]),
    Complex(TlvType, &'a [Complex16]),
    Stats(&'a Stats),
    Temperature(&'a TemperatureStats),
    Raw(&'a RawTlv),
}

impl Frame {
    /// A frame as the SDK 3.4 xwr16xx demo would send it: the simulator's starting point.
    pub fn new(frame_number: u32, points: Vec<Point>) -> Frame {
        Frame {
            version: DEFAULT_VERSION,
            platform: DEFAULT_PLATFORM,
            frame_number,
            num_detected_obj: u32::try_from(points.len()).unwrap_or(u32::MAX),
            subframe: Some(0),
            points,
            ..Frame::default()
        }
    }

    /// Decodes a whole packet (header, `numTLVs` TLVs, padding up to `totalPacketLen`).
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Frame> {
        let header = HeaderRepr::parse(packet)?;
        let layout = header.layout();
        let total = usize::try_from(header.total_packet_len).unwrap_or(usize::MAX);
        if packet.tlv_area().len() < total.saturating_sub(layout.header_len()) {
            return Err(Error::Truncated);
        }
        let mut frame = Frame::from_header(&header);
        let mut side_info = None;
        let mut seen = 0u16;
        for tlv in TlvIter::new(packet.tlv_area(), header.num_tlvs) {
            let tlv = tlv?;
            let raw = tlv.raw_type();
            let bit = if (1..=9).contains(&raw) {
                1u16 << raw
            } else {
                0
            };
            if bit == 0 || seen & bit != 0 {
                frame.other_tlvs.push(RawTlv {
                    tlv_type: raw,
                    payload: tlv.payload().to_vec(),
                });
                continue;
            }
            seen |= bit;
            if tlv.tlv_type() == TlvType::DetectedPointsSideInfo {
                side_info = Some((tlv, frame.other_tlvs.len()));
            } else {
                frame.absorb(&tlv, layout)?;
            }
        }
        if let Some((tlv, position)) = side_info {
            frame.pair_side_info(tlv, position)?;
        }
        Ok(frame)
    }

    /// Decodes a packet held in `bytes` (which may extend past `totalPacketLen`).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Frame> {
        Frame::parse(&Packet::new_checked(bytes)?)
    }

    fn from_header(header: &HeaderRepr) -> Frame {
        Frame {
            version: header.version,
            platform: header.platform,
            frame_number: header.frame_number,
            time_cpu_cycles: header.time_cpu_cycles,
            num_detected_obj: header.num_detected_obj,
            subframe: header.subframe_number,
            ..Frame::default()
        }
    }

    /// Stores the first TLV of a known type (other than 7) in its field.
    fn absorb(&mut self, tlv: &Tlv<&[u8]>, layout: HeaderLayout) -> Result<()> {
        let payload = tlv.payload();
        match tlv.tlv_type() {
            TlvType::DetectedPoints if layout.has_q_format_points() => {
                self.absorb_q_format_points(payload)?
            }
            TlvType::DetectedPoints => self.absorb_float_points(payload)?,
            TlvType::RangeProfile => self.range_profile = Some(u16s(payload)?),
            TlvType::NoiseProfile => self.noise_profile = Some(u16s(payload)?),
            TlvType::AzimuthStaticHeatMap => self.azimuth_heatmap = Some(complexes(payload)?),
            TlvType::RangeDopplerHeatMap => self.range_doppler_heatmap = Some(u16s(payload)?),
            TlvType::Stats => self.stats = Some(Stats::parse(payload)?),
            TlvType::AzimuthElevationStaticHeatMap => {
                self.azimuth_elevation_heatmap = Some(complexes(payload)?)
            }
            TlvType::TemperatureStats => self.temperature = Some(TemperatureStats::parse(payload)?),
            TlvType::DetectedPointsSideInfo | TlvType::Unknown(_) => {}
        }
        Ok(())
    }

    fn absorb_float_points(&mut self, payload: &[u8]) -> Result<()> {
        let cloud = PointCloud::new_checked(payload)?;
        self.points = cloud
            .iter()
            .map(|p| Point {
                x: p.x,
                y: p.y,
                z: p.z,
                v: p.velocity,
                ..Point::default()
            })
            .collect();
        Ok(())
    }

    fn absorb_q_format_points(&mut self, payload: &[u8]) -> Result<()> {
        let objects = QFormatObjects::new_checked(payload)?;
        let q = objects.xyz_q_format();
        self.xyz_q_format = Some(q);
        self.points = objects
            .iter()
            .map(|o| Point {
                x: q_to_metres(o.x, q),
                y: q_to_metres(o.y, q),
                z: q_to_metres(o.z, q),
                v: f32::NAN,
                snr: None,
                noise: None,
                bins: Some(BinIndices {
                    range_idx: o.range_idx,
                    doppler_idx: o.doppler_idx,
                    peak_val: o.peak_val,
                }),
            })
            .collect();
        Ok(())
    }

    /// Pairs TLV 7 entries with points by index (points beyond the entries keep `None`).
    /// A TLV 7 with more entries than there are points cannot be paired; it is kept raw in
    /// `other_tlvs` at its arrival `position`, so no byte of it is lost.
    fn pair_side_info(&mut self, tlv: Tlv<&[u8]>, position: usize) -> Result<()> {
        let list = SideInfoList::new_checked(tlv.payload())?;
        if list.len() > self.points.len() {
            let raw = RawTlv {
                tlv_type: tlv.raw_type(),
                payload: tlv.payload().to_vec(),
            };
            self.other_tlvs
                .insert(position.min(self.other_tlvs.len()), raw);
            return Ok(());
        }
        for (point, info) in self.points.iter_mut().zip(list.iter()) {
            point.snr = Some(info.snr);
            point.noise = Some(info.noise);
        }
        Ok(())
    }

    /// Sets `v` of SDK 1.x/2.x points from their Doppler bin and the radar's m/s per bin.
    pub fn apply_doppler_resolution(&mut self, mps_per_bin: f32) {
        for point in &mut self.points {
            if let Some(bins) = point.bins {
                point.v = f32::from(bins.doppler_idx) * mps_per_bin;
            }
        }
    }

    /// The header layout `version` and `platform` select.
    pub fn layout(&self) -> HeaderLayout {
        HeaderLayout::of(self.version, self.platform)
    }

    /// TLV type numbers this frame holds, in the order the encoder writes them.
    pub fn tlv_types(&self) -> impl Iterator<Item = u32> + '_ {
        self.sections().map(|s| u32::from(s.tlv_type()))
    }

    /// Points the TLV 7 covers: the leading ones with side info (a TLV 7 shorter than TLV 1
    /// leaves the last points without). A missing half of a pair is written as 0.
    fn side_info_len(&self) -> usize {
        self.points
            .iter()
            .take_while(|p| p.snr.is_some() || p.noise.is_some())
            .count()
    }

    /// True when TLV 1 is written: there are points, or an SDK 1.x/2.x descriptor to keep.
    fn has_points_tlv(&self) -> bool {
        !self.points.is_empty()
            || (self.layout().has_q_format_points() && self.xyz_q_format.is_some())
    }

    /// True when `other_tlvs` holds a TLV of type `t` (a repeat, or a TLV 7 that could not
    /// be paired).
    fn has_raw(&self, t: TlvType) -> bool {
        self.other_tlvs
            .iter()
            .any(|raw| raw.tlv_type == u32::from(t))
    }

    /// The sections the encoder writes, in order. A points or side-info section is written
    /// even when empty if a raw TLV of its type follows: parsing takes the first TLV of a
    /// type as the section and keeps later ones raw, so without the (empty) first one the
    /// raw TLV would be read back as the section (found by the seeded fuzzer).
    fn sections(&self) -> impl Iterator<Item = Section<'_>> {
        let fixed = [
            (self.has_points_tlv() || self.has_raw(TlvType::DetectedPoints))
                .then_some(Section::Points),
            (self.side_info_len() > 0 || self.has_raw(TlvType::DetectedPointsSideInfo))
                .then_some(Section::SideInfo),
            self.range_profile
                .as_deref()
                .map(|v| Section::U16(TlvType::RangeProfile, v)),
            self.noise_profile
                .as_deref()
                .map(|v| Section::U16(TlvType::NoiseProfile, v)),
            self.azimuth_heatmap
                .as_deref()
                .map(|v| Section::Complex(TlvType::AzimuthStaticHeatMap, v)),
            self.range_doppler_heatmap
                .as_deref()
                .map(|v| Section::U16(TlvType::RangeDopplerHeatMap, v)),
            self.stats.as_ref().map(Section::Stats),
            self.azimuth_elevation_heatmap
                .as_deref()
                .map(|v| Section::Complex(TlvType::AzimuthElevationStaticHeatMap, v)),
            self.temperature.as_ref().map(Section::Temperature),
        ];
        fixed
            .into_iter()
            .flatten()
            .chain(self.other_tlvs.iter().map(Section::Raw))
    }

    fn section_payload_len(&self, section: &Section<'_>) -> usize {
        let n = self.points.len();
        match section {
            Section::Points if self.layout().has_q_format_points() => {
                n.saturating_mul(OBJECT_LEN).saturating_add(DESCR_LEN)
            }
            Section::Points => n.saturating_mul(POINT_LEN),
            Section::SideInfo => self.side_info_len().saturating_mul(SIDE_INFO_LEN),
            Section::U16(_, v) => v.len().saturating_mul(2),
            Section::Complex(_, v) => v.len().saturating_mul(4),
            Section::Stats(s) => s.buffer_len(),
            Section::Temperature(t) => t.buffer_len(),
            Section::Raw(r) => r.payload.len(),
        }
    }

    /// Header plus TLVs, before padding.
    fn unpadded_len(&self) -> usize {
        self.sections().fold(self.layout().header_len(), |acc, s| {
            acc.saturating_add(TL_LEN)
                .saturating_add(self.section_payload_len(&s))
        })
    }

    /// Bytes [`emit`](Self::emit) writes: header and TLVs padded to a multiple of 32.
    pub fn buffer_len(&self) -> usize {
        let len = self.unpadded_len();
        len.saturating_add((SEGMENT_LEN - len % SEGMENT_LEN) % SEGMENT_LEN)
    }

    /// Writes the packet into `packet` (at least [`buffer_len`](Self::buffer_len) bytes);
    /// padding is zeros. `numDetectedObj` is written as stored.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let total = self.buffer_len();
        let header = HeaderRepr {
            version: self.version,
            total_packet_len: u32::try_from(total)
                .map_err(|_| Error::Unsupported("frame over 4 GiB"))?,
            platform: self.platform,
            frame_number: self.frame_number,
            time_cpu_cycles: self.time_cpu_cycles,
            num_detected_obj: self.num_detected_obj,
            num_tlvs: u32::try_from(self.sections().count()).unwrap_or(u32::MAX),
            subframe_number: self.subframe,
        };
        if packet.as_bytes().len() < total {
            return Err(Error::BufferTooSmall);
        }
        header.emit(packet)?;
        let area = packet.tlv_area_mut();
        let mut at = 0;
        for section in self.sections() {
            let rest = area.get_mut(at..).ok_or(Error::BufferTooSmall)?;
            at += self.emit_section(&section, rest)?;
        }
        area.get_mut(at..).unwrap_or_default().fill(0);
        Ok(())
    }

    /// Writes one TLV (header and payload) at the start of `out`; returns its length.
    fn emit_section(&self, section: &Section<'_>, out: &mut [u8]) -> Result<usize> {
        let len = self.section_payload_len(section);
        let total = TL_LEN.saturating_add(len);
        let mut tlv = Tlv::new_unchecked(out.get_mut(..total).ok_or(Error::BufferTooSmall)?);
        tlv.set_raw_type(section.tlv_type().into());
        tlv.set_length(u32::try_from(len).map_err(|_| Error::Unsupported("TLV over 4 GiB"))?);
        self.write_section(section, tlv.payload_mut())?;
        Ok(total)
    }

    /// The packet as a new byte vector.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut bytes = alloc::vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]))?;
        Ok(bytes)
    }

    fn write_section(&self, section: &Section<'_>, out: &mut [u8]) -> Result<()> {
        match section {
            Section::Points if self.layout().has_q_format_points() => {
                self.write_q_format_points(out)
            }
            Section::Points => self.write_float_points(out),
            Section::SideInfo => self.write_side_info(out),
            Section::U16(_, values) => U16Array::new_checked(out)?.set_all(values),
            Section::Complex(_, values) => {
                let mut view = Complex16Array::new_checked(out)?;
                values
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, c)| view.set(i, *c))
            }
            Section::Stats(stats) => stats.emit(out),
            Section::Temperature(t) => t.emit(out),
            Section::Raw(raw) => {
                out.get_mut(..raw.payload.len())
                    .ok_or(Error::BufferTooSmall)?
                    .copy_from_slice(&raw.payload);
                Ok(())
            }
        }
    }

    fn write_float_points(&self, out: &mut [u8]) -> Result<()> {
        let mut view = PointCloud::new_checked(out)?;
        self.points.iter().enumerate().try_for_each(|(i, p)| {
            let point = CartesianPoint {
                x: p.x,
                y: p.y,
                z: p.z,
                velocity: p.v,
            };
            view.set_point(i, &point)
        })
    }

    fn write_q_format_points(&self, out: &mut [u8]) -> Result<()> {
        let count = u16::try_from(self.points.len())
            .map_err(|_| Error::Unsupported("more than 65535 Q-format objects"))?;
        let q = self.xyz_q_format.unwrap_or(DEFAULT_Q_FORMAT);
        let mut view = QFormatObjects::new_unchecked(out);
        view.set_descriptor(count, q);
        self.points.iter().enumerate().try_for_each(|(i, p)| {
            let bins = p.bins.unwrap_or_default();
            let object = QFormatObject {
                range_idx: bins.range_idx,
                doppler_idx: bins.doppler_idx,
                peak_val: bins.peak_val,
                x: metres_to_q(p.x, q),
                y: metres_to_q(p.y, q),
                z: metres_to_q(p.z, q),
            };
            view.set_object(i, &object)
        })
    }

    fn write_side_info(&self, out: &mut [u8]) -> Result<()> {
        let mut view = SideInfoList::new_checked(out)?;
        let covered = self.points.iter().take(self.side_info_len());
        covered.enumerate().try_for_each(|(i, p)| {
            let info = SideInfo {
                snr: p.snr.unwrap_or(0),
                noise: p.noise.unwrap_or(0),
            };
            view.set_entry(i, &info)
        })
    }
}

impl Section<'_> {
    fn tlv_type(&self) -> TlvType {
        match self {
            Section::Points => TlvType::DetectedPoints,
            Section::SideInfo => TlvType::DetectedPointsSideInfo,
            Section::U16(t, _) | Section::Complex(t, _) => *t,
            Section::Stats(_) => TlvType::Stats,
            Section::Temperature(_) => TlvType::TemperatureStats,
            Section::Raw(raw) => TlvType::from(raw.tlv_type),
        }
    }
}

fn u16s(payload: &[u8]) -> Result<Vec<u16>> {
    Ok(U16Array::new_checked(payload)?.iter().collect())
}

fn complexes(payload: &[u8]) -> Result<Vec<Complex16>> {
    Ok(Complex16Array::new_checked(payload)?.iter().collect())
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "frame {}: {} points, TLVs",
            self.frame_number,
            self.points.len()
        )?;
        let mut any = false;
        for t in self.tlv_types() {
            write!(f, " {t}")?;
            any = true;
        }
        if !any {
            write!(f, " none")?;
        }
        if let Some(sub) = self.subframe.filter(|s| *s != 0) {
            write!(f, " (subframe {sub})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ti_mmwave::header::field;
    use crate::ti_mmwave::header::PLATFORM_XWR14XX;
    use proptest::prelude::*;

    pub(crate) const FIRST_RECORDING: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/real/ti_mmwave/xwr16xx_processed_stream_2020_06_26T14_00_37_341.dat"
    );

    fn first_real_packet() -> Vec<u8> {
        let data = std::fs::read(FIRST_RECORDING).expect("real TI recording");
        data[..736].to_vec()
    }

    /// An SDK 2.1 xwr16xx packet built by hand from the spec: 40-byte header, TLV 1 with a
    /// Q9 descriptor and two objects, padded to 96 bytes.
    fn sdk2_packet(platform: u32) -> Vec<u8> {
        let short = platform == PLATFORM_XWR14XX;
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC_BYTES);
        for v in [0x0201_0004u32, 0, platform, 7, 1234, 2, 1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        if !short {
            b.extend_from_slice(&0u32.to_le_bytes());
        }
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&28u32.to_le_bytes());
        b.extend_from_slice(&[
            0x02, 0x00, 0x09, 0x00, // 2 objects, Q9
            0x0a, 0x00, 0x01, 0x00, 0x64, 0x00, 0x00, 0x02, 0x00, 0xff, 0x00, 0x00, //
            0x14, 0x00, 0xfe, 0xff, 0xc8, 0x00, 0x00, 0xff, 0x00, 0x04, 0x80, 0x00,
        ]);
        let total = b.len().div_ceil(32) * 32;
        b.resize(total, 0x0f);
        b[field::TOTAL_PACKET_LEN].copy_from_slice(&(total as u32).to_le_bytes());
        b
    }

    const MAGIC_BYTES: [u8; 8] = crate::ti_mmwave::MAGIC;

    #[test]
    fn parse_first_real_frame_gives_spec_values() {
        // Where these values come from: shared/reference/wire-formats.md §1.5 hex-dumps the
        // first 128 bytes of this recording and decodes them field by field (a script there, and
        // pymmWave, give the same points). TI's own visualizer CSV (`tlv_TI_demo_mmw.csv`)
        // covers the *second* recording, frames 316..=416, and is checked point by point in
        // protocols' `every_point_of_the_second_recording_matches_the_csv`; its "frame 370" is
        // that recording's frame, not this one.
        let frame = Frame::parse_bytes(&first_real_packet()).unwrap();
        assert_eq!(frame.version, 0x0304_0003);
        assert_eq!(frame.platform, 0xA1642);
        assert_eq!(frame.frame_number, 370);
        assert_eq!(frame.num_detected_obj, 4);
        assert_eq!(frame.subframe, Some(0));
        let expect = [
            (0.0095, 0.3053, 247, 898),
            (0.0177, 0.5669, 303, 721),
            (0.0, 0.8289, 281, 589),
            (0.0, 1.0907, 212, 504),
        ];
        assert_eq!(frame.points.len(), 4);
        for (p, (x, y, snr, noise)) in frame.points.iter().zip(expect) {
            assert!((p.x - x).abs() < 1e-4 && (p.y - y).abs() < 1e-4, "{p:?}");
            assert_eq!((p.z, p.v), (0.0, 0.0));
            assert_eq!((p.snr, p.noise), (Some(snr), Some(noise)));
            assert_eq!(p.bins, None);
        }
        assert_eq!(frame.range_profile.as_ref().map(Vec::len), Some(256));
        assert!(frame.stats.is_some() && frame.temperature.is_some());
        assert!(frame.other_tlvs.is_empty());
        assert_eq!(frame.tlv_types().collect::<Vec<_>>(), [1, 7, 2, 6, 9]);
        assert_eq!(
            alloc::format!("{frame}"),
            "frame 370: 4 points, TLVs 1 7 2 6 9"
        );
    }

    #[test]
    fn emit_reproduces_the_real_frame_except_padding() {
        let real = first_real_packet();
        let frame = Frame::parse_bytes(&real).unwrap();
        assert_eq!(frame.buffer_len(), 736);
        let bytes = frame.encode().unwrap();
        assert_eq!(bytes.len(), 736);
        assert_eq!(bytes[..724], real[..724], "header and TLVs byte for byte");
        assert!(bytes[724..].iter().all(|&b| b == 0));
    }

    #[test]
    fn sdk2_q_format_frame_decodes_to_metres_and_bins() {
        let frame = Frame::parse_bytes(&sdk2_packet(0xA1642)).unwrap();
        assert_eq!(frame.subframe, Some(0));
        assert_eq!(frame.xyz_q_format, Some(9));
        let p = frame.points[1];
        assert_eq!((p.x, p.y, p.z), (-0.5, 2.0, 0.25));
        assert!(p.v.is_nan(), "velocity unknown without the config");
        let bins = p.bins.unwrap();
        assert_eq!(
            (bins.range_idx, bins.doppler_idx, bins.peak_val),
            (20, -2, 200)
        );
        assert_eq!(frame.points[0].x, 1.0);
        assert_eq!(frame.points[0].y, -0.5);
    }

    #[test]
    fn xwr14xx_sdk2_header_is_36_bytes() {
        let packet = sdk2_packet(PLATFORM_XWR14XX);
        let frame = Frame::parse_bytes(&packet).unwrap();
        assert_eq!(frame.subframe, None);
        assert_eq!(frame.points.len(), 2);
        assert_eq!(frame.encode().unwrap()[..72], packet[..72]);
    }

    #[test]
    fn doppler_resolution_gives_legacy_points_a_velocity() {
        let mut frame = Frame::parse_bytes(&sdk2_packet(0xA1642)).unwrap();
        frame.apply_doppler_resolution(0.125);
        assert_eq!(frame.points[1].v, -0.25);
    }

    #[test]
    fn zero_length_points_tlv_and_unknown_types_are_accepted() {
        let mut frame = Frame::new(5, Vec::new());
        frame.other_tlvs.push(RawTlv {
            tlv_type: 1020,
            payload: alloc::vec![1, 2, 3],
        });
        let mut bytes = frame.encode().unwrap();
        // Insert the SDK 3.x quirk: an empty TLV 1 before the unknown one.
        bytes.splice(40..40, [1, 0, 0, 0, 0, 0, 0, 0]);
        bytes[32] = 2; // numTLVs
        let parsed = Frame::parse_bytes(&bytes).unwrap();
        assert!(parsed.points.is_empty());
        assert_eq!(parsed.other_tlvs, frame.other_tlvs);
    }

    #[test]
    fn short_side_info_and_empty_q_format_points_round_trip() {
        let mut frame = Frame::parse_bytes(&first_real_packet()).unwrap();
        frame.points[2].snr = None;
        frame.points[2].noise = None;
        frame.points[3].snr = None;
        frame.points[3].noise = None;
        let bytes = frame.encode().unwrap();
        assert_eq!(u32::from_le_bytes(bytes[116..120].try_into().unwrap()), 8);
        assert_eq!(Frame::parse_bytes(&bytes).unwrap(), frame);

        let mut legacy = Frame::parse_bytes(&sdk2_packet(0xA1642)).unwrap();
        legacy.points.clear();
        let parsed = Frame::parse_bytes(&legacy.encode().unwrap()).unwrap();
        assert_eq!(
            parsed.xyz_q_format,
            Some(9),
            "descriptor with 0 objects kept"
        );
        assert_eq!(parsed, legacy);
    }

    #[test]
    fn side_info_without_enough_points_is_kept_raw_and_round_trips() {
        let mut bytes = first_real_packet();
        bytes[40] = 0x77; // TLV 1 becomes an unknown type: TLV 7 has nothing to pair with
        let frame = Frame::parse_bytes(&bytes).unwrap();
        assert!(frame.points.is_empty());
        let kept: Vec<u32> = frame.other_tlvs.iter().map(|t| t.tlv_type).collect();
        assert_eq!(kept, [0x77, 7]);
        assert_eq!(frame.other_tlvs[1].payload, bytes[120..136]);
        assert_eq!(Frame::parse_bytes(&frame.encode().unwrap()).unwrap(), frame);
    }

    #[test]
    fn raw_repeats_of_points_and_side_info_stay_raw_through_a_round_trip() {
        // Side info: no point has any, and an empty TLV 7 repeat was kept raw.
        let mut frame = Frame::parse_bytes(&first_real_packet()).unwrap();
        for p in &mut frame.points {
            (p.snr, p.noise) = (None, None);
        }
        frame.other_tlvs.push(RawTlv {
            tlv_type: 7,
            payload: Vec::new(),
        });
        assert_eq!(Frame::parse_bytes(&frame.encode().unwrap()).unwrap(), frame);
        // Points: an SDK 3.x frame without points, and a TLV 1 repeat holding one.
        let mut frame = Frame::parse_bytes(&first_real_packet()).unwrap();
        frame.points.clear();
        frame.other_tlvs.push(RawTlv {
            tlv_type: 1,
            payload: alloc::vec![0; POINT_LEN],
        });
        assert_eq!(Frame::parse_bytes(&frame.encode().unwrap()).unwrap(), frame);
    }

    #[test]
    fn tlv_overrunning_the_packet_is_malformed() {
        let mut bytes = first_real_packet();
        bytes[32] = 6; // claims a sixth TLV that would start in the padding
        bytes[724..736].fill(0xff);
        assert!(matches!(
            Frame::parse_bytes(&bytes),
            Err(Error::Malformed(_))
        ));
        let mut bytes = first_real_packet();
        bytes[44] = 0xff; // TLV 1 length 0x4ff
        assert!(Frame::parse_bytes(&bytes).is_err());
    }

    #[test]
    fn short_buffer_is_truncated() {
        let real = first_real_packet();
        assert_eq!(Frame::parse_bytes(&real[..735]), Err(Error::Truncated));
    }

    fn arb_complex() -> impl Strategy<Value = Complex16> {
        any::<(i16, i16)>().prop_map(|(imag, real)| Complex16 { imag, real })
    }

    fn arb_stats() -> impl Strategy<Value = Stats> {
        any::<[u32; 6]>().prop_map(|v| Stats {
            inter_frame_processing_time: v[0],
            transmit_output_time: v[1],
            inter_frame_processing_margin: v[2],
            inter_chirp_processing_margin: v[3],
            active_frame_cpu_load: v[4],
            inter_frame_cpu_load: v[5],
        })
    }

    fn arb_temperature() -> impl Strategy<Value = TemperatureStats> {
        any::<(i32, u32, [i16; 10])>().prop_map(|(valid, time, sensors)| TemperatureStats {
            temp_report_valid: valid,
            time_ms: time,
            sensors,
        })
    }

    fn arb_raw() -> impl Strategy<Value = RawTlv> {
        (10u32..5000, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(tlv_type, payload)| RawTlv { tlv_type, payload })
    }

    fn arb_sdk3_points() -> impl Strategy<Value = Vec<Point>> {
        let coord = -50.0f32..50.0;
        let point = (
            coord.clone(),
            coord.clone(),
            coord.clone(),
            coord,
            any::<(i16, i16)>(),
        );
        (any::<bool>(), proptest::collection::vec(point, 0..24)).prop_map(|(side, pts)| {
            pts.into_iter()
                .map(|(x, y, z, v, (snr, noise))| Point {
                    x,
                    y,
                    z,
                    v,
                    snr: side.then_some(snr),
                    noise: side.then_some(noise),
                    bins: None,
                })
                .collect()
        })
    }

    /// Random SDK 3.x frames with every kind of TLV.
    pub(crate) fn arb_sdk3_frame() -> impl Strategy<Value = Frame> {
        let u16v = || proptest::option::of(proptest::collection::vec(any::<u16>(), 0..300));
        let cxv = || proptest::option::of(proptest::collection::vec(arb_complex(), 0..200));
        let header = (any::<u8>(), any::<[u32; 4]>(), any::<u32>());
        (
            header,
            arb_sdk3_points(),
            (u16v(), u16v(), cxv(), u16v(), cxv()),
            proptest::option::of(arb_stats()),
            proptest::option::of(arb_temperature()),
            proptest::collection::vec(arb_raw(), 0..3),
        )
            .prop_map(
                |(h, points, (rp, np, az, rd, azel), stats, temperature, other)| Frame {
                    version: 0x0300_0000 | u32::from(h.0) << 8,
                    platform: h.1[0],
                    frame_number: h.1[1],
                    time_cpu_cycles: h.1[2],
                    num_detected_obj: h.1[3],
                    subframe: Some(h.2),
                    points,
                    xyz_q_format: None,
                    range_profile: rp,
                    noise_profile: np,
                    azimuth_heatmap: az,
                    range_doppler_heatmap: rd,
                    stats,
                    azimuth_elevation_heatmap: azel,
                    temperature,
                    other_tlvs: other,
                },
            )
    }

    fn arb_legacy_frame() -> impl Strategy<Value = Frame> {
        let object = any::<(u16, i16, u16, i16, i16, i16)>();
        (
            any::<bool>(),
            0u16..=15,
            proptest::collection::vec(object, 0..20),
            any::<[u32; 3]>(),
        )
            .prop_map(|(xwr14, q, objects, h)| {
                let platform = if xwr14 { PLATFORM_XWR14XX } else { 0xA1642 };
                let points: Vec<Point> = objects
                    .into_iter()
                    .map(|(r, d, p, x, y, z)| Point {
                        x: q_to_metres(x, q),
                        y: q_to_metres(y, q),
                        z: q_to_metres(z, q),
                        v: f32::NAN,
                        snr: None,
                        noise: None,
                        bins: Some(BinIndices {
                            range_idx: r,
                            doppler_idx: d,
                            peak_val: p,
                        }),
                    })
                    .collect();
                Frame {
                    version: 0x0201_0004,
                    platform,
                    frame_number: h[0],
                    time_cpu_cycles: h[1],
                    num_detected_obj: h[2],
                    subframe: (!xwr14).then_some(h[2]),
                    xyz_q_format: (!points.is_empty()).then_some(q),
                    points,
                    ..Frame::default()
                }
            })
    }

    /// Legacy points carry `v = NaN`, which `==` never matches; compare with it zeroed.
    fn without_nan(mut frame: Frame) -> Frame {
        for p in &mut frame.points {
            if p.v.is_nan() {
                p.v = 0.0;
            }
        }
        frame
    }

    proptest! {
        #[test]
        fn sdk3_frames_survive_emit_then_parse(frame in arb_sdk3_frame()) {
            let bytes = frame.encode().unwrap();
            prop_assert_eq!(bytes.len() % 32, 0);
            prop_assert_eq!(bytes.len(), frame.buffer_len());
            prop_assert_eq!(Frame::parse_bytes(&bytes).unwrap(), frame);
        }

        #[test]
        fn sdk2_q_format_frames_survive_emit_then_parse(frame in arb_legacy_frame()) {
            let bytes = frame.encode().unwrap();
            let parsed = Frame::parse_bytes(&bytes).unwrap();
            prop_assert_eq!(without_nan(parsed), without_nan(frame));
        }

        #[test]
        fn parse_never_panics_on_mutated_real_frames(
            edits in proptest::collection::vec((0usize..736, any::<u8>()), 1..8)
        ) {
            let mut bytes = first_real_packet();
            for (at, value) in edits {
                bytes[at] = value;
            }
            let _ = Frame::parse_bytes(&bytes);
        }
    }
}
