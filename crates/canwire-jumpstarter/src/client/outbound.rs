//! [`Outbound`]: the bounded queue between `Transport::send` (on the JS
//! thread, which must never wait for the network) and the task that makes
//! the exporter calls.
//!
//! Overflow policy: `push` takes what fits and returns how many; the bus
//! then waits for room ([`Outbound::wait_room`]) without blocking the event
//! loop. A remote send error is never lost: the first one is kept (with the
//! count of queued frames it left unsent, which are dropped with it, not
//! sent out of order after a gap) and the next `push` returns it. A lost
//! connection fails every later push too.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::{CanwireError, Frame};
use tokio::sync::Notify;

/// Frames the outbound queue holds before `push` takes fewer.
pub const CAPACITY: usize = 16_384;

#[derive(Default)]
struct State {
    frames: VecDeque<Frame>,
    /// A remote error not yet reported to the sender.
    failure: Option<CanwireError>,
    /// The connection is gone: every push fails with this.
    lost: Option<CanwireError>,
    closed: bool,
}

/// The outbound queue of one remote bus.
pub struct Outbound {
    state: Mutex<State>,
    room: Condvar,
    work: Notify,
    capacity: usize,
}

impl Outbound {
    /// A queue of `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            room: Condvar::new(),
            work: Notify::new(),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues what fits of `frames`, in order, and returns how many; the
    /// kept remote error (once) or the connection loss instead.
    pub fn push(&self, frames: &[Frame]) -> Result<usize> {
        let mut state = self.lock();
        if let Some(lost) = &state.lost {
            return Err(lost.clone());
        }
        if state.closed {
            return Err(CanwireError::closed("the bus"));
        }
        if let Some(failure) = state.failure.take() {
            return Err(failure);
        }
        let n = frames.len().min(self.capacity - state.frames.len());
        state.frames.extend(&frames[..n]);
        drop(state);
        if n > 0 {
            self.work.notify_one();
        }
        Ok(n)
    }

    /// Waits up to `timeout` for room; true if there is some (or a push
    /// would fail at once, which it then reports).
    pub fn wait_room(&self, timeout: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .room
            .wait_timeout_while(state, timeout, |s| {
                s.frames.len() >= self.capacity && s.lost.is_none() && !s.closed
            })
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.frames.len() < self.capacity || state.lost.is_some() || state.closed
    }

    /// Waits for frames and takes up to `max`; `None` once closed or lost.
    pub async fn next_batch(&self, max: usize) -> Option<Vec<Frame>> {
        loop {
            let notified = self.work.notified();
            {
                let mut state = self.lock();
                if state.closed || state.lost.is_some() {
                    return None;
                }
                if !state.frames.is_empty() {
                    let n = max.min(state.frames.len());
                    let batch: Vec<Frame> = state.frames.drain(..n).collect();
                    drop(state);
                    self.room.notify_all();
                    return Some(batch);
                }
            }
            notified.await;
        }
    }

    /// Keeps `error` (the first one) for the next push, dropping the frames
    /// still queued and saying how many.
    pub fn fail(&self, error: CanwireError) {
        let mut state = self.lock();
        let dropped = std::mem::take(&mut state.frames).len();
        if state.failure.is_none() {
            let message = if dropped > 0 {
                format!(
                    "an earlier send failed on the exporter: {}; the {dropped} frame(s) queued after it were not sent",
                    error.message
                )
            } else {
                format!("an earlier send failed on the exporter: {}", error.message)
            };
            state.failure = Some(CanwireError::new(error.code, message));
        }
        drop(state);
        self.room.notify_all();
    }

    /// The connection is gone: pushes fail with `error` from now on.
    pub fn lose(&self, error: CanwireError) {
        let mut state = self.lock();
        state.lost.get_or_insert(error);
        state.frames.clear();
        drop(state);
        self.room.notify_all();
        self.work.notify_one();
    }

    /// The connection loss, once [`Outbound::lose`] recorded one.
    pub fn lost(&self) -> Option<CanwireError> {
        self.lock().lost.clone()
    }

    /// Discards queued frames; returns how many.
    pub fn flush(&self) -> usize {
        let n = std::mem::take(&mut self.lock().frames).len();
        self.room.notify_all();
        n
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.lock().frames.len()
    }

    /// True when no frame waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ends the queue: the sender task stops, pushes fail with `ERR_CLOSED`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.room.notify_all();
        self.work.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::ErrorCode;

    fn frames(n: u32) -> Vec<Frame> {
        (0..n).map(|i| Frame::classic(i, false, &[])).collect()
    }

    #[test]
    fn a_full_queue_takes_fewer_and_room_comes_back_when_the_sender_takes() {
        let q = std::sync::Arc::new(Outbound::new(3));
        assert_eq!(q.push(&frames(5)).unwrap(), 3);
        assert_eq!(q.push(&frames(1)).unwrap(), 0);
        assert!(!q.wait_room(Duration::from_millis(5)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let batch = rt.block_on(q.next_batch(2)).unwrap();
        assert_eq!(batch.iter().map(|f| f.id).collect::<Vec<_>>(), [0, 1]);
        assert!(q.wait_room(Duration::from_millis(5)));
        assert_eq!(q.push(&frames(5)).unwrap(), 2);
    }

    #[test]
    fn a_remote_error_reaches_the_next_push_once_with_what_it_left_unsent() {
        let q = Outbound::new(10);
        q.push(&frames(4)).unwrap();
        q.fail(CanwireError::new(
            ErrorCode::Remote,
            "Cannot operate on a closed bus",
        ));
        q.fail(CanwireError::new(ErrorCode::Remote, "second"));
        let e = q.push(&frames(1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::Remote);
        assert_eq!(
            e.message,
            "an earlier send failed on the exporter: Cannot operate on a closed bus; the 4 frame(s) queued after it were not sent"
        );
        assert_eq!(q.push(&frames(1)).unwrap(), 1, "reported once");
    }

    #[test]
    fn a_lost_connection_fails_every_push_and_ends_the_sender() {
        let q = Outbound::new(10);
        q.push(&frames(2)).unwrap();
        q.lose(CanwireError::new(ErrorCode::Unreachable, "gone"));
        for _ in 0..2 {
            assert_eq!(q.push(&frames(1)).unwrap_err().code, ErrorCode::Unreachable);
        }
        assert!(q.wait_room(Duration::from_secs(5)));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt.block_on(q.next_batch(10)).is_none());
    }
}
