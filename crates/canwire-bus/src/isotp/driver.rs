//! [`IsoTpDriver`]: a native thread running an ISO-TP endpoint on a bus, the
//! userspace [`IsoTpBackend`] of [`IsoTpStack`](super::IsoTpStack).
//!
//! The thread drains its bus reader into the endpoint, fires the endpoint's
//! timers, sends what it releases, and sleeps until the next of: a frame
//! arriving, a user command or an echo (a poke), or the endpoint's next
//! deadline (the instant the next consecutive frame may go, or a timeout).
//! Consecutive frames are therefore never sent before STmin has passed, and
//! not needlessly later: the wait blocks until shortly before the deadline,
//! then spins.
//!
//! Where the bus reports the echoes of sent frames (SocketCAN), the frames
//! go out paced by them ([`EchoPacing`](super::echo_pacing::EchoPacing)): at
//! most a window of frames in flight, the next sent as echoes come back, so
//! the device queue never overflows; a transfer is complete when its last
//! frame is echoed, and fails if frames make no progress for N_As. Elsewhere
//! frames go as the bus takes them, a full queue retried after short pauses.
//! While a transfer's frames are leaving the thread stays on one CPU
//! ([`CpuPin`]), so that the kernel cannot reorder them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::isotp::{
    IsoTpAddress, IsoTpEndpoint, IsoTpError, IsoTpErrorCode, IsoTpEvent, IsoTpParams,
    TargetAddressType, TransferId,
};
use canwire_core::{CanwireError, Frame};

