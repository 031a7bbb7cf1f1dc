//! [`BitTiming`]: one classic CAN bit timing, validated with python-can's ranges.

use std::fmt;

use super::Segments;
use super::arith::{bitrate_of, checked_clock, sample_point_of, tq_ns, with_underscores};
use super::tolerance;
use crate::CanwireError;

/// A validated classic CAN bit timing (python-can's `BitTiming`).
///
/// Ranges (python-can's, which fit the SJA1000 registers): `brp` 1..=64,
/// `tseg1` 1..=16, `tseg2` 1..=8, `sjw` 1..=4 and at most `tseg2`, sample
/// point at least 50 %, `nof_samples` 1 or 3. `strict` adds ISO 11898's
/// minimum range: nbt 8..=25, `brp` 1..=32, bitrate 5 kbit/s..=1 Mbit/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BitTiming {
    f_clock: u64,
    brp: u32,
    tseg1: u32,
    tseg2: u32,
    sjw: u32,
    nof_samples: u32,
}

fn refuse(message: String) -> CanwireError {
    CanwireError::invalid_argument(message)
}

fn in_range(name: &str, value: i64, min: i64, max: i64) -> Result<u32, CanwireError> {
    if !(min..=max).contains(&value) {
        return Err(refuse(format!(
            "{name} (={value}) must be in [{min}...{max}]"
        )));
    }
    Ok(value as u32)
}

impl BitTiming {
    /// Validates a timing given by its clock, segments and samples per bit (1 or 3).
    pub fn new(
        f_clock: i64,
        segments: Segments,
        nof_samples: i64,
        strict: bool,
    ) -> Result<BitTiming, CanwireError> {
        let f_clock = checked_clock(f_clock)?;
        let brp = in_range("brp (bit rate prescaler)", segments.brp, 1, 64)?;
        let tseg1 = in_range("tseg1", segments.tseg1, 1, 16)?;
        let tseg2 = in_range("tseg2", segments.tseg2, 1, 8)?;
        let sjw = in_range("sjw", segments.sjw, 1, 4)?;
        if sjw > tseg2 {
            return Err(refuse(format!(
                "sjw (={sjw}) must not be greater than tseg2 (={tseg2})"
            )));
        }
        let sample_point = sample_point_of(tseg1, tseg2);
        if sample_point < 50.0 {
            return Err(refuse(format!(
                "the sample point (={sample_point:.2}%, from tseg1={tseg1} and tseg2={tseg2}) \
                 must be at least 50%"
            )));
        }
        if nof_samples != 1 && nof_samples != 3 {
            return Err(refuse(format!(
                "nof_samples (={nof_samples}) must be 1 or 3"
            )));
        }
        let timing = BitTiming {
            f_clock,
            brp,
            tseg1,
            tseg2,
            sjw,
            nof_samples: nof_samples as u32,
        };
        if strict {
            timing.check_iso_minimum_range()?;
        }
        Ok(timing)
    }

    /// The ISO 11898 minimum range every controller supports (python-can's `strict`).
    fn check_iso_minimum_range(&self) -> Result<(), CanwireError> {
        let nbt = self.nbt();
        if !(8..=25).contains(&nbt) {
            return Err(refuse(format!(
                "strict: the nominal bit time (={nbt} quanta) must be in [8...25]"
            )));
        }
        if self.brp > 32 {
            return Err(refuse(format!(
                "strict: brp (bit rate prescaler) (={}) must be in [1...32]",
                self.brp
            )));
        }
        let bitrate = self.bitrate();
        if !(5_000..=1_000_000).contains(&bitrate) {
            return Err(refuse(format!(
                "strict: the bitrate (={bitrate}) must be in [5000...1000000]"
            )));
        }
        Ok(())
    }

