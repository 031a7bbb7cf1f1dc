//! [`CyclicTask`]: one handle on a cyclic task, whichever scheduler runs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use canwire_core::Frame;
use canwire_core::cyclic::{CyclicTiming, Lateness};
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

use super::backend::CyclicBackend;
use super::hooks::TaskHooks;
use super::native_task::NativeTask;
use crate::bus::Bus;

/// Which scheduler runs a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchedulerKind {
    /// canwire's process-wide scheduler thread, on any bus.
    Native,
    /// The kernel's broadcast manager (SocketCAN only).
    Kernel,
}

/// Counters of a task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CyclicTaskStats {
    /// Frames the bus took (kernel tasks: frames the kernel sent).
    pub sent: u64,
    /// Slots skipped because the scheduler woke a whole period or more late:
    /// endless and time-bounded tasks only (kernel tasks: 0).
    pub missed: u64,
    /// Frames sent a whole interval or more late, after which the grid
    /// resumed: a counted task's frames after a stall, and any task's first
    /// frame served late (kernel tasks: none).
    pub late: Lateness,
    /// Sends the bus refused (kernel tasks: socket errors the kernel reported).
    pub send_errors: u64,
    /// The last refusal's message.
    pub last_error: Option<String>,
    /// True while the task runs.
    pub running: bool,
    /// Turns that went with their previous content because the modifier had not answered.
    pub late_modifier: u64,
    /// Modifier answers that were invalid, or modifier failures.
    pub modifier_errors: u64,
    /// How `sent` was obtained.
    pub sent_counted: SentCounting,
}

/// How a task's `sent` was obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SentCounting {
    /// Each frame the bus (or the kernel) took was counted.
    #[default]
    Frames,
    /// Estimated from the schedule: a remote server runs the task and does not
    /// report its sends, so `sent` is the number of instants elapsed since it started.
    Schedule,
}

impl SentCounting {
    /// `"frames"` or `"schedule"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Frames => "frames",
            Self::Schedule => "schedule",
        }
    }
}

/// A cyclic task: one front end over whichever [`CyclicBackend`] runs it.
/// Dropping it removes it.
pub struct CyclicTask {
    bus: Arc<Bus>,
    backend: Box<dyn CyclicBackend>,
    positions: usize,
    removed: AtomicBool,
}

/// The backend a scheduler kind builds for these frames.
fn backend_for(
    bus: &Arc<Bus>,
    frames: Vec<Frame>,
    timing: CyclicTiming,
    scheduler: SchedulerKind,
    hooks: TaskHooks,
) -> Result<Box<dyn CyclicBackend>> {
    if scheduler == SchedulerKind::Native
        && let Some(own) = bus.transport_cyclic_backend(&frames, &timing, &hooks)
    {
        return own;
    }
    match scheduler {
        SchedulerKind::Native => Ok(Box::new(NativeTask::create(
            bus.clone(),
            frames,
            timing,
            false,
            hooks,
        )?)),
        SchedulerKind::Kernel => {
            if hooks.modifier.is_some() {
                return Err(CanwireError::new(
                    ErrorCode::Unsupported,
                    "a per-send modifier needs the native scheduler: the kernel sends without asking",
                ));
            }
            kernel_backend(bus, frames, timing, hooks)
        }
    }
}

/// The kernel's broadcast manager as the backend; `ERR_UNSUPPORTED` where the
/// bus has no SocketCAN (the platform layer's stub answers off Linux).
fn kernel_backend(
    bus: &Arc<Bus>,
    frames: Vec<Frame>,
    timing: CyclicTiming,
    hooks: TaskHooks,
) -> Result<Box<dyn CyclicBackend>> {
    let task =
        crate::socketcan::bcm::tx::BcmTask::add(bus.bcm_tx()?, frames, timing, hooks.on_error)?;
    Ok(Box::new(task))
}

impl CyclicTask {
    /// Adds a task sending `frames` round-robin on `bus`, started at once with
    /// `autostart`. The frames are validated as a send would.
    pub fn create(
        bus: Arc<Bus>,
        frames: Vec<Frame>,
        timing: CyclicTiming,
        autostart: bool,
        scheduler: SchedulerKind,
        hooks: TaskHooks,
    ) -> Result<Self> {
        Self::check_bus_open(&bus)?;
        bus.check_sendable(&frames)?;
        let positions = frames.len();
        let backend = backend_for(&bus, frames, timing, scheduler, hooks)?;
        Self::with_backend(bus, backend, positions, autostart)
    }

