//! ROSpec (TLV 177): the reader operation a client installs with ADD_ROSPEC.
//!
//! This models the one shape a dagr client sends: one AISpec with one C1G2
//! InventoryParameterSpec (optionally one AntennaConfiguration) and an ROReportSpec with
//! the standard and Impinj content selectors. Parsing accepts parameters in any order and
//! ignores ones outside that shape.
use alloc::vec::Vec;

use super::cursor::{FieldReader, Writer};
use super::impinj::{self, ContentSelector};
use super::param::{Param, Params};
use crate::error::{Error, Result};

/// Parameter type numbers inside an ROSpec.
pub mod ptype {
    /// ROSpec.
    pub const RO_SPEC: u16 = 177;
    /// ROBoundarySpec.
    pub const RO_BOUNDARY_SPEC: u16 = 178;
    /// ROSpecStartTrigger.
    pub const RO_SPEC_START_TRIGGER: u16 = 179;
    /// PeriodicTriggerValue.
    pub const PERIODIC_TRIGGER_VALUE: u16 = 180;
    /// ROSpecStopTrigger.
    pub const RO_SPEC_STOP_TRIGGER: u16 = 182;
    /// AISpec.
    pub const AI_SPEC: u16 = 183;
    /// AISpecStopTrigger.
    pub const AI_SPEC_STOP_TRIGGER: u16 = 184;
    /// InventoryParameterSpec.
    pub const INVENTORY_PARAMETER_SPEC: u16 = 186;
    /// AntennaConfiguration.
    pub const ANTENNA_CONFIGURATION: u16 = 222;
    /// ROReportSpec.
    pub const RO_REPORT_SPEC: u16 = 237;
    /// TagReportContentSelector.
    pub const TAG_REPORT_CONTENT_SELECTOR: u16 = 238;
    /// C1G2InventoryCommand.
    pub const C1G2_INVENTORY_COMMAND: u16 = 330;
    /// C1G2RFControl.
    pub const C1G2_RF_CONTROL: u16 = 335;
    /// C1G2SingulationControl.
    pub const C1G2_SINGULATION_CONTROL: u16 = 336;
    /// C1G2EPCMemorySelector.
    pub const C1G2_EPC_MEMORY_SELECTOR: u16 = 348;
}

/// Air protocol number of EPCglobal Class 1 Gen 2.
pub const PROTOCOL_C1G2: u8 = 1;

/// TagReportContentSelector bits (MSB first, LLRP 1.0.1 §13.2.1.1).
pub mod content {
    /// EnableROSpecID.
    pub const RO_SPEC_ID: u16 = 0x8000;
    /// EnableSpecIndex.
    pub const SPEC_INDEX: u16 = 0x4000;
    /// EnableInventoryParameterSpecID.
    pub const INVENTORY_PARAMETER_SPEC_ID: u16 = 0x2000;
    /// EnableAntennaID.
    pub const ANTENNA_ID: u16 = 0x1000;
    /// EnableChannelIndex.
    pub const CHANNEL_INDEX: u16 = 0x0800;
    /// EnablePeakRSSI.
    pub const PEAK_RSSI: u16 = 0x0400;
    /// EnableFirstSeenTimestamp.
    pub const FIRST_SEEN: u16 = 0x0200;
    /// EnableLastSeenTimestamp.
    pub const LAST_SEEN: u16 = 0x0100;
    /// EnableTagSeenCount.
    pub const TAG_SEEN_COUNT: u16 = 0x0080;
    /// EnableAccessSpecID.
    pub const ACCESS_SPEC_ID: u16 = 0x0040;
    /// Every flag above; the low 6 bits are reserved, written 0 and ignored on reading.
    pub const FLAGS: u16 = 0xffc0;
}

/// When the ROSpec starts (ROSpecStartTrigger).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum StartTrigger {
    /// Only on START_ROSPEC.
    #[default]
    Null,
    /// As soon as it is enabled.
    Immediate,
    /// Every `period_ms` after `offset_ms`.
    Periodic {
        /// Delay before the first run.
        offset_ms: u32,
        /// Time between runs.
        period_ms: u32,
    },
}

/// When the ROSpec (or the AISpec) stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum StopTrigger {
    /// Only on STOP_ROSPEC (or when the ROSpec ends).
    #[default]
    Null,
    /// After this many milliseconds.
    Duration(u32),
}

/// C1G2RFControl: the reader's RF mode table entry and Tari.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RfControl {
    /// ModeIndex into the reader's UHFC1G2RFModeTable.
    pub mode_index: u16,
    /// Tari in ns (0 = the mode's default).
    pub tari: u16,
}

