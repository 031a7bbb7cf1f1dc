//! Cyclic transmission as a sans-IO schedule: which frame is due when.
//!
//! [`CyclicSchedule`] holds one task: frames sent round-robin at absolute
//! deadlines `start + n * period` (so rounding never accumulates into drift),
//! optionally a first phase of `count` frames at another interval (SocketCAN
//! BCM's ival1/ival2), and an end after a frame count or a duration. A driver
//! sleeps until [`CyclicSchedule::poll_timeout`] and takes frames with
//! [`CyclicSchedule::poll_transmit`].
//!
//! Missed deadlines: when the driver comes back later than a whole period
//! after a deadline, the slots that passed are skipped and counted in
//! `missed`; the next frame is the one for the current slot. A late driver
//! therefore never sends a burst, and the phase of the schedule is kept.

mod schedule;
#[cfg(test)]
mod tests;

pub use schedule::{CyclicLimit, CyclicSchedule, CyclicTiming};
