//! The WiFi rows of each CSI packet, kept from one window to the next.
//!
//! Windows overlap (2 s every 0.5 s), so every packet is in four windows, and what it adds
//! to the tensor (its antenna-averaged power in dB and its two phase differences, 90
//! `log10`/`atan2` values, after reading its 30 subcarriers out of each antenna's record)
//! depends on the packet alone. [`PacketCache`] keeps those values per link, by the
//! packet's time, for as long as windows can still hold it; a window then computes only
//! the packets the previous window did not have. An entry also keeps how many records
//! made the packet: when a record of that time arrives late and a later window holds more
//! of them, the packet is computed again, so a window's tensor is always exactly what it
//! would be without the cache.
use std::collections::VecDeque;
use std::sync::Arc;

use super::WIFI_SUBCARRIERS;

/// The values one packet adds to its link's three series; `None`: that series gets no
/// sample from this packet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PacketRows {
    /// Block 0: power in dB averaged over the antennas.
    pub power: Option<[f32; WIFI_SUBCARRIERS]>,
    /// Blocks 1 and 2: phase differences of antennas 1-0 and 2-1.
    pub phase_diffs: [Option<[f32; WIFI_SUBCARRIERS]>; 2],
    /// The same phase differences as unit vectors `(cos, sin)`, zero where a pair is
    /// absent or a product is zero: summed over a window's packets they give each row's
    /// mean direction (its circular mean) without a sine or cosine per value.
    pub phase_units: [[[f32; 2]; WIFI_SUBCARRIERS]; 2],
}

/// One packet of a link as a window saw it.
#[derive(Debug, Clone, Copy)]
pub struct CachedPacket {
    /// The packet's mapped time, gateway ns.
    pub t_ns: u64,
    /// Records of that time the packet was made of.
    pub records: usize,
    /// Of those, records with no mapping to the tensor (counted as unused per window).
    pub unusable: usize,
    /// What the packet adds to the series.
    pub rows: PacketRows,
}

/// Per link, the packets of the last window by time (see the [module doc](self)).
#[derive(Debug, Clone, Default)]
pub struct PacketCache {
    links: Vec<LinkPackets>,
}

#[derive(Debug, Clone, Default)]
struct LinkPackets {
    source: Option<Arc<str>>,
    packets: VecDeque<CachedPacket>,
    /// Where the last packet was found or put: a window asks for its packets in time
    /// order, so the next one is usually the one after it.
    cursor: usize,
}

impl LinkPackets {
    /// Where the packet at `t_ns` is (`Ok`) or would go (`Err`), as a binary search says,
    /// looking beside the cursor first.
    fn position(&self, t_ns: u64) -> Result<usize, usize> {
        let at = |i: usize| self.packets.get(i).map(|p| p.t_ns);
        for i in [self.cursor, self.cursor + 1] {
            if at(i) == Some(t_ns) {
                return Ok(i);
            }
        }
        self.packets.binary_search_by_key(&t_ns, |p| p.t_ns)
    }
}

impl PacketCache {
    /// Forgets the packets of each link slot older than `start_ns` (no later window holds
    /// them) and every packet of a slot whose source is no longer `links[slot]`.
    pub fn start_window(&mut self, links: &[Option<&str>], start_ns: u64) {
        self.links.resize_with(links.len(), LinkPackets::default);
        for (cache, source) in self.links.iter_mut().zip(links) {
            if cache.source.as_deref() != *source {
                cache.packets.clear();
                cache.source = source.map(Arc::from);
            }
            while cache.packets.front().is_some_and(|p| p.t_ns < start_ns) {
                cache.packets.pop_front();
            }
            cache.cursor = 0;
        }
    }

    /// The packet of `link` at `t_ns` if it was made of exactly `records` records.
    #[cfg(test)]
    pub fn get(&self, link: usize, t_ns: u64, records: usize) -> Option<&CachedPacket> {
        let cache = self.links.get(link)?;
        let i = cache.position(t_ns).ok()?;
        Some(&cache.packets[i]).filter(|p| p.records == records)
    }

