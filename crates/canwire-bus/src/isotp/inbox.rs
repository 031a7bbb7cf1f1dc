//! What the ISO-TP thread hands to its users: received payloads (bounded,
//! overflow counted), the results of tracked transfers, and protocol errors
//! (the most recent ones kept, every one counted by code).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use canwire_core::CanwireError;
use canwire_core::isotp::{IsoTpError, IsoTpErrorCode, TargetAddressType, TransferId};

use crate::readiness::{Readiness, ReadyHook};

/// How many recent protocol errors are kept for `take_errors`.
pub const KEPT_ERRORS: usize = 256;

/// One reassembled payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedPayload {
    /// The payload bytes.
    pub data: Vec<u8>,
    /// Physical or functional.
    pub target_address_type: TargetAddressType,
}

/// Where a tracked transfer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferStatus {
    /// Still being sent.
    Pending,
    /// Every frame was handed to the bus.
    Complete,
    /// Ended early.
    Failed(IsoTpError),
    /// The operating system refused it (kernel stack: `ENETDOWN`, `ENOBUFS`, ...).
    OsFailed(CanwireError),
}

/// Counters of an ISO-TP stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IsoTpStats {
    /// Payloads received.
    pub rx_payloads: u64,
    /// Payloads dropped because the receive queue was full.
    pub rx_overflow: u64,
    /// Transfers completed.
    pub tx_complete: u64,
    /// Transfers failed.
    pub tx_failed: u64,
    /// CAN frames the bus refused to send.
    pub tx_frame_errors: u64,
    /// Operating-system errors that are not protocol errors (kernel stack:
    /// a failed send, or an errno such as `ENETDOWN` on the receive path).
    pub os_errors: u64,
    /// The message of the most recent of those.
    pub last_os_error: Option<String>,
    /// Protocol errors by code.
    pub errors: Vec<(IsoTpErrorCode, u64)>,
}

#[derive(Default)]
struct InboxState {
    payloads: VecDeque<ReceivedPayload>,
    errors: VecDeque<IsoTpError>,
    transfers: HashMap<u64, TransferStatus>,
    stats: IsoTpStats,
    error_counts: HashMap<IsoTpErrorCode, u64>,
    closed: bool,
    /// Why the backend failed (a remote stack lost its connection).
    failure: Option<CanwireError>,
}

/// The thread-to-user mailbox.
pub struct Inbox {
    state: Mutex<InboxState>,
    capacity: usize,
    changed: Readiness,
}

impl Inbox {
    /// A mailbox holding at most `capacity` unread payloads.
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            capacity: capacity.max(1),
            changed: Readiness::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, InboxState> {
        crate::sync_util::lock(&self.state)
    }

    fn wake(&self) {
        self.changed.notify();
    }

    /// Queues a received payload (or counts it as overflow).
    pub fn push_payload(&self, payload: ReceivedPayload) {
        let mut state = self.lock();
        if state.payloads.len() < self.capacity {
            state.payloads.push_back(payload);
            state.stats.rx_payloads += 1;
        } else {
            state.stats.rx_overflow += 1;
        }
        drop(state);
        self.wake();
    }

    /// Records a protocol error.
    pub fn push_error(&self, error: IsoTpError) {
        let mut state = self.lock();
        *state.error_counts.entry(error.code).or_default() += 1;
        if state.errors.len() == KEPT_ERRORS {
            state.errors.pop_front();
        }
        state.errors.push_back(error);
    }

    /// Counts a frame the bus refused.
    pub fn count_frame_error(&self) {
        self.lock().stats.tx_frame_errors += 1;
    }

    /// Records an operating-system error.
    pub fn push_os_error(&self, error: &CanwireError) {
        let mut state = self.lock();
        state.stats.os_errors += 1;
        state.stats.last_os_error = Some(error.message.clone());
    }

    /// Starts tracking a transfer.
    pub fn track(&self, id: TransferId) {
        self.lock().transfers.insert(id.0, TransferStatus::Pending);
    }

    /// Stops tracking a transfer.
    pub fn forget(&self, id: TransferId) {
        self.lock().transfers.remove(&id.0);
    }

    /// Records the end of a transfer (kept only if it is tracked).
    pub fn finish_transfer(&self, id: TransferId, status: TransferStatus) {
        let mut state = self.lock();
        match &status {
            TransferStatus::Complete => state.stats.tx_complete += 1,
            TransferStatus::Failed(_) | TransferStatus::OsFailed(_) => state.stats.tx_failed += 1,
            TransferStatus::Pending => {}
        }
        if let Some(slot) = state.transfers.get_mut(&id.0) {
            *slot = status;
        }
        drop(state);
        self.wake();
    }

