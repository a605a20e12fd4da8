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
use crate::record::{CsiAntenna, CsiPacket, Payload, SubcarrierLayout};

/// One antenna's 30 tensor subcarriers, divided by their RMS, as (re, im).
pub type Antenna = [(f32, f32); WIFI_SUBCARRIERS];

/// One packet's antennas, by slot (`None`: that antenna gave nothing).
pub type Packet = [Option<Antenna>; WIFI_ANTENNAS];

/// Where the tensor's subcarriers sit in one layout's values (both neighbours' entries and
/// the weight of the second, see [`SubcarrierLayout::neighbours`]), worked out once per
/// layout: a format's layout is static, so a stream reads packet after packet through the
/// same picks instead of searching the layout for every subcarrier of every antenna.
#[derive(Debug, Clone, Default)]
pub struct Picks {
    /// The layout and subcarriers `at` and `span` were worked out for.
    key: Option<(&'static SubcarrierLayout, [i32; WIFI_SUBCARRIERS])>,
    /// Per tensor subcarrier: the two entries around it and the second one's weight.
    at: [(usize, usize, f32); WIFI_SUBCARRIERS],
    /// How many values an antenna must hold (the layout's span).
    span: usize,
}

impl Picks {
    /// Brings the picks up to date for `layout` and `subcarriers` (a no-op when they are
    /// the ones of the last call).
    fn update(&mut self, layout: &'static SubcarrierLayout, subcarriers: &[i32; WIFI_SUBCARRIERS]) {
        let current =
            matches!(self.key, Some((l, s)) if std::ptr::eq(l, layout) && s == *subcarriers);
        if current {
            return;
        }
        self.at = subcarriers.map(|k| {
            let (i, j, w) = layout.neighbours(k);
            (
                usize::from(layout.entry[i]),
                usize::from(layout.entry[j]),
                w,
            )
        });
        self.span = layout.span();
        self.key = Some((layout, *subcarriers));
    }
}

/// The antennas one WiFi record gives at the tensor's `subcarriers`, or `None` when it gives
/// none (see the [module doc](self)); `picks` keeps the subcarriers' places between calls.
pub fn read(
    payload: &Payload,
    subcarriers: &[i32; WIFI_SUBCARRIERS],
    picks: &mut Picks,
) -> Option<Packet> {
    let Payload::Csi(csi) = payload else {
        return None;
    };
    picks.update(csi.layout, subcarriers);
    let mut packet: Packet = [None; WIFI_ANTENNAS];
    for antenna in &csi.antennas {
        let slot = usize::from(antenna.antenna);
        if slot < WIFI_ANTENNAS {
            packet[slot] = read_antenna(csi, antenna, picks);
        }
    }
    packet.iter().any(Option::is_some).then_some(packet)
}

/// One antenna's values at the picked subcarriers, normalized; `None` when its values do
/// not cover the layout (a truncated buffer gives nothing rather than wrong subcarriers).
fn read_antenna(csi: &CsiPacket, antenna: &CsiAntenna, picks: &Picks) -> Option<Antenna> {
    let values = csi.values.get(antenna.offset..)?;
    if values.len() < picks.span {
        return None;
    }
    normalize(
        picks
            .at
            .map(|(i, j, w)| lerp(complex(values[i]), complex(values[j]), w)),
    )
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
        let read = read(
            &packet(ramp, &[(2, 0), (0, 31)]),
            &picks,
            &mut Picks::default(),
        )
        .expect("two antennas");
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
        assert!(read(
            &packet(full.clone(), &[(0, 0)]),
            &picks,
            &mut Picks::default()
        )
        .is_some());
        assert!(
            read(
                &packet(full[..30].to_vec(), &[(0, 0)]),
                &picks,
                &mut Picks::default()
            )
            .is_none(),
            "30 entries"
        );
        assert!(
            read(
                &packet(full.clone(), &[(3, 0)]),
                &picks,
                &mut Picks::default()
            )
            .is_none(),
            "antenna 3"
        );
        assert!(
            read(&packet(full.clone(), &[]), &picks, &mut Picks::default()).is_none(),
            "no antenna"
        );
        assert!(
            read(
                &packet(vec![Iq::default(); 31], &[(0, 0)]),
                &picks,
                &mut Picks::default()
            )
            .is_none(),
            "all zero"
        );
        assert!(
            read(&Payload::Tags(Vec::new()), &picks, &mut Picks::default()).is_none(),
            "not CSI"
        );
    }

    /// Every second subcarrier of `EVEN`, reversed in the buffer: another layout.
    static REVERSED_ODD: SubcarrierLayout = SubcarrierLayout {
        k: &[
            -29, -25, -21, -17, -13, -9, -5, -1, 3, 7, 11, 15, 19, 23, 27,
        ],
        entry: &[14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    };

    #[test]
    fn picks_kept_between_records_follow_a_change_of_layout_or_subcarriers() {
        let values: Vec<Iq> = (0..31)
            .map(|i| Iq {
                re: i as i8 - 15,
                im: (i % 7) as i8,
            })
            .collect();
        let even = packet(values.clone(), &[(0, 0)]);
        let Payload::Csi(mut other) = packet(values, &[(1, 0)]) else {
            unreachable!()
        };
        other.layout = &REVERSED_ODD;
        let other = Payload::Csi(other);
        let odd: [i32; WIFI_SUBCARRIERS] = std::array::from_fn(|i| i as i32 * 2 - 29);
        let shifted: [i32; WIFI_SUBCARRIERS] = std::array::from_fn(|i| i as i32 * 2 - 28);
        let mut kept = Picks::default();
        for (payload, subcarriers) in [
            (&even, &odd),
            (&other, &odd),
            (&even, &odd),
            (&even, &shifted),
            (&other, &shifted),
        ] {
            let fresh = read(payload, subcarriers, &mut Picks::default());
            assert_eq!(read(payload, subcarriers, &mut kept), fresh);
            assert!(fresh.is_some());
        }
    }
}
