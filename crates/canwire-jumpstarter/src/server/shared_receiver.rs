//! The one receive queue of a `Can` export, as python-can's bus has one: it
//! is attached when the server starts, so frames from before a client
//! connected are kept (bounded at 65536, overflow counted by the queue);
//! every `_recv_internal` takes the oldest frame that passes the filters
//! `_apply_filters` set (frames that do not pass are discarded).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canwire_bus::{Bus, FrameQueue};
use canwire_core::error::Result;
use canwire_core::{FilterSet, Frame};

use super::ready_wait::wait_ready;

/// Capacity of the shared queue, in frames.
pub const SHARED_QUEUE_FRAMES: usize = 65_536;
/// Longest single wait, after which a waiting call looks at the server's
/// closing flag again.
const WAIT_SLICE: Duration = Duration::from_secs(1);

/// How a receive ended.
#[derive(Debug, PartialEq)]
pub enum Received {
    /// The oldest frame that passed the filters.
    Frame(Box<Frame>),
    /// The timeout passed (or the server is closing).
    Nothing,
    /// The bus closed and nothing is left.
    Closed,
}

/// The shared queue and its filters.
pub struct SharedReceiver {
    queue: Arc<FrameQueue>,
    filters: Mutex<FilterSet>,
}

impl SharedReceiver {
    /// Attaches the queue to `bus`.
    pub fn attach(bus: &Bus) -> Result<Self> {
        Ok(Self {
            queue: bus.add_reader(SHARED_QUEUE_FRAMES)?,
            filters: Mutex::default(),
        })
    }

    /// The queue (for counters and detaching).
    pub fn queue(&self) -> &Arc<FrameQueue> {
        &self.queue
    }

    /// Replaces the filters.
    pub fn set_filters(&self, filters: FilterSet) {
        *self.filters.lock().unwrap_or_else(|e| e.into_inner()) = filters;
    }

    /// The oldest queued frame that passes the filters, discarding those that do not.
    fn pop(&self) -> Option<Frame> {
        let filters = self.filters.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::with_capacity(1);
        loop {
            out.clear();
            if self.queue.pop_into(1, &mut out) == 0 {
                return None;
            }
            if filters.matches(&out[0]) {
                return Some(out[0]);
            }
        }
    }

    /// Waits up to `timeout` (`None`: as long as the call lives) for a frame;
    /// gives up early once `closing` is set.
    pub async fn recv(&self, timeout: Option<Duration>, closing: &AtomicBool) -> Received {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(frame) = self.pop() {
                return Received::Frame(Box::new(frame));
            }
            if self.queue.is_closed() {
                return Received::Closed;
            }
            let left = deadline.map_or(WAIT_SLICE, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() || closing.load(Ordering::Acquire) {
                return Received::Nothing;
            }
            wait_ready(
                |k, h| self.queue.notify_once(k, h),
                |k| self.queue.cancel_notify(k),
                left.min(WAIT_SLICE),
            )
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use canwire_bus::BusConfig;
    use canwire_bus::virtual_bus::VirtualConfig;
    use canwire_core::CanFilter;

    use super::*;

    fn bus(channel: &str) -> Bus {
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            ..VirtualConfig::default()
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn frames_sent_before_the_call_are_kept_and_filters_discard() {
        let exported = bus("shared-receiver-1");
        let peer = bus("shared-receiver-1");
        let rx = SharedReceiver::attach(&exported).unwrap();
        peer.send(&[
            Frame::classic(0x100, false, &[1]),
            Frame::classic(0x200, false, &[2]),
        ])
        .unwrap();
        rx.set_filters(FilterSet::any_of(vec![CanFilter::new(0x200, 0x7ff)]));
        let closing = AtomicBool::new(false);
        let got = rx.recv(Some(Duration::ZERO), &closing).await;
        let Received::Frame(frame) = got else {
            panic!("{got:?}")
        };
        assert_eq!((frame.id, frame.data()), (0x200, &[2u8][..]));
        assert_eq!(
            rx.recv(Some(Duration::from_millis(5)), &closing).await,
            Received::Nothing
        );
        exported.close();
        assert_eq!(rx.recv(None, &closing).await, Received::Closed);
    }
}
