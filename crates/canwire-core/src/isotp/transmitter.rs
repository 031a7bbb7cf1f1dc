//! The sending half: a queue of payloads, segmentation into SF/FF/CF, and the
//! reaction to flow control (block size, STmin, WAIT, OVERFLOW, N_Bs).

use std::collections::VecDeque;

use super::address::{LinkAddress, TargetAddressType};
use super::event::{IsoTpError, IsoTpErrorCode, IsoTpEvent, TransferId};
use super::link::{build_frame, goes_out_long};
use super::params::{IsoTpParams, stmin_to_ns};
use super::pci::{FlowStatus, ff_header_len, push_ff_header, push_sf_header, short_sf_capacity};
use super::rate_limiter::RateLimiter;
use crate::error::{CanwireError, Result};
use crate::frame::Frame;

/// What the transmitter borrows from its endpoint for one call.
pub(crate) struct TxContext<'a> {
    pub params: &'a IsoTpParams,
    pub link: Option<&'a LinkAddress>,
    pub limiter: &'a mut RateLimiter,
    pub events: &'a mut VecDeque<IsoTpEvent>,
}

#[derive(Debug)]
struct Pending {
    id: TransferId,
    payload: Vec<u8>,
    target: TargetAddressType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    /// The SF or FF is next.
    First,
    /// Waiting for a flow control frame until `deadline` (N_Bs).
    WaitFc { deadline: u64 },
    /// Sending consecutive frames.
    Consecutive,
}

#[derive(Debug)]
struct Active {
    job: Pending,
    state: TxState,
    offset: usize,
    seq: u8,
    blocksize: u8,
    sent_in_block: u32,
    separation_ns: u64,
    last_cf_at: Option<u64>,
    wait_frames: u32,
}

/// The largest payload a single frame can carry with these settings.
pub fn single_frame_capacity(params: &IsoTpParams, prefix_len: usize) -> usize {
    if params.tx_data_length <= 8 {
        short_sf_capacity(prefix_len)
    } else {
        params.tx_data_length as usize - 2 - prefix_len
    }
}

/// Checks that `len` bytes can be sent to `target` with these settings.
pub fn check_payload(
    params: &IsoTpParams,
    link: Option<&LinkAddress>,
    len: usize,
    target: TargetAddressType,
) -> Result<()> {
    let Some(link) = link else {
        return Err(CanwireError::invalid_argument(
            "this endpoint's address is receive-only: give it a transmit address to send",
        ));
    };
    if len == 0 {
        return Err(CanwireError::invalid_argument(
            "an ISO-TP payload needs at least 1 byte",
        ));
    }
    if len > u32::MAX as usize {
        return Err(CanwireError::invalid_argument(format!(
            "payload of {len} bytes is too long: ISO-TP allows at most {} bytes",
            u32::MAX
        )));
    }
    let sf_max = single_frame_capacity(params, link.prefix_len());
    if target == TargetAddressType::Functional && len > sf_max {
        return Err(CanwireError::invalid_argument(format!(
            "functional addressing allows single frames only: at most {sf_max} bytes with these settings, got {len}"
        )));
    }
    Ok(())
}

/// The sending half of an endpoint.
#[derive(Debug, Default)]
pub(crate) struct Transmitter {
    queue: VecDeque<Pending>,
    active: Option<Active>,
    next_id: u64,
}

impl Transmitter {
    /// Queues a checked payload.
    pub fn queue(&mut self, payload: Vec<u8>, target: TargetAddressType) -> TransferId {
        self.next_id += 1;
        let id = TransferId(self.next_id);
        self.queue.push_back(Pending {
            id,
            payload,
            target,
        });
        id
    }

    /// True while a transfer is in progress or queued.
    pub fn busy(&self) -> bool {
        self.active.is_some() || !self.queue.is_empty()
    }

    /// Fails the active transfer and every queued one.
    pub fn stop(&mut self, events: &mut VecDeque<IsoTpEvent>, why: &str) {
        let jobs = self
            .active
            .take()
            .map(|a| a.job)
            .into_iter()
            .chain(self.queue.drain(..));
        for job in jobs {
            let error = IsoTpError::new(IsoTpErrorCode::SendStopped, why);
            events.push_back(IsoTpEvent::TransmitFailed { id: job.id, error });
        }
    }

