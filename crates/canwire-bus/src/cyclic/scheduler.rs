//! The process-wide cyclic scheduler thread.
//!
//! Every task's schedule lives in a [`CyclicPlanner`], the sans-IO part
//! that decides which frames are due, how they batch and how to wait; this
//! thread only reads the clock, waits, spins and sends. It sends what is
//! due, then sleeps until the earliest next deadline: it blocks on a
//! condition variable until shortly before it and spins the rest (as long
//! and as often as the spin budget allows), with the timer slack at 1 ns
//! and, where the process may, SCHED_FIFO. The frames due at the end of a
//! spin are taken before it, so that at the deadline they only need sending. Under dense load it wakes on a
//! 100 µs grid instead and sends the frames due there in one batch per bus;
//! tasks start on that grid ([`start_instant`]). Set
//! `CANWIRE_CYCLIC_TRACE=FILE` to record every sending wake-up
//! ([`super::wake_trace`]). Deadlines are absolute (`start + n * period` on
//! the monotonic clock), so a late wake-up never shifts later frames; after
//! a wake-up a whole period late at most one frame per task goes late (see
//! [`canwire_core::cyclic`] for what counted and endless tasks do with the
//! slots that passed). A task whose bus closed stops.
//!
//! On a virtual bus the sends deliver to the receiving buses' reader queues
//! on this thread; those queues lock with priority inheritance
//! ([`crate::time::PiMutex`]), so a reader thread preempted while holding
//! one runs at this thread's priority until it lets go instead of keeping a
//! send waiting behind ordinary threads for milliseconds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use canwire_core::Frame;
use canwire_core::cyclic::{CyclicPlanner, DueFrame, TaskContext, Wake, start_instant};

use super::due_send::{Due, SendReport, send_due};
use super::hooks::{ErrorSink, ModifierLink};
use super::wake_trace::{WaitKind, WakeTrace};
use crate::bus::Bus;
use crate::time::{MonotonicClock, minimize_timer_slack, try_realtime_priority};

// The planner's longest spin is the precise waits' spin.
const _: () = assert!(canwire_core::cyclic::spin_budget::MAX_SPIN_NS == crate::time::SPIN_NS);

/// What the scheduler keeps of a task beside its schedule: where its frames
/// go and what became of them.
pub(crate) struct TaskIo {
    pub(crate) bus: Arc<Bus>,
    pub(crate) send_errors: u64,
    pub(crate) last_error: Option<String>,
    pub(crate) on_error: Option<ErrorSink>,
    pub(crate) modifier: Option<Arc<ModifierLink>>,
    /// Frames taken from the schedule whose send has not finished yet: a task
    /// whose last frame is in flight still counts as running.
    pub(crate) in_flight: u32,
}

impl TaskContext for TaskIo {
    fn is_live(&self) -> bool {
        !self.bus.is_closed()
    }

    fn replacement(&mut self, position: usize) -> Option<Frame> {
        self.modifier.as_ref().and_then(|m| m.take_answer(position))
    }
}

