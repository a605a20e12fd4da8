//! TagReportData (TLV 240): one tag sighting in an RO_ACCESS_REPORT.
//!
//! A reader sends only the fields the client enabled in its TagReportContentSelector,
//! so every field is optional except the EPC. Impinj readers add vendor custom
//! parameters (phase, high-resolution RSSI, Doppler, TID) when asked; any other
//! parameter is kept raw.
use alloc::vec::Vec;
use core::fmt;

use super::cursor::{FieldReader, Writer};
use super::impinj::{self, subtype, IMPINJ_PEN};
use super::param::{tv, Param, Params, RawParam};
use crate::error::{Error, Result};

/// TLV type of TagReportData.
pub const TAG_REPORT_DATA: u16 = 240;
/// TLV type of EPCData (EPC of any bit length).
pub const EPC_DATA: u16 = 241;

/// A tag's EPC as the reader encoded it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Epc {
    /// EPC-96 (TV 13): exactly 96 bits.
    Epc96([u8; 12]),
    /// EPCData (TLV 241): `bits` bits in ceil(bits/8) bytes.
    Data {
        /// Length of the EPC in bits.
        bits: u16,
        /// The EPC bytes, most significant first.
        bytes: Vec<u8>,
    },
}

impl Epc {
    /// The EPC bytes, whichever encoding carried them.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Epc::Epc96(b) => b,
            Epc::Data { bytes, .. } => bytes,
        }
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            Epc::Epc96(b) => {
                w.u8(0x80 | tv::EPC_96)?;
                w.bytes(b)
            }
            Epc::Data { bits, bytes } => {
                if usize::from(*bits).div_ceil(8) != bytes.len() {
                    return Err(Error::Malformed(
                        "EPCData bit count does not match its bytes",
                    ));
                }
                let t = w.begin_tlv(EPC_DATA)?;
                w.u16(*bits)?;
                w.bytes(bytes)?;
                w.end_tlv(t)
            }
        }
    }
}

impl Default for Epc {
    fn default() -> Self {
        Epc::Epc96([0; 12])
    }
}

impl fmt::Display for Epc {
    /// Lowercase hex, no separators.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// One TagReportData: the EPC plus whatever the reader was asked to report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TagReport {
    /// The tag's EPC.
    pub epc: Epc,
    /// ROSpecID (TV 9).
    pub ro_spec_id: Option<u32>,
    /// SpecIndex (TV 14).
    pub spec_index: Option<u16>,
    /// InventoryParameterSpecID (TV 10).
    pub inventory_parameter_spec_id: Option<u16>,
    /// AntennaID (TV 1).
    pub antenna_id: Option<u16>,
    /// PeakRSSI (TV 6), dBm.
    pub peak_rssi: Option<i8>,
    /// ChannelIndex (TV 7), 1-based index into the hop table.
    pub channel_index: Option<u16>,
    /// FirstSeenTimestampUTC (TV 2), microseconds since the Unix epoch.
    pub first_seen_utc_us: Option<u64>,
    /// FirstSeenTimestampUptime (TV 3), microseconds since reader boot.
    pub first_seen_uptime_us: Option<u64>,
    /// LastSeenTimestampUTC (TV 4).
    pub last_seen_utc_us: Option<u64>,
    /// LastSeenTimestampUptime (TV 5).
    pub last_seen_uptime_us: Option<u64>,
    /// TagSeenCount (TV 8).
    pub tag_seen_count: Option<u16>,
    /// C1G2_PC (TV 12): protocol-control word.
    pub c1g2_pc: Option<u16>,
    /// C1G2_CRC (TV 11).
    pub c1g2_crc: Option<u16>,
    /// C1G2XPCW1 (TV 19, LLRP 1.1).
    pub c1g2_xpc_w1: Option<u16>,
    /// C1G2XPCW2 (TV 20, LLRP 1.1).
    pub c1g2_xpc_w2: Option<u16>,
    /// AccessSpecID (TV 16).
    pub access_spec_id: Option<u32>,
    /// ImpinjPeakRSSI raw value, dBm x 100 (see [`TagReport::impinj_peak_rssi_dbm`]).
    pub impinj_peak_rssi: Option<i16>,
    /// ImpinjRFPhaseAngle raw value, 0..4095 per turn (see [`TagReport::phase_rad`]).
    pub impinj_phase: Option<u16>,
    /// ImpinjRFDopplerFrequency raw value, Hz x 16 (see [`TagReport::doppler_hz`]).
    pub impinj_doppler: Option<i16>,
    /// ImpinjSerializedTID words.
    pub impinj_tid: Option<Vec<u16>>,
    /// Parameters not interpreted (OpSpecResults, other vendors' customs...).
    pub other: Vec<RawParam>,
}

