//! [`IsoTpStack`]: one handle over either ISO-TP implementation, so bindings
//! need no second copy of the API.

use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, IsoTpError, IsoTpParams, TargetAddressType, TransferId};

use super::{Inbox, IsoTpDriver, IsoTpStats, KernelIsoTpOptions, ReceivedPayload, TransferStatus};

/// The userspace stack on a bus, or the kernel's can-isotp sockets (Linux).
pub enum IsoTpStack {
    /// canwire's state machine on a native thread.
    Userspace(IsoTpDriver),
    /// Kernel can-isotp sockets.
    #[cfg(target_os = "linux")]
    Kernel(crate::isotp_socket::KernelIsoTp),
}

macro_rules! each {
    ($self:ident, $s:ident => $body:expr) => {
        match $self {
            IsoTpStack::Userspace($s) => $body,
            #[cfg(target_os = "linux")]
            IsoTpStack::Kernel($s) => $body,
        }
    };
}

impl IsoTpStack {
    /// Opens kernel can-isotp sockets on interface `channel`; `ERR_UNSUPPORTED`
    /// off Linux, or where the kernel has no CAN or no can-isotp.
    pub fn open_kernel(
        channel: &str,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: KernelIsoTpOptions,
        rx_queue_payloads: usize,
    ) -> Result<Self> {
        #[cfg(target_os = "linux")]
        {
            crate::isotp_socket::KernelIsoTp::open(
                channel,
                address,
                params,
                options,
                rx_queue_payloads,
            )
            .map(Self::Kernel)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (channel, address, params, options, rx_queue_payloads);
            Err(canwire_core::CanwireError::new(
                canwire_core::ErrorCode::Unsupported,
                "the kernel ISO-TP socket (can-isotp) exists only on Linux; use stack: 'userspace'",
            ))
        }
    }

    /// Queues a payload (tracked when `track`).
    pub fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        each!(self, s => s.send(payload, target, track))
    }

    /// The mailbox of received payloads and transfer results, to wait on.
    pub fn inbox(&self) -> &Inbox {
        each!(self, s => s.inbox())
    }

    /// The status of a tracked transfer; a finished one is forgotten once read.
    pub fn take_status(&self, id: TransferId) -> Option<TransferStatus> {
        each!(self, s => s.take_status(id))
    }

    /// Stops tracking a transfer.
    pub fn forget(&self, id: TransferId) {
        each!(self, s => s.forget(id))
    }

    /// Takes the oldest received payload.
    pub fn try_recv(&self) -> Option<ReceivedPayload> {
        each!(self, s => s.try_recv())
    }

    /// Blocks until a payload arrives, the stack closes, or `timeout` passes.
    pub fn recv_blocking(&self, timeout: Duration) -> Option<ReceivedPayload> {
        each!(self, s => s.recv_blocking(timeout))
    }

    /// True if a received payload is waiting.
    pub fn available(&self) -> bool {
        each!(self, s => s.available())
    }

    /// True while a transfer is being sent or queued.
    pub fn transmitting(&self) -> bool {
        each!(self, s => s.transmitting())
    }

    /// Aborts queued transfers (and, in userspace, the current one).
    pub fn stop_sending(&self) {
        each!(self, s => s.stop_sending())
    }

    /// Drops the reception in progress (userspace only; the kernel offers no way).
    pub fn stop_receiving(&self) {
        each!(self, s => s.stop_receiving())
    }

    /// Changes the address.
    pub fn set_address(&self, address: IsoTpAddress) -> Result<()> {
        match self {
            Self::Userspace(s) => {
                s.set_address(address);
                Ok(())
            }
            #[cfg(target_os = "linux")]
            Self::Kernel(s) => s.set_address(address),
        }
    }

    /// Resumes after [`IsoTpStack::pause`].
    pub fn resume(&self) -> Result<()> {
        each!(self, s => s.resume())
    }

    /// Stops processing until [`IsoTpStack::resume`].
    pub fn pause(&self) {
        each!(self, s => s.pause())
    }

    /// True unless paused or closed.
    pub fn is_running(&self) -> bool {
        each!(self, s => s.is_running())
    }

    /// Takes the recent protocol errors.
    pub fn take_errors(&self) -> Vec<IsoTpError> {
        each!(self, s => s.take_errors())
    }

    /// Counters.
    pub fn stats(&self) -> IsoTpStats {
        each!(self, s => s.stats())
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        each!(self, s => s.is_closed())
    }

    /// Stops the stack. Idempotent.
    pub fn close(&self) {
        each!(self, s => s.close())
    }
}
