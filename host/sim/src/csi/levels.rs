//! The radio levels of the simulated ESP32 links: how much power reaches a receiver, how
//! much noise comes with it, and what int8 level the receiver reports the channel at. The
//! defaults of [`CsiConfig`](super::CsiConfig) are these numbers; each says where it comes
//! from.
//!
//! The reference is the one real ESP32 capture (`shared/fixtures/real/esp32_csi/
//! example_csi.csv`, ESP32-CSI-Tool): RSSI −73 dBm in 12 of its 13 rows (−69 in the
//! other), `noise_floor` −93 dBm in all, and an RMS of 17.4–27.4 int8 units over the 52
//! data subcarriers of each row's LLTF (mean 20.2).
//!
//! **Received power** (the row's RSSI) is the link budget
//!
//! ```text
//! P_rx = P_tx + G_antennas + 10·log10(mean_k |H(f_k)|²)
//! ```
//!
//! where `mean_k |H(f_k)|²` is the channel's power gain over the used subcarriers, computed
//! from the room's geometry by [`channel`](super::channel) (Friis on the line of sight,
//! image sources for the walls, scatterers, the body's shadow and reflections): that term
//! carries the room, the link's length and the person. At 2.437 GHz the line of sight
//! alone loses 20·log10(4π d / λ) = 55.75 dB over 6 m (the middle of the twin's 4–12 m
//! links), so `P_rx` = 2 − 19 − 55.75 = −72.75 dBm there; the walls' and furniture's paths
//! add a few dB, a body on the line of sight takes up to about 10 dB away.
//!
//! **Noise** is the noise floor over the 20 MHz channel, spread evenly over its
//! subcarriers like the signal, so a subcarrier's SNR before estimation is
//! `P_rx − N_floor` (about 20 dB at the real capture's level). The legacy LTF repeats its
//! 3.2 µs symbol twice and the receiver averages the two ([`LLTF_SYMBOLS`]), halving the
//! thermal noise of an LLTF estimate; an HT-LTF with one spatial stream is one symbol.
//!
//! **Reported level**: the ESP32's gain control sets the analog gain from the packet's
//! legacy preamble so the power at its ADC (signal plus noise) meets a fixed target (the
//! twin measures it, as the RSSI, on the primary channel's LLTF, at HT40 too); the CSI is that signal after the FFT and the division by the known
//! training symbols, in the chip's fixed-point scale. So the int8 level of a row does not
//! follow the RSSI: it is the same constant RMS, [`ESP32_AGC_RMS`], whatever the link
//! budget (the real capture's non-HT row, 4 dB stronger, has an RMS of 19.8 against 20.2
//! for the others). Espressif does not publish the fixed-point scale; the capture measures
//! it. At a low SNR the noise takes its share of that RMS, and int8 rounding at this level
//! adds relative noise of its own (a quantization step is 1/20 of the RMS).

/// The transmitter's conducted power, dBm: ESP-IDF's lowest setting,
/// `esp_wifi_set_max_tx_power(8)` (units of 0.25 dBm; the API's range is 8–84, i.e.
/// 2–20 dBm). A transmitter a few metres from its receivers, turned down; with the
/// antennas below it puts the twin's rooms at the real capture's RSSI.
pub const ESP32_TX_POWER_DBM: f64 = 2.0;

/// Effective gain of the transmit and the receive antenna together, dB: small devices'
/// printed antennas, detuned by their boards and enclosures, randomly oriented and
/// polarised. The figure is the 1 m calibration used for Bluetooth beacons (a 0 dBm
/// transmitter is received at −59 dBm at 1 m, where Friis with isotropic antennas gives
/// −40.2 dBm at 2.44 GHz), the nearest published device-to-device link budget in this band.
pub const SMALL_DEVICE_ANTENNA_GAINS_DB: f64 = -19.0;

/// Receiver noise floor over a 20 MHz channel, dBm: what the real capture's rows print;
/// thermal noise `kTB` over 20 MHz is −101 dBm, so this is a noise figure of 8 dB.
pub const ESP32_NOISE_FLOOR_DBM: f64 = -93.0;

/// RMS of the ESP32's int8 CSI over the used subcarriers that its gain control aims at
/// (signal plus noise): the real capture's mean per-row RMS over the LLTF's 52 data
/// subcarriers.
pub const ESP32_AGC_RMS: f64 = 20.2;

/// Repetitions of the legacy LTF's long training symbol the receiver averages (IEEE
/// 802.11 L-LTF: two 3.2 µs symbols after a double guard interval).
pub const LLTF_SYMBOLS: f64 = 2.0;

/// Power ratio of `dbm` relative to 1 mW.
pub fn dbm_to_mw(dbm: f64) -> f64 {
    10f64.powf(dbm / 10.0)
}

/// `mw` in dBm.
pub fn mw_to_dbm(mw: f64) -> f64 {
    10.0 * mw.log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::wifi_wavelength;
    use std::f64::consts::PI;

    /// The worked example of the module doc: a 6 m line of sight at channel 6.
    #[test]
    fn a_six_metre_line_of_sight_lands_at_the_real_capture_rssi() {
        let fspl_db = 20.0 * (4.0 * PI * 6.0 / wifi_wavelength(6)).log10();
        assert!((fspl_db - 55.75).abs() < 0.01, "{fspl_db}");
        let rx = ESP32_TX_POWER_DBM + SMALL_DEVICE_ANTENNA_GAINS_DB - fspl_db;
        assert!((rx - -73.0).abs() < 0.5, "{rx}");
    }

    #[test]
    fn the_noise_floor_is_ktb_over_20_mhz_plus_8_db() {
        let ktb = -174.0 + 10.0 * (20e6f64).log10();
        assert!((ESP32_NOISE_FLOOR_DBM - ktb - 8.0).abs() < 0.1, "{ktb}");
    }

    #[test]
    fn dbm_and_mw_are_inverse() {
        for dbm in [-93.0, -73.0, 0.0, 2.0, 30.0] {
            assert!((mw_to_dbm(dbm_to_mw(dbm)) - dbm).abs() < 1e-12);
        }
    }
}
