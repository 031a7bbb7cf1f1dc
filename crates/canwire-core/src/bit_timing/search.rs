//! Constructing timings from what a user knows: a bitrate and segments
//! (the prescaler is derived), or a bitrate and sample point (every
//! prescaler is tried). python-can's search order and preferences, so the
//! same request picks the same timing.

use super::arith::{
    checked_bitrate, checked_clock, checked_sample_point, diverges, py_div, py_round,
};
use super::{BitTiming, BitTimingFd, FdSegments, Segments};
use crate::CanwireError;

/// Prescalers tried for a classic timing (SJA1000's 6 bits).
const CLASSIC_BRP_MAX: i64 = 64;
/// Prescalers tried for each FD phase.
const FD_BRP_MAX: i64 = 256;
/// Python's default sample point for classic searches, in percent.
pub const DEFAULT_SAMPLE_POINT: f64 = 69.0;

/// One FD phase given by bitrate and segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseRequest {
    /// Bitrate in bit/s.
    pub bitrate: i64,
    /// Time segment 1 in quanta.
    pub tseg1: i64,
    /// Time segment 2 in quanta.
    pub tseg2: i64,
    /// Synchronization jump width in quanta.
    pub sjw: i64,
}

/// The prescaler that brings `f_clock` closest to `bitrate` with this many
/// quanta per bit (python-can's `round(f_clock / (bitrate * nbt))`).
fn derived_brp(
    name: &str,
    f_clock: i64,
    bitrate: i64,
    tseg1: i64,
    tseg2: i64,
) -> Result<i64, CanwireError> {
    checked_bitrate(name, bitrate)?;
    let quanta = 1 + tseg1 + tseg2;
    if quanta < 1 {
        return Err(CanwireError::invalid_argument(format!(
            "1 + tseg1 + tseg2 (={quanta}) must be at least 1 quantum"
        )));
    }
    let periods = bitrate.checked_mul(quanta).ok_or_else(|| {
        CanwireError::invalid_argument(format!(
            "{name} (={bitrate}) times {quanta} quanta is too large"
        ))
    })?;
    Ok(py_round(py_div(f_clock, periods)))
}

fn check_effective(name: &str, effective: u32, requested: i64) -> Result<(), CanwireError> {
    if diverges(f64::from(effective), requested) {
        return Err(CanwireError::invalid_argument(format!(
            "the effective {name} (={effective}) is more than 1/256 off the requested {name} (={requested})"
        )));
    }
    Ok(())
}

/// The quanta per bit for a prescaler, and whether its bitrate is within 1/256 of the request.
fn bit_time_for(f_clock: i64, bitrate: i64, brp: i64) -> (i64, bool) {
    let bit_time = py_div(f_clock, bitrate * brp) as i64;
    let fits = bit_time > 0 && !diverges(py_div(f_clock, bit_time * brp), bitrate);
    (bit_time, fits)
}

/// tseg1 and tseg2 for a bit time and sample point, leaving tseg2 at least `tseg2_min`.
fn split_at_sample_point(bit_time: i64, sample_point: f64, tseg2_min: i64) -> (i64, i64) {
    let tseg1 =
        (py_round(sample_point / 100.0 * bit_time as f64) - 1).min(bit_time - 1 - tseg2_min);
    (tseg1, bit_time - tseg1 - 1)
}

impl BitTiming {
    /// A timing for a bitrate and segments: the prescaler is derived, and the
    /// resulting bitrate must be within 1/256 of the request.
    pub fn from_bitrate_and_segments(
        f_clock: i64,
        bitrate: i64,
        tseg1: i64,
        tseg2: i64,
        sjw: i64,
        nof_samples: i64,
        strict: bool,
    ) -> Result<BitTiming, CanwireError> {
        checked_clock(f_clock)?;
        let brp = derived_brp("bitrate", f_clock, bitrate, tseg1, tseg2)?;
        let timing = BitTiming::new(
            f_clock,
            Segments {
                brp,
                tseg1,
                tseg2,
                sjw,
            },
            nof_samples,
            strict,
        )?;
        check_effective("bitrate", timing.bitrate(), bitrate)?;
        Ok(timing)
    }

    /// Every strict timing for a bitrate near a sample point, one per
    /// prescaler (1..=64, ascending) that gives the bitrate within 1/256 and
    /// at least 8 quanta per bit; sjw is `min(tseg2, 4)`.
    pub fn iterate_from_sample_point(
        f_clock: i64,
        bitrate: i64,
        sample_point: f64,
    ) -> Result<Vec<BitTiming>, CanwireError> {
        checked_clock(f_clock)?;
        checked_bitrate("bitrate", bitrate)?;
        checked_sample_point("sample_point", sample_point)?;
        let mut solutions = Vec::new();
        for brp in 1..=CLASSIC_BRP_MAX {
            let (nbt, fits) = bit_time_for(f_clock, bitrate, brp);
            if nbt < 8 {
                break;
            }
            if !fits {
                continue;
            }
            let (tseg1, tseg2) = split_at_sample_point(nbt, sample_point, 1);
            let segments = Segments {
                brp,
                tseg1,
                tseg2,
                sjw: tseg2.min(4),
            };
            if let Ok(timing) = BitTiming::new(f_clock, segments, 1, true) {
                solutions.push(timing);
            }
        }
        Ok(solutions)
    }

