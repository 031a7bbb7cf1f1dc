//! [`WatchQueue`]: the bounded queue of a watch's events.
//!
//! Overflow policy, as for frame queues: when full, the newest event is not
//! queued and the overflow counter grows; the producer never blocks.
//! Consumers wait through the queue's [`Readiness`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::readiness::{Readiness, ReadyHook};
use crate::stats::ReaderStats;
use canwire_core::Frame;
use canwire_core::watch::WatchEventKind;

/// Default bound of a watch's event queue.
pub const DEFAULT_WATCH_CAPACITY: usize = 1024;

/// Watch queues created and neither closed nor dropped, in this process.
static OPEN_QUEUES: AtomicUsize = AtomicUsize::new(0);

/// One event as a watch delivers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusWatchEvent {
    /// What happened.
    pub kind: WatchEventKind,
    /// The frame of a `Changed` or `Received` event.
    pub frame: Option<Frame>,
    /// When, in ns since the epoch: the frame's receive time, or the time a
    /// timeout was detected.
    pub timestamp_ns: u64,
}

#[derive(Default)]
struct State {
    events: VecDeque<BusWatchEvent>,
    closed: bool,
    delivered: u64,
    overflow: u64,
}

/// A bounded FIFO of watch events with an overflow counter.
pub struct WatchQueue {
    state: Mutex<State>,
    capacity: usize,
    ready: Readiness,
}

impl WatchQueue {
    /// A queue of at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        OPEN_QUEUES.fetch_add(1, Ordering::Relaxed);
        Self {
            state: Mutex::default(),
            capacity: capacity.max(1),
            ready: Readiness::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::sync_util::lock(&self.state)
    }

    /// Queues an event, or counts it as overflow when full (ignored once closed).
    pub fn push(&self, event: BusWatchEvent) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if state.events.len() < self.capacity {
            state.events.push_back(event);
            state.delivered += 1;
            drop(state);
            self.ready.notify();
        } else {
            state.overflow += 1;
        }
    }

    /// Takes up to `max` events, oldest first.
    pub fn pop(&self, max: usize) -> Vec<BusWatchEvent> {
        let mut state = self.lock();
        let n = max.min(state.events.len());
        state.events.drain(..n).collect()
    }

    /// Closes the queue: waiters wake; queued events stay readable.
    pub fn close(&self) {
        let newly = !std::mem::replace(&mut self.lock().closed, true);
        if newly {
            OPEN_QUEUES.fetch_sub(1, Ordering::Relaxed);
        }
        self.ready.notify();
    }

    /// Watch queues in this process that are neither closed nor dropped: a
    /// watch's queue closes when the watch stops (for leak tests).
    pub fn open_count() -> usize {
        OPEN_QUEUES.load(Ordering::Relaxed)
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Leaves `hook` (under `key`, see [`Readiness::arm`]) to run once when an
    /// event is queued or the queue closes, and returns true; returns false
    /// (dropping `hook`) if events already wait or the queue is closed.
    pub fn notify_once(&self, key: u64, hook: ReadyHook) -> bool {
        self.ready.arm(key, hook, || {
            let state = self.lock();
            !state.events.is_empty() || state.closed
        })
    }

    /// Drops the hook left under `key` by [`WatchQueue::notify_once`] if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.ready.disarm(key);
    }

    /// Counters.
    pub fn stats(&self) -> ReaderStats {
        let state = self.lock();
        ReaderStats {
            capacity: self.capacity as u64,
            queued: state.events.len() as u64,
            delivered: state.delivered,
            overflow: state.overflow,
        }
    }
}

impl Drop for WatchQueue {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(at: u64) -> BusWatchEvent {
        BusWatchEvent {
            kind: WatchEventKind::Timeout,
            frame: None,
            timestamp_ns: at,
        }
    }

    #[test]
    fn keeps_the_oldest_and_counts_what_does_not_fit() {
        let q = WatchQueue::new(2);
        for at in 1..=5 {
            q.push(timeout(at));
        }
        let s = q.stats();
        assert_eq!(
            (s.capacity, s.queued, s.delivered, s.overflow),
            (2, 2, 2, 3)
        );
        assert_eq!(
            q.pop(10).iter().map(|e| e.timestamp_ns).collect::<Vec<_>>(),
            [1, 2]
        );
        q.close();
        q.push(timeout(6));
        assert!(
            !q.notify_once(0, Box::new(|| {})),
            "closed: nothing to wait for"
        );
        assert!(q.is_closed());
        assert!(q.pop(10).is_empty());
    }

    #[test]
    fn a_hook_runs_on_the_next_event_and_on_close() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        let runs = Arc::new(AtomicU32::new(0));
        let hook = || -> ReadyHook {
            let runs = runs.clone();
            Box::new(move || {
                runs.fetch_add(1, Ordering::SeqCst);
            })
        };
        let q = WatchQueue::new(4);
        assert!(q.notify_once(7, hook()));
        q.push(timeout(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(!q.notify_once(7, hook()), "an event waits");
        q.pop(1);
        assert!(q.notify_once(7, hook()));
        q.cancel_notify(7);
        q.push(timeout(2));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "cancelled");
        q.pop(1);
        assert!(q.notify_once(7, hook()));
        q.close();
        assert_eq!(runs.load(Ordering::SeqCst), 2, "closing wakes");
    }
}
