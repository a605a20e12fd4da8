//! Impinj Octane extensions (vendor PEN 25882): the custom message that turns them on,
//! the content selector a client puts in its ROReportSpec, and the per-tag custom
//! parameters a reader then adds to each TagReportData, with their unit conversions.
use super::cursor::{FieldReader, Writer};
use crate::error::Result;

/// Impinj's IANA Private Enterprise Number.
pub const IMPINJ_PEN: u32 = 25882;

/// Impinj custom message and parameter subtypes used by this codec.
pub mod subtype {
    /// IMPINJ_ENABLE_EXTENSIONS (custom message).
    pub const ENABLE_EXTENSIONS: u8 = 21;
    /// IMPINJ_ENABLE_EXTENSIONS_RESPONSE (custom message).
    pub const ENABLE_EXTENSIONS_RESPONSE: u8 = 22;
    /// ImpinjTagReportContentSelector (in ROReportSpec).
    pub const TAG_REPORT_CONTENT_SELECTOR: u32 = 50;
    /// ImpinjEnableSerializedTID.
    pub const ENABLE_SERIALIZED_TID: u32 = 51;
    /// ImpinjEnableRFPhaseAngle.
    pub const ENABLE_RF_PHASE_ANGLE: u32 = 52;
    /// ImpinjEnablePeakRSSI.
    pub const ENABLE_PEAK_RSSI: u32 = 53;
    /// ImpinjSerializedTID (report): u16 word count + words.
    pub const SERIALIZED_TID: u32 = 55;
    /// ImpinjRFPhaseAngle (report): u16, 4096 steps per turn.
    pub const RF_PHASE_ANGLE: u32 = 56;
    /// ImpinjPeakRSSI (report): s16, dBm x 100.
    pub const PEAK_RSSI: u32 = 57;
    /// ImpinjEnableRFDopplerFrequency.
    pub const ENABLE_RF_DOPPLER_FREQUENCY: u32 = 67;
    /// ImpinjRFDopplerFrequency (report): s16, Hz x 16.
    pub const RF_DOPPLER_FREQUENCY: u32 = 68;
}

/// ImpinjRFPhaseAngle raw value (0..4095) to radians.
pub fn phase_rad(raw: u16) -> f64 {
    f64::from(raw) * core::f64::consts::TAU / 4096.0
}

/// ImpinjPeakRSSI raw value (dBm x 100) to dBm.
pub fn peak_rssi_dbm(raw: i16) -> f64 {
    f64::from(raw) / 100.0
}

/// ImpinjRFDopplerFrequency raw value (Hz x 16) to Hz.
pub fn doppler_hz(raw: i16) -> f64 {
    f64::from(raw) / 16.0
}

/// Opens an Impinj custom parameter (TLV 1023, vendor [`IMPINJ_PEN`]) of `subtype` in `w`;
/// close it with [`Writer::end_tlv`]. The vendor's writer lives here so the generic
/// [`Writer`] knows no vendor.
pub fn begin_param(w: &mut Writer<'_>, subtype: u32) -> Result<usize> {
    let start = w.begin_tlv(super::param::CUSTOM_PARAMETER)?;
    w.u32(IMPINJ_PEN)?;
    w.u32(subtype)?;
    Ok(start)
}

/// Which Impinj per-tag fields a client asks the reader to add to its reports
/// (ImpinjTagReportContentSelector, subtype 50).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ContentSelector {
    /// ImpinjEnableSerializedTID.
    pub serialized_tid: bool,
    /// ImpinjEnableRFPhaseAngle.
    pub rf_phase_angle: bool,
    /// ImpinjEnablePeakRSSI.
    pub peak_rssi: bool,
    /// ImpinjEnableRFDopplerFrequency.
    pub rf_doppler_frequency: bool,
}

impl ContentSelector {
    /// The enable parameters in the order the reader expects them.
    fn entries(&self) -> [(u32, bool); 4] {
        [
            (subtype::ENABLE_SERIALIZED_TID, self.serialized_tid),
            (subtype::ENABLE_RF_PHASE_ANGLE, self.rf_phase_angle),
            (subtype::ENABLE_PEAK_RSSI, self.peak_rssi),
            (
                subtype::ENABLE_RF_DOPPLER_FREQUENCY,
                self.rf_doppler_frequency,
            ),
        ]
    }

    /// True when no field is requested (the selector is then not sent at all).
    pub fn is_empty(&self) -> bool {
        self.entries().iter().all(|(_, on)| !on)
    }

    /// Emits the selector with one `Enable*` parameter (mode 1) per requested field.
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let outer = begin_param(w, subtype::TAG_REPORT_CONTENT_SELECTOR)?;
        for (sub, on) in self.entries() {
            if on {
                let inner = begin_param(w, sub)?;
                w.u16(1)?;
                w.end_tlv(inner)?;
            }
        }
        w.end_tlv(outer)
    }

    /// Reads the selector's payload (its `Enable*` sub-parameters; mode != 0 = on).
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let mut sel = ContentSelector::default();
        for param in super::param::Params::new(payload) {
            let Some(custom) = param?.custom() else {
                continue;
            };
            let custom = custom?;
            if custom.vendor != IMPINJ_PEN {
                continue;
            }
            let on = FieldReader::new(custom.payload).u16()? != 0;
            match custom.subtype {
                subtype::ENABLE_SERIALIZED_TID => sel.serialized_tid = on,
                subtype::ENABLE_RF_PHASE_ANGLE => sel.rf_phase_angle = on,
                subtype::ENABLE_PEAK_RSSI => sel.peak_rssi = on,
                subtype::ENABLE_RF_DOPPLER_FREQUENCY => sel.rf_doppler_frequency = on,
                _ => {}
            }
        }
        Ok(sel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_match_the_spec_golden_values() {
        assert!((peak_rssi_dbm(-4523) + 45.23).abs() < 1e-12);
        assert!((phase_rad(819) - 819.0 * core::f64::consts::TAU / 4096.0).abs() < 1e-12);
        assert_eq!(doppler_hz(-96), -6.0);
    }

    #[test]
    fn selector_emits_spec_bytes_and_parses_back() {
        // ImpinjTagReportContentSelector from the spec's ADD_ROSPEC.
        let expected = [
            0x03, 0xff, 0x00, 0x28, 0x00, 0x00, 0x65, 0x1a, 0x00, 0x00, 0x00, 0x32, //
            0x03, 0xff, 0x00, 0x0e, 0x00, 0x00, 0x65, 0x1a, 0x00, 0x00, 0x00, 0x34, 0x00, 0x01,
            0x03, 0xff, 0x00, 0x0e, 0x00, 0x00, 0x65, 0x1a, 0x00, 0x00, 0x00, 0x35, 0x00, 0x01,
        ];
        let sel = ContentSelector {
            rf_phase_angle: true,
            peak_rssi: true,
            ..Default::default()
        };
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        sel.emit(&mut w).unwrap();
        let n = w.position();
        assert_eq!(&buf[..n], &expected[..]);
        assert_eq!(ContentSelector::parse(&expected[12..]).unwrap(), sel);
    }
}