    /// A task run by `backend` (which sends `positions` frames round-robin on
    /// `bus`), started at once with `autostart`: how a new scheduler plugs in.
    pub fn with_backend(
        bus: Arc<Bus>,
        backend: Box<dyn CyclicBackend>,
        positions: usize,
        autostart: bool,
    ) -> Result<Self> {
        let task = Self {
            bus,
            backend,
            positions,
            removed: AtomicBool::new(false),
        };
        if autostart {
            task.start()?; // on failure the drop removes the task
        }
        Ok(task)
    }

    fn check_bus_open(bus: &Bus) -> Result<()> {
        if bus.is_closed() {
            return Err(CanwireError::new(
                ErrorCode::Closed,
                "the bus of this task is closed",
            ));
        }
        Ok(())
    }

    fn check_present(&self) -> Result<()> {
        if self.removed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the cyclic task"));
        }
        Ok(())
    }

    /// Which scheduler runs the task.
    pub fn scheduler(&self) -> SchedulerKind {
        self.backend.kind()
    }

    /// (Re)starts the task: the first frame goes now, the phase restarts.
    pub fn start(&self) -> Result<()> {
        self.check_present()?;
        Self::check_bus_open(&self.bus)?;
        self.backend.start()
    }

    /// Stops the task.
    pub fn stop(&self) -> Result<()> {
        self.check_present()?;
        self.backend.stop()
    }

    /// Replaces the frames' data, keeping count and phase.
    pub fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        self.check_present()?;
        if frames.len() != self.positions {
            return Err(CanwireError::invalid_argument(format!(
                "modifyData takes as many messages as the task has ({}), got {}",
                self.positions,
                frames.len()
            )));
        }
        self.bus.check_sendable(&frames)?;
        self.backend.modify(frames)
    }

    /// The frames in round-robin order.
    pub fn frames(&self) -> Result<Vec<Frame>> {
        self.check_present()?;
        self.backend.frames()
    }

    /// Counters.
    pub fn stats(&self) -> Result<CyclicTaskStats> {
        self.check_present()?;
        let mut stats = self.backend.stats()?;
        stats.running &= !self.bus.is_closed();
        Ok(stats)
    }

    /// Stops the task and removes it from its scheduler. Idempotent.
    pub fn remove(&self) {
        if !self.removed.swap(true, Ordering::AcqRel) {
            self.backend.remove();
        }
    }
}

impl Drop for CyclicTask {
    fn drop(&mut self) {
        self.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader_set::ReaderSet;
    use crate::transport::{Protocol, Transport};
    use std::sync::Mutex;

    /// A backend that records what the front end asks of it.
    struct Recorder(Arc<Mutex<Vec<&'static str>>>);

    impl CyclicBackend for Recorder {
        fn kind(&self) -> SchedulerKind {
            SchedulerKind::Native
        }
        fn start(&self) -> Result<()> {
            self.0.lock().unwrap().push("start");
            Ok(())
        }
        fn stop(&self) -> Result<()> {
            self.0.lock().unwrap().push("stop");
            Ok(())
        }
        fn modify(&self, _frames: Vec<Frame>) -> Result<()> {
            Ok(())
        }
        fn frames(&self) -> Result<Vec<Frame>> {
            Ok(Vec::new())
        }
        fn stats(&self) -> Result<CyclicTaskStats> {
            Ok(CyclicTaskStats::default())
        }
        fn remove(&self) {
            self.0.lock().unwrap().push("remove");
        }
    }

    /// A transport that runs its own periodic tasks.
    struct SelfScheduling(Arc<Mutex<Vec<&'static str>>>);

    impl Transport for SelfScheduling {
        fn send(&self, frames: &[Frame]) -> Result<usize> {
            Ok(frames.len())
        }
        fn protocol(&self) -> Protocol {
            Protocol::Can20
        }
        fn channel_info(&self) -> String {
            "self-scheduling".into()
        }
        fn channel_name(&self, _index: u32) -> Option<String> {
            None
        }
        fn cyclic_backend(
            &self,
            frames: &[Frame],
            _timing: &CyclicTiming,
            _hooks: &TaskHooks,
        ) -> Option<Result<Box<dyn CyclicBackend>>> {
            assert_eq!(frames.len(), 1);
            Some(Ok(Box::new(Recorder(self.0.clone()))))
        }
        fn close(&self) {}
    }

    #[test]
    fn a_transport_that_schedules_its_own_tasks_gets_native_ones() {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let bus = Arc::new(Bus::with_transport(
            Arc::new(ReaderSet::new(false)),
            Box::new(SelfScheduling(calls.clone())),
        ));
        let task = CyclicTask::create(
            bus,
            vec![Frame::classic(0x100, false, &[1])],
            CyclicTiming::every(10_000_000),
            true,
            SchedulerKind::Native,
            TaskHooks::default(),
        )
        .unwrap();
        task.stop().unwrap();
        drop(task);
        assert_eq!(*calls.lock().unwrap(), ["start", "stop", "remove"]);
    }
}
