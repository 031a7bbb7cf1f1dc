//! [`CyclicBackend`]: what runs a cyclic task, behind the [`super::CyclicTask`] front end.
//!
//! canwire's scheduler thread ([`super::native_task::NativeTask`]) and the
//! kernel's broadcast manager (`socketcan::bcm::BcmTask`) implement it; a
//! remote bus (socketcand's BCM `add`/`update`/`delete`) would too. The
//! front end owns what every backend shares: it refuses a closed bus and a
//! removed task, checks frames as a send would and their count on modify,
//! starts an autostart task (and removes it if that fails), reports a task
//! whose bus closed as not running, and removes a task exactly once.

use canwire_core::Frame;
use canwire_core::error::Result;

use super::task::{CyclicTaskStats, SchedulerKind};

/// One cyclic task as its scheduler runs it. The front end calls these only
/// while the task exists (never after [`CyclicBackend::remove`]) and with
/// frames already checked for its bus.
pub trait CyclicBackend: Send + Sync {
    /// Which scheduler this is.
    fn kind(&self) -> SchedulerKind;
    /// (Re)starts the task: its first frame goes now and the phase restarts.
    fn start(&self) -> Result<()>;
    /// Stops the task; [`CyclicBackend::start`] begins a new run.
    fn stop(&self) -> Result<()>;
    /// Replaces the frames (as many as the task has), keeping the phase and
    /// round-robin position: the next frame due carries the new data.
    fn modify(&self, frames: Vec<Frame>) -> Result<()>;
    /// The frames in round-robin order.
    fn frames(&self) -> Result<Vec<Frame>>;
    /// The counters.
    fn stats(&self) -> Result<CyclicTaskStats>;
    /// Stops the task and forgets it (called once).
    fn remove(&self);
}
