//! [`CyclicTask`]: one handle on a cyclic task, whichever scheduler runs it.

use std::sync::Arc;

use canwire_core::Frame;
use canwire_core::cyclic::{CyclicTiming, Lateness};
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode};

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
}

enum Backend {
    Native(NativeTask),
    #[cfg(target_os = "linux")]
    Kernel {
        bus: Arc<Bus>,
        tx: Arc<crate::socketcan::bcm::BcmTx>,
        id: u64,
    },
}

/// A cyclic task; dropping it stops and removes it.
pub struct CyclicTask {
    backend: Backend,
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
        let backend = match scheduler {
            SchedulerKind::Native => {
                Backend::Native(NativeTask::create(bus, frames, timing, autostart, hooks)?)
            }
            #[cfg(target_os = "linux")]
            SchedulerKind::Kernel => {
                if hooks.modifier.is_some() {
                    return Err(CanwireError::new(
                        ErrorCode::Unsupported,
                        "a per-send modifier needs the native scheduler: the kernel sends without asking",
                    ));
                }
                bus.check_sendable(&frames)?;
                let tx = bus.bcm_tx()?;
                let id = tx.add(frames, timing, hooks.on_error)?;
                if autostart && let Err(e) = tx.start(id) {
                    tx.remove(id);
                    return Err(e);
                }
                Backend::Kernel { bus, tx, id }
            }
            #[cfg(not(target_os = "linux"))]
            SchedulerKind::Kernel => {
                return Err(CanwireError::new(
                    ErrorCode::Unsupported,
                    "the kernel scheduler (BCM) exists only with SocketCAN on Linux",
                ));
            }
        };
        Ok(Self { backend })
    }

    /// Which scheduler runs the task.
    pub fn scheduler(&self) -> SchedulerKind {
        match self.backend {
            Backend::Native(_) => SchedulerKind::Native,
            #[cfg(target_os = "linux")]
            Backend::Kernel { .. } => SchedulerKind::Kernel,
        }
    }

    /// (Re)starts the task: the first frame goes now, the phase restarts.
    pub fn start(&self) -> Result<()> {
        match &self.backend {
            Backend::Native(t) => t.start(),
            #[cfg(target_os = "linux")]
            Backend::Kernel { tx, id, .. } => tx.start(*id),
        }
    }

    /// Stops the task.
    pub fn stop(&self) -> Result<()> {
        match &self.backend {
            Backend::Native(t) => t.stop(),
            #[cfg(target_os = "linux")]
            Backend::Kernel { tx, id, .. } => tx.stop(*id),
        }
    }

    /// Replaces the frames' data, keeping count and phase.
    pub fn modify(&self, frames: Vec<Frame>) -> Result<()> {
        match &self.backend {
            Backend::Native(t) => t.modify(frames),
            #[cfg(target_os = "linux")]
            Backend::Kernel { bus, tx, id } => {
                bus.check_sendable(&frames)?;
                tx.modify(*id, frames)
            }
        }
    }

    /// The frames in round-robin order.
    pub fn frames(&self) -> Result<Vec<Frame>> {
        match &self.backend {
            Backend::Native(t) => t.frames(),
            #[cfg(target_os = "linux")]
            Backend::Kernel { tx, id, .. } => tx.frames(*id),
        }
    }

    /// Counters.
    pub fn stats(&self) -> Result<CyclicTaskStats> {
        match &self.backend {
            Backend::Native(t) => t.stats(),
            #[cfg(target_os = "linux")]
            Backend::Kernel { tx, id, .. } => tx.stats(*id),
        }
    }

    /// Stops the task and removes it from its scheduler. Idempotent.
    pub fn remove(&self) {
        match &self.backend {
            Backend::Native(t) => t.remove(),
            #[cfg(target_os = "linux")]
            Backend::Kernel { tx, id, .. } => tx.remove(*id),
        }
    }
}

impl Drop for CyclicTask {
    fn drop(&mut self) {
        self.remove();
    }
}
