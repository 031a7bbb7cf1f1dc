//! [`SpinBudget`]: when, and for how long, the scheduler thread spins
//! before a deadline instead of waiting on the timer.
//!
//! A timed wait ends late by the timer's wake-up latency; spinning the last
//! stretch before a deadline hides that latency. Two limits keep the cost in
//! check:
//!
//! - **How long**: the spin window follows the latency the timed waits
//!   actually show (a slowly decaying high-water mark, times 1.5), between
//!   [`MIN_SPIN_NS`] and [`MAX_SPIN_NS`], so a machine with a prompt timer
//!   does not burn 150 µs before every frame.
//! - **How much**: when many tasks' deadlines lie closer together than the
//!   window, the thread would never stop spinning. A real-time thread that
//!   never sleeps starves its CPU or, where the kernel throttles real-time
//!   threads (95% of each second by default), is stopped for the rest of the
//!   second: tens of ms in which every task misses its slots. So spinning is
//!   capped at [`MAX_SPIN_PERCENT`] of each [`WINDOW_NS`]; past it the thread
//!   waits on the timer up to the deadline itself, for at least
//!   [`MIN_WAIT_NS`] (a shorter timed wait costs about as much CPU as
//!   spinning through it), taking the deadlines that fall due meanwhile in
//!   one batch.

use crate::isotp::precise_wait::SPIN_NS;

/// Length of one accounting window in ns.
pub const WINDOW_NS: u64 = 10_000_000;
/// Largest share of a window spent spinning, in per cent.
pub const MAX_SPIN_PERCENT: u64 = 50;
/// Shortest spin window.
pub const MIN_SPIN_NS: u64 = 20_000;
/// Longest spin window (and the window before any wake-up was measured).
pub const MAX_SPIN_NS: u64 = SPIN_NS;
/// Shortest timed wait once the spin share of the window is used.
pub const MIN_WAIT_NS: u64 = 20_000;
/// The latency high-water mark loses 1/DECAY of itself at every wake-up.
const DECAY: u64 = 32;

/// Spin time spent in the current window, and the timer's recent latency.
#[derive(Debug, Clone)]
pub struct SpinBudget {
    window_start: u64,
    spent: u64,
    latency_mark: u64,
}

impl Default for SpinBudget {
    fn default() -> Self {
        Self {
            window_start: 0,
            spent: 0,
            latency_mark: MAX_SPIN_NS,
        }
    }
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

    /// How long before a deadline to stop waiting and spin.
    pub fn spin_ns(&self) -> u64 {
        (self.latency_mark + self.latency_mark / 2).clamp(MIN_SPIN_NS, MAX_SPIN_NS)
    }

    /// Records that a timed wait meant to end at some instant ended `late_ns` after it.
    pub fn record_wake(&mut self, late_ns: u64) {
        let decayed = self.latency_mark - self.latency_mark / DECAY;
        self.latency_mark = decayed.max(late_ns);
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

    #[test]
    fn the_window_follows_the_timer_latency_within_its_bounds() {
        let mut budget = SpinBudget::default();
        assert_eq!(
            budget.spin_ns(),
            MAX_SPIN_NS,
            "the widest before any measurement"
        );
        for _ in 0..200 {
            budget.record_wake(10_000);
        }
        assert_eq!(budget.spin_ns(), 20_000, "1.5 x 10 µs, raised to the floor");
        for _ in 0..200 {
            budget.record_wake(2_000);
        }
        assert_eq!(budget.spin_ns(), MIN_SPIN_NS);
        // One late wake widens the window at once, for the following ones.
        budget.record_wake(60_000);
        assert_eq!(budget.spin_ns(), 90_000);
        budget.record_wake(0);
        assert_eq!(budget.spin_ns(), (60_000 - 60_000 / DECAY) * 3 / 2);
        budget.record_wake(1_000_000);
        assert_eq!(budget.spin_ns(), MAX_SPIN_NS);
    }
}
