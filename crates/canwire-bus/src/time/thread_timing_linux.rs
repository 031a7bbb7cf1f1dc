//! Thread timing on Linux: timer slack and a real-time scheduling class.

/// Lowers this thread's timer slack to 1 ns so timed waits end on time.
pub fn minimize_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes an integer argument and only affects the calling thread.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

/// Asks for SCHED_FIFO at a low real-time priority for this thread; ignored
/// where not permitted.
pub fn try_realtime_priority() {
    // SAFETY: sched_setscheduler(0, ...) changes only the calling thread's policy;
    // the param struct is fully initialised.
    unsafe {
        let param = libc::sched_param { sched_priority: 10 };
        libc::sched_setscheduler(0, libc::SCHED_FIFO, &param);
    }
}
