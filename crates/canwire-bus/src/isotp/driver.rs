//! [`IsoTpDriver`]: a native thread running an ISO-TP endpoint on a bus.
//!
//! The thread drains its bus reader into the endpoint, fires the endpoint's
//! timers, sends what it releases, and sleeps until the next of: a frame
//! arriving, a user command (a poke), or the endpoint's next deadline (the
//! instant the next consecutive frame may go, or a timeout). Consecutive
//! frames are therefore never sent before STmin has passed, and not
//! needlessly later: the wait blocks until shortly before the deadline, then spins.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::isotp::{
    IsoTpAddress, IsoTpEndpoint, IsoTpError, IsoTpEvent, IsoTpParams, TargetAddressType, TransferId,
};
use canwire_core::{CanwireError, Frame};

use super::inbox::{Inbox, IsoTpStats, ReceivedPayload, TransferStatus};
use super::precise_wait::{MonotonicClock, minimize_timer_slack, wait_until};
use crate::bus::{Bus, TxWait};
use crate::frame_queue::FrameQueue;

/// Options of the driver itself (the protocol's are in [`IsoTpParams`]).
#[derive(Debug, Clone, Copy)]
pub struct IsoTpDriverOptions {
    /// Unread payloads kept before new ones are counted as overflow.
    pub rx_queue_payloads: usize,
    /// Bound of the bus reader feeding the endpoint, in frames.
    pub rx_queue_frames: usize,
}

impl Default for IsoTpDriverOptions {
    fn default() -> Self {
        Self {
            rx_queue_payloads: 1024,
            rx_queue_frames: 65_536,
        }
    }
}

struct Control {
    endpoint: IsoTpEndpoint,
    running: bool,
}

