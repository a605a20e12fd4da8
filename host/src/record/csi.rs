//! The WiFi payload every CSI format decodes into: one packet's complex channel values per
//! receive antenna, with where each 802.11 subcarrier sits in them.
//!
//! A format says where its buffer keeps which subcarrier `k` (a [`SubcarrierLayout`], a
//! static table beside the format's decoder glue in `format/`); the WiFi preprocessor
//! reads any subcarrier it wants through it, interpolating between the two reported
//! subcarriers around one the device does not report.
use dagr_protocols::csi::Iq;

/// Where a format's CSI values keep which subcarrier: the subcarriers it reports and each
/// one's entry in an antenna's values.
#[derive(Debug, PartialEq, Eq)]
pub struct SubcarrierLayout {
    /// The subcarriers `k` reported, ascending (at least one).
    pub k: &'static [i32],
    /// For each of `k`, its entry in an antenna's values.
    pub entry: &'static [u16],
}

impl SubcarrierLayout {
    /// How many values an antenna needs to hold every entry of the layout.
    pub fn span(&self) -> usize {
        self.entry.iter().max().map_or(0, |&e| usize::from(e) + 1)
    }

    /// The two positions in [`k`](Self::k) around subcarrier `k` and the weight of the
    /// second (0 when `k` is reported; the band edge holds beyond the first and last).
    pub fn neighbours(&self, k: i32) -> (usize, usize, f32) {
        let last = self.k.len().saturating_sub(1);
        match self.k.partition_point(|&s| s <= k) {
            0 => (0, 0, 0.0),
            i if i > last => (last, last, 0.0),
            i => {
                let (lo, hi) = (self.k[i - 1], self.k[i]);
                (i - 1, i, (k - lo) as f32 / (hi - lo) as f32)
            }
        }
    }
}

/// One packet's CSI (or one antenna's part of it, for devices that print a row per
/// antenna).
#[derive(Debug, Clone)]
pub struct CsiPacket {
    /// Where each antenna's subcarriers sit in its values.
    pub layout: &'static SubcarrierLayout,
    /// The complex values as the device gave them (extra entries ignored).
    pub values: Vec<Iq>,
    /// The receive antennas the values hold.
    pub antennas: Vec<CsiAntenna>,
}

/// One receive antenna's place in a [`CsiPacket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsiAntenna {
    /// The antenna's index on its receiver (0 the first).
    pub antenna: u8,
    /// Where its values start in [`CsiPacket::values`].
    pub offset: usize,
}

impl CsiPacket {
    /// The values of `antenna`, `None` when the packet holds too few to cover its layout (a
    /// truncated buffer gives nothing rather than wrong subcarriers).
    pub fn values_of(&self, antenna: &CsiAntenna) -> Option<&[Iq]> {
        let values = self.values.get(antenna.offset..)?;
        (values.len() >= self.layout.span()).then_some(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPARSE: SubcarrierLayout = SubcarrierLayout {
        k: &[-4, -2, 1, 3],
        entry: &[3, 2, 1, 0],
    };

    #[test]
    fn a_reported_subcarrier_is_read_and_a_missing_one_is_interpolated() {
        assert_eq!(SPARSE.neighbours(-2), (1, 2, 0.0));
        assert_eq!(SPARSE.neighbours(-1), (1, 2, 1.0 / 3.0));
        assert_eq!(SPARSE.neighbours(2), (2, 3, 0.5));
        assert_eq!(SPARSE.neighbours(-9), (0, 0, 0.0), "the lower edge holds");
        assert_eq!(SPARSE.neighbours(3), (3, 3, 0.0));
        assert_eq!(SPARSE.neighbours(9), (3, 3, 0.0), "the upper edge holds");
        assert_eq!(SPARSE.span(), 4);
    }

    #[test]
    fn an_antenna_whose_values_do_not_cover_the_layout_gives_none() {
        let packet = CsiPacket {
            layout: &SPARSE,
            values: vec![Iq { re: 1, im: 2 }; 6],
            antennas: vec![],
        };
        let at = |offset| CsiAntenna { antenna: 0, offset };
        assert_eq!(packet.values_of(&at(2)).map(<[Iq]>::len), Some(4));
        assert!(packet.values_of(&at(3)).is_none());
        assert!(packet.values_of(&at(7)).is_none());
    }
}