    /// Fails the active transfer only; queued ones still go.
    pub fn abort_active(&mut self, events: &mut VecDeque<IsoTpEvent>, why: &str) {
        self.fail_active(events, IsoTpErrorCode::SendStopped, why.to_string());
    }

    /// Fails the active transfer with `code`; queued ones still go.
    pub fn fail_active(
        &mut self,
        events: &mut VecDeque<IsoTpEvent>,
        code: IsoTpErrorCode,
        message: String,
    ) {
        if let Some(active) = self.active.take() {
            fail(events, active.job.id, code, message);
        }
    }

    /// Fails queued transfers that `keep` rejects (after an address change).
    pub fn retain_queued(
        &mut self,
        events: &mut VecDeque<IsoTpEvent>,
        mut keep: impl FnMut(usize, TargetAddressType) -> Result<()>,
    ) {
        let mut kept = VecDeque::new();
        for job in self.queue.drain(..) {
            match keep(job.payload.len(), job.target) {
                Ok(()) => kept.push_back(job),
                Err(e) => fail(events, job.id, IsoTpErrorCode::SendStopped, e.message),
            }
        }
        self.queue = kept;
    }

    /// The next frame to send at `now`, if one is due.
    pub fn poll_transmit(&mut self, now: u64, cx: &mut TxContext<'_>) -> Option<Frame> {
        let link = cx.link?;
        if self.active.is_none() {
            let job = self.queue.pop_front()?;
            self.active = Some(Active {
                job,
                state: TxState::First,
                offset: 0,
                seq: 1,
                blocksize: 0,
                sent_in_block: 0,
                separation_ns: 0,
                last_cf_at: None,
                wait_frames: 0,
            });
        }
        let active = self.active.as_mut()?;
        if active.state == TxState::Consecutive && now < active.cf_due() {
            return None;
        }
        if matches!(active.state, TxState::WaitFc { .. }) {
            return None;
        }
        let (frame, advance) = active.next_frame(cx.params, link);
        let bits = frame.len as u64 * 8;
        if !cx.limiter.allows(now, bits) {
            return None;
        }
        cx.limiter.record(now, bits);
        if active.apply(now, advance, cx.params) {
            let id = active.job.id;
            self.active = None;
            cx.events.push_back(IsoTpEvent::TransmitComplete { id });
        }
        Some(frame)
    }

    /// Records that the frames handed out so far left at `at`: STmin before
    /// the next consecutive frame counts from then, not from their release.
    pub fn transmitted_at(&mut self, at: u64) {
        if let Some(last) = self.active.as_mut().and_then(|a| a.last_cf_at.as_mut()) {
            *last = (*last).max(at);
        }
    }

    /// The instant the next frame or timeout is due; at or before the current
    /// time means `poll_transmit` has a frame now.
    pub fn next_deadline(
        &self,
        params: &IsoTpParams,
        link: Option<&LinkAddress>,
        limiter: &RateLimiter,
    ) -> Option<u64> {
        let Some(active) = &self.active else {
            return (!self.queue.is_empty() && link.is_some()).then_some(0);
        };
        let link = link?;
        // Building the frame only to learn its length is skipped when nothing limits the rate.
        let limited_until = || {
            if limiter.is_enabled() {
                limiter.ready_at(active.next_frame(params, link).0.len as u64 * 8)
            } else {
                0
            }
        };
        match active.state {
            TxState::WaitFc { deadline } => Some(deadline),
            TxState::First => Some(limited_until()),
            TxState::Consecutive => Some(active.cf_due().max(limited_until())),
        }
    }

    /// Ends a transfer whose flow control did not come in time (N_Bs).
    pub fn handle_timeout(
        &mut self,
        now: u64,
        events: &mut VecDeque<IsoTpEvent>,
        params: &IsoTpParams,
    ) {
        let Some(active) = &self.active else { return };
        if let TxState::WaitFc { deadline } = active.state
            && now >= deadline
        {
            let id = active.job.id;
            self.active = None;
            let ms = params.rx_flowcontrol_timeout_ns as f64 / 1e6;
            fail(
                events,
                id,
                IsoTpErrorCode::NBsTimeout,
                format!("no flow control frame within N_Bs = {ms} ms"),
            );
        }
    }