/// C1G2SingulationControl: the Gen2 session and expected population.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Singulation {
    /// Gen2 session 0..=3.
    pub session: u8,
    /// Expected number of tags in view.
    pub tag_population: u16,
    /// Expected tag transit time in ms (0 = unknown).
    pub tag_transit_time_ms: u32,
}

/// AntennaConfiguration with a C1G2InventoryCommand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AntennaConfig {
    /// Antenna the settings apply to (0 = all).
    pub antenna_id: u16,
    /// TagInventoryStateAware.
    pub state_aware: bool,
    /// C1G2RFControl, when set.
    pub rf_control: Option<RfControl>,
    /// C1G2SingulationControl, when set.
    pub singulation: Option<Singulation>,
}

/// ROReportSpec: when the reader reports and what each TagReportData holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReportSpec {
    /// 0 None, 1 Upon_N_Tags_Or_End_Of_AISpec, 2 Upon_N_Tags_Or_End_Of_ROSpec.
    pub trigger: u8,
    /// N: tags per report (0 = unlimited).
    pub n: u16,
    /// TagReportContentSelector bits (see [`content`]).
    pub content: u16,
    /// C1G2EPCMemorySelector flags byte (bit7 CRC, bit6 PC, bit5 XPC), when sent.
    pub epc_memory_selector: Option<u8>,
    /// ImpinjTagReportContentSelector (not sent when empty).
    pub impinj: ContentSelector,
}

/// An ROSpec as a dagr client configures it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RoSpec {
    /// ROSpecID (non-zero).
    pub id: u32,
    /// Priority 0 (highest) ..= 7.
    pub priority: u8,
    /// ROSpecStartTrigger.
    pub start: StartTrigger,
    /// ROSpecStopTrigger.
    pub stop: StopTrigger,
    /// AISpec antenna IDs (`[0]` = all antennas).
    pub antennas: Vec<u16>,
    /// AISpecStopTrigger.
    pub ai_stop: StopTrigger,
    /// InventoryParameterSpecID.
    pub inventory_parameter_spec_id: u16,
    /// AntennaConfiguration, when sent.
    pub antenna_config: Option<AntennaConfig>,
    /// ROReportSpec, when sent.
    pub report: Option<ReportSpec>,
}

