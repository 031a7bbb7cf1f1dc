//! [`NativeTask`]: a handle on one task of the process-wide native scheduler.

use std::sync::Arc;

use canwire_core::cyclic::{CyclicSchedule, CyclicTiming};
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};

use super::backend::CyclicBackend;
use super::hooks::{ModifierLink, TaskHooks};
use super::scheduler::{CyclicScheduler, TaskIo};
use super::task::{CyclicTaskStats, SchedulerKind, SentCounting};
use crate::bus::Bus;

/// A task of the native scheduler; dropping it removes it.
pub struct NativeTask {
    id: u64,
    scheduler: Arc<CyclicScheduler>,
}

impl NativeTask {
    /// Adds a task sending `frames` round-robin on `bus`; started at once with `autostart`.
    /// The frames are validated as a send would.
    pub fn create(
        bus: Arc<Bus>,
        frames: Vec<Frame>,
        timing: CyclicTiming,
        autostart: bool,
        hooks: TaskHooks,
    ) -> Result<Self> {
        bus.check_sendable(&frames)?;
        let positions = frames.len();
        let mut schedule = CyclicSchedule::new(frames, timing)?;
        let scheduler = CyclicScheduler::global();
        if autostart {
            schedule.start(scheduler.start_instant());
        }
        let id = scheduler.next_task_id();
        scheduler.lock().insert(
            id,
            schedule,
            TaskIo {
                bus,
                send_errors: 0,
                last_error: None,
                on_error: hooks.on_error,
                modifier: hooks
                    .modifier
                    .map(|m| Arc::new(ModifierLink::new(m, positions))),
                in_flight: 0,
            },
        );
        scheduler.poke();
        Ok(Self { id, scheduler })
    }

    fn with<T>(&self, f: impl FnOnce(&mut CyclicSchedule, &mut TaskIo) -> Result<T>) -> Result<T> {
        let mut state = self.scheduler.lock();
        let (schedule, task) = state
            .get_mut(self.id)
            .ok_or_else(|| CanwireError::closed("the cyclic task"))?;
        let out = f(schedule, task);
        drop(state);
        self.scheduler.poke();
        out
    }

    /// (Re)starts the task: the first frame goes at the scheduler's next
    /// phase-grid point (within 100 µs), the phase restarts.
    pub fn start(&self) -> Result<()> {
        let now = self.scheduler.start_instant();
        self.with(|schedule, t| {
            if t.bus.is_closed() {
                return Err(CanwireError::new(
                    ErrorCode::Closed,
                    "the bus of this task is closed",
                ));
            }
            schedule.start(now);
            Ok(())
        })
    }

    /// Stops the task.
    pub fn stop(&self) -> Result<()> {
        self.with(|schedule, _| {
            schedule.stop();
            Ok(())
        })
    }

    /// Replaces the frames' data atomically, keeping count and phase.
    pub fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        self.with(|schedule, t| {
            t.bus.check_sendable(&frames)?;
            schedule.modify_frames(frames)
        })
    }

    /// The frames in round-robin order.
    pub fn frames(&self) -> Result<Vec<Frame>> {
        self.with(|schedule, _| Ok(schedule.frames().to_vec()))
    }

    /// Counters. `sent` leaves out the frames the bus refused.
    pub fn stats(&self) -> Result<CyclicTaskStats> {
        self.with(|schedule, t| {
            let (late_modifier, modifier_errors, modifier_error) =
                t.modifier.as_ref().map_or((0, 0, None), |m| m.counters());
            Ok(CyclicTaskStats {
                sent: schedule.sent() - t.send_errors,
                missed: schedule.missed(),
                late: schedule.late(),
                send_errors: t.send_errors,
                last_error: t.last_error.clone().or(modifier_error),
                running: (schedule.is_running() || t.in_flight > 0) && !t.bus.is_closed(),
                late_modifier,
                modifier_errors,
                sent_counted: SentCounting::Frames,
            })
        })
    }

    /// Removes the task from the scheduler. Idempotent.
    pub fn remove(&self) {
        self.scheduler.lock().remove(self.id);
        self.scheduler.poke();
    }
}

impl CyclicBackend for NativeTask {
    fn kind(&self) -> SchedulerKind {
        SchedulerKind::Native
    }
    fn start(&self) -> Result<()> {
        NativeTask::start(self)
    }
    fn stop(&self) -> Result<()> {
        NativeTask::stop(self)
    }
    fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        NativeTask::modify(self, frames)
    }
    fn frames(&self) -> Result<Vec<Frame>> {
        NativeTask::frames(self)
    }
    fn stats(&self) -> Result<CyclicTaskStats> {
        NativeTask::stats(self)
    }
    fn remove(&self) {
        NativeTask::remove(self);
    }
}

impl Drop for NativeTask {
    fn drop(&mut self) {
        self.remove();
    }
}