    /// Decodes SJA1000 bus timing registers: BTR0 holds SJW-1 (bits 7..6) and
    /// BRP-1 (bits 5..0); BTR1 holds SAM (bit 7: three samples), TSEG2-1
    /// (bits 6..4) and TSEG1-1 (bits 3..0). Both must be in 0..=0xFFFF as
    /// python-can accepts them: BTR0's bits above 7 then count into SJW,
    /// which refuses it, and BTR1's bits above 7 are ignored.
    pub fn from_registers(f_clock: i64, btr0: i64, btr1: i64) -> Result<BitTiming, CanwireError> {
        for (name, value) in [("btr0", btr0), ("btr1", btr1)] {
            if !(0..=0xFFFF).contains(&value) {
                return Err(refuse(format!("{name} (={value}) must be in [0...65535]")));
            }
        }
        let segments = Segments {
            brp: (btr0 & 0x3F) + 1,
            sjw: (btr0 >> 6) + 1,
            tseg1: (btr1 & 0xF) + 1,
            tseg2: ((btr1 >> 4) & 0x7) + 1,
        };
        let nof_samples = if btr1 & 0x80 != 0 { 3 } else { 1 };
        BitTiming::new(f_clock, segments, nof_samples, false)
    }

    /// The CAN controller clock in Hz.
    pub fn f_clock(&self) -> u64 {
        self.f_clock
    }
    /// Bit rate prescaler.
    pub fn brp(&self) -> u32 {
        self.brp
    }
    /// Time segment 1: quanta from (not including) the sync segment to the sample point.
    pub fn tseg1(&self) -> u32 {
        self.tseg1
    }
    /// Time segment 2: quanta from the sample point to the end of the bit.
    pub fn tseg2(&self) -> u32 {
        self.tseg2
    }
    /// Synchronization jump width in quanta.
    pub fn sjw(&self) -> u32 {
        self.sjw
    }
    /// Samples taken per bit: 1, or 3 (the last at the sample point).
    pub fn nof_samples(&self) -> u32 {
        self.nof_samples
    }
    /// Nominal bit time in quanta: `1 + tseg1 + tseg2`.
    pub fn nbt(&self) -> u32 {
        1 + self.tseg1 + self.tseg2
    }
    /// Bitrate in bit/s (rounded half to even, as python-can).
    pub fn bitrate(&self) -> u32 {
        bitrate_of(self.f_clock, self.nbt(), self.brp)
    }
    /// One time quantum in nanoseconds (rounded).
    pub fn tq(&self) -> u32 {
        tq_ns(self.f_clock, self.brp)
    }
    /// Sample point in percent of the bit.
    pub fn sample_point(&self) -> f64 {
        sample_point_of(self.tseg1, self.tseg2)
    }
    /// SJA1000 bus timing register 0.
    pub fn btr0(&self) -> u32 {
        (self.sjw - 1) << 6 | (self.brp - 1)
    }
    /// SJA1000 bus timing register 1.
    pub fn btr1(&self) -> u32 {
        let sam = u32::from(self.nof_samples == 3);
        sam << 7 | (self.tseg2 - 1) << 4 | (self.tseg1 - 1)
    }

    /// The clock tolerance in percent this timing allows per ISO 11898-1,
    /// for a transceiver loop delay and a bus length (python-can's defaults:
    /// 250 ns and 10 m; signals travel 5 ns/m). Never below 0.
    pub fn oscillator_tolerance(&self, node_loop_delay_ns: f64, bus_length_m: f64) -> f64 {
        let prop_seg = tolerance::propagation_quanta(node_loop_delay_ns, bus_length_m, self.tq());
        let phase_seg1 = f64::from(self.tseg1) - prop_seg;
        let phase_seg2 = f64::from(self.tseg2);
        let nbt = f64::from(self.nbt());
        tolerance::percent(&[
            tolerance::resync_condition(f64::from(self.sjw), nbt),
            tolerance::phase_condition(nbt, phase_seg1, phase_seg2),
        ])
    }
}

