//! The native watch driver: a thread feeding one bus reader's frames and
//! the passing of time into a sans-IO [`Watcher`], on any bus.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::Frame;
use canwire_core::error::Result;
use canwire_core::watch::{WatchConfig, Watcher};

use super::queue::{BusWatchEvent, WatchQueue};
use crate::bus::Bus;
use crate::frame_queue::{DEFAULT_CAPACITY, FrameQueue};
use crate::time::MonotonicClock;
use crate::time::realtime_ns;

/// A running native watch.
pub struct NativeWatch {
    bus: Arc<Bus>,
    reader: Arc<FrameQueue>,
    stop: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl NativeWatch {
    /// Starts watching `bus`; events go to `queue`.
    pub fn open(bus: Arc<Bus>, config: WatchConfig, queue: Arc<WatchQueue>) -> Result<Self> {
        let clock = MonotonicClock::default();
        let watcher = Watcher::new(config, clock.now())?;
        let reader = bus.add_immediate_reader(DEFAULT_CAPACITY)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (reader.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("canwire-watch".into())
            .spawn(move || run(watcher, &clock, &r, &queue, &s))
            .map_err(|e| canwire_core::CanwireError::from_io(&e, "starting a watch thread"))?;
        Ok(Self {
            bus,
            reader,
            stop,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Stops the thread and detaches the reader. Idempotent.
    pub fn close(&self) {
        self.stop.store(true, Ordering::Release);
        self.bus.remove_reader(&self.reader);
        crate::sync_util::join_unless_current(&self.thread);
    }
}

impl super::WatchBackend for NativeWatch {
    fn in_kernel(&self) -> bool {
        false
    }

    fn close(&self) {
        NativeWatch::close(self);
    }
}

impl Drop for NativeWatch {
    fn drop(&mut self) {
        self.close();
    }
}

/// Longest sleep without a deadline, so a stop is noticed even without a wake-up.
const IDLE: Duration = Duration::from_millis(500);

fn run(
    mut watcher: Watcher,
    clock: &MonotonicClock,
    reader: &FrameQueue,
    queue: &WatchQueue,
    stop: &AtomicBool,
) {
    let mut frames: Vec<Frame> = Vec::new();
    loop {
        let wait = watcher.poll_timeout().map_or(IDLE, |d| {
            Duration::from_nanos(d.saturating_sub(clock.now())).min(IDLE)
        });
        if !wait.is_zero() {
            reader.wait_blocking(wait);
        }
        if stop.load(Ordering::Acquire) {
            break;
        }
        frames.clear();
        reader.pop_into(4096, &mut frames);
        let now = clock.now();
        for frame in &frames {
            watcher.handle_frame(now, frame);
        }
        watcher.handle_timeout(now);
        while let Some(event) = watcher.poll_event() {
            // Frames keep their receive time; a timeout is dated at its deadline.
            let timestamp_ns = match event.frame {
                Some(frame) => frame.timestamp_ns,
                None => realtime_ns().saturating_sub(now.saturating_sub(event.at_ns)),
            };
            queue.push(BusWatchEvent {
                kind: event.kind,
                frame: event.frame,
                timestamp_ns,
            });
        }
        if reader.is_closed() && reader.is_empty() {
            break;
        }
    }
    queue.close();
}
