//! The receive side of one bus: bus-level filters, the protocol check, and
//! fan-out to every reader queue with counters.
//!
//! A reader is either batched (the default: a JS reader, woken once per
//! batch, for which a SocketCAN receive thread may let frames gather under
//! sustained traffic) or immediate (a native thread that answers frames, as
//! the userspace ISO-TP stack does with flow control: while one is attached
//! the receive thread reads every frame at once).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, RwLock};

use canwire_core::{CanwireError, FilterSet, Frame};

use crate::frame_queue::FrameQueue;
use crate::stats::BusStats;
use crate::sync_util;

/// Filters, readers and receive counters of one bus.
pub struct ReaderSet {
    fd_enabled: bool,
    filters: RwLock<FilterSet>,
    readers: RwLock<Vec<Arc<FrameQueue>>>,
    /// The readers added with [`ReaderSet::add_immediate_reader`] and not removed.
    immediate: RwLock<Vec<Arc<FrameQueue>>>,
    immediate_count: AtomicUsize,
    rx_frames: AtomicU64,
    rx_filtered: AtomicU64,
    rx_dropped_fd_on_classic: AtomicU64,
    removed_overflow: AtomicU64,
    coalescing_waits: AtomicU64,
    failure: RwLock<Option<CanwireError>>,
}

impl ReaderSet {
    /// An empty set; `fd_enabled` says whether FD frames may be delivered.
    pub fn new(fd_enabled: bool) -> Self {
        Self {
            fd_enabled,
            filters: RwLock::default(),
            readers: RwLock::default(),
            immediate: RwLock::default(),
            immediate_count: AtomicUsize::new(0),
            rx_frames: AtomicU64::new(0),
            rx_filtered: AtomicU64::new(0),
            rx_dropped_fd_on_classic: AtomicU64::new(0),
            removed_overflow: AtomicU64::new(0),
            coalescing_waits: AtomicU64::new(0),
            failure: RwLock::default(),
        }
    }

    /// Replaces the bus-level filters.
    pub fn set_filters(&self, filters: FilterSet) {
        *sync_util::write(&self.filters) = filters;
    }

    /// Adds a reader queue of `capacity` frames; it receives every frame delivered from now on.
    pub fn add_reader(&self, capacity: usize) -> Arc<FrameQueue> {
        let queue = Arc::new(FrameQueue::new(capacity));
        if let Some(error) = sync_util::read(&self.failure).clone() {
            queue.fail(error);
        }
        sync_util::write(&self.readers).push(queue.clone());
        queue
    }

    /// Adds a reader as [`ReaderSet::add_reader`] does, for a consumer that
    /// answers frames (a protocol stack): while it is attached, the receive
    /// thread reads every frame as soon as it arrives.
    pub fn add_immediate_reader(&self, capacity: usize) -> Arc<FrameQueue> {
        let queue = self.add_reader(capacity);
        let mut immediate = sync_util::write(&self.immediate);
        immediate.push(queue.clone());
        self.immediate_count.store(immediate.len(), Relaxed);
        queue
    }

    /// True while a reader added with [`ReaderSet::add_immediate_reader`] is attached.
    pub fn has_immediate_readers(&self) -> bool {
        self.immediate_count.load(Relaxed) > 0
    }

    /// Detaches and closes a reader; its overflow count stays in the bus total.
    pub fn remove_reader(&self, reader: &Arc<FrameQueue>) {
        {
            let mut immediate = sync_util::write(&self.immediate);
            immediate.retain(|r| !Arc::ptr_eq(r, reader));
            self.immediate_count.store(immediate.len(), Relaxed);
        }
        let mut readers = sync_util::write(&self.readers);
        if let Some(pos) = readers.iter().position(|r| Arc::ptr_eq(r, reader)) {
            readers.swap_remove(pos);
            self.removed_overflow
                .fetch_add(reader.stats().overflow, Relaxed);
        }
        reader.close();
    }

    /// Closes every reader (queued frames stay readable).
    pub fn close_all(&self) {
        for reader in sync_util::read(&self.readers).iter() {
            reader.close();
        }
    }

    /// Ends every reader with `error` because the source of frames failed
    /// (a remote bus lost its connection): frames already queued stay
    /// readable, then each read, pending or later, gets `error`; readers
    /// added afterwards get it at once. The first failure is kept.
    pub fn fail_all(&self, error: CanwireError) {
        let error = sync_util::write(&self.failure).get_or_insert(error).clone();
        for reader in sync_util::read(&self.readers).iter() {
            reader.fail(error.clone());
        }
    }

