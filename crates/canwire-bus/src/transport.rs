//! What a bus backend provides.

use std::time::Duration;

use crate::readiness::StateCell;
use canwire_core::error::Result;
use canwire_core::{CanwireError, ErrorCode, FilterSet, Frame};
use std::sync::Arc;

/// The CAN protocol a bus was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Classic CAN 2.0.
    Can20,
    /// CAN FD (ISO).
    CanFd,
}

impl Protocol {
    /// The protocol of a bus opened with (`fd`) or without CAN FD.
    pub const fn opened_with_fd(fd: bool) -> Self {
        if fd { Protocol::CanFd } else { Protocol::Can20 }
    }

    /// The stable string form used by the JS API.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Can20 => "CAN_20",
            Protocol::CanFd => "CAN_FD",
        }
    }
}

/// The error state of a CAN controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusState {
    /// Error active: normal operation.
    Active,
    /// Error counters above the warning level.
    Warning,
    /// Error passive.
    Passive,
    /// Bus off.
    BusOff,
    /// Not known (for example the interface reports nothing).
    Unknown,
}

impl BusState {
    /// The stable string form used by the JS API.
    pub const fn as_str(self) -> &'static str {
        match self {
            BusState::Active => "active",
            BusState::Warning => "warning",
            BusState::Passive => "passive",
            BusState::BusOff => "bus-off",
            BusState::Unknown => "unknown",
        }
    }
}

/// Told of the echoes of frames a bus sent: the interface confirms that a
/// frame left its device queue (SocketCAN: the socket's own frames, which
/// the kernel marks as such). Senders that pace themselves on echoes, as the
/// userspace ISO-TP driver does, register one with [`Transport::add_tx_echo_sink`].
pub trait TxEchoSink: Send + Sync {
    /// `frame`, sent on this bus, has left the device queue. Called on the
    /// backend's receive thread for every echo, including those of frames
    /// other senders on the same bus object sent: match what you sent.
    fn echoed(&self, frame: &Frame);
}

/// What a backend that reports echoes knows of its transmit queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxEchoInfo {
    /// The device's transmit queue length in frames, where known and non-zero
    /// (SocketCAN: `/sys/class/net/IFACE/tx_queue_len`).
    pub tx_queue_len: Option<usize>,
}

/// A bus backend. Received frames go to the `ReaderSet` the backend was opened with.
pub trait Transport: Send + Sync {
    /// Sends validated frames in order, without blocking; returns how many were
    /// sent. Fewer than all means the transmit queue is full: wait with
    /// [`Transport::wait_writable`] and send the rest.
    fn send(&self, frames: &[Frame]) -> Result<usize>;
    /// Blocks until the transmit queue may take frames again (true) or `timeout`
    /// passes (false). Backends that never fill return true at once.
    fn wait_writable(&self, _timeout: Duration) -> Result<bool> {
        Ok(true)
    }
    /// The error for a transmit queue that stayed full for `waited`, after `sent` frames.
    fn tx_buffer_full(&self, waited: Duration, sent: usize) -> CanwireError {
        CanwireError::new(
            ErrorCode::TxBufferFull,
            format!(
                "the transmit queue stayed full for {} ms; {sent} frame(s) were sent",
                waited.as_millis()
            ),
        )
        .with_sent(sent as u64)
    }
    /// The channel index to put in a frame sent to the channel `name`.
    fn channel_index(&self, name: &str) -> Result<u32> {
        Err(CanwireError::new(
            ErrorCode::Unsupported,
            format!("this bus does not send to named channels ('{name}')"),
        ))
    }
    /// The controller state as it changes, where the backend reports changes.
    fn state_watch(&self) -> Option<Arc<StateCell<BusState>>> {
        None
    }
    /// The protocol the bus was opened for.
    fn protocol(&self) -> Protocol;
    /// A human-readable description of the channel.
    fn channel_info(&self) -> String;
    /// The name of the channel a received frame's `channel` index refers to.
    fn channel_name(&self, index: u32) -> Option<String>;
    /// The controller state.
    fn state(&self) -> BusState {
        BusState::Active
    }
    /// Pushes filters down to the backend where it can apply them itself.
    /// Software filtering in the `ReaderSet` always applies too.
    fn apply_filters(&self, _filters: &FilterSet) -> Result<()> {
        Ok(())
    }
    /// Discards frames waiting in the transmit path.
    fn flush_tx_buffer(&self) -> Result<()> {
        Ok(())
    }
    /// The SocketCAN raw backend behind this transport, for its Linux-only
    /// powers (the broadcast manager's kernel-run cyclic sends and watches);
    /// `None` for every other backend.
    fn socketcan(&self) -> Option<&crate::socketcan::SocketCanTransport> {
        None
    }
    /// A cyclic task run by the backend itself (a remote bus's exporter runs
    /// its own periodic tasks); `None` (the default) leaves the task to
    /// canwire's native scheduler.
    fn cyclic_backend(
        &self,
        _frames: &[Frame],
        _timing: &canwire_core::cyclic::CyclicTiming,
        _hooks: &crate::cyclic::TaskHooks,
    ) -> Option<Result<Box<dyn crate::cyclic::CyclicBackend>>> {
        None
    }
    /// A watch run by the backend itself (a remote server's content
    /// filters); `None` (the default) leaves it to the kernel's broadcast
    /// manager or a native thread.
    fn watch_backend(
        &self,
        _config: &canwire_core::watch::WatchConfig,
        _queue: &Arc<crate::watch::queue::WatchQueue>,
    ) -> Option<Result<Arc<dyn crate::watch::WatchBackend>>> {
        None
    }
    /// Starts reporting the echoes of sent frames to `sink`, where the
    /// backend has them; `None` (the default) where it has not (then a
    /// sender cannot pace on echoes). Echoes reach readers only if the bus
    /// was opened to receive its own messages.
    fn add_tx_echo_sink(&self, _sink: Arc<dyn TxEchoSink>) -> Option<Result<TxEchoInfo>> {
        None
    }
    /// Stops reporting echoes to `sink` (compared by pointer).
    fn remove_tx_echo_sink(&self, _sink: &Arc<dyn TxEchoSink>) {}
    /// Frames the backend dropped before canwire could read them.
    fn kernel_drops(&self) -> u64 {
        0
    }
    /// Receive failures the backend hit (other than "no frames waiting"),
    /// reported in `stats()` so none passes unseen.
    fn receive_errors(&self) -> crate::stats::ReceiveErrors {
        crate::stats::ReceiveErrors::default()
    }
    /// Stops the backend's threads and releases its resources. Idempotent.
    fn close(&self);
}

impl From<canwire_core::error_frame::ErrorState> for BusState {
    fn from(state: canwire_core::error_frame::ErrorState) -> Self {
        use canwire_core::error_frame::ErrorState;
        match state {
            ErrorState::Active => BusState::Active,
            ErrorState::Warning => BusState::Warning,
            ErrorState::Passive => BusState::Passive,
            ErrorState::BusOff => BusState::BusOff,
        }
    }
}
