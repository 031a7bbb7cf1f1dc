//! The process-wide cyclic scheduler thread.
//!
//! Every task's [`CyclicSchedule`] lives here. The thread sends what is due,
//! then sleeps until the earliest next deadline: it blocks on a condition
//! variable until shortly before it and spins the rest, with the timer slack
//! at 1 ns and, where the process may, SCHED_FIFO. Deadlines are absolute
//! (`start + n * period` on the monotonic clock), so a late wake-up never
//! shifts later frames; a wake-up later than a whole period skips and counts
//! the slots that passed (see [`canwire_core::cyclic`]). A task whose bus
//! closed stops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use canwire_core::Frame;
use canwire_core::cyclic::CyclicSchedule;

use super::hooks::{ErrorSink, ModifierLink};
use crate::bus::Bus;
use crate::isotp::precise_wait::{MonotonicClock, SPIN_NS, minimize_timer_slack};

pub(crate) struct TaskEntry {
    pub(crate) schedule: CyclicSchedule,
    pub(crate) bus: Arc<Bus>,
    pub(crate) send_errors: u64,
    pub(crate) last_error: Option<String>,
    pub(crate) on_error: Option<ErrorSink>,
    pub(crate) modifier: Option<Arc<ModifierLink>>,
}

/// A frame due now, with what its send needs outside the lock.
struct Due {
    id: u64,
    bus: Arc<Bus>,
    frame: Frame,
    slot: u64,
    position: usize,
    on_error: Option<ErrorSink>,
    modifier: Option<Arc<ModifierLink>>,
}

#[derive(Default)]
pub(crate) struct SchedulerState {
    pub(crate) tasks: HashMap<u64, TaskEntry>,
}

/// The process-wide scheduler.
pub struct CyclicScheduler {
    state: Mutex<SchedulerState>,
    changed: Condvar,
    dirty: AtomicBool,
    next_id: AtomicU64,
    clock: MonotonicClock,
    started: std::sync::Once,
}

static SCHEDULER: LazyLock<Arc<CyclicScheduler>> = LazyLock::new(|| {
    Arc::new(CyclicScheduler {
        state: Mutex::default(),
        changed: Condvar::new(),
        dirty: AtomicBool::new(false),
        next_id: AtomicU64::new(1),
        clock: MonotonicClock::default(),
        started: std::sync::Once::new(),
    })
});

impl CyclicScheduler {
    /// The scheduler of this process; its thread starts with the first task.
    pub fn global() -> Arc<CyclicScheduler> {
        let scheduler = SCHEDULER.clone();
        let thread_side = scheduler.clone();
        scheduler.started.call_once(move || {
            let _ = std::thread::Builder::new()
                .name("canwire-cyclic".into())
                .spawn(move || thread_side.run());
        });
        scheduler
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SchedulerState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Now on the scheduler's monotonic clock, in ns.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    pub(crate) fn next_task_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Wakes the thread after a change to the tasks.
    pub(crate) fn poke(&self) {
        self.dirty.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    fn run(&self) {
        minimize_timer_slack();
        try_realtime_priority();
        let mut due: Vec<Due> = Vec::new();
        loop {
            let mut state = self.lock();
            self.dirty.store(false, Ordering::Release);
            let now = self.clock.now();
            due.clear();
            let mut earliest: Option<u64> = None;
            for (id, task) in state.tasks.iter_mut() {
                if task.bus.is_closed() {
                    task.schedule.stop();
                    continue;
                }
                if let Some((slot, mut frame)) = task.schedule.poll_transmit_slot(now) {
                    let position = (slot % task.schedule.frames().len() as u64) as usize;
                    if let Some(answer) =
                        task.modifier.as_ref().and_then(|m| m.take_answer(position))
                    {
                        task.schedule.set_frame(position, answer);
                        frame = answer;
                    }
                    due.push(Due {
                        id: *id,
                        bus: task.bus.clone(),
                        frame,
                        slot,
                        position,
                        on_error: task.on_error.clone(),
                        modifier: task.modifier.clone(),
                    });
                }
                if let Some(next) = task.schedule.poll_timeout() {
                    earliest = Some(earliest.map_or(next, |e: u64| e.min(next)));
                }
            }
            drop(state);
            if !due.is_empty() {
                let mut failures = Vec::new();
                for d in due.drain(..) {
                    let result = match d.bus.send(std::slice::from_ref(&d.frame)) {
                        // A full queue: the frame is not sent, and the scheduler never waits.
                        Ok(0) => Err(d.bus.tx_buffer_full(Duration::ZERO, 0, false)),
                        Ok(_) => Ok(()),
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(()) => {
                            if let Some(m) = &d.modifier {
                                m.ask(d.position, &d.frame, d.slot, &d.bus, d.on_error.clone());
                            }
                        }
                        Err(e) => {
                            if let Some(sink) = &d.on_error {
                                sink(&e);
                            }
                            failures.push((d.id, e.to_string()));
                        }
                    }
                }
                if !failures.is_empty() {
                    let mut state = self.lock();
                    for (id, message) in failures {
                        if let Some(task) = state.tasks.get_mut(&id) {
                            task.send_errors += 1;
                            task.last_error = Some(message);
                        }
                    }
                }
                continue;
            }
            self.sleep_until(earliest);
        }
    }

    fn sleep_until(&self, deadline: Option<u64>) {
        let state = self.lock();
        if self.dirty.load(Ordering::Acquire) {
            return;
        }
        let now = self.clock.now();
        match deadline {
            None => {
                let _ = self.changed.wait_timeout(state, Duration::from_secs(1));
            }
            Some(d) if d <= now => {}
            Some(d) if d - now > SPIN_NS => {
                let _ = self
                    .changed
                    .wait_timeout(state, Duration::from_nanos(d - now - SPIN_NS));
            }
            Some(d) => {
                drop(state);
                while self.clock.now() < d && !self.dirty.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// Asks for SCHED_FIFO at a low real-time priority; ignored where not permitted.
fn try_realtime_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: sched_setscheduler(0, ...) changes only the calling thread's policy;
    // the param struct is fully initialised.
    unsafe {
        let param = libc::sched_param { sched_priority: 10 };
        libc::sched_setscheduler(0, libc::SCHED_FIFO, &param);
    }
}
