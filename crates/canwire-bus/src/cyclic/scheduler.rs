//! The process-wide cyclic scheduler thread.
//!
//! Every task's [`CyclicSchedule`] lives here. The thread sends what is due,
//! then sleeps until the earliest next deadline: it blocks on a condition
//! variable until shortly before it and spins the rest (as long and as often
//! as the [`SpinBudget`] allows), with the timer slack at 1 ns and, where the
//! process may, SCHED_FIFO. Under dense load it wakes on a 100 µs grid
//! instead and sends the frames due there in one batch per bus; tasks start
//! on that grid (`CyclicScheduler::start_instant`). Set
//! `CANWIRE_CYCLIC_TRACE=FILE` to record every sending wake-up
//! ([`super::wake_trace`]). Deadlines are absolute
//! (`start + n * period` on the monotonic clock), so a late wake-up never
//! shifts later frames; a wake-up later than a whole period skips and counts
//! the slots that passed (see [`canwire_core::cyclic`]). A task whose bus
//! closed stops.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use canwire_core::cyclic::CyclicSchedule;

use super::due_send::{Due, send_due};
use super::hooks::{ErrorSink, ModifierLink};
use super::spin_budget::{BATCH_GRID_NS, BATCH_SPIN_NS, SpinBudget};
use super::wake_trace::{WaitKind, WakeTrace};
use crate::bus::Bus;
use crate::time::{MonotonicClock, minimize_timer_slack, try_realtime_priority};

pub(crate) struct TaskEntry {
    pub(crate) schedule: CyclicSchedule,
    pub(crate) bus: Arc<Bus>,
    pub(crate) send_errors: u64,
    pub(crate) last_error: Option<String>,
    pub(crate) on_error: Option<ErrorSink>,
    pub(crate) modifier: Option<Arc<ModifierLink>>,
    /// Frames taken from the schedule whose send has not finished yet: a task
    /// whose last frame is in flight still counts as running.
    pub(crate) in_flight: u32,
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

    /// Where a task (re)started now begins: the next point of the batching
    /// grid ([`BATCH_GRID_NS`]). The deadlines of a task whose period is a
    /// multiple of the step then fall on grid points, so the grid the thread
    /// wakes on under dense load is exactly their deadlines: a task's frames
    /// keep the same timing whether or not the thread batches, and the
    /// switch between the two never moves a task's phase.
    pub(crate) fn start_instant(&self) -> u64 {
        self.clock.now().div_ceil(BATCH_GRID_NS) * BATCH_GRID_NS
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
        let mut deadlines = BinaryHeap::new();
        let mut budget = SpinBudget::default();
        // Carried from the last clock read: a slow clock (HPET on some virtual
        // machines: µs, or 100 µs under emulation) is read only where needed.
        let mut now = self.clock.now();
        let mut trace = WakeTrace::from_env();
        let mut waited = (WaitKind::None, 0);
        loop {
            let mut state = self.lock();
            if self.dirty.swap(false, Ordering::AcqRel) {
                rebuild_deadlines(&state, &mut deadlines);
                if state.tasks.is_empty()
                    && let Some(trace) = &mut trace
                {
                    trace.flush();
                }
            }
            due.clear();
            let serve_until = budget.serve_until(now);
            let earliest = take_due(&mut state, &mut deadlines, serve_until, &mut due);
            drop(state);
            if !due.is_empty() {
                let first = due.first().map_or(0, |d| d.deadline);
                let last = due.last().map_or(0, |d| d.deadline);
                let count = due.len();
                budget.record_deadlines(now, count as u64);
                let report = send_due(&mut due, &mut scratch);
                let mut state = self.lock();
                for id in report.finished {
                    if let Some(task) = state.tasks.get_mut(&id) {
                        task.in_flight = task.in_flight.saturating_sub(1);
                    }
                }
                for (id, message) in report.failures {
                    if let Some(task) = state.tasks.get_mut(&id) {
                        task.send_errors += 1;
                        task.last_error = Some(message);
                    }
                }
                drop(state);
                let sent_at = now;
                now = self.clock.now();
                if let Some(trace) = &mut trace {
                    trace.record(
                        sent_at,
                        first,
                        last,
                        count,
                        now - sent_at,
                        waited.0,
                        waited.1,
                    );
                }
                waited = (WaitKind::None, 0);
                continue;
            }
            now = self.sleep_until(earliest, &deadlines, now, &mut budget, &mut waited);
        }
    }