impl RoSpec {
    /// The ROSpec of the spec's connection log (§3.4): id 1, Null triggers, all
    /// antennas, session 1 for 32 tags, one report per tag with antenna, channel, RSSI,
    /// timestamps and seen count, plus Impinj phase and peak RSSI.
    pub fn impinj_default() -> Self {
        RoSpec {
            id: 1,
            antennas: alloc::vec![0],
            inventory_parameter_spec_id: 1,
            antenna_config: Some(AntennaConfig {
                singulation: Some(Singulation {
                    session: 1,
                    tag_population: 32,
                    tag_transit_time_ms: 0,
                }),
                ..Default::default()
            }),
            report: Some(ReportSpec {
                trigger: 2,
                n: 1,
                content: 0x1f80,
                epc_memory_selector: Some(0),
                impinj: ContentSelector {
                    rf_phase_angle: true,
                    peak_rssi: true,
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    /// Emits the whole ROSpec parameter (current state Disabled, as ADD_ROSPEC requires).
    pub fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let spec = w.begin_tlv(ptype::RO_SPEC)?;
        w.u32(self.id)?;
        w.u8(self.priority)?;
        w.u8(0)?;
        self.emit_boundary(w)?;
        self.emit_ai_spec(w)?;
        if let Some(report) = &self.report {
            report.emit(w)?;
        }
        w.end_tlv(spec)
    }

    fn emit_boundary(&self, w: &mut Writer<'_>) -> Result<()> {
        let boundary = w.begin_tlv(ptype::RO_BOUNDARY_SPEC)?;
        let start = w.begin_tlv(ptype::RO_SPEC_START_TRIGGER)?;
        match self.start {
            StartTrigger::Null => w.u8(0)?,
            StartTrigger::Immediate => w.u8(1)?,
            StartTrigger::Periodic {
                offset_ms,
                period_ms,
            } => {
                w.u8(2)?;
                let p = w.begin_tlv(ptype::PERIODIC_TRIGGER_VALUE)?;
                w.u32(offset_ms)?;
                w.u32(period_ms)?;
                w.end_tlv(p)?;
            }
        }
        w.end_tlv(start)?;
        emit_stop_trigger(w, ptype::RO_SPEC_STOP_TRIGGER, self.stop)?;
        w.end_tlv(boundary)
    }

    fn emit_ai_spec(&self, w: &mut Writer<'_>) -> Result<()> {
        let ai = w.begin_tlv(ptype::AI_SPEC)?;
        let count = u16::try_from(self.antennas.len())
            .map_err(|_| Error::Malformed("too many antennas"))?;
        w.u16(count)?;
        for a in &self.antennas {
            w.u16(*a)?;
        }
        emit_stop_trigger(w, ptype::AI_SPEC_STOP_TRIGGER, self.ai_stop)?;
        let inv = w.begin_tlv(ptype::INVENTORY_PARAMETER_SPEC)?;
        w.u16(self.inventory_parameter_spec_id)?;
        w.u8(PROTOCOL_C1G2)?;
        if let Some(config) = &self.antenna_config {
            config.emit(w)?;
        }
        w.end_tlv(inv)?;
        w.end_tlv(ai)
    }

    /// Parses the value of an ROSpec parameter.
    pub fn parse(value: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(value);
        let mut spec = RoSpec {
            id: r.u32()?,
            priority: r.u8()?,
            ..Default::default()
        };
        let _current_state = r.u8()?;
        for param in Params::new(r.rest()) {
            let param = param?;
            match param.param_type() {
                ptype::RO_BOUNDARY_SPEC => spec.parse_boundary(param.value())?,
                ptype::AI_SPEC => spec.parse_ai_spec(param.value())?,
                ptype::RO_REPORT_SPEC => spec.report = Some(ReportSpec::parse(param.value())?),
                _ => {}
            }
        }
        Ok(spec)
    }

    /// Finds and parses the ROSpec in an ADD_ROSPEC body.
    pub fn parse_body(body: &[u8]) -> Result<Self> {
        match Params::new(body).next() {
            Some(Ok(Param::Tlv {
                param_type: ptype::RO_SPEC,
                value,
                ..
            })) => Self::parse(value),
            Some(Err(e)) => Err(e),
            _ => Err(Error::Malformed("ADD_ROSPEC without ROSpec")),
        }
    }

    fn parse_boundary(&mut self, value: &[u8]) -> Result<()> {
        for param in Params::new(value) {
            let param = param?;
            let mut r = FieldReader::new(param.value());
            match param.param_type() {
                ptype::RO_SPEC_START_TRIGGER => {
                    self.start = match r.u8()? {
                        1 => StartTrigger::Immediate,
                        2 => parse_periodic(r.rest())?,
                        _ => StartTrigger::Null,
                    }
                }
                ptype::RO_SPEC_STOP_TRIGGER => self.stop = parse_stop_trigger(param.value())?,
                _ => {}
            }
        }
        Ok(())
    }

    fn parse_ai_spec(&mut self, value: &[u8]) -> Result<()> {
        let mut r = FieldReader::new(value);
        let count = usize::from(r.u16()?);
        let ids = r.bytes(count.saturating_mul(2))?;
        self.antennas = ids
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        for param in Params::new(r.rest()) {
            let param = param?;
            match param.param_type() {
                ptype::AI_SPEC_STOP_TRIGGER => self.ai_stop = parse_stop_trigger(param.value())?,
                ptype::INVENTORY_PARAMETER_SPEC => {
                    let mut f = FieldReader::new(param.value());
                    self.inventory_parameter_spec_id = f.u16()?;
                    let _protocol = f.u8()?;
                    for sub in Params::new(f.rest()) {
                        let sub = sub?;
                        if sub.param_type() == ptype::ANTENNA_CONFIGURATION {
                            self.antenna_config = Some(AntennaConfig::parse(sub.value())?);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn emit_stop_trigger(w: &mut Writer<'_>, param_type: u16, stop: StopTrigger) -> Result<()> {
    let t = w.begin_tlv(param_type)?;
    match stop {
        StopTrigger::Null => {
            w.u8(0)?;
            w.u32(0)?;
        }
        StopTrigger::Duration(ms) => {
            w.u8(1)?;
            w.u32(ms)?;
        }
    }
    w.end_tlv(t)
}

fn parse_stop_trigger(value: &[u8]) -> Result<StopTrigger> {
    let mut r = FieldReader::new(value);
    let kind = r.u8()?;
    let ms = r.u32()?;
    Ok(if kind == 1 {
        StopTrigger::Duration(ms)
    } else {
        StopTrigger::Null
    })
}

fn parse_periodic(list: &[u8]) -> Result<StartTrigger> {
    for param in Params::new(list) {
        let param = param?;
        if param.param_type() == ptype::PERIODIC_TRIGGER_VALUE {
            let mut r = FieldReader::new(param.value());
            return Ok(StartTrigger::Periodic {
                offset_ms: r.u32()?,
                period_ms: r.u32()?,
            });
        }
    }
    Err(Error::Malformed(
        "periodic start trigger without PeriodicTriggerValue",
    ))
}

impl AntennaConfig {
    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let config = w.begin_tlv(ptype::ANTENNA_CONFIGURATION)?;
        w.u16(self.antenna_id)?;
        let cmd = w.begin_tlv(ptype::C1G2_INVENTORY_COMMAND)?;
        w.u8(if self.state_aware { 0x80 } else { 0 })?;
        if let Some(rf) = self.rf_control {
            let t = w.begin_tlv(ptype::C1G2_RF_CONTROL)?;
            w.u16(rf.mode_index)?;
            w.u16(rf.tari)?;
            w.end_tlv(t)?;
        }
        if let Some(s) = self.singulation {
            let t = w.begin_tlv(ptype::C1G2_SINGULATION_CONTROL)?;
            w.u8((s.session & 0x3) << 6)?;
            w.u16(s.tag_population)?;
            w.u32(s.tag_transit_time_ms)?;
            w.end_tlv(t)?;
        }
        w.end_tlv(cmd)?;
        w.end_tlv(config)
    }

    fn parse(value: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(value);
        let mut config = AntennaConfig {
            antenna_id: r.u16()?,
            ..Default::default()
        };
        for param in Params::new(r.rest()) {
            let param = param?;
            if param.param_type() != ptype::C1G2_INVENTORY_COMMAND {
                continue;
            }
            let mut f = FieldReader::new(param.value());
            config.state_aware = f.u8()? & 0x80 != 0;
            for sub in Params::new(f.rest()) {
                let sub = sub?;
                let mut s = FieldReader::new(sub.value());
                match sub.param_type() {
                    ptype::C1G2_RF_CONTROL => {
                        config.rf_control = Some(RfControl {
                            mode_index: s.u16()?,
                            tari: s.u16()?,
                        })
                    }
                    ptype::C1G2_SINGULATION_CONTROL => {
                        config.singulation = Some(Singulation {
                            session: s.u8()? >> 6,
                            tag_population: s.u16()?,
                            tag_transit_time_ms: s.u32()?,
                        })
                    }
                    _ => {}
                }
            }
        }
        Ok(config)
    }
}

impl ReportSpec {
    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        let spec = w.begin_tlv(ptype::RO_REPORT_SPEC)?;
        w.u8(self.trigger)?;
        w.u16(self.n)?;
        let sel = w.begin_tlv(ptype::TAG_REPORT_CONTENT_SELECTOR)?;
        w.u16(self.content & content::FLAGS)?;
        if let Some(flags) = self.epc_memory_selector {
            let t = w.begin_tlv(ptype::C1G2_EPC_MEMORY_SELECTOR)?;
            w.u8(flags)?;
            w.end_tlv(t)?;
        }
        w.end_tlv(sel)?;
        if !self.impinj.is_empty() {
            self.impinj.emit(w)?;
        }
        w.end_tlv(spec)
    }

    fn parse(value: &[u8]) -> Result<Self> {
        let mut r = FieldReader::new(value);
        let mut spec = ReportSpec {
            trigger: r.u8()?,
            n: r.u16()?,
            ..Default::default()
        };
        for param in Params::new(r.rest()) {
            let param = param?;
            if param.param_type() == ptype::TAG_REPORT_CONTENT_SELECTOR {
                let mut f = FieldReader::new(param.value());
                spec.content = f.u16()? & content::FLAGS;
                for sub in Params::new(f.rest()) {
                    let sub = sub?;
                    if sub.param_type() == ptype::C1G2_EPC_MEMORY_SELECTOR {
                        spec.epc_memory_selector = Some(FieldReader::new(sub.value()).u8()?);
                    }
                }
            } else if let Some(custom) = param.custom() {
                let custom = custom?;
                if custom.vendor == impinj::IMPINJ_PEN
                    && custom.subtype == impinj::subtype::TAG_REPORT_CONTENT_SELECTOR
                {
                    spec.impinj = ContentSelector::parse(custom.payload)?;
                }
            }
        }
        Ok(spec)
    }
}
