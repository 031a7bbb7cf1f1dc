//! Cyclic sends on a native thread: one [`scheduler`] thread runs every
//! task of the process against absolute deadlines.

pub mod scheduler;
pub mod spin_budget;
pub mod task;

pub use scheduler::CyclicScheduler;
pub use task::{CyclicTask, CyclicTaskStats};
