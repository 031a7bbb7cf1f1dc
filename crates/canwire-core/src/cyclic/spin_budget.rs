//! [`SpinBudget`]: when, and for how long, the scheduler thread spins
//! before a deadline instead of waiting on the timer.
//!
//! A timed wait ends late by the timer's wake-up latency; spinning the last
//! stretch before a deadline hides that latency. These limits keep the cost
//! in check:
//!
//! - **How long**: the spin window follows the latency the timed waits
//!   actually show (a slowly decaying high-water mark, times 1.5), between
//!   [`MIN_SPIN_NS`] and [`MAX_SPIN_NS`], so a machine with a prompt timer
//!   does not burn 150 µs before every frame; and at most
//!   [`SPIN_SHARE_OF_GAP_PERCENT`] of the mean time between the thread's
//!   sending wake-ups in the last window, so that spinning before every
//!   wake-up fits under the share below. (Measured at 10 ms x 50 tasks: one
//!   late wake-up raised the window to 150 µs for 75 % of the 200 µs between
//!   deadlines; the share then ran out within windows and the deadlines left
//!   went by the timer alone, a whole wake-up latency late.)
//! - **How much**: when many tasks' deadlines lie closer together than the
//!   window, the thread would never stop spinning. A real-time thread that
//!   never sleeps starves its CPU or, where the kernel throttles real-time
//!   threads (95% of each second by default), is stopped for the rest of the
//!   second: tens of ms in which every task misses its slots. So spinning is
//!   capped at [`MAX_SPIN_PERCENT`] of each [`WINDOW_NS`]; past it the thread
//!   waits on the timer up to the deadline itself.
//! - **How often**: when deadlines come closer together than the timer's
//!   wake-up latency, neither spinning nor waiting can serve each one on
//!   time: spinning would run into the cap at once and then alternate
//!   punctual frames with frames a wake-up latency late (jitter of the
//!   whole latency within every task), and a wait per deadline keeps the
//!   thread as busy as spinning. So when a window's deadlines were closer
//!   than [`DENSE_GAP_NS`] apart on average, the thread stops spinning and
//!   wakes on a fixed grid of [`BATCH_GRID_NS`] of the monotonic clock,
//!   sending every frame that fell due since the last grid point in one
//!   batch, until a window's deadlines are farther than [`SPARSE_GAP_NS`]
//!   apart. It spins at most [`BATCH_SPIN_NS`] before each grid point (the
//!   cap above still applies). Tasks start on grid points (see
//!   [`super::start_instant`]), so a task whose period is a multiple
//!   of the step has its deadlines on the grid and is served at them in both
//!   modes; any other task's frames go out up to one step after their
//!   instants while batching. Deadlines stay absolute.

/// Length of one accounting window in ns.
pub const WINDOW_NS: u64 = 10_000_000;
/// Largest share of a window spent spinning, in per cent.
pub const MAX_SPIN_PERCENT: u64 = 50;
/// Shortest spin window.
pub const MIN_SPIN_NS: u64 = 20_000;
/// Longest spin window (and the window before any wake-up was measured):
/// the spin of canwire-bus's precise waits.
pub const MAX_SPIN_NS: u64 = 150_000;
/// Longest spin, as a share of the mean time between sending wake-ups.
pub const SPIN_SHARE_OF_GAP_PERCENT: u64 = 50;
/// Deadlines closer than this on average over a window make the thread batch.
pub const DENSE_GAP_NS: u64 = 40_000;
/// Deadlines farther apart than this on average over a window end batching.
pub const SPARSE_GAP_NS: u64 = 80_000;
/// Step of the grid the thread wakes on while batching.
pub const BATCH_GRID_NS: u64 = 100_000;
/// Longest spin before a grid point: 40% of a step, under [`MAX_SPIN_PERCENT`].
pub const BATCH_SPIN_NS: u64 = BATCH_GRID_NS * 2 / 5;
/// The latency high-water mark loses 1/DECAY of itself at every wake-up.
const DECAY: u64 = 1024;

/// Spin time and deadlines in the current window, whether waits batch, and
/// the timer's recent latency.
#[derive(Debug, Clone)]
pub struct SpinBudget {
    window_start: u64,
    spent: u64,
    deadlines: u64,
    wakes: u64,
    /// Mean time between sending wake-ups in the last window.
    wake_gap: u64,
    batching: bool,
    latency_mark: u64,
}

impl Default for SpinBudget {
    fn default() -> Self {
        Self {
            window_start: 0,
            spent: 0,
            deadlines: 0,
            wakes: 0,
            wake_gap: u64::MAX,
            batching: false,
            latency_mark: MAX_SPIN_NS,
        }
    }
}

