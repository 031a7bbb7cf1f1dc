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
//!   waits on the timer up to the deadline itself.
//! - **How often**: each timed wait costs CPU too (several µs on a virtual
//!   machine), and at hundreds of thousands of deadlines a second waking for
//!   each one keeps the thread as busy as spinning. When the thread was busy
//!   (not blocked in a wait) more than [`MAX_BUSY_PERCENT`] of a window,
//!   its timed waits last at least [`BATCH_WAIT_NS`], taking the deadlines
//!   that fall due meanwhile in one batch, until a window is busy less than
//!   [`CALM_BUSY_PERCENT`].

use crate::isotp::precise_wait::SPIN_NS;

/// Length of one accounting window in ns.
pub const WINDOW_NS: u64 = 10_000_000;
/// Largest share of a window spent spinning, in per cent.
pub const MAX_SPIN_PERCENT: u64 = 50;
/// Shortest spin window.
pub const MIN_SPIN_NS: u64 = 20_000;
/// Longest spin window (and the window before any wake-up was measured).
pub const MAX_SPIN_NS: u64 = SPIN_NS;
/// Largest share of a window the thread may be busy before its waits batch.
pub const MAX_BUSY_PERCENT: u64 = 70;
/// Busy share of a window under which waits stop batching.
pub const CALM_BUSY_PERCENT: u64 = 40;
/// Shortest timed wait while batching.
pub const BATCH_WAIT_NS: u64 = 50_000;
/// The latency high-water mark loses 1/DECAY of itself at every wake-up.
const DECAY: u64 = 1024;

/// Spin and blocked time in the current window, whether waits batch, and
/// the timer's recent latency.
#[derive(Debug, Clone)]
pub struct SpinBudget {
    window_start: u64,
    spent: u64,
    blocked: u64,
    batching: bool,
    latency_mark: u64,
}

impl Default for SpinBudget {
    fn default() -> Self {
        Self {
            window_start: 0,
            spent: 0,
            blocked: 0,
            batching: false,
            latency_mark: MAX_SPIN_NS,
        }
    }
}

impl SpinBudget {
    fn roll(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed >= WINDOW_NS {
            let busy_percent = elapsed.saturating_sub(self.blocked) * 100 / elapsed;
            if busy_percent > MAX_BUSY_PERCENT {
                self.batching = true;
            } else if busy_percent < CALM_BUSY_PERCENT {
                self.batching = false;
            }
            self.window_start = now;
            self.spent = 0;
            self.blocked = 0;
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

    /// Records that the thread was blocked in a wait from `from` to `to`.
    pub fn record_blocked(&mut self, from: u64, to: u64) {
        self.roll(from);
        self.blocked += to.saturating_sub(from);
    }

    /// The shortest timed wait: [`BATCH_WAIT_NS`] while batching, else 0.
    pub fn min_wait_ns(&self) -> u64 {
        if self.batching { BATCH_WAIT_NS } else { 0 }
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
    fn waits_batch_from_a_busy_window_until_a_calm_one() {
        let mut budget = SpinBudget::default();
        let window = |budget: &mut SpinBudget, n: u64, blocked_ns: u64| {
            budget.record_blocked(n * WINDOW_NS, n * WINDOW_NS + blocked_ns);
            budget.record_blocked((n + 1) * WINDOW_NS, (n + 1) * WINDOW_NS);
            budget.min_wait_ns()
        };
        assert_eq!(budget.min_wait_ns(), 0);
        assert_eq!(window(&mut budget, 0, 5_000_000), 0, "50% busy");
        assert_eq!(window(&mut budget, 1, 2_000_000), BATCH_WAIT_NS, "80% busy");
        assert_eq!(
            window(&mut budget, 2, 5_000_000),
            BATCH_WAIT_NS,
            "50%: still batching"
        );
        assert_eq!(window(&mut budget, 3, 7_000_000), 0, "30%: calm");
    }

    #[test]
    fn the_window_follows_the_timer_latency_within_its_bounds() {
        let mut budget = SpinBudget::default();
        assert_eq!(
            budget.spin_ns(),
            MAX_SPIN_NS,
            "the widest before any measurement"
        );
        for _ in 0..5_000 {
            budget.record_wake(10_000);
        }
        assert_eq!(budget.spin_ns(), 20_000, "1.5 x 10 µs, raised to the floor");
        for _ in 0..5_000 {
            budget.record_wake(2_000);
        }
        assert_eq!(budget.spin_ns(), MIN_SPIN_NS);
        // One late wake widens the window at once, and it narrows slowly.
        budget.record_wake(60_000);
        assert_eq!(budget.spin_ns(), 90_000);
        budget.record_wake(0);
        assert_eq!(budget.spin_ns(), (60_000 - 60_000 / DECAY) * 3 / 2);
        for _ in 0..500 {
            budget.record_wake(0);
        }
        assert!(budget.spin_ns() > 45_000, "{}", budget.spin_ns());
        budget.record_wake(1_000_000);
        assert_eq!(budget.spin_ns(), MAX_SPIN_NS);
    }
}
