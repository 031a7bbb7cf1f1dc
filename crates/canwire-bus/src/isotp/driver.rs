//! [`IsoTpDriver`]: a native thread running an ISO-TP endpoint on a bus, the
//! userspace [`IsoTpBackend`] of [`IsoTpStack`](super::IsoTpStack).
//!
//! The thread drains its bus reader into the endpoint, fires the endpoint's
//! timers, sends what it releases, and sleeps until the next of: a frame
//! arriving, a user command (a poke), or the endpoint's next deadline (the
//! instant the next consecutive frame may go, or a timeout). Consecutive
//! frames are therefore never sent before STmin has passed, and not
//! needlessly later: the wait blocks until shortly before the deadline, then spins.
//! While a transfer's frames are leaving the thread stays on one CPU
//! ([`CpuPin`]), so that the kernel cannot reorder them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::isotp::{
    IsoTpAddress, IsoTpEndpoint, IsoTpEvent, IsoTpParams, TargetAddressType, TransferId,
};
use canwire_core::{CanwireError, Frame};

use super::backend::{IsoTpBackend, stopped};
use super::cpu_pin::CpuPin;
use super::inbox::{Inbox, ReceivedPayload, TransferStatus};
use crate::bus::Bus;
use crate::frame_queue::FrameQueue;
use crate::sync_util;
use crate::time::{MonotonicClock, minimize_timer_slack, wait_until};

/// Options of the driver itself (the protocol's are in [`IsoTpParams`]).
#[derive(Debug, Clone, Copy)]
pub struct IsoTpDriverOptions {
    /// Unread payloads kept before new ones are counted as overflow (the
    /// inbox [`IsoTpStack::start_userspace`](super::IsoTpStack::start_userspace) makes).
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
    inbox: Arc<Inbox>,
    shutdown: AtomicBool,
    clock: MonotonicClock,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Control> {
        sync_util::lock(&self.control)
    }
}

/// The userspace ISO-TP stack on one bus.
pub struct IsoTpDriver {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl IsoTpDriver {
    /// Starts a stack on `bus` with the given address and parameters,
    /// reporting into `inbox`. Users open it through
    /// [`IsoTpStack::start_userspace`](super::IsoTpStack::start_userspace).
    pub fn start(
        bus: Arc<Bus>,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: IsoTpDriverOptions,
        inbox: Arc<Inbox>,
    ) -> Result<Self> {
        let endpoint = IsoTpEndpoint::new(address, params)?;
        let reader = bus.add_immediate_reader(options.rx_queue_frames)?;
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                endpoint,
                running: true,
            }),
            bus,
            reader,
            inbox,
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

    fn poke(&self) {
        self.shared.reader.poke();
    }
}

impl IsoTpBackend for IsoTpDriver {
    fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        let mut control = self.shared.lock();
        if !control.running {
            return Err(stopped());
        }
        let now = self.shared.clock.now();
        let id = control.endpoint.send(now, payload, target)?;
        if track {
            // Under the control lock: the thread cannot end the transfer before it is tracked.
            self.shared.inbox.track(id);
        }
        drop(control);
        self.poke();
        Ok(id)
    }

    fn transmitting(&self) -> bool {
        self.shared.lock().endpoint.transmitting()
    }

    /// Aborts the current and queued transfers.
    fn stop_sending(&self) {
        self.shared.lock().endpoint.stop_sending();
        self.poke();
    }

    fn stop_receiving(&self) {
        self.shared.lock().endpoint.stop_receiving();
        self.poke();
    }

    fn set_address(&self, address: IsoTpAddress) -> Result<()> {
        self.shared.lock().endpoint.set_address(address);
        self.poke();
        Ok(())
    }

    fn resume(&self) -> Result<()> {
        self.shared.lock().running = true;
        self.poke();
        Ok(())
    }

    /// Transfers are aborted and frames arriving meanwhile are ignored.
    fn pause(&self) {
        let mut control = self.shared.lock();
        control.running = false;
        control.endpoint.stop_sending();
        control.endpoint.stop_receiving();
        drop(control);
        self.poke();
    }

    fn is_running(&self) -> bool {
        !self.shared.shutdown.load(Ordering::Acquire) && self.shared.lock().running
    }

    /// Stops the thread and detaches from the bus. Idempotent.
    fn close(&self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.reader.poke();
        let thread = sync_util::lock(&self.thread).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        self.shared.bus.remove_reader(&self.shared.reader);
    }
}

impl Drop for IsoTpDriver {
    fn drop(&mut self) {
        IsoTpBackend::close(self);
    }
}

/// How long the thread blocks when nothing is scheduled.
const IDLE_WAIT: Duration = Duration::from_millis(500);

fn run(shared: &Shared) {
    minimize_timer_slack();
    let mut incoming: Vec<Frame> = Vec::with_capacity(256);
    let mut outgoing: Vec<Frame> = Vec::with_capacity(64);
    let mut pin = CpuPin::default();
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
        if !outgoing.is_empty() {
            pin.hold();
        }
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
        let sending = control.running && control.endpoint.transmitting();
        drop(control);
        if !sending {
            pin.release();
        }
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
/// The first and the longest pause before retrying a full transmit queue.
const ROOM_RETRY_FIRST: Duration = Duration::from_micros(50);
const ROOM_RETRY_MAX: Duration = Duration::from_millis(1);

/// Sends the released frames in one call where the bus takes them all. When
/// the transmit queue is full it retries after a pause that starts at 50 µs
/// and doubles up to 1 ms (back to 50 µs whenever frames went), for up to
/// [`TX_QUEUE_WAIT`], rather than dropping frames. A full device queue
/// (ENOBUFS) shows in no poll, and a bus at 1 Mbit/s drains a queue of 16
/// frames in about 2 ms: short first pauses keep it from running empty,
/// the doubling keeps a slow bus from costing a wake-up every 50 µs. A frame
/// the bus refuses, or one still unsent after the wait, is counted in
/// `tx_frame_errors`.
fn send_all(shared: &Shared, frames: &[Frame]) {
    let mut sent = 0;
    let mut chunk = frames.len();
    let mut pause = ROOM_RETRY_FIRST;
    let mut full_since: Option<std::time::Instant> = None;
    while sent < frames.len() {
        let end = (sent + chunk).min(frames.len());
        match shared.bus.send(&frames[sent..end]) {
            Ok(n) => {
                sent += n;
                if n > 0 {
                    pause = ROOM_RETRY_FIRST;
                    full_since = None;
                }
                if sent < end {
                    let since = *full_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() >= TX_QUEUE_WAIT || shared.bus.is_closed() {
                        for _ in sent..frames.len() {
                            shared.inbox.count_frame_error();
                        }
                        return;
                    }
                    shared.bus.count_tx_wait();
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(ROOM_RETRY_MAX);
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
