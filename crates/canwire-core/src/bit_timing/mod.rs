//! CAN bit timing as python-can 4.6 models it: [`BitTiming`] for classic CAN
//! and [`BitTimingFd`] for CAN FD's nominal (arbitration) and data phases.
//!
//! A bit is `nbt = 1 + tseg1 + tseg2` time quanta of `brp / f_clock`
//! seconds; the sample point sits after the sync quantum and `tseg1`. Every
//! derived figure (bitrate, sample point, tq, SJA1000 registers, ISO 11898
//! oscillator tolerance) is computed with the same floating-point steps and
//! the same round-half-to-even as python-can, so both agree to the last bit.
//!
//! - [`arith`]: the shared numeric steps (Python's `round`, `int`, the 1/256 bitrate tolerance)
//! - [`classic`]: [`BitTiming`], its validation, properties, `from_registers` and `btr0`/`btr1`
//! - [`fd`]: [`BitTimingFd`], its validation and properties
//! - [`search`]: `from_bitrate_and_segments`, `iterate_from_sample_point`, `from_sample_point` for both
//! - [`recreate`]: `recreate_with_f_clock`, the same timing on another controller clock
//! - [`tolerance`]: the oscillator tolerance conditions of ISO 11898-1
//!
//! ```
//! use canwire_core::bit_timing::BitTiming;
//!
//! let bt = BitTiming::from_sample_point(8_000_000, 500_000, 87.5).unwrap();
//! assert_eq!((bt.brp(), bt.tseg1(), bt.tseg2(), bt.sjw()), (1, 13, 2, 2));
//! assert_eq!((bt.btr0(), bt.btr1()), (0x40, 0x1C));
//! assert_eq!(bt.to_string(),
//!     "BR: 500_000 bit/s, SP: 87.50%, BRP: 1, TSEG1: 13, TSEG2: 2, SJW: 2, BTR: 401Ch, CLK: 8MHz");
//! ```
//!
//! Every refusal is an [`ErrorCode::InvalidArgument`](crate::ErrorCode::InvalidArgument)
//! whose message names the value, the rule it broke and what is allowed.
//! Where python-can would raise something other than `ValueError` (a zero
//! clock or bitrate divides by zero there), canwire refuses the input too.

pub mod arith;
pub mod classic;
pub mod fd;
pub mod recreate;
pub mod search;
pub mod tolerance;

pub use classic::BitTiming;
pub use fd::{BitTimingFd, FdSegments};
pub use search::PhaseRequest;

/// Segment values as a caller gives them, before validation (signed, so a
/// negative value is refused with a message instead of wrapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// Bit rate prescaler: quanta are `brp` clock periods long.
    pub brp: i64,
    /// Quanta from (not including) the sync segment to the sample point.
    pub tseg1: i64,
    /// Quanta from the sample point to the end of the bit.
    pub tseg2: i64,
    /// Synchronization jump width in quanta.
    pub sjw: i64,
}