struct Shared {
    control: Mutex<Control>,
    bus: Arc<Bus>,
    reader: Arc<FrameQueue>,
    inbox: Inbox,
    shutdown: AtomicBool,
    clock: MonotonicClock,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The userspace ISO-TP stack on one bus.
pub struct IsoTpDriver {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl IsoTpDriver {
    /// Starts a stack on `bus` with the given address and parameters.
    pub fn start(
        bus: Arc<Bus>,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: IsoTpDriverOptions,
    ) -> Result<Self> {
        let endpoint = IsoTpEndpoint::new(address, params)?;
        let reader = bus.add_reader(options.rx_queue_frames)?;
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                endpoint,
                running: true,
            }),
            bus,
            reader,
            inbox: Inbox::new(options.rx_queue_payloads),
            shutdown: AtomicBool::new(false),
            clock: MonotonicClock::default(),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("canwire-isotp".into())
            .spawn(move || run(&thread_shared))
            .map_err(|e| {
                CanwireError::new(
                    canwire_core::ErrorCode::Os,
                    format!("cannot start the ISO-TP thread: {e}"),
                )
            })?;
        Ok(Self {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn check_open(&self) -> Result<()> {
        if self.shared.shutdown.load(Ordering::Acquire) {
            Err(CanwireError::closed("the ISO-TP stack"))
        } else {
            Ok(())
        }
    }

    /// Queues a payload. With `track`, its result can be awaited with
    /// [`IsoTpDriver::inbox`] and read with [`IsoTpDriver::take_status`].
    pub fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        self.check_open()?;
        let mut control = self.shared.lock();
        if !control.running {
            return Err(CanwireError::new(
                canwire_core::ErrorCode::Closed,
                "the ISO-TP stack is stopped; call start() first",
            ));
        }
        let now = self.shared.clock.now();
        let id = control.endpoint.send(now, payload, target)?;
        if track {
            self.shared.inbox.track(id);
        }
        drop(control);
        self.shared.reader.poke();
        Ok(id)
    }

    /// The mailbox of received payloads and transfer results, to wait on.
    pub fn inbox(&self) -> &Inbox {
        &self.shared.inbox
    }

    /// The status of a tracked transfer; a finished one is forgotten once read.
    pub fn take_status(&self, id: TransferId) -> Option<TransferStatus> {
        self.shared.inbox.take_status(id)
    }

    /// Stops tracking a transfer (e.g. after a send timeout).
    pub fn forget(&self, id: TransferId) {
        self.shared.inbox.forget(id);
    }

    /// Takes the oldest received payload.
    pub fn try_recv(&self) -> Option<ReceivedPayload> {
        self.shared.inbox.pop_payload()
    }

    /// Blocks until a payload arrives, the stack closes, or `timeout` passes.
    pub fn recv_blocking(&self, timeout: Duration) -> Option<ReceivedPayload> {
        self.shared.inbox.wait_payload_blocking(timeout);
        self.try_recv()
    }

    /// True if a received payload is waiting.
    pub fn available(&self) -> bool {
        self.shared.inbox.payloads_waiting() > 0
    }

    /// True while a transfer is being sent or queued.
    pub fn transmitting(&self) -> bool {
        self.shared.lock().endpoint.transmitting()
    }

    /// Aborts the current and queued transfers.
    pub fn stop_sending(&self) {
        self.shared.lock().endpoint.stop_sending();
        self.shared.reader.poke();
    }

    /// Drops the reception in progress.
    pub fn stop_receiving(&self) {
        self.shared.lock().endpoint.stop_receiving();
        self.shared.reader.poke();
    }

    /// Changes the address (ongoing transfers are aborted).
    pub fn set_address(&self, address: IsoTpAddress) {
        self.shared.lock().endpoint.set_address(address);
        self.shared.reader.poke();
    }

    /// Resumes after [`IsoTpDriver::pause`].
    pub fn resume(&self) -> Result<()> {
        self.check_open()?;
        self.shared.lock().running = true;
        self.shared.reader.poke();
        Ok(())
    }

    /// Stops processing: transfers are aborted and frames arriving meanwhile are ignored.
    pub fn pause(&self) {
        let mut control = self.shared.lock();
        control.running = false;
        control.endpoint.stop_sending();
        control.endpoint.stop_receiving();
        drop(control);
        self.shared.reader.poke();
    }

    /// True unless paused or closed.
    pub fn is_running(&self) -> bool {
        !self.shared.shutdown.load(Ordering::Acquire) && self.shared.lock().running
    }

    /// Takes the recent protocol errors.
    pub fn take_errors(&self) -> Vec<IsoTpError> {
        self.shared.inbox.take_errors()
    }

    /// Counters.
    pub fn stats(&self) -> IsoTpStats {
        self.shared.inbox.stats()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.shared.shutdown.load(Ordering::Acquire)
    }

    /// Stops the thread and detaches from the bus. Idempotent.
    pub fn close(&self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.reader.poke();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        self.shared.bus.remove_reader(&self.shared.reader);
        self.shared.inbox.close();
    }
}

impl Drop for IsoTpDriver {
    fn drop(&mut self) {
        self.close();
    }
}

/// How long the thread blocks when nothing is scheduled.
const IDLE_WAIT: Duration = Duration::from_millis(500);

fn run(shared: &Shared) {
    minimize_timer_slack();
    let mut incoming: Vec<Frame> = Vec::with_capacity(256);
    let mut outgoing: Vec<Frame> = Vec::with_capacity(64);
    while !shared.shutdown.load(Ordering::Acquire) {
        incoming.clear();
        shared.reader.pop_into(256, &mut incoming);
        let now = shared.clock.now();
        let mut control = shared.lock();
        if control.running {
            for frame in &incoming {
                control.endpoint.handle_frame(now, frame);
            }
            if control.endpoint.poll_timeout().is_some_and(|d| d <= now) {
                control.endpoint.handle_timeout(now);
            }
            outgoing.clear();
            while let Some(frame) = control.endpoint.poll_transmit(now) {
                outgoing.push(frame);
            }
            while let Some(event) = control.endpoint.poll_event() {
                dispatch(&shared.inbox, event);
            }
        }
        drop(control);
        send_all(shared, &outgoing);
        let mut control = shared.lock();
        // The endpoint released the frames at `now`, but they left (and were
        // stamped) a little later: STmin counts from then, so the gap on the
        // wire is never below it, even after an early wake-up.
        if !outgoing.is_empty() {
            control.endpoint.transmitted_at(shared.clock.now());
        }
        let deadline = if control.running {
            control.endpoint.poll_timeout()
        } else {
            None
        };
        drop(control);
        if outgoing.is_empty() || deadline.is_some_and(|d| d > shared.clock.now()) {
            wait_until(&shared.clock, deadline, &shared.reader, IDLE_WAIT);
        }
        if shared.reader.is_closed() && shared.reader.is_empty() {
            // The bus closed under us: nothing can arrive or leave any more.
            let mut control = shared.lock();
            control.endpoint.stop_sending();
            while let Some(event) = control.endpoint.poll_event() {
                dispatch(&shared.inbox, event);
            }
            drop(control);
            shared.inbox.close();
            break;
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
        match shared.bus.send(&frames[sent..end]) {
            Ok(n) => {
                sent += n;
                if sent < end
                    && shared.bus.wait_writable(TX_QUEUE_WAIT).ok() != Some(TxWait::Writable)
                {
                    for _ in sent..frames.len() {
                        shared.inbox.count_frame_error();
                    }
                    return;
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

fn dispatch(inbox: &Inbox, event: IsoTpEvent) {
    match event {
        IsoTpEvent::Received {
            payload,
            target_address_type,
        } => inbox.push_payload(ReceivedPayload {
            data: payload,
            target_address_type,
        }),
        IsoTpEvent::TransmitComplete { id } => inbox.finish_transfer(id, TransferStatus::Complete),
        IsoTpEvent::TransmitFailed { id, error } => {
            inbox.push_error(error.clone());
            inbox.finish_transfer(id, TransferStatus::Failed(error));
        }
        IsoTpEvent::Error(error) => inbox.push_error(error),
    }
}
