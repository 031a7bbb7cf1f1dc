//! [`IsoTpStack`]: the one ISO-TP front end. It owns what every
//! implementation shares (the inbox of payloads, transfer results, errors
//! and counters; the closed state; the waits) and drives an
//! [`IsoTpBackend`] for the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use canwire_core::CanwireError;
use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, IsoTpError, IsoTpParams, TargetAddressType, TransferId};

use super::backend::IsoTpBackend;
use super::{
    Inbox, IsoTpDriver, IsoTpDriverOptions, IsoTpStats, KernelIsoTpOptions, ReceivedPayload,
    TransferStatus,
};
use crate::bus::Bus;
use crate::socketcan::isotp::KernelIsoTp;

/// An ISO-TP endpoint: the userspace stack on a bus, the kernel's
/// can-isotp sockets (Linux), or any other [`IsoTpBackend`].
pub struct IsoTpStack {
    inbox: Arc<Inbox>,
    backend: Box<dyn IsoTpBackend>,
    closed: AtomicBool,
}

impl IsoTpStack {
    /// A front end over `backend`, which reports into `inbox`.
    pub fn with_backend(inbox: Arc<Inbox>, backend: Box<dyn IsoTpBackend>) -> Self {
        Self {
            inbox,
            backend,
            closed: AtomicBool::new(false),
        }
    }

    /// Starts canwire's userspace stack on `bus`.
    pub fn start_userspace(
        bus: Arc<Bus>,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: IsoTpDriverOptions,
    ) -> Result<Self> {
        let inbox = Arc::new(Inbox::new(options.rx_queue_payloads));
        let driver = IsoTpDriver::start(bus, address, params, options, inbox.clone())?;
        Ok(Self::with_backend(inbox, Box::new(driver)))
    }

    /// Opens kernel can-isotp sockets on interface `channel`; `ERR_UNSUPPORTED`
    /// off Linux, or where the kernel has no CAN or no can-isotp.
    pub fn open_kernel(
        channel: &str,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: KernelIsoTpOptions,
        rx_queue_payloads: usize,
    ) -> Result<Self> {
        let inbox = Arc::new(Inbox::new(rx_queue_payloads));
        let kernel = KernelIsoTp::open(channel, address, params, options, inbox.clone())?;
        Ok(Self::with_backend(inbox, Box::new(kernel)))
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(CanwireError::closed("the ISO-TP stack"))
        } else {
            Ok(())
        }
    }

    /// Queues a payload. With `track`, its result can be awaited with
    /// [`IsoTpStack::inbox`] and read with [`IsoTpStack::take_status`].
    pub fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        self.check_open()?;
        self.backend.send(payload, target, track)
    }

    /// The mailbox of received payloads and transfer results, to wait on.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The status of a tracked transfer; a finished one is forgotten once read.
    pub fn take_status(&self, id: TransferId) -> Option<TransferStatus> {
        self.inbox.take_status(id)
    }

    /// Stops tracking a transfer (e.g. after a send timeout).
    pub fn forget(&self, id: TransferId) {
        self.inbox.forget(id);
    }

    /// Takes the oldest received payload.
    pub fn try_recv(&self) -> Option<ReceivedPayload> {
        self.inbox.pop_payload()
    }

    /// Blocks until a payload arrives, the stack closes, or `timeout` passes.
    pub fn recv_blocking(&self, timeout: Duration) -> Option<ReceivedPayload> {
        self.inbox.wait_payload_blocking(timeout);
        self.try_recv()
    }

    /// True if a received payload is waiting.
    pub fn available(&self) -> bool {
        self.inbox.payloads_waiting() > 0
    }

    /// True while a transfer is being sent or queued.
    pub fn transmitting(&self) -> bool {
        self.backend.transmitting()
    }

    /// Aborts queued transfers (and, where the backend can, the current one).
    pub fn stop_sending(&self) {
        if !self.is_closed() {
            self.backend.stop_sending();
        }
    }

    /// Drops the reception in progress (where the backend can: the kernel cannot).
    pub fn stop_receiving(&self) {
        if !self.is_closed() {
            self.backend.stop_receiving();
        }
    }

    /// Changes the address.
    pub fn set_address(&self, address: IsoTpAddress) -> Result<()> {
        self.check_open()?;
        self.backend.set_address(address)
    }

    /// Resumes after [`IsoTpStack::pause`].
    pub fn resume(&self) -> Result<()> {
        self.check_open()?;
        self.backend.resume()
    }

    /// Stops processing until [`IsoTpStack::resume`].
    pub fn pause(&self) {
        if !self.is_closed() {
            self.backend.pause();
        }
    }

    /// True unless paused or closed.
    pub fn is_running(&self) -> bool {
        !self.is_closed() && self.backend.is_running()
    }

    /// Takes the recent protocol errors.
    pub fn take_errors(&self) -> Vec<IsoTpError> {
        self.inbox.take_errors()
    }

    /// Counters.
    pub fn stats(&self) -> IsoTpStats {
        self.inbox.stats()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Stops the backend and wakes every waiter. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.backend.close();
        self.inbox.close();
    }
}

impl Drop for IsoTpStack {
    fn drop(&mut self) {
        self.close();
    }
}
