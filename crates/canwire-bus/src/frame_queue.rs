//! A bounded queue of received frames for one reader.
//!
//! Overflow policy: when the queue is full, the newest frame is not queued
//! and the overflow counter grows; frames already queued are kept in order.
//! The sender never blocks. Readers wait through the queue's [`Readiness`]:
//! on a thread ([`FrameQueue::wait_blocking`]), or by leaving a one-shot
//! callback ([`FrameQueue::notify_once`]) that the pushing thread runs
//! itself, so a JS reader is woken with one thread hop.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use canwire_core::{CanwireError, Frame};

use crate::readiness::Readiness;
pub use crate::readiness::ReadyHook;
use crate::stats::ReaderStats;
use crate::time::{PiMutex, PiMutexGuard};

/// Default bound of a reader queue, in frames.
pub const DEFAULT_CAPACITY: usize = 65_536;
/// Largest bound a reader queue may have, in frames.
pub const MAX_CAPACITY: usize = 16 * 1024 * 1024;

/// Queues created and neither closed nor dropped, in this process.
static OPEN_QUEUES: AtomicUsize = AtomicUsize::new(0);

#[derive(Default)]
struct QueueState {
    frames: VecDeque<Frame>,
    /// An empty deque keeping its allocation, swapped in when a reader takes everything.
    spare: VecDeque<Frame>,
    closed: bool,
    /// Why the source of frames failed: read once the queue is drained.
    failure: Option<CanwireError>,
    delivered: u64,
    overflow: u64,
    poked: bool,
}

impl QueueState {
    fn readable(&self) -> bool {
        !self.frames.is_empty() || self.closed
    }
}

/// A bounded FIFO of frames with a drop counter.
pub struct FrameQueue {
    /// Priority-inheriting: the cyclic scheduler's real-time thread pushes
    /// into queues that ordinary reader threads lock too.
    state: PiMutex<QueueState>,
    capacity: usize,
    ready: Readiness,
}

impl FrameQueue {
    /// A queue holding at most `capacity` frames (clamped to 1..=[`MAX_CAPACITY`]).
    pub fn new(capacity: usize) -> Self {
        OPEN_QUEUES.fetch_add(1, Ordering::Relaxed);
        Self {
            state: PiMutex::new(QueueState::default()),
            capacity: capacity.clamp(1, MAX_CAPACITY),
            ready: Readiness::new(),
        }
    }

    fn lock(&self) -> PiMutexGuard<'_, QueueState> {
        self.state.lock()
    }

    /// The bound in frames.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues frames; those that do not fit are counted as overflow.
    pub fn push<'a>(&self, frames: impl IntoIterator<Item = &'a Frame>) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let was_empty = state.frames.is_empty();
        for frame in frames {
            if state.frames.len() < self.capacity {
                state.frames.push_back(*frame);
                state.delivered += 1;
            } else {
                state.overflow += 1;
            }
        }
        let woke = was_empty && !state.frames.is_empty();
        drop(state);
        if woke {
            self.ready.notify();
        }
    }

    /// Leaves `hook` (under `key`, see [`Readiness::arm`]) to run once when a
    /// frame is queued or the queue closes, and returns true; returns false
    /// (dropping `hook`) if frames are already waiting or the queue is
    /// closed, so the caller reads instead of waiting.
    pub fn notify_once(&self, key: u64, hook: ReadyHook) -> bool {
        self.ready.arm(key, hook, || self.lock().readable())
    }

    /// Drops the hook left under `key` by [`FrameQueue::notify_once`] if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.ready.disarm(key);
    }

    /// Number of hooks left by [`FrameQueue::notify_once`] that have not run.
    pub fn armed(&self) -> usize {
        self.ready.armed()
    }

    /// Moves up to `max` frames into `out`; returns how many.
    ///
    /// Taking every queued frame swaps the queue out and copies outside the
    /// lock, so a reader thread preempted while copying a large backlog never
    /// holds up the senders (a real-time cyclic sender included).
    pub fn pop_into(&self, max: usize, out: &mut Vec<Frame>) -> usize {
        let mut state = self.lock();
        let n = max.min(state.frames.len());
        if n == 0 || n < state.frames.len() {
            out.extend(state.frames.drain(..n));
            return n;
        }
        let mut taken = std::mem::take(&mut state.spare);
        std::mem::swap(&mut taken, &mut state.frames);
        drop(state);
        out.extend(taken.drain(..));
        let mut state = self.lock();
        if state.spare.capacity() < taken.capacity() {
            state.spare = taken;
        }
        n
    }

    /// Number of frames waiting.
    pub fn len(&self) -> usize {
        self.lock().frames.len()
    }

    /// True if no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once [`FrameQueue::close`] ran.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Closes the queue: waiters wake, pushes are ignored; queued frames stay readable.
    pub fn close(&self) {
        let mut state = self.lock();
        let newly = !state.closed;
        state.closed = true;
        drop(state);
        if newly {
            OPEN_QUEUES.fetch_sub(1, Ordering::Relaxed);
            self.ready.notify();
        }
    }

    /// Closes the queue because its source failed: once the frames queued
    /// before are read, every read gets `error` (see [`FrameQueue::failure`]).
    /// The first failure is kept.
    pub fn fail(&self, error: CanwireError) {
        self.lock().failure.get_or_insert(error);
        self.close();
    }

    /// The error the source failed with, if it did ([`FrameQueue::fail`]).
    pub fn failure(&self) -> Option<CanwireError> {
        self.lock().failure.clone()
    }

    /// Queues in this process that are neither closed nor dropped (for leak tests).
    pub fn open_count() -> usize {
        OPEN_QUEUES.load(Ordering::Relaxed)
    }

    /// Blocks the calling thread until a frame is queued, the queue is closed,
    /// or `timeout` passes. Returns true if frames are waiting.
    pub fn wait_blocking(&self, timeout: Duration) -> bool {
        self.ready.wait_until(timeout, || {
            let state = self.lock();
            state.readable() || state.poked
        });
        let mut state = self.lock();
        state.poked = false;
        !state.frames.is_empty()
    }

    /// Wakes a thread in [`FrameQueue::wait_blocking`] without queuing a frame,
    /// so a driver thread can react to a command. A poke with no waiter is kept
    /// for the next wait.
    pub fn poke(&self) {
        self.lock().poked = true;
        self.ready.notify();
    }

    /// True if a poke is pending (for a driver that spins instead of waiting).
    pub fn is_poked(&self) -> bool {
        self.lock().poked
    }

    /// Counters of this queue.
    pub fn stats(&self) -> ReaderStats {
        let state = self.lock();
        ReaderStats {
            capacity: self.capacity as u64,
            queued: state.frames.len() as u64,
            delivered: state.delivered,
            overflow: state.overflow,
        }
    }
}

