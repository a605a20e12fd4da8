//! The receive-control columns both ESP32 CSI firmwares print: one type, one column table.
//!
//! ESP32-CSI-Tool and Espressif's esp-csi (`csi_recv` on ESP32/S2/S3/C3) both print the
//! radio's `wifi_pkt_rx_ctrl_t` as 19 consecutive columns right after the MAC, in the same
//! order, from `rssi` to `rx_state`. This module owns that run of columns: their order
//! ([`field`]), their names ([`NAMES`], and as header-line text for the formats' `HEADER`
//! constants), the value they hold ([`RxCtrl`]), how they are read (the error names the
//! first bad column) and how they are printed (`%d`, so a `local_timestamp` from 2^31 on
//! prints negative). The format modules say only where the run starts and what surrounds
//! it.
use core::fmt;

use super::lines::{int_column, u32_printed_as_d};
use crate::error::Result;

/// Column positions inside the run, counted from its first column (`rssi`); a format
/// adds the index of the run's first column (`field::RX_CTRL` in each format module).
pub mod field {
    /// `rx_ctrl.rssi`, dBm.
    pub const RSSI: usize = 0;
    /// `rx_ctrl.rate`.
    pub const RATE: usize = 1;
    /// `rx_ctrl.sig_mode`: 0 non-HT, 1 HT, 3 VHT.
    pub const SIG_MODE: usize = 2;
    /// `rx_ctrl.mcs`.
    pub const MCS: usize = 3;
    /// `rx_ctrl.cwb` (headers call it `bandwidth`): 0 = 20 MHz, 1 = 40 MHz.
    pub const BANDWIDTH: usize = 4;
    /// `rx_ctrl.smoothing`.
    pub const SMOOTHING: usize = 5;
    /// `rx_ctrl.not_sounding`.
    pub const NOT_SOUNDING: usize = 6;
    /// `rx_ctrl.aggregation`.
    pub const AGGREGATION: usize = 7;
    /// `rx_ctrl.stbc`.
    pub const STBC: usize = 8;
    /// `rx_ctrl.fec_coding`.
    pub const FEC_CODING: usize = 9;
    /// `rx_ctrl.sgi`.
    pub const SGI: usize = 10;
    /// `rx_ctrl.noise_floor`, dBm.
    pub const NOISE_FLOOR: usize = 11;
    /// `rx_ctrl.ampdu_cnt`.
    pub const AMPDU_CNT: usize = 12;
    /// `rx_ctrl.channel`.
    pub const CHANNEL: usize = 13;
    /// `rx_ctrl.secondary_channel`: 0 none, 1 above, 2 below.
    pub const SECONDARY_CHANNEL: usize = 14;
    /// `rx_ctrl.timestamp`, µs, `u32` printed with `%d`.
    pub const LOCAL_TIMESTAMP: usize = 15;
    /// `rx_ctrl.ant`.
    pub const ANT: usize = 16;
    /// `rx_ctrl.sig_len`.
    pub const SIG_LEN: usize = 17;
    /// `rx_ctrl.rx_state`.
    pub const RX_STATE: usize = 18;
    /// Columns in the run.
    pub const COUNT: usize = 19;
}

/// The run's column names as both firmwares' header lines spell them, comma-separated: a
/// macro so the format modules can `concat!` it into their `HEADER` constants.
macro_rules! rx_ctrl_header {
    () => {
        "rssi,rate,sig_mode,mcs,bandwidth,smoothing,not_sounding,aggregation,stbc,fec_coding,\
sgi,noise_floor,ampdu_cnt,channel,secondary_channel,local_timestamp,ant,sig_len,rx_state"
    };
}
pub(crate) use rx_ctrl_header;

/// The column names, indexed by [`field`] constant: what a parse error names.
pub const NAMES: [&str; field::COUNT] = [
    "rssi",
    "rate",
    "sig_mode",
    "mcs",
    "bandwidth",
    "smoothing",
    "not_sounding",
    "aggregation",
    "stbc",
    "fec_coding",
    "sgi",
    "noise_floor",
    "ampdu_cnt",
    "channel",
    "secondary_channel",
    "local_timestamp",
    "ant",
    "sig_len",
    "rx_state",
];

