//! Watches: change and timeout events on one CAN id (`bus.watch`).
//!
//! On SocketCAN the kernel's broadcast manager runs a watch
//! ([`crate::socketcan::bcm::BcmWatch`]); on other buses, or where the kernel
//! has no BCM, a thread runs the same sans-IO [`canwire_core::watch::Watcher`]
//! on a reader of the bus ([`native::NativeWatch`]). Either way the events go
//! to a bounded [`queue::WatchQueue`].

pub mod native;
pub mod queue;

use std::sync::Arc;

use canwire_core::error::Result;
use canwire_core::watch::WatchConfig;

use crate::bus::Bus;
use native::NativeWatch;
use queue::WatchQueue;

enum Backend {
    Native(NativeWatch),
    #[cfg(target_os = "linux")]
    Kernel(Arc<crate::socketcan::bcm::BcmWatch>),
}

/// A watch on one id of a bus; dropping it stops it.
pub struct Watch {
    queue: Arc<WatchQueue>,
    backend: Backend,
}

impl Watch {
    /// Starts watching `bus` for `config`, queuing at most `capacity` events.
    pub fn open(bus: &Arc<Bus>, config: WatchConfig, capacity: usize) -> Result<Self> {
        config.validate()?;
        let queue = Arc::new(WatchQueue::new(capacity));
        #[cfg(target_os = "linux")]
        match bus.bcm_watch(&config, queue.clone()) {
            Ok(watch) => {
                return Ok(Self {
                    queue,
                    backend: Backend::Kernel(watch),
                });
            }
            Err(e) if e.code == canwire_core::ErrorCode::Unsupported => {}
            Err(e) => return Err(e),
        }
        let native = NativeWatch::open(bus.clone(), config, queue.clone())?;
        Ok(Self {
            queue,
            backend: Backend::Native(native),
        })
    }

    /// The event queue.
    pub fn queue(&self) -> &Arc<WatchQueue> {
        &self.queue
    }

    /// True when the kernel runs the watch.
    pub fn in_kernel(&self) -> bool {
        match self.backend {
            Backend::Native(_) => false,
            #[cfg(target_os = "linux")]
            Backend::Kernel(_) => true,
        }
    }

    /// Stops watching; queued events stay readable. Idempotent.
    pub fn close(&self) {
        match &self.backend {
            Backend::Native(w) => w.close(),
            #[cfg(target_os = "linux")]
            Backend::Kernel(w) => w.close(),
        }
        self.queue.close();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.close();
    }
}
