//! Counts of native objects alive in this process, for the leak specs: after
//! closing (or dropping and collecting) what a test opened, each count is
//! back at its baseline.

use std::sync::atomic::Ordering;

use canwire_bus::watch::queue::WatchQueue;
use canwire_bus::{Bus, FrameQueue};
use napi_derive::napi;

/// Native objects alive now.
#[napi(object)]
pub struct NativeDebugCounts {
    /// Buses opened and not closed (a bus closes on `close()` or when collected).
    pub open_buses: u32,
    /// Reader queues that still receive (bus readers, and those of watches and ISO-TP stacks).
    pub open_readers: u32,
    /// Watches still running (a native watch runs one thread).
    pub open_watches: u32,
    /// `NativeBus` objects not yet collected.
    pub native_buses: u32,
    /// `NativeReader` objects not yet collected.
    pub native_readers: u32,
}

/// Counts of native objects alive now (a test aid; cheap, no locks).
#[napi(catch_unwind)]
pub fn debug_counts() -> NativeDebugCounts {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    NativeDebugCounts {
        open_buses: count(Bus::open_count()),
        open_readers: count(FrameQueue::open_count()),
        open_watches: count(WatchQueue::open_count()),
        native_buses: count(crate::bus::LIVE_BUSES.load(Ordering::Relaxed)),
        native_readers: count(crate::reader::LIVE_READERS.load(Ordering::Relaxed)),
    }
}
