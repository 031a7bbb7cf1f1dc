//! Thread timing where canwire has no OS-specific tuning: the OS's defaults stand.

/// Does nothing here (Linux lowers the timer slack).
pub fn minimize_timer_slack() {}

/// Does nothing here (Linux asks for SCHED_FIFO).
pub fn try_realtime_priority() {}

/// Context switches are not counted here: (0, 0).
pub fn thread_switches() -> (u64, u64) {
    (0, 0)
}
