//! `recreate_with_f_clock`: the same bitrate(s) and sample point(s) on
//! another controller clock, as python-can moves a timing between devices.

use super::arith::{checked_clock, py_round};
use super::search::PhaseRequest;
use super::{BitTiming, BitTimingFd, FdSegments, Segments};
use crate::CanwireError;

/// How far (in percentage points) a recreated sample point may move.
const SAMPLE_POINT_SLACK: f64 = 1.0;

fn sample_point_moved(before: f64, after: f64) -> Result<(), CanwireError> {
    if (after - before).abs() > SAMPLE_POINT_SLACK {
        return Err(CanwireError::invalid_argument(format!(
            "the new clock moves the sample point from {before:.2}% to {after:.2}%, \
             more than the {SAMPLE_POINT_SLACK} point allowed"
        )));
    }
    Ok(())
}

/// `sjw` scaled to keep its share of the bit, within `1..=max`.
fn scaled_sjw(sjw: u32, bit_time: u32, new_bit_time: u32, max: u32) -> i64 {
    let scaled = py_round(f64::from(sjw) / f64::from(bit_time) * f64::from(new_bit_time));
    scaled.min(i64::from(max)).max(1)
}

impl BitTiming {
    /// This bitrate and sample point on `f_clock`: the same segments with
    /// another prescaler if that fits ISO's range, else the closest timing
    /// for the sample point (which may move at most 1 point) with sjw scaled
    /// to the same share of the bit.
    pub fn recreate_with_f_clock(&self, f_clock: i64) -> Result<BitTiming, CanwireError> {
        checked_clock(f_clock)?;
        let bitrate = i64::from(self.bitrate());
        let (tseg1, tseg2, sjw) = (
            i64::from(self.tseg1()),
            i64::from(self.tseg2()),
            i64::from(self.sjw()),
        );
        let nof_samples = i64::from(self.nof_samples());
        if let Ok(same) = BitTiming::from_bitrate_and_segments(
            f_clock,
            bitrate,
            tseg1,
            tseg2,
            sjw,
            nof_samples,
            true,
        ) {
            return Ok(same);
        }
        let near = BitTiming::from_sample_point(f_clock, bitrate, self.sample_point())?;
        sample_point_moved(self.sample_point(), near.sample_point())?;
        let sjw = scaled_sjw(self.sjw(), self.nbt(), near.nbt(), near.tseg2().min(4));
        let segments = Segments {
            brp: i64::from(near.brp()),
            tseg1: i64::from(near.tseg1()),
            tseg2: i64::from(near.tseg2()),
            sjw,
        };
        BitTiming::new(f_clock, segments, nof_samples, false)
    }
}

impl BitTimingFd {
    /// Both bitrates and sample points on `f_clock`, as
    /// [`BitTiming::recreate_with_f_clock`] does for one phase.
    pub fn recreate_with_f_clock(&self, f_clock: i64) -> Result<BitTimingFd, CanwireError> {
        checked_clock(f_clock)?;
        let nominal = PhaseRequest {
            bitrate: i64::from(self.nom_bitrate()),
            tseg1: i64::from(self.nom_tseg1()),
            tseg2: i64::from(self.nom_tseg2()),
            sjw: i64::from(self.nom_sjw()),
        };
        let data = PhaseRequest {
            bitrate: i64::from(self.data_bitrate()),
            tseg1: i64::from(self.data_tseg1()),
            tseg2: i64::from(self.data_tseg2()),
            sjw: i64::from(self.data_sjw()),
        };
        if let Ok(same) = BitTimingFd::from_bitrate_and_segments(f_clock, nominal, data, true) {
            return Ok(same);
        }
        let near = BitTimingFd::from_sample_point(
            f_clock,
            nominal.bitrate,
            self.nom_sample_point(),
            data.bitrate,
            self.data_sample_point(),
        )?;
        sample_point_moved(self.nom_sample_point(), near.nom_sample_point())?;
        sample_point_moved(self.data_sample_point(), near.data_sample_point())?;
        let segments = FdSegments {
            nominal: Segments {
                brp: i64::from(near.nom_brp()),
                tseg1: i64::from(near.nom_tseg1()),
                tseg2: i64::from(near.nom_tseg2()),
                sjw: scaled_sjw(self.nom_sjw(), self.nbt(), near.nbt(), near.nom_tseg2()),
            },
            data: Segments {
                brp: i64::from(near.data_brp()),
                tseg1: i64::from(near.data_tseg1()),
                tseg2: i64::from(near.data_tseg2()),
                sjw: scaled_sjw(self.data_sjw(), self.dbt(), near.dbt(), near.data_tseg2()),
            },
        };
        BitTimingFd::new(f_clock, segments, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_segments_when_a_prescaler_fits() {
        let bt = BitTiming::from_sample_point(8_000_000, 500_000, 87.5).unwrap();
        let moved = bt.recreate_with_f_clock(16_000_000).unwrap();
        assert_eq!(
            (moved.brp(), moved.tseg1(), moved.tseg2(), moved.sjw()),
            (2, 13, 2, 2)
        );
        assert_eq!(moved.bitrate(), 500_000);
    }

    #[test]
    fn searches_the_sample_point_and_scales_sjw_otherwise() {
        // 8 MHz / 16 quanta = 500 kbit/s; 20 MHz has no prescaler for 16 quanta
        let bt = BitTiming::new(
            8_000_000,
            Segments {
                brp: 1,
                tseg1: 13,
                tseg2: 2,
                sjw: 2,
            },
            3,
            false,
        )
        .unwrap();
        let moved = bt.recreate_with_f_clock(20_000_000).unwrap();
        assert_eq!(
            (
                moved.brp(),
                moved.tseg1(),
                moved.tseg2(),
                moved.sjw(),
                moved.nof_samples()
            ),
            (5, 6, 1, 1, 3)
        );
        assert_eq!((moved.bitrate(), moved.sample_point()), (500_000, 87.5));
    }
}