    /// Waits (and spins) until `deadline` or a change to the tasks; `now` is
    /// a recent clock reading. Returns the clock at the end.
    fn sleep_until(
        &self,
        deadline: Option<u64>,
        deadlines: &Deadlines,
        now: u64,
        budget: &mut SpinBudget,
        waited: &mut (WaitKind, u64),
    ) -> u64 {
        let state = self.lock();
        if self.dirty.load(Ordering::Acquire) {
            return self.clock.now();
        }
        let Some(d) = deadline else {
            let _ = self.changed.wait_timeout(state, Duration::from_secs(1));
            return self.clock.now();
        };
        // While batching, the thread wakes for the grid point at or after the
        // deadline instead, and spins at most the grid's share before it.
        let (target, max_spin) = match budget.batch_wake(now, d) {
            Some(point) => (point, BATCH_SPIN_NS),
            None => (d, u64::MAX),
        };
        if target <= now {
            return now;
        }
        let spin_ns = if budget.allows(now) {
            budget.spin_ns().min(max_spin)
        } else {
            0
        };
        if target - now > spin_ns {
            let woke = self.timed_wait(state, now, target - now - spin_ns, budget);
            *waited = if spin_ns == 0 {
                (WaitKind::Wait, 0)
            } else {
                (WaitKind::WaitThenSpin, spin_ns)
            };
            return woke;
        }
        warm_due(&state, deadlines, target);
        drop(state);
        let mut t = now;
        while t < target && !self.dirty.load(Ordering::Acquire) {
            std::hint::spin_loop();
            t = self.clock.now();
        }
        budget.charge(now, t);
        if waited.0 == WaitKind::None {
            *waited = (WaitKind::Spin, spin_ns);
        }
        t
    }

    /// Waits `wait` ns from `now` unless the tasks change; records how late a
    /// wait that timed out woke. Returns the clock at the end.
    fn timed_wait(
        &self,
        state: MutexGuard<'_, SchedulerState>,
        now: u64,
        wait: u64,
        budget: &mut SpinBudget,
    ) -> u64 {
        let (state, result) = self
            .changed
            .wait_timeout(state, Duration::from_nanos(wait))
            .unwrap_or_else(|p| p.into_inner());
        drop(state);
        let woke = self.clock.now();
        if result.timed_out() {
            budget.record_wake(woke.saturating_sub(now + wait));
        }
        woke
    }
}

/// Every running task's next deadline, as `(deadline, task id)`, earliest first.
type Deadlines = BinaryHeap<Reverse<(u64, u64)>>;

fn rebuild_deadlines(state: &SchedulerState, deadlines: &mut Deadlines) {
    deadlines.clear();
    deadlines.extend(state.tasks.iter().filter_map(|(id, task)| {
        let deadline = task.schedule.poll_timeout()?;
        Some(Reverse((deadline, *id)))
    }));
}

/// Reads the entries of the tasks due by `until`, so that taking their
/// frames then finds them in the cache: under load, other processes evict
/// them between two wake-ups, and the misses made the time from a wake-up
/// to the last frame of a batch vary by several µs. Called before a spin,
/// which has the time.
fn warm_due(state: &SchedulerState, deadlines: &Deadlines, until: u64) {
    for Reverse((deadline, id)) in deadlines.iter() {
        if *deadline <= until
            && let Some(task) = state.tasks.get(id)
        {
            std::hint::black_box(task.schedule.next_frame());
            std::hint::black_box(task.bus.is_closed());
        }
    }
}