/// python-can's `str(BitTiming)`, e.g.
/// `BR: 500_000 bit/s, SP: 87.50%, BRP: 1, TSEG1: 13, TSEG2: 2, SJW: 2, BTR: 401Ch, CLK: 8MHz`.
impl fmt::Display for BitTiming {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BR: {} bit/s, SP: {:.2}%, BRP: {}, TSEG1: {}, TSEG2: {}, SJW: {}, BTR: {:02X}{:02X}h, CLK: {:.0}MHz",
            with_underscores(self.bitrate()),
            self.sample_point(),
            self.brp,
            self.tseg1,
            self.tseg2,
            self.sjw,
            self.btr0(),
            self.btr1(),
            self.f_clock as f64 / 1e6,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn seg(brp: i64, tseg1: i64, tseg2: i64, sjw: i64) -> Segments {
        Segments {
            brp,
            tseg1,
            tseg2,
            sjw,
        }
    }

    fn refusal(result: Result<BitTiming, CanwireError>) -> String {
        let error = result.expect_err("the timing should be refused");
        assert_eq!(error.code, ErrorCode::InvalidArgument);
        error.message
    }

    #[test]
    fn derives_python_can_properties() {
        let bt = BitTiming::new(8_000_000, seg(1, 5, 2, 1), 1, false).unwrap();
        assert_eq!(bt.nbt(), 8);
        assert_eq!(bt.bitrate(), 1_000_000);
        assert_eq!(bt.tq(), 125);
        assert_eq!(bt.sample_point(), 75.0);
        assert_eq!((bt.btr0(), bt.btr1()), (0x00, 0x14));
        assert_eq!(bt.oscillator_tolerance(250.0, 10.0), 0.0);
        assert_eq!(
            bt.to_string(),
            "BR: 1_000_000 bit/s, SP: 75.00%, BRP: 1, TSEG1: 5, TSEG2: 2, SJW: 1, BTR: 0014h, CLK: 8MHz"
        );
    }

    #[test]
    fn registers_round_trip_with_three_samples() {
        let bt = BitTiming::from_registers(16_000_000, 0x43, 0xAB).unwrap();
        assert_eq!(
            (bt.brp(), bt.sjw(), bt.tseg1(), bt.tseg2(), bt.nof_samples()),
            (4, 2, 12, 3, 3)
        );
        assert_eq!((bt.btr0(), bt.btr1()), (0x43, 0xAB));
        assert!(
            refusal(BitTiming::from_registers(16_000_000, 0x1_0000, 0))
                .starts_with("btr0 (=65536)")
        );
        assert!(refusal(BitTiming::from_registers(16_000_000, 0, -1)).starts_with("btr1 (=-1)"));
    }

    #[test]
    fn each_rule_has_its_own_message() {
        let cases = [
            (BitTiming::new(0, seg(1, 5, 2, 1), 1, false), "f_clock (=0)"),
            (
                BitTiming::new(8_000_000, seg(65, 5, 2, 1), 1, false),
                "brp (bit rate prescaler) (=65) must be in [1...64]",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 17, 2, 1), 1, false),
                "tseg1 (=17) must be in [1...16]",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 5, 0, 1), 1, false),
                "tseg2 (=0) must be in [1...8]",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 5, 8, 5), 1, false),
                "sjw (=5) must be in [1...4]",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 5, 2, 3), 1, false),
                "sjw (=3) must not be greater than tseg2 (=2)",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 2, 5, 1), 1, false),
                "the sample point (=37.50%, from tseg1=2 and tseg2=5)",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 5, 2, 1), 2, false),
                "nof_samples (=2) must be 1 or 3",
            ),
            (
                BitTiming::new(8_000_000, seg(1, 4, 2, 1), 1, true),
                "strict: the nominal bit time (=7 quanta)",
            ),
            (
                BitTiming::new(80_000_000, seg(33, 5, 2, 1), 1, true),
                "strict: brp (bit rate prescaler) (=33)",
            ),
            (
                BitTiming::new(80_000_000, seg(1, 5, 2, 1), 1, true),
                "strict: the bitrate (=10000000)",
            ),
        ];
        for (result, expected) in cases {
            let message = refusal(result);
            assert!(
                message.starts_with(expected),
                "{message:?} should start with {expected:?}"
            );
        }
    }
}