/// Every task of the process, in the sans-IO planner.
pub(crate) type SchedulerState = CyclicPlanner<TaskIo>;

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

    /// Where a task (re)started now begins: the next point of the batching
    /// grid (see [`canwire_core::cyclic::start_instant`]).
    pub(crate) fn start_instant(&self) -> u64 {
        start_instant(self.clock.now())
    }

    pub(crate) fn next_task_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Wakes the thread after a change to the tasks. Passing through the lock
    /// between the flag and the notification means a thread that saw the flag
    /// clear under the lock is already waiting when notified (no lost wake-up).
    pub(crate) fn poke(&self) {
        self.dirty.store(true, Ordering::Release);
        drop(self.lock());
        self.changed.notify_all();
    }

    fn run(&self) {
        minimize_timer_slack();
        try_realtime_priority();
        let mut due: Vec<Due> = Vec::new();
        let mut scratch = Vec::new();
        let mut report = SendReport::default();
        // Carried from the last clock read: a slow clock (HPET on some virtual
        // machines: µs, or 100 µs under emulation) is read only where needed.
        let mut now = self.clock.now();
        let mut trace = WakeTrace::from_env();
        let mut waited = (WaitKind::None, 0);
        loop {
            let mut state = self.lock();
            if self.dirty.swap(false, Ordering::AcqRel)
                && state.is_empty()
                && let Some(trace) = &mut trace
            {
                trace.flush();
            }
            // `due` may hold the frames taken before a spin (see `sleep_until`).
            let earliest = state.take_due(now, &mut due, due_frame);
            drop(state);
            if !due.is_empty() {
                let first = due.first().map_or(0, |d| d.deadline);
                let last = due.last().map_or(0, |d| d.deadline);
                let count = due.len();
                let before_send = trace.as_ref().map(WakeTrace::switches);
                send_due(&mut due, &mut scratch, &mut report);
                let mut state = self.lock();
                for &id in &report.finished {
                    if let Some(task) = state.context_mut(id) {
                        task.in_flight = task.in_flight.saturating_sub(1);
                    }
                }
                for (id, message) in report.failures.drain(..) {
                    if let Some(task) = state.context_mut(id) {
                        task.send_errors += 1;
                        task.last_error = Some(message);
                    }
                }
                drop(state);
                let sent_at = now;
                now = self.clock.now();
                if let (Some(trace), Some(before_send)) = (&mut trace, before_send) {
                    trace.record(
                        sent_at,
                        first,
                        last,
                        count,
                        now - sent_at,
                        waited.0,
                        waited.1,
                        before_send,
                    );
                }
                waited = (WaitKind::None, 0);
                continue;
            }
            now = self.sleep_until(earliest, now, &mut waited, &mut due);
        }
    }

    /// Waits (and spins) as the planner says for `deadline` or until a
    /// change to the tasks; `now` is a recent clock reading. Returns the
    /// clock at the end. Before a spin to the instant to serve, the frames
    /// due then are taken into `due`: when the spin ends they only need
    /// sending. Taking them after it put the heap and schedule work of a
    /// whole batch (tens of µs for 50 frames) between the deadline and the
    /// frames' send, and a tick or interrupt that fell in it delayed them all.
    fn sleep_until(
        &self,
        deadline: Option<u64>,
        now: u64,
        waited: &mut (WaitKind, u64),
        due: &mut Vec<Due>,
    ) -> u64 {
        let mut state = self.lock();
        if self.dirty.load(Ordering::Acquire) {
            return self.clock.now();
        }
        match state.wake(now, deadline) {
            Wake::Idle => {
                let _ = self.changed.wait_timeout(state, Duration::from_secs(1));
                self.clock.now()
            }
            Wake::Now => now,
            Wake::Wait { until, spin_ns } => {
                *waited = if spin_ns == 0 {
                    (WaitKind::Wait, 0)
                } else {
                    (WaitKind::WaitThenSpin, spin_ns)
                };
                self.timed_wait(state, now, until - now)
            }
            Wake::Spin { until, spin_ns } => {
                state.take_due(until, due, due_frame);
                drop(state);
                // Taken frames wait for their instant; a change to the tasks
                // is seen after they went.
                let held = !due.is_empty();
                let mut t = now;
                while t < until && (held || !self.dirty.load(Ordering::Acquire)) {
                    std::hint::spin_loop();
                    t = self.clock.now();
                }
                self.lock().spun(now, t);
                if waited.0 == WaitKind::None {
                    *waited = (WaitKind::Spin, spin_ns);
                }
                t
            }
        }
    }

    /// Waits `wait` ns from `now` unless the tasks change; tells the planner
    /// how late a wait that timed out woke. Returns the clock at the end.
    fn timed_wait(&self, state: MutexGuard<'_, SchedulerState>, now: u64, wait: u64) -> u64 {
        let (mut state, result) = self
            .changed
            .wait_timeout(state, Duration::from_nanos(wait))
            .unwrap_or_else(|p| p.into_inner());
        let woke = self.clock.now();
        if result.timed_out() {
            state.timer_woke(woke.saturating_sub(now + wait));
        }
        woke
    }
}

/// A frame the planner found due, with what its send needs outside the lock;
/// it is in flight until its send is accounted.
fn due_frame(task: &mut TaskIo, d: DueFrame) -> Due {
    task.in_flight += 1;
    Due {
        id: d.task,
        deadline: d.deadline,
        bus: task.bus.clone(),
        frame: d.frame,
        slot: d.slot,
        position: d.position,
        on_error: task.on_error.clone(),
        modifier: task.modifier.clone(),
    }
}

#[cfg(test)]
mod tests {
    use canwire_core::cyclic::spin_budget::BATCH_GRID_NS;
    use canwire_core::cyclic::{CyclicSchedule, CyclicTiming};