impl TagReport {
    /// RF phase angle in radians, when the reader sent ImpinjRFPhaseAngle.
    pub fn phase_rad(&self) -> Option<f64> {
        self.impinj_phase.map(impinj::phase_rad)
    }

    /// Impinj high-resolution peak RSSI in dBm.
    pub fn impinj_peak_rssi_dbm(&self) -> Option<f64> {
        self.impinj_peak_rssi.map(impinj::peak_rssi_dbm)
    }

    /// Doppler frequency in Hz.
    pub fn doppler_hz(&self) -> Option<f64> {
        self.impinj_doppler.map(impinj::doppler_hz)
    }

    /// Parses the value of a TagReportData (the bytes after its TLV header).
    pub fn parse(value: &[u8]) -> Result<Self> {
        let mut report = TagReport::default();
        let mut epc = None;
        for param in Params::new(value) {
            let param = param?;
            match param {
                Param::Tv {
                    param_type, value, ..
                } => report.set_tv(param_type, value, &mut epc, &param)?,
                Param::Tlv {
                    param_type: EPC_DATA,
                    value,
                    ..
                } => {
                    let (bits, bytes) = FieldReader::new(value).u1v()?;
                    epc = Some(Epc::Data {
                        bits,
                        bytes: bytes.to_vec(),
                    });
                }
                Param::Tlv { .. } => report.set_custom_or_raw(&param)?,
            }
        }
        report.epc = epc.ok_or(Error::Malformed("TagReportData without an EPC"))?;
        Ok(report)
    }

    fn set_tv(&mut self, t: u8, value: &[u8], epc: &mut Option<Epc>, p: &Param) -> Result<()> {
        let mut r = FieldReader::new(value);
        match t {
            tv::EPC_96 => *epc = Some(Epc::Epc96(r.array()?)),
            tv::RO_SPEC_ID => self.ro_spec_id = Some(r.u32()?),
            tv::SPEC_INDEX => self.spec_index = Some(r.u16()?),
            tv::INVENTORY_PARAMETER_SPEC_ID => self.inventory_parameter_spec_id = Some(r.u16()?),
            tv::ANTENNA_ID => self.antenna_id = Some(r.u16()?),
            tv::PEAK_RSSI => self.peak_rssi = Some(r.u8()? as i8),
            tv::CHANNEL_INDEX => self.channel_index = Some(r.u16()?),
            tv::FIRST_SEEN_UTC => self.first_seen_utc_us = Some(r.u64()?),
            tv::FIRST_SEEN_UPTIME => self.first_seen_uptime_us = Some(r.u64()?),
            tv::LAST_SEEN_UTC => self.last_seen_utc_us = Some(r.u64()?),
            tv::LAST_SEEN_UPTIME => self.last_seen_uptime_us = Some(r.u64()?),
            tv::TAG_SEEN_COUNT => self.tag_seen_count = Some(r.u16()?),
            tv::C1G2_PC => self.c1g2_pc = Some(r.u16()?),
            tv::C1G2_CRC => self.c1g2_crc = Some(r.u16()?),
            tv::C1G2_XPC_W1 => self.c1g2_xpc_w1 = Some(r.u16()?),
            tv::C1G2_XPC_W2 => self.c1g2_xpc_w2 = Some(r.u16()?),
            tv::ACCESS_SPEC_ID => self.access_spec_id = Some(r.u32()?),
            _ => self.other.push(RawParam::from_param(p)),
        }
        Ok(())
    }

    fn set_custom_or_raw(&mut self, param: &Param) -> Result<()> {
        let custom = match param.custom() {
            Some(c) => c?,
            None => {
                self.other.push(RawParam::from_param(param));
                return Ok(());
            }
        };
        let mut r = FieldReader::new(custom.payload);
        match (custom.vendor, custom.subtype) {
            (IMPINJ_PEN, subtype::PEAK_RSSI) => self.impinj_peak_rssi = Some(r.u16()? as i16),
            (IMPINJ_PEN, subtype::RF_PHASE_ANGLE) => self.impinj_phase = Some(r.u16()?),
            (IMPINJ_PEN, subtype::RF_DOPPLER_FREQUENCY) => {
                self.impinj_doppler = Some(r.u16()? as i16)
            }
            (IMPINJ_PEN, subtype::SERIALIZED_TID) => {
                let count = usize::from(r.u16()?);
                let words = r.bytes(count.saturating_mul(2))?;
                let tid = words
                    .chunks_exact(2)
                    .map(|w| u16::from_be_bytes([w[0], w[1]]))
                    .collect();
                self.impinj_tid = Some(tid);
            }
            _ => self.other.push(RawParam::from_param(param)),
        }
        Ok(())
    }

