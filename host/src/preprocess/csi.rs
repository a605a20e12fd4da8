//! A WiFi record's CSI read onto the WiFi tensor's 30 subcarriers and 3 antenna slots,
//! whatever its format: the format says where its buffer keeps which subcarrier (the
//! record's [`SubcarrierLayout`](crate::record::SubcarrierLayout), written beside the
//! format's decoder in `format/`), this module reads any subcarrier through it.
//!
//! The tensor's rows are the 802.11 subcarriers `k` of [`PreprocessSpec::wifi_subcarriers`](super::PreprocessSpec::wifi_subcarriers)
//! (by default 30 of the 52 legacy-LTF subcarriers `±1..=±26`, see
//! [`wifi::picked_subcarriers`](super::wifi::picked_subcarriers)). Each antenna of a record
//! gives its complex values at those `k`: a `k` the layout reports is read as such, one it
//! does not is linearly interpolated between the two reported subcarriers around it (an
//! Intel 5300 reports every second `k`; an esp-csi row with an untrusted first word lacks
//! `k = 0, 1`), and beyond the layout's band the edge holds. Each antenna is divided by its
//! RMS over the 30 (so a format's own gain and scaling cancel: an AGC step, an Intel 5300's
//! unscaled CSI, an 8-bit ESP32 buffer all give the same numbers for the same channel).
//! Antenna `i` fills slot `i`; an antenna beyond the third, one whose values do not cover
//! its layout (a truncated buffer), or one whose 30 values are all zero gives nothing, and a
//! record none of whose antennas gives anything is unused.
use dagr_protocols::csi::Iq;

use super::{WIFI_ANTENNAS, WIFI_SUBCARRIERS};
use crate::record::{CsiAntenna, CsiPacket, Payload};

/// One antenna's 30 tensor subcarriers, divided by their RMS, as (re, im).
pub type Antenna = [(f32, f32); WIFI_SUBCARRIERS];

/// One packet's antennas, by slot (`None`: that antenna gave nothing).
pub type Packet = [Option<Antenna>; WIFI_ANTENNAS];

/// The antennas one WiFi record gives at the tensor's `subcarriers`, or `None` when it gives
/// none (see the [module doc](self)).
pub fn read(payload: &Payload, subcarriers: &[i32; WIFI_SUBCARRIERS]) -> Option<Packet> {
    let Payload::Csi(csi) = payload else {
        return None;
    };
    let mut packet: Packet = [None; WIFI_ANTENNAS];
    for antenna in &csi.antennas {
        let slot = usize::from(antenna.antenna);
        if slot < WIFI_ANTENNAS {
            packet[slot] = read_antenna(csi, antenna, subcarriers);
        }
    }
    packet.iter().any(Option::is_some).then_some(packet)
}

/// One antenna's values at `subcarriers`, normalized.
fn read_antenna(
    csi: &CsiPacket,
    antenna: &CsiAntenna,
    subcarriers: &[i32; WIFI_SUBCARRIERS],
) -> Option<Antenna> {
    let values = csi.values_of(antenna)?;
    let layout = csi.layout;
    let at = |i: usize| complex(values[usize::from(layout.entry[i])]);
    normalize(subcarriers.map(|k| {
        let (i, j, w) = layout.neighbours(k);
        lerp(at(i), at(j), w)
    }))
}

fn complex(iq: Iq) -> (f32, f32) {
    (f32::from(iq.re), f32::from(iq.im))
}

/// `a + (b − a)·w`, exactly `a` at `w = 0`.
fn lerp(a: (f32, f32), b: (f32, f32), w: f32) -> (f32, f32) {
    if w == 0.0 {
        return a;
    }
    (a.0 + (b.0 - a.0) * w, a.1 + (b.1 - a.1) * w)
}

/// `h` divided by its RMS; `None` when it is all zero.
pub fn normalize(h: Antenna) -> Option<Antenna> {
    let power = h.iter().map(|(r, i)| r * r + i * i).sum::<f32>() / WIFI_SUBCARRIERS as f32;
    let rms = power.sqrt();
    (rms > 0.0).then(|| h.map(|(r, i)| (r / rms, i / rms)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SubcarrierLayout;

    #[test]
    fn normalization_cancels_a_gain_change_and_keeps_the_phase() {
        let h =
            |gain: f32| -> Antenna { std::array::from_fn(|s| (gain * (1 + s % 5) as f32, gain)) };
        let (low, high) = (normalize(h(2.0)).unwrap(), normalize(h(6.0)).unwrap());
        for (l, h) in low.iter().zip(&high) {
            assert!((l.0 - h.0).abs() < 1e-5 && (l.1 - h.1).abs() < 1e-5);
        }
        assert!(normalize([(0.0, 0.0); WIFI_SUBCARRIERS]).is_none());
    }

    /// Subcarriers -30..=30 in even steps, entry `i` the `i`-th.
    static EVEN: SubcarrierLayout = SubcarrierLayout {
        k: &[
            -30, -28, -26, -24, -22, -20, -18, -16, -14, -12, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8,
            10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30,
        ],
        entry: &[
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
            24, 25, 26, 27, 28, 29, 30,
        ],
    };

    /// A packet of `antennas` (index, offset) over `values`.
    fn packet(values: Vec<Iq>, antennas: &[(u8, usize)]) -> Payload {
        let antennas = antennas
            .iter()
            .map(|&(antenna, offset)| CsiAntenna { antenna, offset });
        Payload::Csi(CsiPacket {
            layout: &EVEN,
            values,
            antennas: antennas.collect(),
        })
    }

    #[test]
    fn odd_subcarriers_are_interpolated_and_antennas_fill_their_slots() {
        let ramp: Vec<Iq> = (0..62)
            .map(|i| Iq {
                re: i as i8 + 1,
                im: 0,
            })
            .collect();
        let picks = std::array::from_fn(|i| i as i32 * 2 - 29);
        let read = read(&packet(ramp, &[(2, 0), (0, 31)]), &picks).expect("two antennas");
        assert!(read[1].is_none());
        let (first, second) = (read[2].unwrap(), read[0].unwrap());
        // k = -29 lies halfway between entries 0 and 1 (re 1 and 2): 1.5 before scaling,
        // k = -27 2.5; the second antenna's values start at 32.
        assert!((first[1].0 / first[0].0 - 2.5 / 1.5).abs() < 1e-6);
        assert!((second[1].0 / second[0].0 - 33.5 / 32.5).abs() < 1e-6);
        assert!(first.iter().chain(&second).all(|&(_, im)| im == 0.0));
    }

    #[test]
    fn records_without_a_readable_antenna_give_nothing() {
        let picks = super::super::wifi::picked_subcarriers();
        let full = vec![Iq { re: 5, im: 5 }; 31];
        assert!(read(&packet(full.clone(), &[(0, 0)]), &picks).is_some());
        assert!(
            read(&packet(full[..30].to_vec(), &[(0, 0)]), &picks).is_none(),
            "30 entries"
        );
        assert!(
            read(&packet(full.clone(), &[(3, 0)]), &picks).is_none(),
            "antenna 3"
        );
        assert!(
            read(&packet(full.clone(), &[]), &picks).is_none(),
            "no antenna"
        );
        assert!(
            read(&packet(vec![Iq::default(); 31], &[(0, 0)]), &picks).is_none(),
            "all zero"
        );
        assert!(
            read(&Payload::Tags(Vec::new()), &picks).is_none(),
            "not CSI"
        );
    }
}