/// What the ESP32 radio reports about one received frame (`wifi_pkt_rx_ctrl_t`), as the
/// CSI firmwares print it: the shared part of an ESP32-CSI-Tool row and of a 25-column
/// esp-csi row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RxCtrl {
    /// Received signal strength, dBm.
    pub rssi: i8,
    /// PHY rate code of the frame.
    pub rate: u8,
    /// 0 non-HT (11b/g), 1 HT (11n), 3 VHT.
    pub sig_mode: u8,
    /// Modulation and coding scheme index.
    pub mcs: u8,
    /// Channel bandwidth (`rx_ctrl.cwb`): 0 = 20 MHz, 1 = 40 MHz.
    pub bandwidth: u8,
    /// `rx_ctrl.smoothing`: channel estimate smoothing recommended.
    pub smoothing: u8,
    /// `rx_ctrl.not_sounding`: the frame was not a sounding PPDU.
    pub not_sounding: u8,
    /// `rx_ctrl.aggregation`: 0 MPDU, 1 AMPDU.
    pub aggregation: u8,
    /// `rx_ctrl.stbc`: space-time block coding used.
    pub stbc: u8,
    /// `rx_ctrl.fec_coding`: LDPC used.
    pub fec_coding: u8,
    /// `rx_ctrl.sgi`: short guard interval.
    pub sgi: u8,
    /// Noise floor, dBm.
    pub noise_floor: i8,
    /// Subframes in the AMPDU.
    pub ampdu_cnt: u8,
    /// Primary channel.
    pub channel: u8,
    /// Secondary channel: 0 none, 1 above, 2 below.
    pub secondary_channel: u8,
    /// Receiver's µs counter at reception (`rx_ctrl.timestamp`, wraps at 2^32).
    pub local_timestamp: u32,
    /// Antenna number.
    pub ant: u8,
    /// Length of the received packet, bytes.
    pub sig_len: u16,
    /// Receiver state (0 = no error).
    pub rx_state: u8,
}

impl RxCtrl {
    /// An HT20 frame received without error on `channel`, as the CSI firmwares' usual
    /// setup reports it (rate 11, `sig_mode` 1, smoothing and not-sounding set, noise floor
    /// -93 dBm); every other column 0. Tests and simulators start rows from it and set
    /// what they vary with struct update syntax.
    pub const fn ht20(channel: u8) -> RxCtrl {
        RxCtrl {
            rssi: 0,
            rate: 11,
            sig_mode: 1,
            mcs: 0,
            bandwidth: 0,
            smoothing: 1,
            not_sounding: 1,
            aggregation: 0,
            stbc: 0,
            fec_coding: 0,
            sgi: 0,
            noise_floor: -93,
            ampdu_cnt: 0,
            channel,
            secondary_channel: 0,
            local_timestamp: 0,
            ant: 0,
            sig_len: 0,
            rx_state: 0,
        }
    }

    /// Reads the run from `column(i)`, the text of run column `i` (a [`field`] constant);
    /// the error names the first bad column.
    pub(crate) fn parse<'a>(column: impl Fn(usize) -> &'a [u8]) -> Result<RxCtrl> {
        let u8_at = |i: usize| -> Result<u8> { int_column(column(i), NAMES[i]) };
        let i8_at = |i: usize| -> Result<i8> { int_column(column(i), NAMES[i]) };
        Ok(RxCtrl {
            rssi: i8_at(field::RSSI)?,
            rate: u8_at(field::RATE)?,
            sig_mode: u8_at(field::SIG_MODE)?,
            mcs: u8_at(field::MCS)?,
            bandwidth: u8_at(field::BANDWIDTH)?,
            smoothing: u8_at(field::SMOOTHING)?,
            not_sounding: u8_at(field::NOT_SOUNDING)?,
            aggregation: u8_at(field::AGGREGATION)?,
            stbc: u8_at(field::STBC)?,
            fec_coding: u8_at(field::FEC_CODING)?,
            sgi: u8_at(field::SGI)?,
            noise_floor: i8_at(field::NOISE_FLOOR)?,
            ampdu_cnt: u8_at(field::AMPDU_CNT)?,
            channel: u8_at(field::CHANNEL)?,
            secondary_channel: u8_at(field::SECONDARY_CHANNEL)?,
            local_timestamp: u32_printed_as_d(
                column(field::LOCAL_TIMESTAMP),
                NAMES[field::LOCAL_TIMESTAMP],
            )?,
            ant: u8_at(field::ANT)?,
            sig_len: int_column(column(field::SIG_LEN), NAMES[field::SIG_LEN])?,
            rx_state: u8_at(field::RX_STATE)?,
        })
    }

    /// Prints the run as the firmwares do: `%d` numbers joined by commas, no comma before
    /// or after (so `local_timestamp` >= 2^31 prints negative).
    pub fn write_columns(&self, w: &mut impl fmt::Write) -> fmt::Result {
        write!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            self.rssi,
            self.rate,
            self.sig_mode,
            self.mcs,
            self.bandwidth,
            self.smoothing,
            self.not_sounding,
            self.aggregation,
            self.stbc,
            self.fec_coding,
            self.sgi,
            self.noise_floor,
            self.ampdu_cnt,
            self.channel,
            self.secondary_channel,
            self.local_timestamp as i32,
            self.ant,
            self.sig_len,
            self.rx_state,
        )
    }
}

