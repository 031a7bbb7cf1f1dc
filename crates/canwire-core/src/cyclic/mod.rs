//! Cyclic transmission as sans-IO logic: which frame is due when.
//!
//! - `schedule.rs`: [`CyclicSchedule`], one task's timing, limit and
//!   round-robin frames, and the policy for a late driver (below);
//! - `planner.rs`: [`CyclicPlanner`], many tasks behind one driver: their
//!   deadline heap, which frames are due and how they batch, and how the
//!   driver waits ([`Wake`]); canwire-bus's scheduler thread only sleeps,
//!   spins and sends what it says;
//! - [`spin_budget`]: when the driver spins, and when dense load makes it
//!   serve on a 100 µs grid instead.
//!
//! [`CyclicSchedule`] holds one task: frames sent round-robin at absolute
//! deadlines `start + n * period` (so rounding never accumulates into drift),
//! optionally a first phase of `count` frames at another interval (SocketCAN
//! BCM's ival1/ival2), and an end after a frame count or a duration. A driver
//! sleeps until [`CyclicSchedule::poll_timeout`] and takes frames with
//! [`CyclicSchedule::poll_transmit`].
//!
//! A late driver (back a whole interval or more after a deadline) never
//! sends a burst: at most one frame per task goes late, then the grid
//! resumes. What happens to the slots that passed depends on the task:
//!
//! - a counted task ([`CyclicLimit::Count`]) sends every frame of its count:
//!   the frame due goes now, late (counted in [`Lateness`]), and the grid
//!   moves on by whole intervals to its first instant after now, so the task
//!   ends later by as much;
//! - an endless or time-bounded task skips the slots that passed (counted in
//!   `missed`) and sends the current slot's frame, keeping its phase;
//! - the first slot of a run is never skipped, whatever the limit: a task
//!   first served a whole interval or more after its start sends its first
//!   frame then (late) and its grid moves as for a counted task. A task's
//!   first frame is thus always its first message, and a run that starts
//!   behind a busy driver begins rather than jumping into its middle.

mod planner;
#[cfg(test)]
mod planner_tests;
mod schedule;
pub mod spin_budget;
#[cfg(test)]
mod tests;

pub use planner::{CyclicPlanner, DueFrame, TaskContext, Wake, start_instant};
pub use schedule::{CyclicLimit, CyclicSchedule, CyclicTiming, Lateness};
