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
/// The largest window: more frames in flight only delay flow control.
pub const MAX_WINDOW: usize = 64;

/// The window for a device whose transmit queue holds `info.tx_queue_len`
/// frames (a can-dev interface: 10 by default), or `None`: no pacing on
/// echoes where the queue length is unknown or 0 (vcan, whose "queue" is
/// whatever qdisc is attached). Measured in the qemu guest on vcan with
/// echo=1 (bench/isotp/ab.mjs), a window of 8 moved 0.15 to 0.3x the
/// payload of pacing on sends on unshaped vcan (a window caps it at what
/// one echo round trip allows) and showed no gain above the noise on the
/// tbf-shaped rows: every echo costs the receive thread a wake-up, which
/// the emulated CPUs cannot spare.
pub fn window_for(info: &TxEchoInfo) -> Option<usize> {
    info.tx_queue_len
        .map(|n| n.saturating_sub(QUEUE_MARGIN).clamp(1, MAX_WINDOW))
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
            match forced.or_else(|| window_for(&info)) {
                Some(window) => paced.lock().set_window(Some(window)),
                None => paced.detach(bus),
            }
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
        assert_eq!(window(Some(10)), Some(8)); // can-dev's default txqueuelen
        assert_eq!(window(Some(2)), Some(1));
        assert_eq!(window(Some(1)), Some(1));
        assert_eq!(window(Some(1000)), Some(MAX_WINDOW));
        // vcan: no queue of its own (0 is reported as unknown).
        assert_eq!(window(None), None);
    }
}