    /// Delivers received frames to every reader, after the protocol check and the filters.
    pub fn deliver(&self, frames: &[Frame]) {
        let filters = sync_util::read(&self.filters);
        let all_pass =
            filters.filters().is_empty() && (self.fd_enabled || frames.iter().all(|f| !f.is_fd()));
        let passed: Vec<Frame>;
        let to_deliver = if all_pass {
            frames
        } else {
            let mut dropped_fd = 0;
            let mut filtered = 0;
            passed = frames
                .iter()
                .filter(|f| {
                    if f.is_fd() && !self.fd_enabled {
                        dropped_fd += 1;
                        false
                    } else if !filters.matches(f) {
                        filtered += 1;
                        false
                    } else {
                        true
                    }
                })
                .copied()
                .collect();
            self.rx_dropped_fd_on_classic.fetch_add(dropped_fd, Relaxed);
            self.rx_filtered.fetch_add(filtered, Relaxed);
            &passed
        };
        drop(filters);
        if to_deliver.is_empty() {
            return;
        }
        self.rx_frames.fetch_add(to_deliver.len() as u64, Relaxed);
        for reader in sync_util::read(&self.readers).iter() {
            reader.push(to_deliver);
        }
    }

    /// Counts one wait of the receive thread for frames to gather (see
    /// [`crate::socketcan::rx_coalescing`]).
    pub fn count_coalescing_wait(&self) {
        self.coalescing_waits.fetch_add(1, Relaxed);
    }

    /// Fills the receive-side fields of `stats`.
    pub fn fill_stats(&self, stats: &mut BusStats) {
        stats.rx_frames = self.rx_frames.load(Relaxed);
        stats.rx_filtered = self.rx_filtered.load(Relaxed);
        stats.rx_dropped_fd_on_classic = self.rx_dropped_fd_on_classic.load(Relaxed);
        stats.rx_coalescing_waits = self.coalescing_waits.load(Relaxed);
        let readers = sync_util::read(&self.readers);
        stats.readers = readers.iter().map(|r| r.stats()).collect();
        stats.rx_dropped_queue_full = self.removed_overflow.load(Relaxed)
            + stats.readers.iter().map(|r| r.overflow).sum::<u64>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::CanFilter;

    #[test]
    fn every_reader_gets_every_passing_frame() {
        let set = ReaderSet::new(false);
        let a = set.add_reader(10);
        let b = set.add_reader(1);
        set.set_filters(FilterSet::any_of(vec![CanFilter::new(0x100, 0x700)]));
        let frames = [
            Frame::classic(0x101, false, &[]),
            Frame::classic(0x201, false, &[]),
            Frame::fd(0x102, false, &[1], false),
            Frame::classic(0x103, false, &[]),
        ];
        set.deliver(&frames);
        assert_eq!(a.len(), 2);
        assert_eq!(b.len(), 1);
        let mut stats = BusStats::default();
        set.fill_stats(&mut stats);
        assert_eq!(
            (
                stats.rx_frames,
                stats.rx_filtered,
                stats.rx_dropped_fd_on_classic
            ),
            (2, 1, 1)
        );
        assert_eq!(stats.rx_dropped_queue_full, 1);
        set.remove_reader(&b);
        set.fill_stats(&mut stats);
        assert_eq!(stats.readers.len(), 1);
        assert_eq!(
            stats.rx_dropped_queue_full, 1,
            "overflow of removed readers is kept"
        );
        assert!(b.is_closed());
    }

    #[test]
    fn immediate_readers_are_counted_until_removed() {
        let set = ReaderSet::new(false);
        let batched = set.add_reader(10);
        assert!(!set.has_immediate_readers());
        let a = set.add_immediate_reader(10);
        let b = set.add_immediate_reader(10);
        set.deliver(&[Frame::classic(1, false, &[])]);
        assert_eq!((batched.len(), a.len(), b.len()), (1, 1, 1));
        set.remove_reader(&batched);
        set.remove_reader(&a);
        assert!(set.has_immediate_readers());
        set.remove_reader(&b);
        set.remove_reader(&b);
        assert!(!set.has_immediate_readers());
    }

    #[test]
    fn a_failure_ends_every_reader_and_every_later_one() {
        let set = ReaderSet::new(false);
        let a = set.add_reader(10);
        set.deliver(&[Frame::classic(1, false, &[])]);
        set.fail_all(CanwireError::new(
            canwire_core::ErrorCode::Unreachable,
            "gone",
        ));
        assert!(a.is_closed());
        assert_eq!(a.len(), 1, "frames received before stay readable");
        assert_eq!(a.failure().unwrap().message, "gone");
        let later = set.add_reader(10);
        assert!(later.is_closed());
        assert_eq!(later.failure().unwrap().code.as_str(), "ERR_UNREACHABLE");
    }
}
