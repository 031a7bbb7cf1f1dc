//! [`PacedSends`]: the ISO-TP driver's [`EchoPacing`] shared with the bus's
//! receive thread, which reports echoes into it ([`TxEchoSink`]), and the
//! choice of the window.

use std::sync::{Arc, Mutex, MutexGuard};

use canwire_core::Frame;

use super::echo_pacing::EchoPacing;
use crate::bus::Bus;
use crate::frame_queue::FrameQueue;
use crate::sync_util;
use crate::time::MonotonicClock;
use crate::transport::{TxEchoInfo, TxEchoSink};

/// Frames kept free in the device queue below its length: room for the
/// flow control frames this endpoint answers and for other senders.
pub const QUEUE_MARGIN: usize = 2;
/// The window where the device's queue length is unknown (vcan has none; a
/// `tc` qdisc may hold more, or fewer).
pub const DEFAULT_WINDOW: usize = 8;
/// The largest window: more frames in flight only delay flow control.
pub const MAX_WINDOW: usize = 64;

/// The window for a transmit queue of `info.tx_queue_len` frames.
pub fn window_for(info: &TxEchoInfo) -> usize {
    info.tx_queue_len
        .map_or(DEFAULT_WINDOW, |n| n.saturating_sub(QUEUE_MARGIN))
        .clamp(1, MAX_WINDOW)
}

/// Benchmark switch `CANWIRE_ISOTP_ECHO_WINDOW`: a number overrides the
/// window; 0 turns echo pacing off. Not a user option.
fn window_override() -> Option<usize> {
    std::env::var("CANWIRE_ISOTP_ECHO_WINDOW")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The pacing state of one driver, reachable from the receive thread.
pub struct PacedSends {
    pacing: Mutex<EchoPacing>,
    reader: Arc<FrameQueue>,
    clock: MonotonicClock,
}

impl PacedSends {
    /// Pacing for a driver on `bus` that waits on `reader`: on echoes where
    /// the bus reports them (registered as a sink; [`PacedSends::detach`]
    /// undoes it), otherwise as the bus takes frames.
    pub fn attach(bus: &Bus, reader: Arc<FrameQueue>, clock: MonotonicClock) -> Arc<Self> {
        let paced = Arc::new(Self {
            pacing: Mutex::new(EchoPacing::new(None)),
            reader,
            clock,
        });
        let forced = window_override();
        if forced == Some(0) {
            return paced;
        }
        let sink: Arc<dyn TxEchoSink> = paced.clone();
        if let Some(Ok(info)) = bus.add_tx_echo_sink(sink) {
            let window = forced.unwrap_or_else(|| window_for(&info));
            paced.lock().set_window(Some(window));
        }
        paced
    }

    /// Stops the echoes to this driver.
    pub fn detach(self: &Arc<Self>, bus: &Bus) {
        let sink: Arc<dyn TxEchoSink> = self.clone();
        bus.remove_tx_echo_sink(&sink);
    }

    /// The pacing state.
    pub fn lock(&self) -> MutexGuard<'_, EchoPacing> {
        sync_util::lock(&self.pacing)
    }
}

impl TxEchoSink for PacedSends {
    /// Wakes the driver when the frames in flight fall to half the window
    /// (it sends a batch then, not one frame per wake-up) and when the
    /// last is echoed (a transfer may be complete).
    fn echoed(&self, frame: &Frame) {
        let mut pacing = self.lock();
        if pacing.echoed(self.clock.now(), frame) {
            let left = pacing.in_flight();
            let low_water = pacing.window().unwrap_or(0) / 2;
            drop(pacing);
            if left == low_water || left == 0 {
                self.reader.poke();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_device_queue_less_a_margin_within_bounds() {
        let window = |n| window_for(&TxEchoInfo { tx_queue_len: n });
        assert_eq!(window(Some(10)), 8); // can-dev's default txqueuelen
        assert_eq!(window(Some(2)), 1);
        assert_eq!(window(Some(1)), 1);
        assert_eq!(window(Some(1000)), MAX_WINDOW);
        assert_eq!(window(None), DEFAULT_WINDOW);
    }
}
