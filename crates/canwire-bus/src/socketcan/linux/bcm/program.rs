//! Turning a [`CyclicTiming`] into broadcast manager programs.
//!
//! A TX job runs one program at a time: `count` frames `ival1` apart, then
//! frames `ival2` apart (none when `ival2` is 0). The first frame goes when
//! the timer starts; the kernel counts it (since the 2025 fix that moved the
//! count into the send path: earlier kernels sent `count` frames after it).
//! With `TX_COUNTEVT` the kernel reports `TX_EXPIRED` when the count runs out,
//! just after the last counted frame went.
//!
//! Most timings are one program. A count limit after a multi-rate initial
//! phase takes two: the initial phase (then `ival2` = the period, so no frame
//! is late if the switch is), and on its `TX_EXPIRED` an update to the
//! remaining count at the period. A count above `u32::MAX` is split likewise.

use canwire_core::CanwireError;
use canwire_core::cyclic::CyclicTiming;
use canwire_core::error::Result;

/// Longest interval the kernel takes: 400 days.
const MAX_INTERVAL_US: u64 = 400 * 24 * 3600 * 1_000_000;

/// What happens when a program's count runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCount {
    /// Nothing to do: the kernel goes on at `ival2`, as the timing wants.
    Continue,
    /// Load the next program (see [`next_program`]).
    Update,
    /// The task is over: the kernel stopped (`ival2` is 0).
    End,
}

/// One broadcast manager program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program {
    /// Frames at `ival1_us`; 0 for none.
    pub count: u32,
    /// Interval of the counted frames, µs.
    pub ival1_us: u64,
    /// Interval after them, µs; 0 stops the job.
    pub ival2_us: u64,
    /// What to do on `TX_EXPIRED`.
    pub after: AfterCount,
}

fn micros(name: &str, ns: u64) -> Result<u64> {
    let us = (ns + 500) / 1000;
    if us == 0 {
        return Err(CanwireError::invalid_argument(format!(
            "the kernel scheduler (BCM) counts time in whole microseconds: {name} must be at least 0.001 ms, got {} ms",
            ns as f64 / 1e6
        )));
    }
    if us > MAX_INTERVAL_US {
        return Err(CanwireError::invalid_argument(format!(
            "the kernel scheduler (BCM) takes intervals up to 400 days: {name} is {} ms",
            ns as f64 / 1e6
        )));
    }
    Ok(us)
}

/// Checks that the kernel can run `timing`: intervals of 1 µs to 400 days
/// (rounded to the µs).
pub fn check(timing: &CyclicTiming) -> Result<()> {
    micros("periodMs", timing.period_ns)?;
    if let Some((_, interval)) = timing.initial {
        micros("initialPeriodMs", interval)?;
    }
    Ok(())
}

/// A program of `left` frames `ival1` apart, then `then_us` apart and
/// `after`; split when `left` exceeds the kernel's 32-bit count.
fn counted(left: u64, ival1_us: u64, then_us: u64, after: AfterCount) -> Program {
    match u32::try_from(left) {
        Ok(count) => Program {
            count,
            ival1_us,
            ival2_us: then_us,
            after,
        },
        Err(_) => Program {
            count: u32::MAX,
            ival1_us,
            ival2_us: ival1_us,
            after: AfterCount::Update,
        },
    }
}

