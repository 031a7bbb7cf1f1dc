//! How the frames an ISO-TP endpoint releases leave: the driver thread's
//! step (everything, waiting for room in the transmit queue), and the step
//! on the bus's receive thread or a caller's thread (as far as the queue
//! takes frames without waiting; the rest goes to the driver thread's
//! backlog). [`Shared::transmit`] spans every release and its send, so the
//! threads never interleave frames and STmin counts from the last send.

use std::sync::atomic::Ordering;
use std::sync::{Mutex, TryLockError, Weak};
use std::time::{Duration, Instant};

use canwire_core::Frame;

use super::driver::{Shared, dispatch, event_name};
use crate::bus::TxWait;
use crate::frame_sink::FrameSink;

/// Frames released per send call on the receive thread (one `sendmmsg`).
const SINK_BURST: usize = 64;

/// Feeds `incoming` to the endpoint, fires its due timers and hands out its events.
pub(super) fn take(shared: &Shared, incoming: &[Frame]) {
    let now = shared.clock.now();
    let mut control = shared.lock();
    if !control.running {
        return;
    }
    for frame in incoming {
        control.endpoint.handle_frame(now, frame);
    }
    if control.endpoint.poll_timeout().is_some_and(|d| d <= now) {
        control.endpoint.handle_timeout(now);
    }
    while let Some(event) = control.endpoint.poll_event() {
        shared.trace(|t| t.dispatched(event_name(&event)));
        dispatch(&shared.inbox, event);
    }
}

/// Moves up to `max` frames the endpoint releases now into `outgoing` (cleared first).
fn release(shared: &Shared, max: usize, outgoing: &mut Vec<Frame>) {
    outgoing.clear();
    let now = shared.clock.now();
    let mut control = shared.lock();
    if !control.running {
        return;
    }
    while outgoing.len() < max {
        let Some(frame) = control.endpoint.poll_transmit(now) else {
            break;
        };
        outgoing.push(frame);
    }
    while let Some(event) = control.endpoint.poll_event() {
        shared.trace(|t| t.dispatched(event_name(&event)));
        dispatch(&shared.inbox, event);
    }
}

/// Tells the endpoint that the frames it released last have left: STmin
/// counts from now, not from their release, so the gap on the wire is never
/// below it, even after an early wake-up or a slow send.
fn transmitted(shared: &Shared) {
    shared.lock().endpoint.transmitted_at(shared.clock.now());
}

/// The driver thread's transmit step (the caller holds [`Shared::transmit`],
/// whose `backlog` the receive thread may have left): sends the backlog,
/// then everything the endpoint releases, waiting for room where the
/// transmit queue is full. The frames of the last step are left in `outgoing`.
pub(super) fn transmit_all(shared: &Shared, backlog: &mut Vec<Frame>, outgoing: &mut Vec<Frame>) {
    if !backlog.is_empty() {
        send_all(shared, backlog);
        backlog.clear();
        transmitted(shared);
    }
    release(shared, usize::MAX, outgoing);
    if !outgoing.is_empty() {
        send_all(shared, outgoing);
        transmitted(shared);
    }
}

/// The receive thread's transmit step: sends what the endpoint releases in
/// bursts for as long as the bus takes whole bursts, never waiting for
/// room. Frames a full queue refused go to `backlog` for the driver thread;
/// true if any did.
fn transmit_without_waiting(
    shared: &Shared,
    backlog: &mut Vec<Frame>,
    outgoing: &mut Vec<Frame>,
) -> bool {
    loop {
        release(shared, SINK_BURST, outgoing);
        if outgoing.is_empty() {
            return false;
        }
        let started = Instant::now();
        let sent = match shared.bus.send(outgoing) {
            Ok(n) => n,
            Err(_) => {
                // A refused batch: send_all finds the culprit one frame at a time.
                send_all(shared, outgoing);
                outgoing.len()
            }
        };
        shared.trace(|t| t.sent(outgoing.first(), sent, started));
        if sent > 0 {
            transmitted(shared);
        }
        if sent < outgoing.len() {
            backlog.extend_from_slice(&outgoing[sent..]);
            return true;
        }
    }
}

/// Sends what the endpoint releases on the calling thread (the bus's receive
/// thread, or a user's `send`), as far as the transmit queue takes it without
/// waiting; wakes the driver thread when it must send the rest or its next
/// deadline moved earlier. Leaves everything to the driver thread while that
/// is sending.
pub(super) fn transmit_here(shared: &Shared, outgoing: &mut Vec<Frame>) {
    let mut backlog = match shared.transmit.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(p)) => p.into_inner(),
        Err(TryLockError::WouldBlock) => {
            shared.reader.poke();
            return;
        }
    };
    // Frames the driver thread has yet to send go first: leave it all to it.
    let handed_over =
        !backlog.is_empty() || transmit_without_waiting(shared, &mut backlog, outgoing);
    drop(backlog);
    let control = shared.lock();
    let due = if control.running {
        control.endpoint.poll_timeout()
    } else {
        None
    };
    let earlier = due.is_some_and(|d| d < shared.sleep_until.load(Ordering::Acquire));
    drop(control);
    if handed_over || earlier {
        shared.reader.poke();
    }
}

/// The endpoint as a sink on the bus's receive thread.
pub(super) struct EndpointSink {
    shared: Weak<Shared>,
    /// Reused send buffer (only the receive thread uses it).
    outgoing: Mutex<Vec<Frame>>,
}

impl EndpointSink {
    pub(super) fn new(shared: Weak<Shared>) -> Self {
        Self {
            shared,
            outgoing: Mutex::new(Vec::new()),
        }
    }
}

impl FrameSink for EndpointSink {
    fn deliver(&self, frames: &[Frame]) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        if shared.shutdown.load(Ordering::Acquire) {
            return;
        }
        shared.trace(|t| t.took(frames));
        take(&shared, frames);
        let mut outgoing = self.outgoing.lock().unwrap_or_else(|p| p.into_inner());
        transmit_here(&shared, &mut outgoing);
    }

    fn closed(&self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.reader.close();
        }
    }
}

/// How long a full transmit queue may hold up the frames the endpoint released (N_As).
const TX_QUEUE_WAIT: Duration = Duration::from_millis(1000);

/// Sends the released frames in one call where the bus takes them all. When
/// the transmit queue is full it waits for room (up to [`TX_QUEUE_WAIT`])
/// rather than dropping frames; a frame the bus refuses, or one still unsent
/// after the wait, is counted in `tx_frame_errors`.
fn send_all(shared: &Shared, frames: &[Frame]) {
    let mut sent = 0;
    let mut chunk = frames.len();
    while sent < frames.len() {
        let end = (sent + chunk).min(frames.len());
        let started = Instant::now();
        match shared.bus.send(&frames[sent..end]) {
            Ok(n) => {
                shared.trace(|t| t.sent(frames.get(sent), n, started));
                sent += n;
                if sent < end {
                    let started = Instant::now();
                    let writable = shared.bus.wait_writable(TX_QUEUE_WAIT).ok();
                    shared.trace(|t| t.waited(started));
                    if writable != Some(TxWait::Writable) {
                        for _ in sent..frames.len() {
                            shared.inbox.count_frame_error();
                        }
                        return;
                    }
                }
            }
            // The bus refused the batch: find the culprit one frame at a time.
            Err(_) if end - sent > 1 => chunk = 1,
            Err(_) => {
                shared.inbox.count_frame_error();
                sent += 1;
            }
        }
    }
}