    use super::*;
    use crate::BusConfig;
    use crate::virtual_bus::VirtualConfig;

    const PERIOD: u64 = 1_000_000;

    /// `n` tasks on one virtual bus, task i (id i) sending id i, started at i µs.
    fn tasks(n: u64) -> (SchedulerState, Arc<Bus>) {
        let bus = Arc::new(
            Bus::open(BusConfig::Virtual(VirtualConfig {
                channel: "scheduler-take-due".into(),
                ..VirtualConfig::default()
            }))
            .unwrap(),
        );
        let mut state = SchedulerState::default();
        for i in 0..n {
            let frame = Frame::classic(i as u32, false, &[]);
            let mut schedule =
                CyclicSchedule::new(vec![frame], CyclicTiming::every(PERIOD)).unwrap();
            schedule.start(i * 1_000);
            let io = TaskIo {
                bus: bus.clone(),
                send_errors: 0,
                last_error: None,
                on_error: None,
                modifier: None,
                in_flight: 0,
            };
            state.insert(i, schedule, io);
        }
        (state, bus)
    }

    /// The ids of the frames due at `now` as the thread takes them, and the earliest deadline left.
    fn take(state: &mut SchedulerState, now: u64) -> (Vec<u32>, Option<u64>) {
        let mut due = Vec::new();
        let earliest = state.take_due(now, &mut due, due_frame);
        (due.iter().map(|d| d.frame.id).collect(), earliest)
    }

    #[test]
    fn tasks_start_on_the_next_point_of_the_batching_grid() {
        let scheduler = CyclicScheduler::global();
        for _ in 0..1_000 {
            let before = scheduler.now();
            let start = scheduler.start_instant();
            let after = scheduler.now();
            assert_eq!(start % BATCH_GRID_NS, 0);
            assert!(
                start >= before && start < after + BATCH_GRID_NS,
                "{before} {start} {after}"
            );
        }
    }

    #[test]
    fn a_frame_taken_ahead_of_its_instant_carries_its_slot_and_deadline() {
        // Before a spin to 2 µs the thread takes what is due then: tasks 0..=2,
        // each its first slot at its own deadline, with its exact frame.
        let (mut state, bus) = tasks(4);
        let mut due = Vec::new();
        let earliest = state.take_due(2_000, &mut due, due_frame);
        assert_eq!(earliest, Some(3_000));
        let taken: Vec<(u64, u64, u64, usize)> = due
            .iter()
            .map(|d| (d.id, d.deadline, d.slot, d.position))
            .collect();
        assert_eq!(taken, [(0, 0, 0, 0), (1, 1_000, 0, 0), (2, 2_000, 0, 0)]);
        assert!(due.iter().all(|d| Arc::ptr_eq(&d.bus, &bus)));
        assert_eq!(due[2].frame, Frame::classic(2, false, &[]));
    }

    #[test]
    fn a_taken_frame_is_in_flight_until_its_send_is_accounted() {
        let (mut state, _bus) = tasks(2);
        assert_eq!(take(&mut state, 0).0, [0]);
        let in_flight = |state: &SchedulerState, id| state.get(id).unwrap().1.in_flight;
        assert_eq!((in_flight(&state, 0), in_flight(&state, 1)), (1, 0));
    }

    #[test]
    fn only_due_tasks_are_taken_in_deadline_order() {
        let (mut state, _bus) = tasks(300);
        let (ids, earliest) = take(&mut state, 150_500);
        assert_eq!(ids, (0..=150).collect::<Vec<u32>>());
        assert_eq!(earliest, Some(151_000));
        // The rest of the first slots, then task 0's second slot.
        let (ids, earliest) = take(&mut state, PERIOD);
        assert_eq!(ids, (151..300).chain([0]).collect::<Vec<u32>>());
        assert_eq!(earliest, Some(PERIOD + 1_000));
    }

    #[test]
    fn a_task_on_a_closed_bus_stops() {
        let (mut state, bus) = tasks(3);
        assert_eq!(take(&mut state, 2_000).0, [0, 1, 2]);
        bus.close();
        assert_eq!(take(&mut state, 10 * PERIOD), (vec![], None));
        assert!(
            !state.get(2).unwrap().0.is_running(),
            "a task on a closed bus stops"
        );
    }
}