impl SpinBudget {
    fn roll(&mut self, now: u64) {
        let elapsed = now.saturating_sub(self.window_start);
        if elapsed >= WINDOW_NS {
            if self.deadlines * DENSE_GAP_NS > elapsed {
                self.batching = true;
            } else if self.deadlines * SPARSE_GAP_NS < elapsed {
                self.batching = false;
            }
            self.wake_gap = elapsed / self.wakes.max(1);
            self.window_start = now;
            self.spent = 0;
            self.deadlines = 0;
            self.wakes = 0;
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

    /// Records a wake-up at `now` that served `count` deadlines.
    pub fn record_deadlines(&mut self, now: u64, count: u64) {
        self.roll(now);
        self.deadlines += count;
        self.wakes += 1;
    }

    /// While batching: the grid instant to wake at for a frame due at
    /// `deadline` (the first multiple of [`BATCH_GRID_NS`] at or after it).
    pub fn batch_wake(&mut self, now: u64, deadline: u64) -> Option<u64> {
        self.roll(now);
        self.batching
            .then(|| deadline.div_ceil(BATCH_GRID_NS) * BATCH_GRID_NS)
    }

    /// The latest deadline to serve at `now`: the last grid point at or
    /// before it while batching (a frame due after that point waits for the
    /// next one, so a task's frames always go at the first grid wake-up after
    /// their instant, however late the timer was), else `now`.
    pub fn serve_until(&self, now: u64) -> u64 {
        if self.batching {
            now / BATCH_GRID_NS * BATCH_GRID_NS
        } else {
            now
        }
    }

    /// How long before a deadline to stop waiting and spin.
    pub fn spin_ns(&self) -> u64 {
        let gap_share = self.wake_gap / 100 * SPIN_SHARE_OF_GAP_PERCENT;
        (self.latency_mark + self.latency_mark / 2)
            .min(gap_share)
            .clamp(MIN_SPIN_NS, MAX_SPIN_NS)
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
    fn waits_batch_on_the_grid_from_a_dense_window_until_a_sparse_one() {
        let mut budget = SpinBudget::default();
        // One window with `count` deadlines; then where a frame due 1 ns
        // past a grid point is served in the next window.
        let window = |budget: &mut SpinBudget, n: u64, count: u64| {
            budget.record_deadlines(n * WINDOW_NS, count);
            let due = (n + 1) * WINDOW_NS + 7 * BATCH_GRID_NS + 1;
            budget.batch_wake((n + 1) * WINDOW_NS, due)
        };
        assert_eq!(budget.batch_wake(0, 5), None, "no batching at first");
        // 100 µs apart (100 per 10 ms window): sparse.
        assert_eq!(window(&mut budget, 0, 100), None);
        // 20 µs apart: dense; the wake is the next grid point.
        let grid = |n: u64| Some((n + 1) * WINDOW_NS + 8 * BATCH_GRID_NS);
        assert_eq!(window(&mut budget, 1, 500), grid(1));
        // 50 µs apart: between the two bounds, still batching.
        assert_eq!(window(&mut budget, 2, 200), grid(2));
        // 125 µs apart: sparse again.
        assert_eq!(window(&mut budget, 3, 80), None);
        assert_eq!(budget.serve_until(5 * WINDOW_NS - 7), 5 * WINDOW_NS - 7);
        // A deadline on a grid point is served at it; one woken late serves
        // up to the grid point passed, not the deadlines since.
        budget.record_deadlines(4 * WINDOW_NS + 1, 1_000);
        let on_grid = 5 * WINDOW_NS + 3 * BATCH_GRID_NS;
        assert_eq!(budget.batch_wake(5 * WINDOW_NS, on_grid), Some(on_grid));
        assert_eq!(budget.serve_until(on_grid + 17_000), on_grid);
        assert_eq!(budget.serve_until(on_grid), on_grid);
    }

    #[test]
    fn the_window_is_at_most_its_share_of_the_gap_between_wake_ups() {
        let mut budget = SpinBudget::default();
        assert_eq!(budget.spin_ns(), MAX_SPIN_NS);
        // 50 wake-ups in a window: 200 µs apart, half of it.
        for k in 0..50 {
            budget.record_deadlines(k * 200_000, 1);
        }
        budget.record_deadlines(WINDOW_NS, 1);
        assert_eq!(budget.spin_ns(), 100_000);
        // The latency, when lower, still decides.
        for _ in 0..20_000 {
            budget.record_wake(30_000);
        }
        assert_eq!(budget.spin_ns(), 45_000);
        // Dense wake-ups: never below the floor.
        for k in 0..2_000 {
            budget.record_deadlines(WINDOW_NS + k * 5_000, 1);
        }
        budget.record_deadlines(2 * WINDOW_NS, 1);
        assert_eq!(budget.spin_ns(), MIN_SPIN_NS);
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
