//! Watches: change and timeout events on one CAN id (`bus.watch`).
//!
//! [`Watch`] is the one front end: it owns the bounded event queue
//! ([`queue::WatchQueue`]) and the close. What produces the events is a
//! [`WatchBackend`]: on SocketCAN the kernel's broadcast manager
//! ([`crate::socketcan::bcm::BcmWatch`]); on other buses, or where the
//! kernel has no BCM, a thread running the sans-IO
//! [`canwire_core::watch::Watcher`] on a reader of the bus
//! ([`native::NativeWatch`]).

pub mod native;
pub mod queue;

use std::sync::Arc;

use canwire_core::error::Result;
use canwire_core::watch::WatchConfig;
use canwire_core::{CanwireError, ErrorCode};

use crate::bus::Bus;
use native::NativeWatch;
use queue::WatchQueue;

/// What produces a watch's events into its queue.
pub trait WatchBackend: Send + Sync {
    /// True when the kernel runs the watch.
    fn in_kernel(&self) -> bool;
    /// Stops producing events. Idempotent; the front end closes the queue afterwards.
    fn close(&self);
}

/// A watch on one id of a bus; dropping it stops it.
pub struct Watch {
    queue: Arc<WatchQueue>,
    backend: Arc<dyn WatchBackend>,
}

impl Watch {
    /// Starts watching `bus` for `config`, queuing at most `capacity` events:
    /// by the backend where it runs watches itself (a socketcand server), in
    /// the kernel where the bus is SocketCAN and the kernel has BCM,
    /// natively otherwise.
    pub fn open(bus: &Arc<Bus>, config: WatchConfig, capacity: usize) -> Result<Self> {
        config.validate()?;
        let queue = Arc::new(WatchQueue::new(capacity));
        if let Some(backend) = bus.transport_watch_backend(&config, &queue) {
            return Ok(Self::with_backend(queue, backend?));
        }
        if config.mux.is_some() {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                "a mux watch runs only on a socketcand server: open the bus with interface \"socketcand\" and filtering \"server\"",
            ));
        }
        if let Some(socketcan) = bus.socketcan() {
            match socketcan.bcm_watch(&config, queue.clone()) {
                Ok(watch) => return Ok(Self::with_backend(queue, watch)),
                Err(e) if e.code == ErrorCode::Unsupported => {}
                Err(e) => return Err(e),
            }
        }
        Self::open_native(bus, config, queue)
    }

    /// Starts a native watch (a thread on a reader of `bus`) whatever the bus.
    pub fn open_native(
        bus: &Arc<Bus>,
        config: WatchConfig,
        queue: Arc<WatchQueue>,
    ) -> Result<Self> {
        let native = NativeWatch::open(bus.clone(), config, queue.clone())?;
        Ok(Self::with_backend(queue, Arc::new(native)))
    }

    /// A front end over `backend`, which produces into `queue`.
    pub fn with_backend(queue: Arc<WatchQueue>, backend: Arc<dyn WatchBackend>) -> Self {
        Self { queue, backend }
    }

    /// The event queue.
    pub fn queue(&self) -> &Arc<WatchQueue> {
        &self.queue
    }

    /// True when the kernel runs the watch.
    pub fn in_kernel(&self) -> bool {
        self.backend.in_kernel()
    }

    /// Stops watching; queued events stay readable. Idempotent.
    pub fn close(&self) {
        self.backend.close();
        self.queue.close();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts how often the front end closes it.
    #[derive(Default)]
    struct CountingBackend {
        closes: AtomicUsize,
    }

    impl WatchBackend for CountingBackend {
        fn in_kernel(&self) -> bool {
            true
        }
        fn close(&self) {
            self.closes.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_front_end_closes_its_backend_then_the_queue() {
        let backend = Arc::new(CountingBackend::default());
        let queue = Arc::new(WatchQueue::new(4));
        let watch = Watch::with_backend(queue.clone(), backend.clone());
        assert!(watch.in_kernel());
        assert!(!queue.is_closed());
        watch.close();
        assert!(queue.is_closed());
        drop(watch);
        // close() and the drop each reach the backend, which must be idempotent.
        assert_eq!(backend.closes.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_watch_on_a_bus_without_socketcan_runs_natively() {
        let bus = Arc::new(
            Bus::open(crate::BusConfig::Virtual(
                crate::virtual_bus::VirtualConfig {
                    channel: "watch-front-end".into(),
                    ..Default::default()
                },
            ))
            .unwrap(),
        );
        let config = WatchConfig {
            id: 0x7FF,
            ..WatchConfig::default()
        };
        let watch = Watch::open(&bus, config, 4).unwrap();
        assert!(!watch.in_kernel());
        let too_high = WatchConfig {
            id: 0x800,
            ..WatchConfig::default()
        };
        let Err(error) = Watch::open(&bus, too_high, 4) else {
            panic!("a 12-bit standard id was accepted");
        };
        assert_eq!(error.code, ErrorCode::IdOutOfRange);
    }
}
