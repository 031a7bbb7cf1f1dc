//! [`IsoTpBackend`]: what an ISO-TP implementation must provide under the
//! [`IsoTpStack`](super::IsoTpStack) front end.
//!
//! The front end owns what every implementation shares: the [`Inbox`]
//! (received payloads, transfer results, protocol errors, counters), the
//! open/closed state and the waits. A backend moves payloads: it is given
//! the same `Arc<Inbox>` when it is built and reports into it (received
//! payloads, the end of each tracked transfer, protocol and OS errors).
//!
//! [`Inbox`]: super::Inbox

use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpAddress, TargetAddressType, TransferId};
use canwire_core::{CanwireError, ErrorCode};

/// One ISO-TP implementation: canwire's userspace state machine on a bus
/// ([`IsoTpDriver`](super::IsoTpDriver)), the kernel's can-isotp sockets,
/// or a remote one. The front end calls these only while it is open.
pub trait IsoTpBackend: Send + Sync {
    /// Queues `payload` and returns its transfer id. With `track`, the
    /// backend calls [`Inbox::track`](super::Inbox::track) before the
    /// transfer can end (the id is the backend's: the userspace endpoint
    /// numbers its own transfers), so its result is never missed.
    /// Fails with `ERR_CLOSED` while paused.
    fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId>;
    /// True while a transfer is being sent or queued.
    fn transmitting(&self) -> bool;
    /// Aborts queued transfers, and the current one where the backend can.
    fn stop_sending(&self);
    /// Drops the reception in progress, where the backend can.
    fn stop_receiving(&self);
    /// Changes the address (transfers in progress are aborted).
    fn set_address(&self, address: IsoTpAddress) -> Result<()>;
    /// Stops processing: transfers are aborted, arriving frames are not seen.
    fn pause(&self);
    /// Processes again after [`IsoTpBackend::pause`].
    fn resume(&self) -> Result<()>;
    /// False while paused.
    fn is_running(&self) -> bool;
    /// Stops threads and releases sockets or bus readers. Idempotent; the
    /// front end closes the inbox afterwards.
    fn close(&self);
}

/// The error of a send while the backend is paused (`ERR_CLOSED`).
pub fn stopped() -> CanwireError {
    CanwireError::new(
        ErrorCode::Closed,
        "the ISO-TP stack is stopped; call start() first",
    )
}