    /// The timing of [`iterate_from_sample_point`](Self::iterate_from_sample_point)
    /// closest to the sample point, the lowest prescaler among equals.
    pub fn from_sample_point(
        f_clock: i64,
        bitrate: i64,
        sample_point: f64,
    ) -> Result<BitTiming, CanwireError> {
        let mut solutions = BitTiming::iterate_from_sample_point(f_clock, bitrate, sample_point)?;
        solutions.sort_by_key(|t| t.brp());
        solutions.sort_by(|a, b| {
            let da = (a.sample_point() - sample_point).abs();
            let db = (b.sample_point() - sample_point).abs();
            da.total_cmp(&db)
        });
        solutions.into_iter().next().ok_or_else(|| {
            CanwireError::invalid_argument(format!(
                "no bit timing gives {bitrate} bit/s near a {sample_point}% sample point \
                 from a {f_clock} Hz clock within ISO 11898's range"
            ))
        })
    }
}

impl BitTimingFd {
    /// A timing for two bitrates and their segments: both prescalers are
    /// derived, and each bitrate must be within 1/256 of its request.
    pub fn from_bitrate_and_segments(
        f_clock: i64,
        nominal: PhaseRequest,
        data: PhaseRequest,
        strict: bool,
    ) -> Result<BitTimingFd, CanwireError> {
        checked_clock(f_clock)?;
        let nom_brp = derived_brp(
            "nom_bitrate",
            f_clock,
            nominal.bitrate,
            nominal.tseg1,
            nominal.tseg2,
        )?;
        let data_brp = derived_brp(
            "data_bitrate",
            f_clock,
            data.bitrate,
            data.tseg1,
            data.tseg2,
        )?;
        let segments = FdSegments {
            nominal: Segments {
                brp: nom_brp,
                tseg1: nominal.tseg1,
                tseg2: nominal.tseg2,
                sjw: nominal.sjw,
            },
            data: Segments {
                brp: data_brp,
                tseg1: data.tseg1,
                tseg2: data.tseg2,
                sjw: data.sjw,
            },
        };
        let timing = BitTimingFd::new(f_clock, segments, strict)?;
        check_effective("nom_bitrate", timing.nom_bitrate(), nominal.bitrate)?;
        check_effective("data_bitrate", timing.data_bitrate(), data.bitrate)?;
        Ok(timing)
    }

    /// Every strict timing for two bitrates near two sample points, over
    /// nominal and data prescalers 1..=256 (nominal outer, both ascending);
    /// tseg2 is at least 2, nominal sjw `min(tseg2, 128)`, data sjw `min(tseg2, 16)`.
    pub fn iterate_from_sample_point(
        f_clock: i64,
        nom_bitrate: i64,
        nom_sample_point: f64,
        data_bitrate: i64,
        data_sample_point: f64,
    ) -> Result<Vec<BitTimingFd>, CanwireError> {
        checked_clock(f_clock)?;
        checked_bitrate("nom_bitrate", nom_bitrate)?;
        checked_bitrate("data_bitrate", data_bitrate)?;
        checked_sample_point("nom_sample_point", nom_sample_point)?;
        checked_sample_point("data_sample_point", data_sample_point)?;
        let mut solutions = Vec::new();
        for nom_brp in 1..=FD_BRP_MAX {
            let (nbt, fits) = bit_time_for(f_clock, nom_bitrate, nom_brp);
            if nbt < 1 {
                break;
            }
            if !fits {
                continue;
            }
            let (nom_tseg1, nom_tseg2) = split_at_sample_point(nbt, nom_sample_point, 2);
            let nominal = Segments {
                brp: nom_brp,
                tseg1: nom_tseg1,
                tseg2: nom_tseg2,
                sjw: nom_tseg2.min(128),
            };
            for data_brp in 1..=FD_BRP_MAX {
                let (dbt, fits) = bit_time_for(f_clock, data_bitrate, data_brp);
                if dbt < 1 {
                    break;
                }
                if !fits {
                    continue;
                }
                let (tseg1, tseg2) = split_at_sample_point(dbt, data_sample_point, 2);
                let data = Segments {
                    brp: data_brp,
                    tseg1,
                    tseg2,
                    sjw: tseg2.min(16),
                };
                if let Ok(timing) = BitTimingFd::new(f_clock, FdSegments { nominal, data }, true) {
                    solutions.push(timing);
                }
            }
        }
        Ok(solutions)
    }