    /// The status of a tracked transfer; a finished one is forgotten once read.
    pub fn take_status(&self, id: TransferId) -> Option<TransferStatus> {
        let mut state = self.lock();
        match state.transfers.get(&id.0)? {
            TransferStatus::Pending => Some(TransferStatus::Pending),
            _ => state.transfers.remove(&id.0),
        }
    }

    /// Takes the oldest unread payload.
    pub fn pop_payload(&self) -> Option<ReceivedPayload> {
        self.lock().payloads.pop_front()
    }

    /// Number of unread payloads.
    pub fn payloads_waiting(&self) -> usize {
        self.lock().payloads.len()
    }

    /// Takes the kept protocol errors, oldest first.
    pub fn take_errors(&self) -> Vec<IsoTpError> {
        self.lock().errors.drain(..).collect()
    }

    /// Counters.
    pub fn stats(&self) -> IsoTpStats {
        let state = self.lock();
        let mut stats = state.stats.clone();
        stats.errors = IsoTpErrorCode::ALL
            .iter()
            .filter_map(|code| state.error_counts.get(code).map(|n| (*code, *n)))
            .collect();
        stats
    }

    /// Marks the inbox closed and wakes every waiter.
    pub fn close(&self) {
        self.lock().closed = true;
        self.wake();
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Closes the inbox because the backend failed: tracked transfers still
    /// pending fail with `error`, and once the payloads received before are
    /// read, a receive gets `error` (see [`Inbox::failure`]). The first
    /// failure is kept.
    pub fn fail(&self, error: CanwireError) {
        let mut state = self.lock();
        for status in state.transfers.values_mut() {
            if *status == TransferStatus::Pending {
                *status = TransferStatus::OsFailed(error.clone());
            }
        }
        state.failure.get_or_insert(error);
        state.closed = true;
        drop(state);
        self.wake();
    }

    /// The error the backend failed with, if it did ([`Inbox::fail`]).
    pub fn failure(&self) -> Option<CanwireError> {
        self.lock().failure.clone()
    }

    /// Leaves `hook` (under `key`, see [`Readiness::arm`]) to run once at the
    /// next change, and returns true; returns false (dropping `hook`) if
    /// `ready` already holds for the state or the inbox is closed.
    fn notify_until(&self, key: u64, hook: ReadyHook, ready: impl Fn(&InboxState) -> bool) -> bool {
        self.changed.arm(key, hook, || {
            let state = self.lock();
            state.closed || ready(&state)
        })
    }

    /// Runs `hook` once when a payload waits or the inbox closes; false
    /// (hook dropped) if that is so already.
    pub fn notify_when_readable(&self, key: u64, hook: ReadyHook) -> bool {
        self.notify_until(key, hook, |s| !s.payloads.is_empty())
    }

    /// Runs `hook` once when the tracked transfer `id` is no longer pending
    /// (or the inbox closes); false (hook dropped) if that is so already.
    pub fn notify_when_done(&self, id: TransferId, key: u64, hook: ReadyHook) -> bool {
        self.notify_until(key, hook, |s| {
            !matches!(s.transfers.get(&id.0), Some(TransferStatus::Pending))
        })
    }

    /// Drops the hook left under `key` if it has not run.
    pub fn cancel_notify(&self, key: u64) {
        self.changed.disarm(key);
    }

    /// Blocks until a payload is waiting, the inbox closes, or `timeout` passes.
    pub fn wait_payload_blocking(&self, timeout: Duration) -> bool {
        self.changed.wait_until(timeout, || {
            let state = self.lock();
            !state.payloads.is_empty() || state.closed
        });
        self.payloads_waiting() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_core::ErrorCode;

    #[test]
    fn a_failed_inbox_fails_pending_transfers_and_keeps_what_was_received() {
        let inbox = Inbox::new(4);
        inbox.track(TransferId(1));
        inbox.track(TransferId(2));
        inbox.finish_transfer(TransferId(2), TransferStatus::Complete);
        inbox.push_payload(ReceivedPayload {
            data: vec![1, 2],
            target_address_type: TargetAddressType::Physical,
        });
        let lost = CanwireError::new(ErrorCode::Unreachable, "gone");
        inbox.fail(lost.clone());
        assert!(inbox.is_closed());
        assert_eq!(
            inbox.take_status(TransferId(1)),
            Some(TransferStatus::OsFailed(lost))
        );
        assert_eq!(
            inbox.take_status(TransferId(2)),
            Some(TransferStatus::Complete)
        );
        assert_eq!(inbox.pop_payload().map(|p| p.data), Some(vec![1, 2]));
        assert_eq!(inbox.failure().map(|e| e.message), Some("gone".into()));
    }
}
