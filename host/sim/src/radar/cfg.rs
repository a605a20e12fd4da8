//! A radar configuration from the `.cfg` text a user sends the device: the simulated radar
//! renders what the cfg asks for, as the real one would.
//!
//! Taken from the cfg (through the gateway's own parser, [`RadarParams`]): frame rate
//! (`frameCfg` periodicity), range resolution and bins (`profileCfg` slope, sample rate,
//! samples), Doppler bins and resolution (`frameCfg` loops, `profileCfg` chirp timing, the
//! transmitters of `channelCfg`), the antenna layout (`channelCfg`: three transmitters make
//! the IWR6843's 3D array, azimuth and elevation; one or two make the IWR1642's 2D azimuth
//! array of `rx · tx` virtual antennas, whose points all have `z = 0`), clutter removal
//! (`clutterRemoval`, off when absent, as on the device), the detection range
//! (`cfarFovCfg -1 0 min max`) and which TLVs are sent (`guiMonitor`). Everything the cfg
//! does not describe (SNR at the reference range, noise, target extent) keeps
//! [`RadarConfig::default`].
use std::fmt;

use dagr_protocols::ti_mmwave::cli::{parse_cfg, RadarParams};

use super::config::{GuiMonitor, RadarConfig, PLATFORM_XWR68XX};

/// `platform` of an IWR1642 (xwr16xx): azimuth only.
pub const PLATFORM_XWR16XX: u32 = 0xA1642;

/// A `.cfg` the simulated radar cannot run: what is missing or impossible, and the 1-based
/// line of the command at fault when the cfg has one (`None`: a command is missing, or
/// the combination of lines is what cannot run).
#[derive(Debug, Clone, PartialEq)]
pub struct CfgError {
    /// Line of the command the reason names, if the cfg has it.
    pub line: Option<usize>,
    /// What is wrong, naming the command and field (`profileCfg numAdcSamples too large`).
    pub reason: String,
}

impl fmt::Display for CfgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "radar cfg line {line}: {}", self.reason),
            None => write!(f, "radar cfg: {}", self.reason),
        }
    }
}

impl std::error::Error for CfgError {}

impl CfgError {
    /// `reason` located in `cfg`: at the first line whose command the reason names (the
    /// line the parameters were read from).
    fn in_cfg(cfg: &str, reason: String) -> CfgError {
        let line = reason.split_whitespace().find_map(|word| {
            parse_cfg(cfg)
                .find(|l| l.command() == word)
                .map(|l| l.line_number)
        });
        CfgError { line, reason }
    }
}

impl RadarConfig {
    /// The configuration a device would run after receiving `cfg`: frame rate, range and
    /// Doppler bins, antenna layout, clutter removal, detection range and TLVs from their
    /// commands, the rest as the default configuration; an error names what is missing or
    /// impossible and where.
    pub fn from_cfg(cfg: &str) -> Result<RadarConfig, CfgError> {
        Self::from_cfg_text(cfg).map_err(|reason| CfgError::in_cfg(cfg, reason))
    }

    fn from_cfg_text(cfg: &str) -> Result<RadarConfig, String> {
        let params = RadarParams::from_cfg(cfg).map_err(|e| e.to_string())?;
        // The last line of `command` whose first arguments are `head` (e.g. `cfarFovCfg -1 0`
        // for the range field of view), as numbers.
        let line = |command: &str, head: &[f64]| -> Option<Vec<f64>> {
            parse_cfg(cfg)
                .filter(|l| l.command() == command)
                .map(|l| {
                    l.args()
                        .filter_map(|a| a.parse().ok())
                        .collect::<Vec<f64>>()
                })
                .filter(|a| a.starts_with(head))
                .last()
        };
        let numbers = |command: &str| line(command, &[]);
        let mut c = RadarConfig::default();
        if params.frame_period_ms.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return Err("frameCfg framePeriodicity must be > 0 ms".into());
        }
        c.frame_rate_hz = 1000.0 / f64::from(params.frame_period_ms);
        c.range_resolution_m = f64::from(params.range_resolution_m);
        c.num_range_bins = u16::try_from(params.num_range_bins)
            .map_err(|_| "profileCfg numAdcSamples too large".to_string())?;
        c.num_doppler_bins = u16::try_from(params.num_doppler_bins)
            .map_err(|_| "frameCfg numLoops too large".to_string())?;
        c.max_velocity_mps =
            f64::from(params.doppler_resolution_mps) * f64::from(c.num_doppler_bins) / 2.0;
        c.max_range_m = c.range_resolution_m * f64::from(c.num_range_bins) * 0.9;
        if params.num_tx >= 3 {
            c.platform = PLATFORM_XWR68XX;
        } else {
            c.platform = PLATFORM_XWR16XX;
            c.azimuth_antennas = u16::try_from(params.num_virtual_antennas).unwrap_or(8);
            c.elevation_antennas = 1;
            c.fov_elevation_deg = 45.0;
            c.beam_elevation_deg = 40.0;
        }
        c.clutter_removal = numbers("clutterRemoval").is_some_and(|a| a.get(1) == Some(&1.0));
        if let Some(fov) = line("cfarFovCfg", &[-1.0, 0.0]) {
            if let (Some(&lo), Some(&hi)) = (fov.get(2), fov.get(3)) {
                c.min_range_m = lo.max(c.min_range_m.min(0.25));
                c.max_range_m = hi.min(c.max_range_m);
            }
        }
        if let Some(gui) = numbers("guiMonitor") {
            c.gui_monitor = GuiMonitor {
                range_profile: gui.get(2) == Some(&1.0),
                stats: gui.get(6) == Some(&1.0),
            };
        }
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IWR1642 OOB-style cfg: 2 transmitters, 10 frames/s, clutter removal off.
    pub(crate) const IWR1642_CFG: &str = "\
sensorStop
flushCfg
dfeDataOutputMode 1
channelCfg 15 3 0
adcCfg 2 1
adcbufCfg -1 0 0 1 0
profileCfg 0 77 429 7 57.14 0 0 70 1 256 5209 0 0 30
chirpCfg 0 0 0 0 0 0 0 1
chirpCfg 1 1 0 0 0 0 0 2
frameCfg 0 1 16 0 100 1 0
guiMonitor -1 1 0 0 0 0 1
clutterRemoval -1 0
cfarFovCfg -1 0 0 8.92
sensorStart
";