    /// Emits the whole TagReportData parameter (header included), standard fields in
    /// the order LLRP lists them, then raw parameters, then the Impinj customs.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let start = w.begin_tlv(TAG_REPORT_DATA)?;
        self.epc.emit(w)?;
        self.emit_standard(w)?;
        for raw in &self.other {
            raw.emit(w)?;
        }
        self.emit_impinj(w)?;
        w.end_tlv(start)
    }

    fn emit_standard(&self, w: &mut Writer<'_>) -> Result<()> {
        let u32s = [
            (tv::RO_SPEC_ID, self.ro_spec_id.map(u64::from), 4),
            (tv::SPEC_INDEX, self.spec_index.map(u64::from), 2),
            (
                tv::INVENTORY_PARAMETER_SPEC_ID,
                self.inventory_parameter_spec_id.map(u64::from),
                2,
            ),
            (tv::ANTENNA_ID, self.antenna_id.map(u64::from), 2),
            (tv::PEAK_RSSI, self.peak_rssi.map(|v| u64::from(v as u8)), 1),
            (tv::CHANNEL_INDEX, self.channel_index.map(u64::from), 2),
            (tv::FIRST_SEEN_UTC, self.first_seen_utc_us, 8),
            (tv::FIRST_SEEN_UPTIME, self.first_seen_uptime_us, 8),
            (tv::LAST_SEEN_UTC, self.last_seen_utc_us, 8),
            (tv::LAST_SEEN_UPTIME, self.last_seen_uptime_us, 8),
            (tv::TAG_SEEN_COUNT, self.tag_seen_count.map(u64::from), 2),
            (tv::C1G2_PC, self.c1g2_pc.map(u64::from), 2),
            (tv::C1G2_CRC, self.c1g2_crc.map(u64::from), 2),
            (tv::C1G2_XPC_W1, self.c1g2_xpc_w1.map(u64::from), 2),
            (tv::C1G2_XPC_W2, self.c1g2_xpc_w2.map(u64::from), 2),
            (tv::ACCESS_SPEC_ID, self.access_spec_id.map(u64::from), 4),
        ];
        for (t, value, size) in u32s {
            if let Some(v) = value {
                w.u8(0x80 | t)?;
                w.bytes(&v.to_be_bytes()[8 - size..])?;
            }
        }
        Ok(())
    }

    fn emit_impinj(&self, w: &mut Writer<'_>) -> Result<()> {
        let words = [
            (subtype::PEAK_RSSI, self.impinj_peak_rssi.map(|v| v as u16)),
            (subtype::RF_PHASE_ANGLE, self.impinj_phase),
            (
                subtype::RF_DOPPLER_FREQUENCY,
                self.impinj_doppler.map(|v| v as u16),
            ),
        ];
        for (sub, value) in words {
            if let Some(v) = value {
                let t = impinj::begin_param(w, sub)?;
                w.u16(v)?;
                w.end_tlv(t)?;
            }
        }
        if let Some(tid) = &self.impinj_tid {
            let t = impinj::begin_param(w, subtype::SERIALIZED_TID)?;
            let n = u16::try_from(tid.len()).map_err(|_| Error::Malformed("TID too long"))?;
            w.u16(n)?;
            for word in tid {
                w.u16(*word)?;
            }
            w.end_tlv(t)?;
        }
        Ok(())
    }
}

impl fmt::Display for TagReport {
    /// `epc ant N rssi R dBm ...` with only the fields present.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.epc)?;
        if let Some(a) = self.antenna_id {
            write!(f, " ant {a}")?;
        }
        match (self.impinj_peak_rssi_dbm(), self.peak_rssi) {
            (Some(dbm), _) => write!(f, " {dbm:.2} dBm")?,
            (None, Some(r)) => write!(f, " {r} dBm")?,
            _ => {}
        }
        if let Some(c) = self.channel_index {
            write!(f, " ch {c}")?;
        }
        if let Some(p) = self.phase_rad() {
            write!(f, " phase {p:.3} rad")?;
        }
        if let Some(d) = self.doppler_hz() {
            write!(f, " doppler {d:.2} Hz")?;
        }
        Ok(())
    }
}