/// Takes the frames of the tasks due at `now` from the deadline heap (only
/// those, however many tasks there are), queues each task's next deadline,
/// and returns the earliest one left. An entry that no longer matches its
/// task's deadline (the task was restarted, stopped or removed) is dropped;
/// the heap is rebuilt after every change to the tasks.
fn take_due(
    state: &mut SchedulerState,
    deadlines: &mut Deadlines,
    now: u64,
    due: &mut Vec<Due>,
) -> Option<u64> {
    // The top entry is replaced by its task's next deadline in place (one
    // sift down) rather than popped and pushed again.
    while let Some(mut top) = deadlines.peek_mut() {
        let Reverse((deadline, id)) = *top;
        if deadline > now {
            break;
        }
        let Some(task) = state.tasks.get_mut(&id) else {
            PeekMut::pop(top);
            continue;
        };
        if task.schedule.poll_timeout() != Some(deadline) {
            PeekMut::pop(top);
            continue;
        }
        if task.bus.is_closed() {
            task.schedule.stop();
            PeekMut::pop(top);
            continue;
        }
        if let Some((slot, mut frame)) = task.schedule.poll_transmit_slot(now) {
            let position = (slot % task.schedule.frames().len() as u64) as usize;
            if let Some(answer) = task.modifier.as_ref().and_then(|m| m.take_answer(position)) {
                task.schedule.set_frame(position, answer);
                frame = answer;
            }
            task.in_flight += 1;
            due.push(Due {
                id,
                deadline,
                bus: task.bus.clone(),
                frame,
                slot,
                position,
                on_error: task.on_error.clone(),
                modifier: task.modifier.clone(),
            });
        }
        match task.schedule.poll_timeout() {
            Some(next) => *top = Reverse((next, id)),
            None => {
                PeekMut::pop(top);
            }
        }
    }
    deadlines.peek().map(|Reverse((deadline, _))| *deadline)
}

#[cfg(test)]
mod tests {
    use canwire_core::Frame;
    use canwire_core::cyclic::CyclicTiming;

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
            let entry = TaskEntry {
                schedule,
                bus: bus.clone(),
                send_errors: 0,
                last_error: None,
                on_error: None,
                modifier: None,
                in_flight: 0,
            };
            state.tasks.insert(i, entry);
        }
        (state, bus)
    }

    fn take(
        state: &mut SchedulerState,
        deadlines: &mut Deadlines,
        now: u64,
    ) -> (Vec<u32>, Option<u64>) {
        let mut due = Vec::new();
        let earliest = take_due(state, deadlines, now, &mut due);
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
    fn a_taken_frame_is_in_flight_until_its_send_is_accounted() {
        let (mut state, _bus) = tasks(2);
        let mut deadlines = Deadlines::new();
        rebuild_deadlines(&state, &mut deadlines);
        assert_eq!(take(&mut state, &mut deadlines, 0).0, [0]);
        assert_eq!(
            (state.tasks[&0].in_flight, state.tasks[&1].in_flight),
            (1, 0)
        );
    }

    #[test]
    fn only_due_tasks_are_taken_in_deadline_order() {
        let (mut state, _bus) = tasks(300);
        let mut deadlines = Deadlines::new();
        rebuild_deadlines(&state, &mut deadlines);
        let (ids, earliest) = take(&mut state, &mut deadlines, 150_500);
        assert_eq!(ids, (0..=150).collect::<Vec<u32>>());
        assert_eq!(earliest, Some(151_000));
        // The rest of the first slots, then task 0's second slot.
        let (ids, earliest) = take(&mut state, &mut deadlines, PERIOD);
        assert_eq!(ids, (151..300).chain([0]).collect::<Vec<u32>>());
        assert_eq!(earliest, Some(PERIOD + 1_000));
        assert_eq!(deadlines.len(), 300, "one entry per task");
    }

    #[test]
    fn restarted_removed_and_closed_tasks_leave_no_stale_send() {
        let (mut state, bus) = tasks(3);
        let mut deadlines = Deadlines::new();
        rebuild_deadlines(&state, &mut deadlines);
        assert_eq!(take(&mut state, &mut deadlines, 2_000).0, [0, 1, 2]);
        // Task 0 restarts at 500_000; the heap still holds its old deadline
        // (PERIOD) until the next rebuild.
        state.tasks.get_mut(&0).unwrap().schedule.start(500_000);
        state.tasks.remove(&1);
        let (ids, earliest) = take(&mut state, &mut deadlines, PERIOD + 1_000);
        assert_eq!(
            ids,
            Vec::<u32>::new(),
            "no send from stale entries before the rebuild"
        );
        assert_eq!(earliest, Some(PERIOD + 2_000));
        rebuild_deadlines(&state, &mut deadlines);
        assert_eq!(take(&mut state, &mut deadlines, PERIOD + 1_000).0, [0]);
        bus.close();
        assert_eq!(
            take(&mut state, &mut deadlines, 10 * PERIOD),
            (vec![], None)
        );
        assert!(
            !state.tasks[&2].schedule.is_running(),
            "a task on a closed bus stops"
        );
    }
}