    /// Reacts to a flow control frame addressed to us.
    pub fn handle_flow_control(
        &mut self,
        now: u64,
        status: FlowStatus,
        blocksize: u8,
        stmin: u8,
        cx: &mut TxContext<'_>,
    ) {
        use IsoTpErrorCode::*;
        let waiting = matches!(
            self.active.as_ref().map(|a| a.state),
            Some(TxState::WaitFc { .. })
        );
        if !waiting {
            let msg = format!(
                "flow control frame ({status:?}) while no transmission was waiting for one; ignored"
            );
            cx.events
                .push_back(IsoTpEvent::Error(IsoTpError::new(UnexpectedFc, msg)));
            return;
        }
        let Some(active) = self.active.as_mut() else {
            return;
        };
        let params = cx.params;
        match status {
            FlowStatus::ContinueToSend => {
                active.wait_frames = 0;
                active.blocksize = blocksize;
                active.sent_in_block = 0;
                active.separation_ns = params
                    .override_receiver_stmin_ns
                    .unwrap_or_else(|| stmin_to_ns(stmin));
                active.state = TxState::Consecutive;
            }
            FlowStatus::Wait if params.wftmax == 0 => {
                let msg = "the receiver sent a WAIT flow control frame but wftmax is 0 (wait frames unsupported); ignored";
                cx.events.push_back(IsoTpEvent::Error(IsoTpError::new(
                    UnsupportedWaitFrame,
                    msg,
                )));
            }
            FlowStatus::Wait => {
                active.wait_frames += 1;
                if active.wait_frames > params.wftmax {
                    let id = active.job.id;
                    self.active = None;
                    let msg = format!(
                        "the receiver sent more than wftmax = {} WAIT frames in a row",
                        params.wftmax
                    );
                    fail(cx.events, id, WaitFrameLimit, msg);
                } else {
                    active.state = TxState::WaitFc {
                        deadline: now.saturating_add(params.rx_flowcontrol_timeout_ns),
                    };
                }
            }
            FlowStatus::Overflow => {
                let id = active.job.id;
                let len = active.job.payload.len();
                self.active = None;
                fail(
                    cx.events,
                    id,
                    OverflowFc,
                    format!("the receiver answered OVERFLOW to a {len}-byte payload"),
                );
            }
        }
    }
}

fn fail(events: &mut VecDeque<IsoTpEvent>, id: TransferId, code: IsoTpErrorCode, message: String) {
    events.push_back(IsoTpEvent::TransmitFailed {
        id,
        error: IsoTpError::new(code, message),
    });
}

impl Active {
    fn cf_due(&self) -> u64 {
        self.last_cf_at
            .map_or(0, |t| t.saturating_add(self.separation_ns))
    }

    /// The frame for the current state and how many payload bytes it carries.
    fn next_frame(&self, params: &IsoTpParams, link: &LinkAddress) -> (Frame, usize) {
        let payload = &self.job.payload;
        let ae = link.prefix_len();
        let tx_dl = params.tx_data_length as usize;
        let mut body = Vec::with_capacity(64);
        let carried = match self.state {
            TxState::First if payload.len() <= single_frame_capacity(params, ae) => {
                let short = payload.len() <= short_sf_capacity(ae)
                    && !goes_out_long(params, ae + 1 + payload.len());
                push_sf_header(&mut body, payload.len(), !short);
                payload.len()
            }
            TxState::First => {
                let total = payload.len() as u32;
                push_ff_header(&mut body, total);
                tx_dl - ae - ff_header_len(total)
            }
            _ => {
                body.push(0x20 | self.seq);
                (payload.len() - self.offset).min(tx_dl - 1 - ae)
            }
        };
        body.extend_from_slice(&payload[self.offset..self.offset + carried]);
        (build_frame(params, link, self.job.target, &body), carried)
    }

    /// Moves past a frame that carried `carried` bytes; true when the transfer is complete.
    fn apply(&mut self, now: u64, carried: usize, params: &IsoTpParams) -> bool {
        let was_first = self.state == TxState::First;
        self.offset += carried;
        if self.offset >= self.job.payload.len() {
            return true;
        }
        let wait_fc = TxState::WaitFc {
            deadline: now.saturating_add(params.rx_flowcontrol_timeout_ns),
        };
        if was_first {
            self.state = wait_fc;
            return false;
        }
        self.seq = (self.seq + 1) & 0x0F;
        self.last_cf_at = Some(now);
        self.sent_in_block += 1;
        if self.blocksize != 0 && self.sent_in_block >= self.blocksize as u32 {
            self.state = wait_fc;
        }
        false
    }
}
