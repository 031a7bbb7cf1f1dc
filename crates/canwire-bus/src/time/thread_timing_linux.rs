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

/// This thread's context switches so far: (voluntary, involuntary). A
/// voluntary switch is a block (a lock, a wait), an involuntary one a
/// preemption. For diagnostics (the cyclic scheduler's wake trace).
pub fn thread_switches() -> (u64, u64) {
    // SAFETY: getrusage writes only the rusage struct it is given, for the calling thread.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_THREAD, &mut usage) != 0 {
            return (0, 0);
        }
        (usage.ru_nvcsw as u64, usage.ru_nivcsw as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sleep_counts_as_a_voluntary_switch_of_this_thread() {
        let (before, _) = thread_switches();
        std::thread::sleep(std::time::Duration::from_millis(1));
        let (after, _) = thread_switches();
        assert!(after > before, "{before} -> {after}");
    }
}
