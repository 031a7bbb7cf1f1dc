//! The ISO-TP endpoint: one address, a transmitter and a receiver working in
//! full duplex, driven sans-IO (quinn-proto style) on the caller's clock.

use std::collections::VecDeque;

use super::address::{IsoTpAddress, TargetAddressType};
use super::event::{IsoTpError, IsoTpErrorCode, IsoTpEvent, TransferId};
use super::params::IsoTpParams;
use super::pci::{Pdu, decode};
use super::rate_limiter::RateLimiter;
use super::receiver::{Receiver, RxContext, RxMeta};
use super::transmitter::{Transmitter, TxContext, check_payload};
use crate::dlc::fd_len_to_dlc;
use crate::error::Result;
use crate::frame::Frame;

/// A sans-IO ISO-TP endpoint.
///
/// Time is a monotonic `u64` in nanoseconds supplied by the caller; the
/// endpoint never reads a clock. A driver loop:
/// 1. feed received frames to [`handle_frame`](Self::handle_frame);
/// 2. send every frame [`poll_transmit`](Self::poll_transmit) returns;
/// 3. take [`poll_event`](Self::poll_event)s;
/// 4. sleep until [`poll_timeout`](Self::poll_timeout) (or a new frame), then call
///    [`handle_timeout`](Self::handle_timeout) and go to 2.
#[derive(Debug)]
pub struct IsoTpEndpoint {
    params: IsoTpParams,
    address: IsoTpAddress,
    tx: Transmitter,
    rx: Receiver,
    limiter: RateLimiter,
    events: VecDeque<IsoTpEvent>,
}

impl IsoTpEndpoint {
    /// An endpoint with validated parameters.
    pub fn new(address: IsoTpAddress, params: IsoTpParams) -> Result<Self> {
        params.validate()?;
        let limiter = RateLimiter::new(
            params.rate_limit_enable,
            params.rate_limit_budget_bits(),
            params.rate_limit_window_size_ns,
        );
        Ok(Self {
            params,
            address,
            tx: Transmitter::default(),
            rx: Receiver::default(),
            limiter,
            events: VecDeque::new(),
        })
    }

    /// The parameters in use.
    pub fn params(&self) -> &IsoTpParams {
        &self.params
    }

    /// The address in use.
    pub fn address(&self) -> &IsoTpAddress {
        &self.address
    }

    fn tx_cx(&mut self) -> (&mut Transmitter, TxContext<'_>) {
        let cx = TxContext {
            params: &self.params,
            link: self.address.tx(),
            limiter: &mut self.limiter,
            events: &mut self.events,
        };
        (&mut self.tx, cx)
    }

    /// Queues `payload` for sending to `target` (or `default_target_address_type`);
    /// its first frame comes out of the next `poll_transmit`. Functional
    /// addressing allows single frames only. Errors (`ERR_INVALID_ARGUMENT`):
    /// an empty payload, more than `u32::MAX` bytes, a functional payload that
    /// does not fit a single frame, an address without a transmit side.
    /// `now` is taken for symmetry with the other inputs; queuing does not use it.
    pub fn send(
        &mut self,
        now: u64,
        payload: impl Into<Vec<u8>>,
        target: Option<TargetAddressType>,
    ) -> Result<TransferId> {
        let _ = now;
        let payload = payload.into();
        let target = target.unwrap_or(self.params.default_target_address_type);
        check_payload(&self.params, self.address.tx(), payload.len(), target)?;
        Ok(self.tx.queue(payload, target))
    }

    /// Processes one received CAN frame. Frames not addressed to this endpoint
    /// are ignored; malformed ones addressed to it produce an error event.
    pub fn handle_frame(&mut self, now: u64, frame: &Frame) {
        if let Some(target) = self.address.is_for_me(frame) {
            self.handle_own_frame(now, frame, target);
        } else if self.params.listen_mode
            && let Some(link) = self.address.tx()
            && link.matches(frame) == Some(TargetAddressType::Physical)
            && let Ok(Pdu::FlowControl { status, .. }) = decode(
                &frame.data()[link.prefix_len()..],
                frame.len as usize,
                link.prefix_len(),
            )
        {
            let mut cx = RxContext {
                params: &self.params,
                events: &mut self.events,
            };
            self.rx.handle_observed_fc(now, status, &mut cx);
        }
    }