    #[test]
    fn the_served_iwr6843_cfg_gives_a_3d_20_hz_radar_with_clutter_removal() {
        let c = RadarConfig::from_cfg(crate::serve::ti_cli::RADAR_CFG).unwrap();
        assert!((c.frame_rate_hz - 20.0).abs() < 1e-9);
        assert!(c.clutter_removal);
        assert_eq!((c.platform, c.elevation_antennas), (PLATFORM_XWR68XX, 3));
        assert_eq!(c.num_doppler_bins, 64);
        assert!((c.max_range_m - 9.0).abs() < 1e-9);
    }

    /// `dagr demo` and `dagr sim --serve` send this cfg to the served radar: it must run
    /// the radar `dagr sim --out` renders, which the models were trained on (a 32-bin,
    /// 0.84 m/s Doppler grid here once made the demo predict mostly "clapping").
    #[test]
    fn the_served_cfg_runs_the_radar_that_sim_out_renders() {
        let mut served = RadarConfig::from_cfg(crate::serve::ti_cli::RADAR_CFG).unwrap();
        let trained = RadarConfig::default();
        // Derived from the cfg's chirp timing through f32: equal to 1e-4, not to the bit.
        for (field, value, want) in [
            (
                "range_resolution_m",
                &mut served.range_resolution_m,
                trained.range_resolution_m,
            ),
            (
                "max_velocity_mps",
                &mut served.max_velocity_mps,
                trained.max_velocity_mps,
            ),
            (
                "frame_rate_hz",
                &mut served.frame_rate_hz,
                trained.frame_rate_hz,
            ),
        ] {
            assert!(
                ((*value - want) / want).abs() < 1e-4,
                "{field}: served {value}, sim --out {want}"
            );
            *value = want;
        }
        assert_eq!(served, trained);
    }

    #[test]
    fn an_iwr1642_cfg_gives_a_2d_10_hz_radar_without_clutter_removal() {
        let c = RadarConfig::from_cfg(IWR1642_CFG).unwrap();
        assert!((c.frame_rate_hz - 10.0).abs() < 1e-9);
        assert!(!c.clutter_removal);
        assert_eq!(
            (c.platform, c.azimuth_antennas, c.elevation_antennas),
            (PLATFORM_XWR16XX, 8, 1)
        );
        assert_eq!(c.num_doppler_bins, 16);
        assert!(!c.gui_monitor.range_profile && c.gui_monitor.stats);
    }

    #[test]
    fn the_2d_radar_reports_static_reflectors_at_zero_velocity_and_height() {
        use crate::geometry::Vec3;
        use crate::scene::Scatterer;
        let c = RadarConfig::from_cfg(IWR1642_CFG).unwrap();
        let mut r = super::super::RadarRenderer::new(c, 3).unwrap();
        let room = super::super::tests::room(Vec3::new(4.0, 6.0, 3.0), 0.0);
        let cabinet = [Scatterer {
            pos: Vec3::new(2.3, 3.0, 1.6),
            vel: Vec3::ZERO,
            amplitude: 1.5,
        }];
        let points: Vec<_> = (0..20)
            .flat_map(|f| {
                r.render_frame(&room, &cabinet, f64::from(f) * 0.1, f)
                    .points
            })
            .collect();
        assert!(points.len() >= 20, "{} points", points.len());
        assert!(
            points.iter().all(|p| p.z == 0.0 && p.v == 0.0),
            "{points:?}"
        );
    }

    #[test]
    fn a_cfg_without_a_frame_is_an_error_naming_it() {
        let err = RadarConfig::from_cfg(
            "channelCfg 15 7 0\nprofileCfg 0 60 7 3 24 0 0 166 1 256 12500 0 0 158\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("frameCfg"), "{err}");
        assert_eq!(err.line, None, "no line has frameCfg");
    }

    #[test]
    fn a_bad_value_is_reported_at_its_line() {
        let cfg = IWR1642_CFG.replace("frameCfg 0 1 16 0 100 1 0", "frameCfg 0 1 16 0 0 1 0");
        let err = RadarConfig::from_cfg(&cfg).unwrap_err();
        assert_eq!(err.line, Some(10), "{err}");
        assert!(
            err.to_string()
                .starts_with("radar cfg line 10: frameCfg framePeriodicity"),
            "{err}"
        );
    }
}
