//! [`TxRoom`]: wakes sends waiting for room in a full transmit queue.
//!
//! A transmit queue (SocketCAN: the socket's send buffer) gives no event when
//! it drains; only a blocking poll sees it. While some send waits (a hook is
//! armed on the [`Readiness`]), one thread per bus blocks in
//! [`Transport::wait_writable`] in short slices and notifies when room
//! appears. It sleeps while nobody waits, and ends when the bus closes. A
//! flush or the bus closing notifies too, so a waiting send ends at once.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::readiness::{Readiness, ReadyHook};
use crate::sync_util::{self, lock};
use crate::transport::Transport;

/// Longest single blocking poll, so a close or a new waiter is noticed.
const POLL_SLICE: Duration = Duration::from_millis(10);

#[derive(Default)]
struct RoomState {
    closed: bool,
    thread: Option<JoinHandle<()>>,
}

/// The room readiness of one bus's transmit queue.
#[derive(Default)]
pub struct TxRoom {
    ready: Readiness,
    state: Mutex<RoomState>,
    work: Condvar,
}

impl TxRoom {
    /// Leaves `hook` (under `key`) to run once room may have appeared (or a
    /// flush or close happened), and returns true; returns false (hook
    /// dropped) if `done` holds already. Starts the polling thread on first use.
    pub fn notify_once(
        self: &Arc<Self>,
        transport: &Arc<dyn Transport>,
        key: u64,
        hook: ReadyHook,
        done: impl FnOnce() -> bool,
    ) -> bool {
        {
            let mut state = lock(&self.state);
            if state.closed {
                return false;
            }
            if state.thread.is_none() {
                let (room, transport) = (self.clone(), transport.clone());
                match std::thread::Builder::new()
                    .name("canwire-tx-room".into())
                    .spawn(move || room.run(transport.as_ref()))
                {
                    Ok(thread) => state.thread = Some(thread),
                    // No thread: report "look again" so the caller polls instead of hanging.
                    Err(_) => return false,
                }
            }
        }
        let armed = self.ready.arm(key, hook, done);
        if armed {
            self.work.notify_all();
        }
        armed
    }

    /// Drops the hook left under `key` if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.ready.disarm(key);
    }

    /// Wakes every waiting send (after a flush, or when the bus closes).
    pub fn notify(&self) {
        self.ready.notify();
    }

    /// Stops the polling thread and wakes every waiting send. Idempotent.
    pub fn close(&self) {
        let thread = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.thread.take()
        };
        self.work.notify_all();
        self.ready.notify();
        if let Some(thread) = thread
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }

    fn run(&self, transport: &dyn Transport) {
        loop {
            {
                let mut state = lock(&self.state);
                while !state.closed && self.ready.armed() == 0 {
                    state = sync_util::wait_timeout(&self.work, state, Duration::from_secs(1)).0;
                }
                if state.closed {
                    return;
                }
            }
            match transport.wait_writable(POLL_SLICE) {
                Ok(false) => {}
                // Room, or an error the send itself will report.
                Ok(true) | Err(_) => self.ready.notify(),
            }
        }
    }
}
