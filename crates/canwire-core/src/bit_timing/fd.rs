//! [`BitTimingFd`]: one CAN FD bit timing (nominal and data phase),
//! validated with python-can's rules.

use std::fmt;

use super::Segments;
use super::arith::{bitrate_of, checked_clock, sample_point_of, tq_ns, with_underscores};
use super::tolerance::{self, FdPhases};
use crate::CanwireError;

/// Both phases of an FD timing as a caller gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdSegments {
    /// The nominal (arbitration) phase.
    pub nominal: Segments,
    /// The data phase.
    pub data: Segments,
}

/// A validated CAN FD bit timing (python-can's `BitTimingFd`).
///
/// Rules without `strict` (python-can's): no value negative (and, canwire's
/// own bound, none above [`FD_VALUE_MAX`]), both
/// prescalers at least 1, data bitrate at least the nominal one, each `sjw`
/// at most its `tseg2`, both sample points at least 50 %. `strict` adds
/// ISO 11898's minimum range: nbt 8..=80, dbt 5..=25, data tseg1 1..=16,
/// tseg2 2..=8, sjw 1..=8, and nominal tseg1 2..=128, tseg2 2..=32, sjw
/// 1..=32 with one shared prescaler (2..=64, 2..=16, 1..=16 with two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BitTimingFd {
    f_clock: u64,
    nom: Phase,
    data: Phase,
}

/// One validated phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Phase {
    brp: u32,
    tseg1: u32,
    tseg2: u32,
    sjw: u32,
}

impl Phase {
    fn bit_time(&self) -> u32 {
        1 + self.tseg1 + self.tseg2
    }
}

fn refuse(message: String) -> CanwireError {
    CanwireError::invalid_argument(message)
}

/// The largest segment or prescaler value canwire takes for FD (python-can
/// sets none without `strict`; real controllers stop far below).
pub const FD_VALUE_MAX: i64 = 65_535;

fn not_negative(name: &str, value: i64) -> Result<u32, CanwireError> {
    if value < 0 {
        return Err(refuse(format!("{name} (={value}) must not be negative")));
    }
    if value > FD_VALUE_MAX {
        return Err(refuse(format!(
            "{name} (={value}) must be at most {FD_VALUE_MAX}"
        )));
    }
    Ok(value as u32)
}

fn phase(prefix: &str, s: Segments) -> Result<Phase, CanwireError> {
    Ok(Phase {
        brp: not_negative(&format!("{prefix}_brp"), s.brp)?,
        tseg1: not_negative(&format!("{prefix}_tseg1"), s.tseg1)?,
        tseg2: not_negative(&format!("{prefix}_tseg2"), s.tseg2)?,
        sjw: not_negative(&format!("{prefix}_sjw"), s.sjw)?,
    })
}

fn check_range(name: &str, value: u32, min: u32, max: u32) -> Result<(), CanwireError> {
    if !(min..=max).contains(&value) {
        return Err(refuse(format!(
            "strict: {name} (={value}) must be in [{min}...{max}]"
        )));
    }
    Ok(())
}

impl BitTimingFd {
    /// Validates a timing given by its clock and both phases' segments.
    pub fn new(
        f_clock: i64,
        segments: FdSegments,
        strict: bool,
    ) -> Result<BitTimingFd, CanwireError> {
        if f_clock < 0 {
            return Err(refuse(format!("f_clock (={f_clock}) must not be negative")));
        }
        let nom = phase("nom", segments.nominal)?;
        let data = phase("data", segments.data)?;
        let f_clock = checked_clock(f_clock)?;
        if nom.brp < 1 {
            return Err(refuse("nom_brp (=0) must be at least 1".into()));
        }
        if data.brp < 1 {
            return Err(refuse("data_brp (=0) must be at least 1".into()));
        }
        let timing = BitTimingFd { f_clock, nom, data };
        if timing.data_bitrate() < timing.nom_bitrate() {
            return Err(refuse(format!(
                "the data bitrate (={}) must be at least the nominal bitrate (={})",
                timing.data_bitrate(),
                timing.nom_bitrate()
            )));
        }
        for (name, p) in [("nom", nom), ("data", data)] {
            if p.sjw > p.tseg2 {
                return Err(refuse(format!(
                    "{name}_sjw (={}) must not be greater than {name}_tseg2 (={})",
                    p.sjw, p.tseg2
                )));
            }
        }
        for (name, p) in [("nom", nom), ("data", data)] {
            let sample_point = sample_point_of(p.tseg1, p.tseg2);
            if sample_point < 50.0 {
                return Err(refuse(format!(
                    "the {name} sample point (={sample_point:.2}%, from {name}_tseg1={} and \
                     {name}_tseg2={}) must be at least 50%",
                    p.tseg1, p.tseg2
                )));
            }
        }
        if strict {
            timing.check_iso_minimum_range()?;
        }
        Ok(timing)
    }

