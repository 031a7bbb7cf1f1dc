//! [`SpinBudget`]: how much of its time the scheduler thread may spend
//! spinning before deadlines.
//!
//! Spinning the last [`SPIN_NS`](crate::isotp::precise_wait::SPIN_NS) before
//! each deadline makes sends precise, but when many tasks' deadlines lie
//! closer together than that the thread never stops spinning. A real-time
//! thread that never sleeps starves its CPU, or, where the kernel throttles
//! real-time threads (95% of each second by default), is stopped for the
//! rest of the second: tens of ms in which every task misses its slots. So
//! spinning is capped at a share of each short window; past it the thread
//! waits on the timer up to the deadline itself, and for at least
//! [`MIN_WAIT_NS`]: a timed wait of a few µs costs about as much CPU as
//! spinning through it, so dense deadlines are taken in batches instead.

/// Length of one accounting window in ns.
pub const WINDOW_NS: u64 = 10_000_000;
/// Largest share of a window spent spinning, in per cent.
pub const MAX_SPIN_PERCENT: u64 = 50;
/// Shortest timed wait once the spin share of the window is used.
pub const MIN_WAIT_NS: u64 = 50_000;

/// Spin time spent in the current window.
#[derive(Debug, Clone, Default)]
pub struct SpinBudget {
    window_start: u64,
    spent: u64,
}

impl SpinBudget {
    fn roll(&mut self, now: u64) {
        if now.saturating_sub(self.window_start) >= WINDOW_NS {
            self.window_start = now;
            self.spent = 0;
        }
    }

    /// True when the thread may spin at `now`.
    pub fn allows(&mut self, now: u64) -> bool {
        self.roll(now);
        self.spent < WINDOW_NS * MAX_SPIN_PERCENT / 100
    }

    /// Records a spin from `from` to `to`.
    pub fn charge(&mut self, from: u64, to: u64) {
        self.roll(from);
        self.spent += to.saturating_sub(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = WINDOW_NS * MAX_SPIN_PERCENT / 100;

    #[test]
    fn spinning_stops_at_the_share_and_resumes_in_the_next_window() {
        let mut budget = SpinBudget::default();
        let mut now = 1_000;
        // 150 µs spins back to back, as with deadlines 150 µs apart.
        let mut spins = 0;
        while budget.allows(now) {
            budget.charge(now, now + 150_000);
            now += 150_000;
            spins += 1;
        }
        assert_eq!(spins, LIMIT.div_ceil(150_000));
        assert!(!budget.allows(now + 1_000_000), "still the same window");
        assert!(budget.allows(1_000 + WINDOW_NS), "a new window");
    }

    #[test]
    fn sparse_spins_are_never_refused() {
        // One task at 1 ms: 150 µs of spin per ms is 15%.
        let mut budget = SpinBudget::default();
        for slot in 0..10_000u64 {
            let wake = slot * 1_000_000 + 850_000;
            assert!(budget.allows(wake), "slot {slot}");
            budget.charge(wake, wake + 150_000);
        }
    }
}