    fn handle_own_frame(&mut self, now: u64, frame: &Frame, target: TargetAddressType) {
        let can_dl = frame.len as usize;
        let valid_len = if frame.is_fd() {
            can_dl <= 64 && fd_len_to_dlc(frame.len).is_some()
        } else {
            can_dl <= 8
        };
        if !valid_len {
            let kind = if frame.is_fd() { "an FD" } else { "a classic" };
            self.report(
                IsoTpErrorCode::InvalidFrame,
                format!("{kind} frame cannot hold {can_dl} bytes; ignored"),
            );
            return;
        }
        let prefix_len = self.address.rx().map_or(0, |l| l.prefix_len());
        let body = &frame.data()[prefix_len.min(can_dl)..];
        let pdu = match decode(body, can_dl, prefix_len) {
            Ok(pdu) => pdu,
            Err(error) => {
                self.events.push_back(IsoTpEvent::Error(error));
                return;
            }
        };
        if target == TargetAddressType::Functional && !matches!(pdu, Pdu::Single { .. }) {
            let msg = "only single frames may use functional addressing; ignored".to_string();
            self.report(IsoTpErrorCode::InvalidFrame, msg);
            return;
        }
        if let Pdu::FlowControl {
            status,
            blocksize,
            stmin,
        } = pdu
        {
            let (tx, mut cx) = self.tx_cx();
            tx.handle_flow_control(now, status, blocksize, stmin, &mut cx);
            return;
        }
        let meta = RxMeta {
            can_dl,
            prefix_len,
            target,
        };
        let mut cx = RxContext {
            params: &self.params,
            events: &mut self.events,
        };
        self.rx.handle_pdu(now, pdu, meta, &mut cx);
    }

    fn report(&mut self, code: IsoTpErrorCode, message: String) {
        self.events
            .push_back(IsoTpEvent::Error(IsoTpError::new(code, message)));
    }

    /// The next frame to put on the bus at `now`: flow control first, then data.
    /// Consecutive frames are released only once `now >= last CF + STmin`.
    pub fn poll_transmit(&mut self, now: u64) -> Option<Frame> {
        if let Some(frame) = self.rx.poll_transmit(now, &self.params, self.address.tx()) {
            return Some(frame);
        }
        let (tx, mut cx) = self.tx_cx();
        tx.poll_transmit(now, &mut cx)
    }

    /// The next instant something is due: a frame to send (STmin elapsed, rate
    /// limiter window moved) or a timeout. An instant at or before the current
    /// time means: call `poll_transmit` / `handle_timeout` now. `None`: idle.
    pub fn poll_timeout(&self) -> Option<u64> {
        let tx = self
            .tx
            .next_deadline(&self.params, self.address.tx(), &self.limiter);
        let rx = self.rx.next_deadline(self.address.tx().is_some());
        match (tx, rx) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires every timer due at `now` (N_Bs, N_Cr).
    pub fn handle_timeout(&mut self, now: u64) {
        self.tx.handle_timeout(now, &mut self.events, &self.params);
        let mut cx = RxContext {
            params: &self.params,
            events: &mut self.events,
        };
        self.rx.handle_timeout(now, &mut cx);
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<IsoTpEvent> {
        self.events.pop_front()
    }

    /// True if a received payload waits in the event queue.
    pub fn available(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, IsoTpEvent::Received { .. }))
    }

    /// True while a transfer is in progress or queued.
    pub fn transmitting(&self) -> bool {
        self.tx.busy()
    }

    /// True while a segmented payload is being received.
    pub fn receiving(&self) -> bool {
        self.rx.receiving()
    }

    /// Tells the endpoint when the frames `poll_transmit` handed out actually
    /// went to the bus (a driver calls this once its send returned). STmin
    /// then counts from that instant, so a slow send never makes the next
    /// consecutive frame early on the wire. Without it STmin counts from the
    /// `now` of `poll_transmit`.
    pub fn transmitted_at(&mut self, at: u64) {
        self.tx.transmitted_at(at);
    }

    /// Abandons the transfer in progress and every queued one; each gets a
    /// `TransmitFailed` event with `ERR_ISOTP_SEND_STOPPED`.
    pub fn stop_sending(&mut self) {
        self.tx.stop(&mut self.events, "stop_sending() was called");
    }

    /// Fails the transfer in progress with `code` (a driver whose frames
    /// did not leave in time: no echo within N_As); queued ones still go.
    pub fn fail_sending(&mut self, code: IsoTpErrorCode, message: impl Into<String>) {
        self.tx.fail_active(&mut self.events, code, message.into());
    }

    /// Abandons the reception in progress and any flow control not yet sent.
    pub fn stop_receiving(&mut self) {
        self.rx.stop();
    }

    /// Switches to a new address. Receptions and the transfer in progress are
    /// abandoned (the latter reported with `ERR_ISOTP_SEND_STOPPED`); queued
    /// payloads go out with the new address if they still can.
    pub fn set_address(&mut self, address: IsoTpAddress) {
        self.address = address;
        self.rx.stop();
        self.tx.abort_active(
            &mut self.events,
            "set_address() was called during the transfer",
        );
        let params = &self.params;
        let link = self.address.tx();
        self.tx.retain_queued(&mut self.events, |len, target| {
            check_payload(params, link, len, target)
        });
    }
}