    /// The packet of `link` at `t_ns` made of exactly `records` records: the kept one, or
    /// else the one `compute` gives, kept from now on (replacing one of the same time).
    /// `None` only for a link slot the last [`Self::start_window`] did not have.
    pub fn get_or_put(
        &mut self,
        link: usize,
        t_ns: u64,
        records: usize,
        compute: impl FnOnce() -> CachedPacket,
    ) -> Option<&CachedPacket> {
        let cache = self.links.get_mut(link)?;
        let found = cache.position(t_ns);
        let packets = &mut cache.packets;
        let i = match found {
            Ok(i) if packets[i].records == records => i,
            Ok(i) => {
                packets[i] = compute();
                i
            }
            Err(i) => {
                packets.insert(i, compute());
                i
            }
        };
        cache.cursor = i;
        Some(&cache.packets[i])
    }

    /// Forgets everything (the tensor's subcarriers changed).
    pub fn clear(&mut self) {
        self.links.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(t_ns: u64, records: usize, x: f32) -> CachedPacket {
        CachedPacket {
            t_ns,
            records,
            unusable: 0,
            rows: PacketRows {
                power: Some([x; WIFI_SUBCARRIERS]),
                phase_diffs: [None, None],
                phase_units: [[[0.0; 2]; WIFI_SUBCARRIERS]; 2],
            },
        }
    }

    fn put(cache: &mut PacketCache, link: usize, p: CachedPacket) {
        cache.get_or_put(link, p.t_ns, p.records, || p);
    }

    #[test]
    fn a_packet_is_computed_once_and_again_only_when_its_record_count_changes() {
        let mut cache = PacketCache::default();
        cache.start_window(&[Some("a"), None, None], 0);
        let computed = std::cell::Cell::new(0);
        let ask = |cache: &mut PacketCache, t: u64, records: usize| {
            let x = t as f32 + records as f32 / 10.0;
            let got = cache.get_or_put(0, t, records, || {
                computed.set(computed.get() + 1);
                packet(t, records, x)
            });
            got.unwrap().rows.power.unwrap()[0]
        };
        // In time order (beside the cursor), out of order (by search), in order again.
        for t in [10, 20, 30, 40, 25, 5, 10, 20, 25, 30, 40] {
            assert_eq!(ask(&mut cache, t, 3), t as f32 + 0.3);
        }
        assert_eq!(computed.get(), 6, "each time once");
        assert_eq!(
            ask(&mut cache, 20, 2),
            20.2,
            "a record fewer: computed again"
        );
        assert_eq!(ask(&mut cache, 20, 2), 20.2);
        assert_eq!(computed.get(), 7);
        assert!(
            cache.get_or_put(3, 10, 3, || packet(10, 3, 0.0)).is_none(),
            "no slot 3"
        );
    }

    #[test]
    fn a_packet_is_found_by_time_only_with_the_same_record_count() {
        let mut cache = PacketCache::default();
        cache.start_window(&[Some("a"), None, None], 0);
        put(&mut cache, 0, packet(30, 3, 1.0));
        put(&mut cache, 0, packet(10, 3, 2.0));
        assert_eq!(cache.get(0, 10, 3).unwrap().rows.power.unwrap()[0], 2.0);
        assert_eq!(cache.get(0, 30, 3).unwrap().rows.power.unwrap()[0], 1.0);
        assert!(
            cache.get(0, 30, 2).is_none(),
            "a record more or less: recompute"
        );
        assert!(cache.get(0, 20, 3).is_none());
        assert!(cache.get(1, 10, 3).is_none(), "another link");
    }

    #[test]
    fn a_new_window_drops_older_packets_and_a_changed_source_drops_all() {
        let mut cache = PacketCache::default();
        cache.start_window(&[Some("a"), Some("b"), None], 0);
        for t in [10, 20, 30] {
            put(&mut cache, 0, packet(t, 1, 0.0));
            put(&mut cache, 1, packet(t, 1, 0.0));
        }
        cache.start_window(&[Some("a"), Some("c"), None], 20);
        assert!(cache.get(0, 10, 1).is_none());
        assert!(cache.get(0, 20, 1).is_some() && cache.get(0, 30, 1).is_some());
        assert!(
            cache.get(1, 30, 1).is_none(),
            "slot 1 is another source now"
        );
    }
}