    /// The timing of [`iterate_from_sample_point`](Self::iterate_from_sample_point)
    /// python-can picks: one shared prescaler if any solution has one, then
    /// the smallest sample point deviation (summed over both phases), then
    /// the smallest prescaler difference, then the smallest prescaler sum.
    pub fn from_sample_point(
        f_clock: i64,
        nom_bitrate: i64,
        nom_sample_point: f64,
        data_bitrate: i64,
        data_sample_point: f64,
    ) -> Result<BitTimingFd, CanwireError> {
        let mut solutions = BitTimingFd::iterate_from_sample_point(
            f_clock,
            nom_bitrate,
            nom_sample_point,
            data_bitrate,
            data_sample_point,
        )?;
        if solutions.iter().any(|t| t.nom_brp() == t.data_brp()) {
            solutions.retain(|t| t.nom_brp() == t.data_brp());
        }
        let deviation = |t: &BitTimingFd| {
            (t.nom_sample_point() - nom_sample_point).abs()
                + (t.data_sample_point() - data_sample_point).abs()
        };
        solutions.sort_by_key(|t| t.nom_brp() + t.data_brp());
        solutions.sort_by_key(|t| t.nom_brp().abs_diff(t.data_brp()));
        solutions.sort_by(|a, b| deviation(a).total_cmp(&deviation(b)));
        solutions.into_iter().next().ok_or_else(|| {
            CanwireError::invalid_argument(format!(
                "no bit timing gives {nom_bitrate} bit/s at {nom_sample_point}% and {data_bitrate} bit/s \
                 at {data_sample_point}% from a {f_clock} Hz clock within ISO 11898's range"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn derives_the_prescaler_from_the_bitrate() {
        let bt =
            BitTiming::from_bitrate_and_segments(8_000_000, 1_000_000, 5, 2, 1, 1, false).unwrap();
        assert_eq!((bt.brp(), bt.btr0(), bt.btr1()), (1, 0x00, 0x14));
        let error = BitTiming::from_bitrate_and_segments(8_000_000, 300_000, 5, 2, 1, 1, false)
            .unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidArgument);
        assert!(
            error
                .message
                .starts_with("the effective bitrate (=333333) is more than 1/256 off"),
            "{}",
            error.message
        );
        let error =
            BitTiming::from_bitrate_and_segments(8_000_000, 0, 5, 2, 1, 1, false).unwrap_err();
        assert!(
            error.message.starts_with("bitrate (=0) must be a positive"),
            "{}",
            error.message
        );
    }

    #[test]
    fn iterates_every_prescaler_that_fits() {
        let all = BitTiming::iterate_from_sample_point(16_000_000, 500_000, 87.5).unwrap();
        let brps: Vec<u32> = all.iter().map(|t| t.brp()).collect();
        assert_eq!(brps, [2, 4]);
        assert_eq!((all[0].tseg1(), all[0].tseg2(), all[0].sjw()), (13, 2, 2));
        assert_eq!((all[1].tseg1(), all[1].tseg2(), all[1].sjw()), (6, 1, 1));
        let best = BitTiming::from_sample_point(16_000_000, 500_000, 87.5).unwrap();
        assert_eq!(best, all[0]);
    }

    #[test]
    fn refuses_a_low_sample_point_and_an_impossible_request() {
        let error = BitTiming::from_sample_point(8_000_000, 500_000, 49.9).unwrap_err();
        assert!(
            error
                .message
                .starts_with("sample_point (=49.9) must be a percentage of at least 50")
        );
        let error = BitTiming::from_sample_point(8_000_000, 2_000_000, 75.0).unwrap_err();
        assert!(
            error
                .message
                .starts_with("no bit timing gives 2000000 bit/s"),
            "{}",
            error.message
        );
    }

    #[test]
    fn fd_prefers_a_shared_prescaler() {
        let bt =
            BitTimingFd::from_sample_point(80_000_000, 500_000, 80.0, 2_000_000, 75.0).unwrap();
        assert_eq!(
            (bt.nom_brp(), bt.nom_tseg1(), bt.nom_tseg2(), bt.nom_sjw()),
            (2, 63, 16, 16)
        );
        assert_eq!(
            (
                bt.data_brp(),
                bt.data_tseg1(),
                bt.data_tseg2(),
                bt.data_sjw()
            ),
            (2, 14, 5, 5)
        );
        assert_eq!(bt.oscillator_tolerance(250.0, 10.0), 0.78125);
    }

    #[test]
    fn fd_from_bitrates_checks_both_phases() {
        let nominal = PhaseRequest {
            bitrate: 1_000_000,
            tseg1: 59,
            tseg2: 20,
            sjw: 10,
        };
        let data = PhaseRequest {
            bitrate: 8_000_000,
            tseg1: 6,
            tseg2: 3,
            sjw: 2,
        };
        let bt = BitTimingFd::from_bitrate_and_segments(80_000_000, nominal, data, false).unwrap();
        assert_eq!((bt.nom_brp(), bt.data_brp()), (1, 1));
        let off = PhaseRequest {
            bitrate: 7_000_000,
            ..data
        };
        let error =
            BitTimingFd::from_bitrate_and_segments(80_000_000, nominal, off, false).unwrap_err();
        assert!(
            error
                .message
                .starts_with("the effective data_bitrate (=8000000)"),
            "{}",
            error.message
        );
    }
}
