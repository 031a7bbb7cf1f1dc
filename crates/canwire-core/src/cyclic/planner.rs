//! [`CyclicPlanner`]: what a scheduler thread serving many cyclic tasks does
//! next, as pure decisions on `(now, tasks)`.
//!
//! The planner holds every task's [`CyclicSchedule`] with the driver's own
//! context (`T`: where its frames go), a heap of their next deadlines and the
//! [`SpinBudget`]. The driver (canwire-bus's scheduler thread) only reads the
//! clock, sleeps, spins and sends:
//!
//! ```text
//! loop {
//!     earliest = planner.take_due(now, &mut out, ..)   // frames due, in deadline order
//!     if out is not empty { send them; continue }
//!     match planner.wake(now, earliest) {               // how to wait for the next one
//!         Idle => wait for a change,
//!         Now => continue,
//!         Wait { until, .. } => timed wait until `until`, then planner.timer_woke(late),
//!         Spin { until, .. } => spin until `until`, then planner.spun(from, to),
//!     }
//! }
//! ```
//!
//! Under dense load (see [`super::spin_budget`]) the planner serves on a
//! 100 µs grid: [`CyclicPlanner::take_due`] takes only the frames due by the
//! last grid point and [`CyclicPlanner::wake`] names the next grid point, so
//! every frame fell due since the previous point goes in one batch.
//!
//! Two tasks on a virtual clock, served where they are due:
//!
//! ```
//! use canwire_core::Frame;
//! use canwire_core::cyclic::{CyclicPlanner, CyclicSchedule, CyclicTiming, Wake};
//!
//! let mut planner = CyclicPlanner::default();
//! for (id, period) in [(1, 1_000_000), (2, 1_500_000)] {
//!     let frame = Frame::classic(id as u32, false, &[]);
//!     let mut schedule = CyclicSchedule::new(vec![frame], CyclicTiming::every(period)).unwrap();
//!     schedule.start(0);
//!     planner.insert(id, schedule, ());
//! }
//! let mut now = 0;
//! let mut sent = Vec::new();
//! while now <= 3_000_000 {
//!     let mut due = Vec::new();
//!     let earliest = planner.take_due(now, &mut due, |_, d| d.frame.id);
//!     sent.extend(due.iter().map(|id| (now / 1_000, *id)));
//!     if !due.is_empty() {
//!         continue;
//!     }
//!     now = match planner.wake(now, earliest) {
//!         Wake::Wait { until, .. } | Wake::Spin { until, .. } => until,
//!         Wake::Now => now,
//!         Wake::Idle => break,
//!     };
//! }
//! assert_eq!(sent, [(0, 1), (0, 2), (1_000, 1), (1_500, 2), (2_000, 1), (3_000, 1), (3_000, 2)]);
//! ```

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, HashMap};

use super::schedule::CyclicSchedule;
use super::spin_budget::{BATCH_GRID_NS, BATCH_SPIN_NS, SpinBudget};
use crate::frame::Frame;

/// Where a task (re)started at `now` begins: the next point of the batching
/// grid ([`BATCH_GRID_NS`]). The deadlines of a task whose period is a
/// multiple of the step then fall on grid points, so the grid the thread
/// wakes on under dense load is exactly their deadlines: a task's frames keep
/// the same timing whether or not the thread batches, and the switch between
/// the two never moves a task's phase.
pub fn start_instant(now: u64) -> u64 {
    now.div_ceil(BATCH_GRID_NS) * BATCH_GRID_NS
}

/// What the planner needs to know of a task's destination.
pub trait TaskContext {
    /// False once the task's frames have nowhere to go (its bus closed): the
    /// task then stops instead of sending.
    fn is_live(&self) -> bool {
        true
    }

    /// Before `position` goes: its new content, if one was given since its
    /// last turn (a modifier's answer). The schedule keeps it from then on.
    fn replacement(&mut self, _position: usize) -> Option<Frame> {
        None
    }
}

impl TaskContext for () {}

/// A frame due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueFrame {
    /// The task's id.
    pub task: u64,
    /// The instant the frame was due (the deadline it was queued under).
    pub deadline: u64,
    /// The task's slot number (0 at its start).
    pub slot: u64,
    /// Its round-robin position among the task's frames.
    pub position: usize,
    /// What to send.
    pub frame: Frame,
}

/// How the driver waits for the next deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// No task has a deadline: wait for a change to the tasks.
    Idle,
    /// The instant to serve has come: take the due frames again.
    Now,
    /// Wait on the timer until `until` (then plan again, which spins the
    /// last `spin_ns` up to the deadline when the budget allows).
    Wait {
        /// The end of the timed wait.
        until: u64,
        /// The spin that is to follow it (0: none).
        spin_ns: u64,
    },
    /// Spin until `until`, the instant to serve.
    Spin {
        /// The instant to serve.
        until: u64,
        /// The spin window this spin came from.
        spin_ns: u64,
    },
}

struct Entry<T> {
    schedule: CyclicSchedule,
    context: T,
}

/// Every running task's next deadline, as `(deadline, task id)`, earliest first.
type Deadlines = BinaryHeap<Reverse<(u64, u64)>>;

/// The tasks of a scheduler and its decisions: which frames are due, how
/// they batch, how to wait for the next ones.
pub struct CyclicPlanner<T> {
    tasks: HashMap<u64, Entry<T>>,
    deadlines: Deadlines,
    /// The heap no longer matches the tasks (one was added, changed or removed).
    stale: bool,
    budget: SpinBudget,
}

