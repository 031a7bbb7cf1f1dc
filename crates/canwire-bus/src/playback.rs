//! Timed replay: a native thread sends frames at `start + offset`, from a
//! bounded queue the producer (a log reader) fills ahead of time.
//!
//! Offsets are ns relative to the start of the replay and must not go
//! backwards. The queue bound gives the producer backpressure; the thread
//! waits for each frame's instant as the cyclic scheduler does (block, then
//! spin), so the replay keeps the file's timing whatever JS does meanwhile.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, Frame};

use crate::bus::Bus;
use crate::readiness::{Readiness, ReadyHook};
use crate::sync_util;
use crate::time::{MonotonicClock, SPIN_NS, minimize_timer_slack};

#[derive(Default)]
struct Queue {
    frames: VecDeque<(u64, Frame)>,
    last_offset: u64,
    input_done: bool,
    stopped: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    capacity: usize,
    changed: Condvar,
    /// Notified when the queue gains room and when the replay ends.
    ready: Readiness,
    bus: Arc<Bus>,
    sent: AtomicU64,
    send_errors: AtomicU64,
    done: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        sync_util::lock(&self.queue)
    }
}

/// A replay in progress.
pub struct Playback {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Playback {
    /// Starts a replay onto `bus`; the clock starts now.
    pub fn start(bus: Arc<Bus>, capacity: usize) -> Result<Self> {
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            capacity: capacity.max(1),
            changed: Condvar::new(),
            ready: Readiness::new(),
            bus,
            sent: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            done: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("canwire-playback".into())
            .spawn(move || run(&thread_shared))
            .map_err(|e| {
                CanwireError::new(
                    ErrorCode::Os,
                    format!("cannot start the playback thread: {e}"),
                )
            })?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues frames with their offsets; takes as many as fit and returns how many.
    pub fn push(&self, frames: &[(u64, Frame)]) -> Result<usize> {
        let mut queue = self.shared.lock();
        if queue.stopped {
            return Err(CanwireError::closed("the playback"));
        }
        if queue.input_done {
            return Err(CanwireError::invalid_argument(
                "the playback input was already ended",
            ));
        }
        let room = self.shared.capacity.saturating_sub(queue.frames.len());
        let take = room.min(frames.len());
        for (offset, frame) in &frames[..take] {
            if *offset < queue.last_offset {
                return Err(CanwireError::invalid_argument(format!(
                    "playback offsets must not go backwards: {offset} ns after {} ns",
                    queue.last_offset
                )));
            }
            queue.last_offset = *offset;
            queue.frames.push_back((*offset, *frame));
        }
        drop(queue);
        self.shared.changed.notify_all();
        Ok(take)
    }

    /// True when the queue has room for a frame, or the replay stopped (a push then says so).
    pub fn has_room(&self) -> bool {
        let q = self.shared.lock();
        q.stopped || q.frames.len() < self.shared.capacity
    }

    /// Leaves `hook` (under `key`) to run when the queue gains room or the
    /// replay ends; false (nothing armed) when [`Playback::has_room`] holds already.
    pub fn notify_when_room(&self, key: u64, hook: ReadyHook) -> bool {
        self.shared.ready.arm(key, hook, || self.has_room())
    }

    /// Marks the end of the input: the replay finishes once the queue is sent.
    pub fn end_input(&self) {
        self.shared.lock().input_done = true;
        self.shared.changed.notify_all();
    }

    /// True once every queued frame was sent (after [`Playback::end_input`]) or the replay stopped.
    pub fn is_finished(&self) -> bool {
        self.shared.done.load(Ordering::Acquire)
    }

    /// Leaves `hook` (under `key`) to run when the replay ends; false (nothing
    /// armed) when [`Playback::is_finished`] holds already.
    pub fn notify_when_finished(&self, key: u64, hook: ReadyHook) -> bool {
        self.shared.ready.arm(key, hook, || self.is_finished())
    }

    /// Drops a hook armed under `key` by either `notify_when_*`, if it has not run.
    pub fn disarm(&self, key: u64) {
        self.shared.ready.disarm(key);
    }

    /// Frames sent so far.
    pub fn sent(&self) -> u64 {
        self.shared.sent.load(Ordering::Relaxed)
    }

    /// Sends the bus refused.
    pub fn send_errors(&self) -> u64 {
        self.shared.send_errors.load(Ordering::Relaxed)
    }

    /// Stops the replay; queued frames are dropped. Idempotent.
    pub fn stop(&self) {
        let mut queue = self.shared.lock();
        queue.stopped = true;
        queue.frames.clear();
        drop(queue);
        self.shared.changed.notify_all();
        self.shared.ready.notify();
        let thread = sync_util::lock(&self.thread).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared) {
    minimize_timer_slack();
    let clock = MonotonicClock::default();
    // The replay's time zero is when its first frame can go: input that
    // arrives late (a file still being read) shifts the whole schedule
    // instead of squeezing the first gap.
    let mut origin: Option<u64> = None;
    loop {
        let mut queue = shared.lock();
        if queue.stopped || shared.bus.is_closed() {
            break;
        }
        let Some(&(file_offset, frame)) = queue.frames.front() else {
            if queue.input_done {
                break;
            }
            let _ = shared
                .changed
                .wait_timeout(queue, Duration::from_millis(200));
            continue;
        };
        let now = clock.now();
        let offset = file_offset + *origin.get_or_insert(now.saturating_sub(file_offset));
        if offset > now {
            let wait = offset - now;
            if wait > SPIN_NS {
                let _ = shared
                    .changed
                    .wait_timeout(queue, Duration::from_nanos(wait - SPIN_NS));
                continue;
            }
            drop(queue);
            while clock.now() < offset {
                std::hint::spin_loop();
            }
            queue = shared.lock();
            if queue.stopped {
                break;
            }
        }
        queue.frames.pop_front();
        drop(queue);
        shared.ready.notify();
        match shared.bus.send(std::slice::from_ref(&frame)) {
            Ok(_) => shared.sent.fetch_add(1, Ordering::Relaxed),
            Err(_) => shared.send_errors.fetch_add(1, Ordering::Relaxed),
        };
    }
    shared.lock().stopped = true;
    shared.done.store(true, Ordering::Release);
    shared.ready.notify();
}
