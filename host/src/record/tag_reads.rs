//! The RFID payload every RFID format decodes into: tag reads with their phase, link and
//! RSSI.

/// One read of one tag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagRead {
    /// The tag's EPC bytes, most significant first.
    pub epc: Vec<u8>,
    /// Phase, rad, as the reader reported it (wrapped); `None` when it sent none.
    pub phase_rad: Option<f64>,
    /// Channel index (`0` when not reported): phases compare only on one channel.
    pub channel: u16,
    /// Antenna (`0` when not reported): phases compare only on one antenna.
    pub antenna: u16,
    /// Peak RSSI, dBm, when reported.
    pub rssi_dbm: Option<f64>,
    /// When the tag was seen relative to the record's device time, s (a node sends a batch
    /// of reads at one time); 0 for a read made at the record's time.
    pub seen_offset_s: f64,
}
