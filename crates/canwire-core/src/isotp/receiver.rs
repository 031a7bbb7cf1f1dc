//! The receiving half: reassembly of SF/FF/CF, the flow control frames we
//! answer with, N_Cr supervision, and listen mode (no FC of our own; the
//! observed receiver's FC frames restart the timer instead).
//!
//! The receiver never sends WAIT frames (like the Linux kernel): payloads are
//! handed to the driver as events, so there is no buffer to wait for.

use std::collections::VecDeque;

use super::address::{LinkAddress, TargetAddressType};
use super::event::{IsoTpError, IsoTpErrorCode, IsoTpEvent};
use super::link::build_frame;
use super::params::IsoTpParams;
use super::pci::{FlowStatus, Pdu, fc_bytes, ff_dl_min};
use crate::frame::Frame;

/// Largest buffer reserved up front for a reception; the rest grows as data arrives.
const INITIAL_RESERVE: usize = 1 << 16;

/// What the receiver borrows from its endpoint for one call.
pub(crate) struct RxContext<'a> {
    pub params: &'a IsoTpParams,
    pub events: &'a mut VecDeque<IsoTpEvent>,
}

/// Where a received N_PDU came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RxMeta {
    pub can_dl: usize,
    pub prefix_len: usize,
    pub target: TargetAddressType,
}

#[derive(Debug)]
struct Reception {
    buffer: Vec<u8>,
    total: usize,
    rx_dl: usize,
    next_seq: u8,
    in_block: u32,
    deadline: u64,
}

/// The receiving half of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct Receiver {
    reception: Option<Reception>,
    pending_fc: VecDeque<[u8; 3]>,
}

fn report(events: &mut VecDeque<IsoTpEvent>, code: IsoTpErrorCode, message: String) {
    events.push_back(IsoTpEvent::Error(IsoTpError::new(code, message)));
}

impl Receiver {
    /// True while a segmented payload is being received.
    pub fn receiving(&self) -> bool {
        self.reception.is_some()
    }

    /// Drops the reception in progress and any flow control not yet sent.
    pub fn stop(&mut self) {
        self.reception = None;
        self.pending_fc.clear();
    }

    fn send_fc(&mut self, params: &IsoTpParams, status: FlowStatus) {
        if params.listen_mode {
            return;
        }
        let (bs, stmin) = match status {
            FlowStatus::Overflow => (0, 0),
            _ => (params.blocksize, params.stmin),
        };
        self.pending_fc.push_back(fc_bytes(status, bs, stmin));
    }

    fn interrupt(&mut self, events: &mut VecDeque<IsoTpEvent>, by: &str) {
        if let Some(r) = self.reception.take() {
            let msg = format!(
                "reception of a {}-byte payload ({} received) interrupted by a new {by}; processing the new one",
                r.total,
                r.buffer.len()
            );
            report(events, IsoTpErrorCode::InterruptedByNewFrame, msg);
        }
    }

    /// Handles a single, first or consecutive frame addressed to us.
    pub fn handle_pdu(&mut self, now: u64, pdu: Pdu<'_>, meta: RxMeta, cx: &mut RxContext<'_>) {
        match pdu {
            Pdu::Single { data } => {
                self.interrupt(cx.events, "single frame");
                cx.events.push_back(IsoTpEvent::Received {
                    payload: data.to_vec(),
                    target_address_type: meta.target,
                });
            }
            Pdu::First { total_len, data } => self.handle_first(now, total_len, data, meta, cx),
            Pdu::Consecutive { seq, data } => self.handle_consecutive(now, seq, data, meta, cx),
            Pdu::FlowControl { .. } => {}
        }
    }

    fn handle_first(
        &mut self,
        now: u64,
        total_len: u32,
        data: &[u8],
        meta: RxMeta,
        cx: &mut RxContext<'_>,
    ) {
        let total = total_len as usize;
        let min = ff_dl_min(meta.can_dl, meta.prefix_len);
        if total < min {
            let msg = format!(
                "first frame announces FF_DL {total}, below the minimum {min} for RX_DL {}: it should have been a single frame; ignored",
                meta.can_dl
            );
            report(cx.events, IsoTpErrorCode::InvalidFrame, msg);
            return;
        }
        self.interrupt(cx.events, "first frame");
        if total_len > cx.params.max_frame_size {
            let msg = format!(
                "first frame announces {total} bytes, more than max_frame_size {}; answered OVERFLOW",
                cx.params.max_frame_size
            );
            report(cx.events, IsoTpErrorCode::FrameTooLong, msg);
            self.send_fc(cx.params, FlowStatus::Overflow);
            return;
        }
        let mut buffer = Vec::with_capacity(total.min(INITIAL_RESERVE));
        buffer.extend_from_slice(&data[..data.len().min(total)]);
        self.reception = Some(Reception {
            buffer,
            total,
            rx_dl: meta.can_dl,
            next_seq: 1,
            in_block: 0,
            deadline: now.saturating_add(cx.params.rx_consecutive_frame_timeout_ns),
        });
        self.send_fc(cx.params, FlowStatus::ContinueToSend);
    }

