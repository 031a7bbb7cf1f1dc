//! Waiting for a deadline on a monotonic clock: block until shortly before it,
//! then spin, so the wake-up is neither early nor needlessly late.

use std::time::{Duration, Instant};

use crate::frame_queue::FrameQueue;

/// How long before a deadline the driver stops blocking and spins.
pub const SPIN_NS: u64 = 150_000;

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

/// Waits until `deadline` (None: indefinitely, bounded by `idle`), returning
/// early when `queue` has frames, is closed, or is poked.
pub fn wait_until(
    clock: &MonotonicClock,
    deadline: Option<u64>,
    queue: &FrameQueue,
    idle: Duration,
) {
    let Some(deadline) = deadline else {
        queue.wait_blocking(idle);
        return;
    };
    let now = clock.now();
    if deadline <= now {
        return;
    }
    let remaining = deadline - now;
    if remaining > SPIN_NS {
        queue.wait_blocking(Duration::from_nanos(remaining - SPIN_NS));
        return;
    }
    while clock.now() < deadline {
        if !queue.is_empty() || queue.is_poked() || queue.is_closed() {
            return;
        }
        std::hint::spin_loop();
    }
}

/// Lowers this thread's timer slack to 1 ns so timed waits end on time (Linux).
pub fn minimize_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes an integer argument and only affects the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Asks for SCHED_FIFO at a low real-time priority for this thread; ignored
/// where not permitted (and outside Linux).
pub fn try_realtime_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler(0, ...) changes only the calling thread's policy;
    // the param struct is fully initialised.
    unsafe {
        let param = libc::sched_param { sched_priority: 10 };
        libc::sched_setscheduler(0, libc::SCHED_FIFO, &param);
    }
}
