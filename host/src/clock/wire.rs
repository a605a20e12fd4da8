//! Wire time: how long a unit's bytes took to cross a serial link.
//!
//! A record is stamped with the arrival of its *last* byte; the device sent its first byte
//! `bytes × 10 / baud` earlier (8N1: a start bit, 8 data bits, a stop bit). The envelope of
//! arrivals cannot see a delay that is the same for every sample, and a TI frame's size
//! changes with the number of points, so the wire time of each record is modelled from its
//! byte length and the link's speed and taken off its arrival before the clock model sees it.
//! A node's time-sync request and answer are on the same wire: each leg's wire time is taken
//! off the exchange the same way ([`TimeSyncExchange::without_wire_time`]).
//! Links of unknown speed (TCP) get no correction.
//!
//! [`TimeSyncExchange::without_wire_time`]: super::TimeSyncExchange::without_wire_time

/// Bits on the wire per byte on a serial port in 8N1 framing.
pub const BITS_PER_BYTE_8N1: u64 = 10;

/// The speed of the link a source's bytes cross.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireRate {
    /// Line rate, bits per second (the port's baud rate).
    pub baud: u32,
}

impl WireRate {
    /// A serial port at `baud`, 8N1.
    pub fn serial(baud: u32) -> Self {
        WireRate { baud }
    }

    /// Nanoseconds `bytes` bytes take on the wire.
    pub fn ns(&self, bytes: u32) -> u64 {
        if self.baud == 0 {
            return 0;
        }
        let bits = u128::from(bytes) * u128::from(BITS_PER_BYTE_8N1) * 1_000_000_000;
        u64::try_from(bits / u128::from(self.baud)).unwrap_or(u64::MAX)
    }

    /// When the first of `bytes` bytes that finished arriving at `arrival_ns` started.
    pub fn first_byte_ns(&self, arrival_ns: u64, bytes: u32) -> u64 {
        arrival_ns.saturating_sub(self.ns(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_736_byte_ti_frame_takes_about_8ms_at_921600_baud() {
        let rate = WireRate::serial(921_600);
        assert_eq!(rate.ns(736), 7_986_111);
        assert_eq!(rate.first_byte_ns(10_000_000, 736), 2_013_889);
        assert_eq!(rate.first_byte_ns(1_000, 736), 0);
        assert_eq!(WireRate::serial(115_200).ns(1), 86_805);
    }
}
