//! Cyclic sends on a native thread: one [`scheduler`] thread runs every
//! task of the process against absolute deadlines. On SocketCAN, a task may
//! run in the kernel's broadcast manager instead (`socketcan::bcm`), behind
//! the same [`CyclicTask`] handle.

pub mod backend;
mod due_send;
pub mod hooks;
pub mod native_task;
pub mod scheduler;
pub mod task;
/// The spin budget, now in the sans-IO planner of canwire-core (re-exported at its old path).
pub mod spin_budget {
    pub use canwire_core::cyclic::spin_budget::*;
}
pub mod wake_trace;

pub use backend::CyclicBackend;
pub use hooks::{ErrorSink, FrameModifier, ModifierReply, ModifierTurn, TaskHooks};
pub use scheduler::CyclicScheduler;
pub use task::{CyclicTask, CyclicTaskStats, SchedulerKind, SentCounting};