/// The program that follows once `done` frames of the task went; `None` when
/// the limit allows no more. `next_program(timing, 0)` starts a task.
pub fn next_program(timing: &CyclicTiming, done: u64) -> Result<Option<Program>> {
    let period = micros("periodMs", timing.period_ns)?;
    let total = timing.frame_limit();
    if total.is_some_and(|n| done >= n) {
        return Ok(None);
    }
    if let Some((initial, interval_ns)) = timing.initial
        && done < initial
    {
        let interval = micros("initialPeriodMs", interval_ns)?;
        return Ok(Some(match total {
            Some(n) if n <= initial => counted(n - done, interval, 0, AfterCount::End),
            Some(_) => counted(initial - done, interval, period, AfterCount::Update),
            None => counted(initial - done, interval, period, AfterCount::Continue),
        }));
    }
    Ok(Some(match total {
        Some(n) => counted(n - done, period, 0, AfterCount::End),
        None => Program {
            count: 0,
            ival1_us: 0,
            ival2_us: period,
            after: AfterCount::Continue,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::ErrorCode;
    use canwire_core::cyclic::CyclicLimit;

    const MS: u64 = 1_000_000;

    fn timing(period_ms: u64, initial: Option<(u64, u64)>, limit: CyclicLimit) -> CyclicTiming {
        CyclicTiming {
            period_ns: period_ms * MS,
            initial: initial.map(|(c, ms)| (c, ms * MS)),
            limit,
        }
    }

    fn program(count: u32, ival1_ms: u64, ival2_ms: u64, after: AfterCount) -> Option<Program> {
        Some(Program {
            count,
            ival1_us: ival1_ms * 1000,
            ival2_us: ival2_ms * 1000,
            after,
        })
    }

    #[test]
    fn forever_is_ival2_alone() {
        let t = timing(10, None, CyclicLimit::Forever);
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(0, 0, 10, AfterCount::Continue)
        );
    }

    #[test]
    fn a_count_is_ival1_then_stop() {
        let t = timing(10, None, CyclicLimit::Count(7));
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(7, 10, 0, AfterCount::End)
        );
        assert_eq!(next_program(&t, 7).unwrap(), None);
    }

    #[test]
    fn a_duration_becomes_the_count_of_slots_before_it() {
        let t = timing(10, None, CyclicLimit::Duration(45 * MS));
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(5, 10, 0, AfterCount::End)
        );
    }

    #[test]
    fn multi_rate_forever_is_one_program() {
        let t = timing(100, Some((3, 10)), CyclicLimit::Forever);
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(3, 10, 100, AfterCount::Continue)
        );
    }

    #[test]
    fn multi_rate_with_a_count_switches_programs() {
        let t = timing(100, Some((3, 10)), CyclicLimit::Count(8));
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(3, 10, 100, AfterCount::Update)
        );
        assert_eq!(
            next_program(&t, 3).unwrap(),
            program(5, 100, 0, AfterCount::End)
        );
        // a late switch: one frame already went at ival2
        assert_eq!(
            next_program(&t, 4).unwrap(),
            program(4, 100, 0, AfterCount::End)
        );
        let within = timing(100, Some((3, 10)), CyclicLimit::Count(2));
        assert_eq!(
            next_program(&within, 0).unwrap(),
            program(2, 10, 0, AfterCount::End)
        );
        let exact = timing(100, Some((3, 10)), CyclicLimit::Count(3));
        assert_eq!(
            next_program(&exact, 0).unwrap(),
            program(3, 10, 0, AfterCount::End)
        );
    }

    #[test]
    fn counts_beyond_32_bits_are_split() {
        let big = u64::from(u32::MAX) + 10;
        let t = timing(1, None, CyclicLimit::Count(big));
        assert_eq!(
            next_program(&t, 0).unwrap(),
            program(u32::MAX, 1, 1, AfterCount::Update)
        );
        assert_eq!(
            next_program(&t, u64::from(u32::MAX)).unwrap(),
            program(10, 1, 0, AfterCount::End)
        );
    }

    #[test]
    fn intervals_round_to_microseconds_within_the_kernels_range() {
        let t = CyclicTiming::every(1_499);
        assert_eq!(next_program(&t, 0).unwrap().unwrap().ival2_us, 1);
        for bad in [
            CyclicTiming::every(499),
            CyclicTiming::every(401 * 24 * 3600 * 1_000 * MS),
        ] {
            let e = check(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgument);
            assert!(e.message.contains("periodMs"), "{}", e.message);
        }
        let initial = CyclicTiming {
            initial: Some((2, 100)),
            ..CyclicTiming::every(MS)
        };
        assert!(
            check(&initial)
                .unwrap_err()
                .message
                .contains("initialPeriodMs")
        );
    }
}
