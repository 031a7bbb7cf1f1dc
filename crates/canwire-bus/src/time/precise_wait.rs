//! Waiting for a deadline on a monotonic clock: block until shortly before it,
//! then spin, so the wake-up is neither early nor needlessly late.

use std::time::Duration;

use super::MonotonicClock;
use crate::frame_queue::FrameQueue;

/// How long before a deadline the driver stops blocking and spins.
pub const SPIN_NS: u64 = 150_000;

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