    /// The ISO 11898 minimum range every FD controller supports (python-can's `strict`).
    fn check_iso_minimum_range(&self) -> Result<(), CanwireError> {
        let (nom, data) = (self.nom, self.data);
        check_range(
            "the nominal bit time (nbt, in quanta)",
            nom.bit_time(),
            8,
            80,
        )?;
        check_range("the data bit time (dbt, in quanta)", data.bit_time(), 5, 25)?;
        check_range("data_tseg1", data.tseg1, 1, 16)?;
        check_range("data_tseg2", data.tseg2, 2, 8)?;
        check_range("data_sjw", data.sjw, 1, 8)?;
        let (tseg1_max, tseg2_max, sjw_max, which) = if nom.brp == data.brp {
            (128, 32, 32, "with one shared prescaler")
        } else {
            (64, 16, 16, "with separate prescalers")
        };
        check_range(&format!("nom_tseg1 {which}"), nom.tseg1, 2, tseg1_max)?;
        check_range(&format!("nom_tseg2 {which}"), nom.tseg2, 2, tseg2_max)?;
        check_range(&format!("nom_sjw {which}"), nom.sjw, 1, sjw_max)?;
        Ok(())
    }

    /// The CAN controller clock in Hz.
    pub fn f_clock(&self) -> u64 {
        self.f_clock
    }
    /// Nominal (arbitration) phase bit rate prescaler.
    pub fn nom_brp(&self) -> u32 {
        self.nom.brp
    }
    /// Nominal phase time segment 1 (propagation and phase segment 1).
    pub fn nom_tseg1(&self) -> u32 {
        self.nom.tseg1
    }
    /// Nominal phase time segment 2.
    pub fn nom_tseg2(&self) -> u32 {
        self.nom.tseg2
    }
    /// Nominal phase synchronization jump width.
    pub fn nom_sjw(&self) -> u32 {
        self.nom.sjw
    }
    /// Nominal bit time in quanta.
    pub fn nbt(&self) -> u32 {
        self.nom.bit_time()
    }
    /// Nominal bitrate in bit/s.
    pub fn nom_bitrate(&self) -> u32 {
        bitrate_of(self.f_clock, self.nbt(), self.nom.brp)
    }
    /// Nominal time quantum in ns.
    pub fn nom_tq(&self) -> u32 {
        tq_ns(self.f_clock, self.nom.brp)
    }
    /// Nominal sample point in percent.
    pub fn nom_sample_point(&self) -> f64 {
        sample_point_of(self.nom.tseg1, self.nom.tseg2)
    }
    /// Data phase bit rate prescaler.
    pub fn data_brp(&self) -> u32 {
        self.data.brp
    }
    /// Data phase time segment 1.
    pub fn data_tseg1(&self) -> u32 {
        self.data.tseg1
    }
    /// Data phase time segment 2.
    pub fn data_tseg2(&self) -> u32 {
        self.data.tseg2
    }
    /// Data phase synchronization jump width.
    pub fn data_sjw(&self) -> u32 {
        self.data.sjw
    }
    /// Data bit time in quanta.
    pub fn dbt(&self) -> u32 {
        self.data.bit_time()
    }
    /// Data bitrate in bit/s.
    pub fn data_bitrate(&self) -> u32 {
        bitrate_of(self.f_clock, self.dbt(), self.data.brp)
    }
    /// Data time quantum in ns.
    pub fn data_tq(&self) -> u32 {
        tq_ns(self.f_clock, self.data.brp)
    }
    /// Data sample point in percent.
    pub fn data_sample_point(&self) -> f64 {
        sample_point_of(self.data.tseg1, self.data.tseg2)
    }

    /// The clock tolerance in percent per ISO 11898-1 (five conditions over
    /// both phases), for a transceiver loop delay and a bus length
    /// (python-can's defaults: 250 ns, 10 m). Never below 0.
    pub fn oscillator_tolerance(&self, node_loop_delay_ns: f64, bus_length_m: f64) -> f64 {
        let prop_seg =
            tolerance::propagation_quanta(node_loop_delay_ns, bus_length_m, self.nom_tq());
        let phases = FdPhases {
            nbt: f64::from(self.nbt()),
            dbt: f64::from(self.dbt()),
            nom_phase_seg1: f64::from(self.nom.tseg1) - prop_seg,
            nom_phase_seg2: f64::from(self.nom.tseg2),
            data_phase_seg2: f64::from(self.data.tseg2),
            nom_brp: f64::from(self.nom.brp),
            data_brp: f64::from(self.data.brp),
            data_sjw: f64::from(self.data.sjw),
        };
        tolerance::percent(&[
            tolerance::resync_condition(f64::from(self.nom.sjw), phases.nbt),
            tolerance::phase_condition(phases.nbt, phases.nom_phase_seg1, phases.nom_phase_seg2),
            tolerance::resync_condition(phases.data_sjw, phases.dbt),
            tolerance::fd_switch_condition(&phases),
            tolerance::fd_data_resync_condition(&phases),
        ])
    }
}