impl<T> Default for CyclicPlanner<T> {
    fn default() -> Self {
        Self {
            tasks: HashMap::new(),
            deadlines: Deadlines::new(),
            stale: false,
            budget: SpinBudget::default(),
        }
    }
}

impl<T: TaskContext> CyclicPlanner<T> {
    /// Adds (or replaces) task `id`.
    pub fn insert(&mut self, id: u64, schedule: CyclicSchedule, context: T) {
        self.tasks.insert(id, Entry { schedule, context });
        self.stale = true;
    }

    /// Removes task `id`.
    pub fn remove(&mut self, id: u64) -> Option<(CyclicSchedule, T)> {
        self.stale = true;
        self.tasks.remove(&id).map(|e| (e.schedule, e.context))
    }

    /// Task `id`.
    pub fn get(&self, id: u64) -> Option<(&CyclicSchedule, &T)> {
        self.tasks.get(&id).map(|e| (&e.schedule, &e.context))
    }

    /// Task `id`, to change (its deadline is read again before the next take).
    pub fn get_mut(&mut self, id: u64) -> Option<(&mut CyclicSchedule, &mut T)> {
        self.stale = true;
        self.tasks
            .get_mut(&id)
            .map(|e| (&mut e.schedule, &mut e.context))
    }

    /// Task `id`'s context alone (its timing cannot change through it).
    pub fn context_mut(&mut self, id: u64) -> Option<&mut T> {
        self.tasks.get_mut(&id).map(|e| &mut e.context)
    }

    /// True when there is no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    fn rebuild(&mut self) {
        self.deadlines.clear();
        self.deadlines.extend(
            self.tasks
                .iter()
                .filter_map(|(id, task)| Some(Reverse((task.schedule.poll_timeout()?, *id)))),
        );
        self.stale = false;
    }

    /// Takes the frames due at `now` (while batching: due by the last grid
    /// point), in deadline order, passing each with its task's context to
    /// `serve` and pushing what it returns to `out`; returns the earliest
    /// deadline left. Only due tasks are visited, however many there are. A
    /// task whose context is no longer live stops.
    pub fn take_due<D>(
        &mut self,
        now: u64,
        out: &mut Vec<D>,
        mut serve: impl FnMut(&mut T, DueFrame) -> D,
    ) -> Option<u64> {
        if self.stale {
            self.rebuild();
        }
        let until = self.budget.serve_until(now);
        let mut taken = 0;
        // The top entry is replaced by its task's next deadline in place (one
        // sift down) rather than popped and pushed again.
        while let Some(mut top) = self.deadlines.peek_mut() {
            let Reverse((deadline, id)) = *top;
            if deadline > until {
                break;
            }
            let Some(task) = self.tasks.get_mut(&id) else {
                PeekMut::pop(top);
                continue;
            };
            if task.schedule.poll_timeout() != Some(deadline) {
                PeekMut::pop(top); // defensive: a change the heap missed
                continue;
            }
            if !task.context.is_live() {
                task.schedule.stop();
                PeekMut::pop(top);
                continue;
            }
            if let Some((slot, frame)) = task.schedule.poll_transmit_slot(until) {
                let position = (slot % task.schedule.frames().len() as u64) as usize;
                let frame = match task.context.replacement(position) {
                    Some(answer) => {
                        task.schedule.set_frame(position, answer);
                        answer
                    }
                    None => frame,
                };
                let due = DueFrame {
                    task: id,
                    deadline,
                    slot,
                    position,
                    frame,
                };
                out.push(serve(&mut task.context, due));
                taken += 1;
            }
            match task.schedule.poll_timeout() {
                Some(next) => *top = Reverse((next, id)),
                None => {
                    PeekMut::pop(top);
                }
            }
        }
        if taken > 0 {
            self.budget.record_deadlines(now, taken);
        }
        self.deadlines
            .peek()
            .map(|Reverse((deadline, _))| *deadline)
    }

    /// The tasks whose deadline is at or before `until` (to warm their
    /// entries before a spin: under load other processes evict them from the
    /// cache between two wake-ups).
    pub fn due_by(&self, until: u64) -> impl Iterator<Item = (&CyclicSchedule, &T)> {
        self.deadlines
            .iter()
            .filter(move |Reverse((deadline, _))| *deadline <= until)
            .filter_map(|Reverse((_, id))| self.get(*id))
    }

    /// How to wait at `now` for `earliest`, the deadline [`Self::take_due`] returned.
    pub fn wake(&mut self, now: u64, earliest: Option<u64>) -> Wake {
        let Some(deadline) = earliest else {
            return Wake::Idle;
        };
        // While batching, the thread wakes for the grid point at or after the
        // deadline instead, and spins at most the grid's share before it.
        let (target, max_spin) = match self.budget.batch_wake(now, deadline) {
            Some(point) => (point, BATCH_SPIN_NS),
            None => (deadline, u64::MAX),
        };
        if target <= now {
            return Wake::Now;
        }
        let spin_ns = if self.budget.allows(now) {
            self.budget.spin_ns().min(max_spin)
        } else {
            0
        };
        if target - now > spin_ns {
            Wake::Wait {
                until: target - spin_ns,
                spin_ns,
            }
        } else {
            Wake::Spin {
                until: target,
                spin_ns,
            }
        }
    }

    /// Records a spin from `from` to `to`.
    pub fn spun(&mut self, from: u64, to: u64) {
        self.budget.charge(from, to);
    }

    /// Records that a timed wait ended `late_ns` after the instant it was set for.
    pub fn timer_woke(&mut self, late_ns: u64) {
        self.budget.record_wake(late_ns);
    }
}