use super::backend::{IsoTpBackend, stopped};
use super::cpu_pin::CpuPin;
use super::echo_sink::PacedSends;
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
    paced: Arc<PacedSends>,
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
        let clock = MonotonicClock::default();
        let paced = PacedSends::attach(&bus, reader.clone(), clock);
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                endpoint,
                running: true,
            }),
            bus,
            reader,
            inbox,
            paced,
            shutdown: AtomicBool::new(false),
            clock,
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("canwire-isotp".into())
            .spawn(move || run(&thread_shared))
            .map_err(|e| {
                shared.paced.detach(&shared.bus);
                shared.bus.remove_reader(&shared.reader);
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

    /// True until the last frame of the last transfer is settled (echoed,
    /// where the bus echoes).
    fn transmitting(&self) -> bool {
        self.shared.lock().endpoint.transmitting() || !self.shared.paced.lock().is_idle()
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
        self.shared.paced.detach(&self.shared.bus);
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

/// How long released frames may wait for the bus to take them or to echo
/// them (N_As) before their transfer fails.
const N_AS: Duration = Duration::from_millis(1000);
/// Frames taken from the endpoint ahead of what a bus without echoes took:
/// the flow control this endpoint answers never waits behind a whole
/// payload. With echoes the window is the bound.
const AHEAD_WITHOUT_ECHOES: usize = 256;
/// The first and the longest pause before retrying a full transmit queue
/// that no echo reports (a bus without echoes, vcan with echo=0).
const ROOM_RETRY_FIRST: Duration = Duration::from_micros(50);
const ROOM_RETRY_MAX: Duration = Duration::from_millis(1);

/// Benchmark switch `CANWIRE_ISOTP_CPU_PIN=0`: no [`CpuPin`] (to measure
/// what it costs). Not a user option.
fn cpu_pin_enabled() -> bool {
    std::env::var("CANWIRE_ISOTP_CPU_PIN").map_or(true, |v| v.trim() != "0")
}

/// What the thread keeps between turns.
struct Turn {
    incoming: Vec<Frame>,
    outgoing: Vec<Frame>,
    /// Transfers whose frames were all released, each with the count of
    /// released frames that must be settled before it is complete.
    completions: VecDeque<(TransferId, u64)>,
    /// The pause before retrying a full transmit queue, while it is full.
    full_pause: Option<Duration>,
    pin: CpuPin,
    pin_enabled: bool,
}

fn run(shared: &Shared) {
    minimize_timer_slack();
    let mut turn = Turn {
        incoming: Vec::with_capacity(256),
        outgoing: Vec::with_capacity(64),
        completions: VecDeque::new(),
        full_pause: None,
        pin: CpuPin::default(),
        pin_enabled: cpu_pin_enabled(),
    };
    while !shared.shutdown.load(Ordering::Acquire) {
        turn.incoming.clear();
        shared.reader.pop_into(256, &mut turn.incoming);
        let now = shared.clock.now();
        let mut control = shared.lock();
        if control.running {
            for frame in &turn.incoming {
                control.endpoint.handle_frame(now, frame);
            }
            if control.endpoint.poll_timeout().is_some_and(|d| d <= now) {
                control.endpoint.handle_timeout(now);
            }
            release(shared, &mut control.endpoint, now, &mut turn.completions);
        }
        drop(control);
        push_frames(shared, &mut turn);
        let now = shared.clock.now();
        let mut pacing = shared.paced.lock();
        if pacing.stalled(now, N_AS.as_nanos() as u64) && !pacing.give_up_echoes(now) {
            drop(pacing);
            fail_stalled(shared, &mut turn.completions);
        } else {
            drop(pacing);
        }
        let settled = shared.paced.lock().settled();
        while let Some(&(id, _)) = turn.completions.front().filter(|c| c.1 <= settled) {
            turn.completions.pop_front();
            shared.inbox.finish_transfer(id, TransferStatus::Complete);
        }
        wait(shared, &mut turn);
        if shared.reader.is_closed() && shared.reader.is_empty() {
            // The bus closed under us: nothing can arrive or leave any more.
            let mut control = shared.lock();
            control.endpoint.stop_sending();
            while let Some(event) = control.endpoint.poll_event() {
                dispatch(&shared.inbox, event);
            }
            drop(control);
            fail_stalled(shared, &mut turn.completions);
            shared.inbox.close();
            break;
        }
    }
}

/// Takes the frames the endpoint releases at `now` into the pacing, up to
/// its bound, and hands its events on; a transfer's completion waits until
/// its last frame is settled (echoed, where the bus echoes).
fn release(
    shared: &Shared,
    endpoint: &mut IsoTpEndpoint,
    now: u64,
    completions: &mut VecDeque<(TransferId, u64)>,
) {
    let mut pacing = shared.paced.lock();
    let ahead = pacing.window().unwrap_or(AHEAD_WITHOUT_ECHOES);
    loop {
        while let Some(event) = endpoint.poll_event() {
            match event {
                IsoTpEvent::TransmitComplete { id } => {
                    completions.push_back((id, pacing.released()));
                }
                event => dispatch(&shared.inbox, event),
            }
        }
        if pacing.pending() >= ahead {
            break;
        }
        let Some(frame) = endpoint.poll_transmit(now) else {
            break;
        };
        pacing.release(now, frame);
    }
}

/// Sends what the window lets go. A full transmit queue that no echo
/// reports (ENOBUFS shows in no poll) is retried after a pause that starts
/// at 50 µs and doubles up to 1 ms, back to 50 µs whenever frames went: a
/// bus at 1 Mbit/s drains a queue of 16 frames in about 2 ms.
fn push_frames(shared: &Shared, turn: &mut Turn) {
    turn.outgoing.clear();
    let taken = shared.paced.lock().take_sendable(&mut turn.outgoing);
    if taken == 0 {
        return;
    }
    if turn.pin_enabled {
        turn.pin.hold();
    }
    let (sent, full) = send_frames(shared, &mut turn.outgoing);
    let now = shared.clock.now();
    shared.paced.lock().sent(now, turn.outgoing.len(), sent);
    if sent > 0 {
        // The endpoint released the frames earlier, but they left (and were
        // stamped) now: STmin counts from then, so the gap on the wire is
        // never below it, even after an early wake-up.
        shared.lock().endpoint.transmitted_at(now);
    }
    turn.full_pause = if full {
        shared.bus.count_tx_wait();
        Some(turn.full_pause.map_or(ROOM_RETRY_FIRST, |p| {
            if sent > 0 {
                ROOM_RETRY_FIRST
            } else {
                (p * 2).min(ROOM_RETRY_MAX)
            }
        }))
    } else {
        None
    };
}

/// Sends `frames` in one call where the bus takes them all; returns how
/// many went and whether the transmit queue was full. A frame the bus
/// refuses is counted in `tx_frame_errors`, settled and taken out of `frames`.
fn send_frames(shared: &Shared, frames: &mut Vec<Frame>) -> (usize, bool) {
    let mut sent = 0;
    while sent < frames.len() {
        match shared.bus.send(&frames[sent..]) {
            Ok(n) => {
                sent += n;
                if sent < frames.len() {
                    return (sent, true);
                }
            }
            // The bus refused the batch: find the culprit one frame at a time.
            Err(_) => match shared.bus.send(&frames[sent..=sent]) {
                Ok(1) => sent += 1,
                Ok(_) => return (sent, true),
                Err(_) => {
                    shared.inbox.count_frame_error();
                    let frame = frames.remove(sent);
                    shared.paced.lock().refused(&frame);
                }
            },
        }
    }
    (sent, false)
}

/// Frames held for N_As without progress (no echo, a transmit queue that
/// stayed full) or a closed bus: the unsent ones are counted in
/// `tx_frame_errors`, and the transfers they belong to fail with
/// `ERR_ISOTP_N_BS_TIMEOUT`, the code the kernel's can-isotp gives a
/// missing echo.
fn fail_stalled(shared: &Shared, completions: &mut VecDeque<(TransferId, u64)>) {
    let mut pacing = shared.paced.lock();
    if pacing.is_idle() && completions.is_empty() {
        return;
    }
    let unsent = pacing.clear();
    drop(pacing);
    for _ in 0..unsent {
        shared.inbox.count_frame_error();
    }
    let message = format!(
        "the sent frames were not echoed (or the transmit queue stayed full) within N_As = {} ms",
        N_AS.as_millis()
    );
    let error = IsoTpError::new(IsoTpErrorCode::NBsTimeout, message.clone());
    for (id, _) in completions.drain(..) {
        shared.inbox.push_error(error.clone());
        shared
            .inbox
            .finish_transfer(id, TransferStatus::Failed(error.clone()));
    }
    let mut control = shared.lock();
    control
        .endpoint
        .fail_sending(IsoTpErrorCode::NBsTimeout, message);
    while let Some(event) = control.endpoint.poll_event() {
        dispatch(&shared.inbox, event);
    }
}

/// Waits for what comes next: a frame, a command or an echo (pokes), the
/// endpoint's next deadline, the N_As limit of held frames, or the retry
/// of a full transmit queue. Does not wait when frames may go at once.
fn wait(shared: &Shared, turn: &mut Turn) {
    let control = shared.lock();
    let endpoint_deadline = if control.running {
        control.endpoint.poll_timeout()
    } else {
        None
    };
    let transmitting = control.running && control.endpoint.transmitting();
    drop(control);
    let pacing = shared.paced.lock();
    let blocked = pacing.pending() >= pacing.window().unwrap_or(AHEAD_WITHOUT_ECHOES);
    let sendable = pacing.pending() > 0 && pacing.room() > 0;
    let stall = pacing.stall_deadline(N_AS.as_nanos() as u64);
    let idle = pacing.is_idle();
    drop(pacing);
    if !transmitting && idle && turn.completions.is_empty() {
        turn.pin.release();
    }
    if let Some(pause) = turn.full_pause {
        shared.reader.wait_blocking(pause);
        return;
    }
    let now = shared.clock.now();
    // With the pacing's queue at its bound, a transmit deadline already
    // due waits for an echo, not the clock.
    let endpoint_deadline = endpoint_deadline.filter(|&d| !blocked || d > now);
    if sendable || endpoint_deadline.is_some_and(|d| d <= now) {
        return;
    }
    let deadline = match (endpoint_deadline, stall) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    wait_until(&shared.clock, deadline, &shared.reader, IDLE_WAIT);
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