    fn handle_consecutive(
        &mut self,
        now: u64,
        seq: u8,
        data: &[u8],
        meta: RxMeta,
        cx: &mut RxContext<'_>,
    ) {
        let Some(r) = self.reception.as_mut() else {
            report(
                cx.events,
                IsoTpErrorCode::UnexpectedCf,
                "consecutive frame while no reception was in progress; ignored".into(),
            );
            return;
        };
        let remaining = r.total - r.buffer.len();
        let is_short_last = meta.can_dl < r.rx_dl && data.len() >= remaining;
        if meta.can_dl != r.rx_dl && !is_short_last {
            let msg = format!(
                "consecutive frame of {} bytes while RX_DL is {} and {remaining} bytes remain; only the last frame may be shorter; ignored",
                meta.can_dl, r.rx_dl
            );
            report(cx.events, IsoTpErrorCode::ChangingRxDl, msg);
            return;
        }
        if seq != r.next_seq {
            let msg = format!(
                "consecutive frame with sequence number {seq}, expected {}; reception dropped",
                r.next_seq
            );
            self.reception = None;
            report(cx.events, IsoTpErrorCode::WrongSequence, msg);
            return;
        }
        r.buffer
            .extend_from_slice(&data[..data.len().min(remaining)]);
        r.next_seq = (r.next_seq + 1) & 0x0F;
        r.deadline = now.saturating_add(cx.params.rx_consecutive_frame_timeout_ns);
        r.in_block += 1;
        if r.buffer.len() >= r.total {
            let payload = std::mem::take(&mut r.buffer);
            self.reception = None;
            cx.events.push_back(IsoTpEvent::Received {
                payload,
                target_address_type: meta.target,
            });
        } else if cx.params.blocksize != 0 && r.in_block >= cx.params.blocksize as u32 {
            r.in_block = 0;
            self.send_fc(cx.params, FlowStatus::ContinueToSend);
        }
    }

    /// Listen mode: a flow control frame the observed receiver sent.
    pub fn handle_observed_fc(&mut self, now: u64, status: FlowStatus, cx: &mut RxContext<'_>) {
        let Some(r) = self.reception.as_mut() else {
            return;
        };
        match status {
            FlowStatus::ContinueToSend => {
                r.deadline = now.saturating_add(cx.params.rx_consecutive_frame_timeout_ns);
            }
            FlowStatus::Wait => {
                r.deadline = now.saturating_add(cx.params.rx_flowcontrol_timeout_ns);
            }
            FlowStatus::Overflow => {
                let total = r.total;
                self.reception = None;
                let msg = format!(
                    "the observed receiver answered OVERFLOW to a {total}-byte payload; reception dropped"
                );
                report(cx.events, IsoTpErrorCode::OverflowFc, msg);
            }
        }
    }

    /// The next flow control frame to send, if any.
    pub fn poll_transmit(
        &mut self,
        now: u64,
        params: &IsoTpParams,
        link: Option<&LinkAddress>,
    ) -> Option<Frame> {
        let Some(link) = link else {
            self.pending_fc.clear();
            return None;
        };
        let bytes = self.pending_fc.pop_front()?;
        if let Some(r) = self.reception.as_mut() {
            // N_Cr runs from the moment our flow control frame goes out.
            r.deadline = now.saturating_add(params.rx_consecutive_frame_timeout_ns);
        }
        Some(build_frame(
            params,
            link,
            TargetAddressType::Physical,
            &bytes,
        ))
    }

    /// Drops a reception whose next consecutive frame is late (N_Cr).
    pub fn handle_timeout(&mut self, now: u64, cx: &mut RxContext<'_>) {
        let Some(r) = &self.reception else { return };
        if now >= r.deadline {
            let msg = format!(
                "no consecutive frame within N_Cr = {} ms; reception of a {}-byte payload dropped after {} bytes",
                cx.params.rx_consecutive_frame_timeout_ns as f64 / 1e6,
                r.total,
                r.buffer.len()
            );
            self.reception = None;
            report(cx.events, IsoTpErrorCode::NCrTimeout, msg);
        }
    }

    /// The instant something is due: 0 if a flow control frame waits, else the N_Cr deadline.
    pub fn next_deadline(&self, can_send: bool) -> Option<u64> {
        if can_send && !self.pending_fc.is_empty() {
            return Some(0);
        }
        self.reception.as_ref().map(|r| r.deadline)
    }
}
