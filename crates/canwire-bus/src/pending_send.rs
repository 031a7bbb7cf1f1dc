//! [`PendingSend`]: the transmit retry loop of a send the queue did not take
//! at once (SocketCAN `ENOBUFS`/`EAGAIN`).
//!
//! The caller waits for room without blocking (a hook armed with
//! [`PendingSend::notify_once`], run by the bus's room thread), then calls
//! [`PendingSend::poll`], which sends what fits and decides: done, wait
//! again (one more `tx_waits`), or fail with `ERR_TX_BUFFER_FULL` saying how
//! many frames of the call were sent (timeout, or a flush discarded the rest).

use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_core::Frame;
use canwire_core::error::Result;

use crate::bus::Bus;
use crate::readiness::ReadyHook;

/// The unsent rest of one send call, waiting for transmit room.
pub struct PendingSend {
    bus: Arc<Bus>,
    frames: Vec<Frame>,
    sent: usize,
    started: Instant,
    timeout: Duration,
    flushes: u64,
}

impl PendingSend {
    pub(crate) fn new(bus: Arc<Bus>, frames: &[Frame], sent: usize, timeout: Duration) -> Self {
        let flushes = bus.tx_flushes();
        Self {
            bus,
            frames: frames[sent..].to_vec(),
            sent,
            started: Instant::now(),
            timeout,
            flushes,
        }
    }

    /// Frames of this call sent so far.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Time left before the send fails, as of now.
    pub fn remaining(&self) -> Duration {
        self.timeout.saturating_sub(self.started.elapsed())
    }

    fn flushed(&self) -> bool {
        self.bus.tx_flushes() != self.flushes
    }

    /// Sends what the queue takes now. `Ok(Some(total))` once every frame of
    /// the call is sent; `Ok(None)` to wait for room again; `ERR_TX_BUFFER_FULL`
    /// when the timeout passed or a flush discarded the rest.
    pub fn poll(&mut self) -> Result<Option<usize>> {
        if self.flushed() {
            return Err(self
                .bus
                .tx_buffer_full(self.started.elapsed(), self.sent, true));
        }
        // checked when the send began; closing in between is the one new refusal
        self.bus.check_open()?;
        let n = self.bus.send_checked(&self.frames)?;
        self.frames.drain(..n);
        self.sent += n;
        if self.frames.is_empty() {
            return Ok(Some(self.sent));
        }
        if self.remaining().is_zero() {
            return Err(self
                .bus
                .tx_buffer_full(self.started.elapsed(), self.sent, false));
        }
        self.bus.count_tx_wait();
        Ok(None)
    }

    /// Leaves `hook` (under `key`) to run once room may have appeared, a
    /// flush discarded the send, or the bus closed, and returns true; returns
    /// false (hook dropped) if a flush or close happened already: poll instead.
    pub fn notify_once(&self, key: u64, hook: ReadyHook) -> bool {
        let (room, transport) = self.bus.tx_room();
        room.notify_once(transport, key, hook, || {
            self.flushed() || self.bus.is_closed()
        })
    }

    /// Drops the hook left under `key` if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.bus.tx_room().0.cancel_notify(key);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    use canwire_core::ErrorCode;

    use super::*;
    use crate::reader_set::ReaderSet;
    use crate::transport::{Protocol, Transport};

    /// A transmit queue that takes `room` frames, then has room again after `drain_polls` polls.
    struct SlowQueue {
        room: usize,
        queued: AtomicUsize,
        polls: AtomicUsize,
        drain_polls: usize,
    }

    impl Transport for SlowQueue {
        fn send(&self, frames: &[Frame]) -> Result<usize> {
            let free = self.room - self.queued.load(Ordering::SeqCst);
            let n = free.min(frames.len());
            self.queued.fetch_add(n, Ordering::SeqCst);
            Ok(n)
        }
        fn wait_writable(&self, timeout: Duration) -> Result<bool> {
            if self.polls.fetch_add(1, Ordering::SeqCst) + 1 >= self.drain_polls {
                self.polls.store(0, Ordering::SeqCst);
                self.queued.store(0, Ordering::SeqCst);
                return Ok(true);
            }
            std::thread::sleep(timeout.min(Duration::from_millis(1)));
            Ok(false)
        }
        fn protocol(&self) -> Protocol {
            Protocol::Can20
        }
        fn channel_info(&self) -> String {
            "slow".into()
        }
        fn channel_name(&self, _index: u32) -> Option<String> {
            None
        }
        fn close(&self) {}
    }

    fn slow_bus(room: usize, drain_polls: usize) -> Arc<Bus> {
        Arc::new(Bus::from_parts(
            Arc::new(ReaderSet::new(false)),
            Box::new(SlowQueue {
                room,
                queued: AtomicUsize::new(0),
                polls: AtomicUsize::new(0),
                drain_polls,
            }),
        ))
    }

    /// Waits for room through hooks, as the binding does, until the send ends.
    fn drive(mut pending: PendingSend) -> Result<usize> {
        loop {
            if let Some(total) = pending.poll()? {
                return Ok(total);
            }
            let (tx, rx) = mpsc::channel();
            if pending.notify_once(1, Box::new(move || tx.send(()).unwrap_or(()))) {
                let _ = rx.recv_timeout(pending.remaining() + Duration::from_millis(50));
            }
        }
    }

    #[test]
    fn sends_everything_through_room_wakeups_and_counts_each_wait() {
        let bus = slow_bus(4, 3);
        let frames: Vec<Frame> = (0..10).map(|i| Frame::classic(i, false, &[])).collect();
        let Err(pending) = bus.send_or_wait(&frames, Duration::from_secs(10)).unwrap() else {
            panic!("a queue of 4 cannot take 10 frames at once");
        };
        assert_eq!(pending.sent(), 4);
        assert_eq!(drive(pending).unwrap(), 10);
        let stats = bus.stats();
        assert_eq!(
            (stats.tx_frames, stats.tx_waits, stats.tx_errors),
            (10, 2, 0)
        );
        assert_eq!(
            bus.send_or_wait(&frames[..2], Duration::ZERO).unwrap().ok(),
            Some(2)
        );
    }

    #[test]
    fn times_out_with_the_sent_count_and_a_flush_ends_it_at_once() {
        let bus = slow_bus(3, usize::MAX);
        let frames: Vec<Frame> = (0..5).map(|i| Frame::classic(i, false, &[])).collect();
        let Err(pending) = bus
            .send_or_wait(&frames, Duration::from_millis(30))
            .unwrap()
        else {
            panic!("full");
        };
        let error = drive(pending).unwrap_err();
        assert_eq!(error.code, ErrorCode::TxBufferFull);
        assert!(
            error.message.ends_with("; 3 frame(s) were sent"),
            "{}",
            error.message
        );

        let Err(pending) = bus.send_or_wait(&frames, Duration::from_secs(30)).unwrap() else {
            panic!("full");
        };
        let started = Instant::now();
        let flusher = {
            let bus = bus.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                bus.flush_tx_buffer().unwrap();
            })
        };
        let error = drive(pending).unwrap_err();
        flusher.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            error
                .message
                .starts_with("flushTxBuffer() discarded the rest of this send:"),
            "{}",
            error.message
        );
        assert!(
            error.message.ends_with("; 0 frame(s) were sent"),
            "{}",
            error.message
        );
        assert_eq!(bus.stats().tx_errors, 2);
    }
}
