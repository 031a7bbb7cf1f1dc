//! [`ViewReader`]: a connection's bounded output queue on its view of the
//! bus (its losses are counted by the view's bus, see `BusHub::dropped_frames`).

use std::sync::Arc;

use canwire_bus::{Bus, FrameQueue};
use canwire_core::Frame;
use canwire_core::error::Result;

/// The frames waiting for one client; dropping it detaches the queue.
pub struct ViewReader {
    bus: Arc<Bus>,
    queue: Arc<FrameQueue>,
}

impl ViewReader {
    /// A queue of `capacity` frames on `bus`.
    pub fn open(bus: &Arc<Bus>, capacity: usize) -> Result<Self> {
        Ok(Self {
            queue: bus.add_reader(capacity)?,
            bus: bus.clone(),
        })
    }

    /// The queue (to wait on).
    pub fn queue(&self) -> &Arc<FrameQueue> {
        &self.queue
    }

    /// Moves up to `max` frames into `out`.
    pub fn pop(&mut self, max: usize, out: &mut Vec<Frame>) -> usize {
        self.queue.pop_into(max, out)
    }
}

impl Drop for ViewReader {
    fn drop(&mut self) {
        self.bus.remove_reader(&self.queue);
    }
}
