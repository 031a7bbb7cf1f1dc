//! Time, shared by everything that waits for a deadline or stamps a frame:
//! the ISO-TP driver, the cyclic scheduler, playback, watches, the SocketCAN
//! receive paths.
//!
//! - the clocks: [`realtime_ns`] for timestamps, [`MonotonicClock`] for deadlines
//! - [`precise_wait`]: sleeping until a deadline without waking early or needlessly late
//! - [`thread_timing`]: asking the OS to wake this thread on time (Linux; nothing elsewhere)
//! - [`pi_mutex`]: a lock whose holder is not left behind ordinary threads while a real-time thread waits for it

pub mod pi_mutex;
pub mod precise_wait;
#[cfg_attr(target_os = "linux", path = "thread_timing_linux.rs")]
#[cfg_attr(not(target_os = "linux"), path = "thread_timing_other.rs")]
pub mod thread_timing;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub use pi_mutex::{PiMutex, PiMutexGuard};
pub use precise_wait::{SPIN_NS, wait_until};
pub use thread_timing::{minimize_timer_slack, thread_switches, try_realtime_priority};

/// Nanoseconds since the Unix epoch (0 if the clock is set before 1970).
pub fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A monotonic nanosecond clock with an arbitrary origin.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl MonotonicClock {
    /// Nanoseconds since the clock was made.
    pub fn now(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_monotonic_clock_starts_near_zero_and_never_goes_back() {
        let clock = MonotonicClock::default();
        let first = clock.now();
        assert!(first < 1_000_000_000, "{first}");
        assert!(clock.now() >= first);
    }

    #[test]
    fn realtime_is_after_2020() {
        assert!(realtime_ns() > 1_577_836_800_000_000_000);
    }
}
