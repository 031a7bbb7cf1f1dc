//! Thread timing where canwire has no OS-specific tuning: the OS's defaults stand.

/// Does nothing here (Linux lowers the timer slack).
pub fn minimize_timer_slack() {}

/// Does nothing here (Linux asks for SCHED_FIFO).
pub fn try_realtime_priority() {}