/// python-can's `str(BitTimingFd)`: `NBR: 500_000 bit/s, NSP: 80.00%, …, CLK: 80MHz`.
impl fmt::Display for BitTimingFd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "NBR: {} bit/s, NSP: {:.2}%, NBRP: {}, NTSEG1: {}, NTSEG2: {}, NSJW: {}, \
             DBR: {} bit/s, DSP: {:.2}%, DBRP: {}, DTSEG1: {}, DTSEG2: {}, DSJW: {}, CLK: {:.0}MHz",
            with_underscores(self.nom_bitrate()),
            self.nom_sample_point(),
            self.nom.brp,
            self.nom.tseg1,
            self.nom.tseg2,
            self.nom.sjw,
            with_underscores(self.data_bitrate()),
            self.data_sample_point(),
            self.data.brp,
            self.data.tseg1,
            self.data.tseg2,
            self.data.sjw,
            self.f_clock as f64 / 1e6,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn fd(nom: (i64, i64, i64, i64), data: (i64, i64, i64, i64)) -> FdSegments {
        let s = |(brp, tseg1, tseg2, sjw)| Segments {
            brp,
            tseg1,
            tseg2,
            sjw,
        };
        FdSegments {
            nominal: s(nom),
            data: s(data),
        }
    }

    #[test]
    fn derives_python_can_properties() {
        let bt = BitTimingFd::new(80_000_000, fd((1, 59, 20, 10), (1, 6, 3, 2)), false).unwrap();
        assert_eq!((bt.nbt(), bt.dbt()), (80, 10));
        assert_eq!(
            (bt.nom_bitrate(), bt.data_bitrate()),
            (1_000_000, 8_000_000)
        );
        assert_eq!((bt.nom_tq(), bt.data_tq()), (12, 12));
        assert_eq!(
            (bt.nom_sample_point(), bt.data_sample_point()),
            (75.0, 70.0)
        );
        assert_eq!(
            bt.to_string(),
            "NBR: 1_000_000 bit/s, NSP: 75.00%, NBRP: 1, NTSEG1: 59, NTSEG2: 20, NSJW: 10, \
             DBR: 8_000_000 bit/s, DSP: 70.00%, DBRP: 1, DTSEG1: 6, DTSEG2: 3, DSJW: 2, CLK: 80MHz"
        );
    }

    #[test]
    fn each_rule_has_its_own_message() {
        let ok_nom = (1, 59, 20, 10);
        let ok_data = (1, 6, 3, 2);
        let cases = [
            (
                BitTimingFd::new(-1, fd(ok_nom, ok_data), false),
                "f_clock (=-1) must not be negative",
            ),
            (
                BitTimingFd::new(0, fd(ok_nom, ok_data), false),
                "f_clock (=0) must be a positive",
            ),
            (
                BitTimingFd::new(80_000_000, fd((1, -2, 20, 10), ok_data), false),
                "nom_tseg1 (=-2) must not be negative",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 6, 3, -1)), false),
                "data_sjw (=-1) must not be negative",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 6, 70_000, 2)), false),
                "data_tseg2 (=70000) must be at most 65535",
            ),
            (
                BitTimingFd::new(80_000_000, fd((0, 59, 20, 10), ok_data), false),
                "nom_brp (=0) must be at least 1",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (0, 6, 3, 2)), false),
                "data_brp (=0) must be at least 1",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (10, 6, 3, 2)), false),
                "the data bitrate (=800000) must be at least",
            ),
            (
                BitTimingFd::new(80_000_000, fd((1, 59, 20, 21), ok_data), false),
                "nom_sjw (=21) must not be greater than nom_tseg2 (=20)",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 6, 3, 4)), false),
                "data_sjw (=4) must not be greater than data_tseg2 (=3)",
            ),
            (
                BitTimingFd::new(80_000_000, fd((1, 20, 59, 10), ok_data), false),
                "the nom sample point (=26.25%",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 2, 7, 2)), false),
                "the data sample point (=30.00%",
            ),
            (
                BitTimingFd::new(80_000_000, fd((1, 79, 20, 10), ok_data), true),
                "strict: the nominal bit time (nbt, in quanta) (=100)",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 2, 1, 1)), true),
                "strict: the data bit time (dbt, in quanta) (=4)",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 17, 2, 2)), true),
                "strict: data_tseg1 (=17)",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 8, 1, 1)), true),
                "strict: data_tseg2 (=1)",
            ),
            (
                BitTimingFd::new(80_000_000, fd(ok_nom, (1, 6, 3, 0)), true),
                "strict: data_sjw (=0)",
            ),
            (
                BitTimingFd::new(80_000_000, fd((1, 40, 1, 1), ok_data), true),
                "strict: nom_tseg2 with one shared prescaler (=1)",
            ),
            (
                BitTimingFd::new(80_000_000, fd((2, 70, 9, 4), (1, 6, 3, 2)), true),
                "strict: nom_tseg1 with separate prescalers (=70)",
            ),
        ];
        for (result, expected) in cases {
            let error = result.expect_err(expected);
            assert_eq!(error.code, ErrorCode::InvalidArgument);
            assert!(
                error.message.starts_with(expected),
                "{:?} should start with {expected:?}",
                error.message
            );
        }
    }
}