#[cfg(all(test, feature = "std"))]
pub(crate) mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Any receive-control run: what the formats' property tests build rows from.
    pub(crate) fn arb_rx_ctrl() -> impl Strategy<Value = RxCtrl> {
        let signal = (any::<i8>(), any::<i8>(), any::<u32>(), any::<u16>());
        (signal, any::<[u8; 15]>()).prop_map(
            |((rssi, noise_floor, local_timestamp, sig_len), b)| RxCtrl {
                rssi,
                rate: b[0],
                sig_mode: b[1],
                mcs: b[2],
                bandwidth: b[3],
                smoothing: b[4],
                not_sounding: b[5],
                aggregation: b[6],
                stbc: b[7],
                fec_coding: b[8],
                sgi: b[9],
                noise_floor,
                ampdu_cnt: b[10],
                channel: b[11],
                secondary_channel: b[12],
                local_timestamp,
                ant: b[13],
                sig_len,
                rx_state: b[14],
            },
        )
    }

    /// The run of the spec's ESP32-CSI-Tool example row (line 1 of the real recording).
    const RUN: &str = "-73,11,1,0,1,1,1,0,0,0,0,-93,0,1,1,80272146,0,101,0";

    /// [`RUN`] as a value: the receive-control columns of the spec's example row.
    pub(crate) fn spec_run() -> RxCtrl {
        RxCtrl {
            rssi: -73,
            bandwidth: 1,
            secondary_channel: 1,
            local_timestamp: 80272146,
            sig_len: 101,
            ..RxCtrl::ht20(1)
        }
    }

    fn columns(text: &str) -> Vec<&[u8]> {
        text.split(',').map(str::as_bytes).collect()
    }

    #[test]
    fn names_and_header_macro_list_the_same_columns_in_field_order() {
        assert_eq!(NAMES.join(","), rx_ctrl_header!());
        assert_eq!(NAMES[field::LOCAL_TIMESTAMP], "local_timestamp");
        assert_eq!(NAMES.len(), field::COUNT);
    }

    #[test]
    fn parse_reads_the_spec_run() {
        let cols = columns(RUN);
        assert_eq!(RxCtrl::parse(|i| cols[i]).unwrap(), spec_run());
    }

    #[test]
    fn write_prints_the_spec_run_byte_for_byte() {
        let mut text = String::new();
        spec_run().write_columns(&mut text).unwrap();
        assert_eq!(text, RUN);
    }

    #[test]
    fn the_first_bad_column_is_named() {
        let cols = columns("-73,11,1,0,1,1,1,0,0,0,0,-300,0,1,1,x,0,101,0");
        assert_eq!(
            RxCtrl::parse(|i| cols[i]),
            Err(crate::Error::Malformed("noise_floor"))
        );
    }

    #[test]
    fn timestamps_from_2_pow_31_print_negative_and_read_back() {
        let wrapped = RxCtrl {
            local_timestamp: 1 << 31,
            ..spec_run()
        };
        let mut text = String::new();
        wrapped.write_columns(&mut text).unwrap();
        assert!(text.contains(",-2147483648,"));
        let cols = columns(&text);
        assert_eq!(RxCtrl::parse(|i| cols[i]).unwrap(), wrapped);
    }
}