impl Drop for FrameQueue {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn frames(n: u32) -> Vec<Frame> {
        (0..n).map(|i| Frame::classic(i, false, &[])).collect()
    }

    #[test]
    fn keeps_order_and_counts_overflow() {
        let q = FrameQueue::new(3);
        q.push(&frames(5));
        let mut out = Vec::new();
        assert_eq!(q.pop_into(10, &mut out), 3);
        assert_eq!(out.iter().map(|f| f.id).collect::<Vec<_>>(), [0, 1, 2]);
        let s = q.stats();
        assert_eq!((s.delivered, s.overflow, s.queued), (3, 2, 0));
    }

    #[test]
    fn partial_and_whole_takes_keep_fifo_order() {
        let q = FrameQueue::new(100);
        let ids = |out: &[Frame]| out.iter().map(|f| f.id).collect::<Vec<_>>();
        q.push(&frames(5));
        let mut out = Vec::new();
        assert_eq!(q.pop_into(2, &mut out), 2);
        assert_eq!(q.pop_into(10, &mut out), 3, "the rest, swapped out");
        assert_eq!(ids(&out), [0, 1, 2, 3, 4]);
        for round in 0..3u32 {
            let batch: Vec<Frame> = (0..4)
                .map(|i| Frame::classic(round * 10 + i, false, &[]))
                .collect();
            q.push(&batch);
            out.clear();
            assert_eq!(q.pop_into(usize::MAX, &mut out), 4);
            assert_eq!(
                ids(&out),
                [round * 10, round * 10 + 1, round * 10 + 2, round * 10 + 3]
            );
        }
        out.clear();
        assert_eq!(q.pop_into(10, &mut out), 0);
        let s = q.stats();
        assert_eq!((s.delivered, s.overflow, s.queued), (17, 0, 0));
    }

    #[test]
    fn blocking_wait_wakes_on_push_and_close() {
        let q = Arc::new(FrameQueue::new(8));
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.wait_blocking(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        q.push(&frames(1));
        assert!(t.join().unwrap());
        let q3 = Arc::new(FrameQueue::new(8));
        let q4 = q3.clone();
        let t = std::thread::spawn(move || q4.wait_blocking(Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        q3.close();
        assert!(!t.join().unwrap());
        assert!(!q3.wait_blocking(Duration::from_millis(1)));
    }

    #[test]
    fn ready_hook_runs_once_on_push_or_close_and_not_when_frames_wait() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let runs = Arc::new(AtomicU32::new(0));
        let hook = |runs: &Arc<AtomicU32>| -> ReadyHook {
            let runs = runs.clone();
            Box::new(move || {
                runs.fetch_add(1, Ordering::SeqCst);
            })
        };
        let q = FrameQueue::new(8);
        assert!(q.notify_once(0, hook(&runs)));
        q.push(&frames(1));
        q.push(&frames(1));
        assert_eq!(runs.load(Ordering::SeqCst), 1, "once, on the first push");
        assert!(!q.notify_once(0, hook(&runs)), "frames wait: read instead");
        q.pop_into(10, &mut Vec::new());
        assert!(q.notify_once(0, hook(&runs)));
        q.cancel_notify(0);
        q.push(&frames(1));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "a cancelled hook never runs"
        );
        q.pop_into(10, &mut Vec::new());
        assert!(q.notify_once(0, hook(&runs)));
        q.close();
        assert_eq!(runs.load(Ordering::SeqCst), 2, "closing runs it");
        assert!(
            !q.notify_once(0, hook(&runs)),
            "closed: nothing to wait for"
        );
        assert_eq!(q.armed(), 0);
    }

    #[test]
    fn a_failed_queue_hands_out_its_frames_then_its_error() {
        let q = FrameQueue::new(8);
        q.push(&frames(2));
        q.fail(CanwireError::new(
            canwire_core::ErrorCode::Unreachable,
            "lost",
        ));
        q.fail(CanwireError::new(canwire_core::ErrorCode::Remote, "later"));
        assert!(q.is_closed());
        let mut out = Vec::new();
        assert_eq!(q.pop_into(10, &mut out), 2);
        let e = q.failure().unwrap();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("ERR_UNREACHABLE", "lost")
        );
        assert_eq!(FrameQueue::new(1).failure(), None);
    }

    #[test]
    fn closed_queue_ignores_pushes() {
        let q = FrameQueue::new(8);
        q.close();
        q.push(&frames(2));
        assert!(q.is_empty());
    }
}
