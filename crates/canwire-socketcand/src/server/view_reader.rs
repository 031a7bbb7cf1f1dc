//! [`ViewReader`]: a connection's bounded output queue on its view of the
//! bus, with its losses added to the server's counters.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::error::Result;

use super::counters::ServerCounters;

/// The frames waiting for one client; dropping it detaches the queue.
pub struct ViewReader {
    bus: Arc<Bus>,
    queue: Arc<FrameQueue>,
    seen_overflow: u64,
    counters: Arc<ServerCounters>,
}

impl ViewReader {
    /// A queue of `capacity` frames on `bus`.
    pub fn open(bus: &Arc<Bus>, capacity: usize, counters: &Arc<ServerCounters>) -> Result<Self> {
        Ok(Self {
            queue: bus.add_reader(capacity)?,
            bus: bus.clone(),
            seen_overflow: 0,
            counters: counters.clone(),
        })
    }

    /// The queue (to wait on).
    pub fn queue(&self) -> &Arc<FrameQueue> {
        &self.queue
    }

    fn account(&mut self) {
        let overflow = self.queue.stats().overflow;
        if overflow > self.seen_overflow {
            self.counters
                .dropped_frames
                .fetch_add(overflow - self.seen_overflow, Relaxed);
            self.seen_overflow = overflow;
        }
    }

    /// Moves up to `max` frames into `out`.
    pub fn pop(&mut self, max: usize, out: &mut Vec<Frame>) -> usize {
        self.account();
        self.queue.pop_into(max, out)
    }
}

impl Drop for ViewReader {
    fn drop(&mut self) {
        self.account();
        self.bus.remove_reader(&self.queue);
    }
}
