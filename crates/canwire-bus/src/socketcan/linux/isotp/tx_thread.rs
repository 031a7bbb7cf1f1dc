//! The send thread: one blocking `CAN_ISOTP_WAIT_TX_DONE` write per queued
//! payload, then the transfer's outcome from the write's result and any
//! error the receive thread took meanwhile (see [`super::session`]).

use std::sync::atomic::Ordering;

use canwire_core::isotp::{TargetAddressType, TransferId};

use super::errno::{KernelFailure, classify};
use super::session::{Job, Session};
use super::socket::{take_error, write_pdu};
use crate::isotp::TransferStatus;
use crate::socketcan::sys::os_error;

/// Runs until the session shuts down.
pub fn run(s: &Session) {
    while let Some(job) = next_job(s) {
        let physical = job.target == TargetAddressType::Physical;
        let fd = if physical {
            &s.sockets.physical
        } else {
            &s.sockets.functional_tx
        };
        s.handoff().in_flight = physical;
        let written = write_pdu(fd, &job.payload);
        let mut others = {
            let mut handoff = s.handoff();
            handoff.in_flight = false;
            std::mem::take(&mut handoff.taken)
        };
        // Older kernels return a write error without clearing it: take it here.
        others.push(take_error(fd));
        settle(s, job.id, job.payload.len(), written, &others);
        s.queue().current = None;
    }
}

fn next_job(s: &Session) -> Option<Job> {
    let mut queue = s.queue();
    loop {
        if s.shutdown.load(Ordering::Acquire) {
            return None;
        }
        if let Some(job) = queue.jobs.pop_front() {
            queue.current = Some(job.id);
            return Some(job);
        }
        queue = crate::sync_util::wait(&s.queue_changed, queue);
    }
}

fn os_failure(s: &Session, errno: i32, len: usize) -> canwire_core::CanwireError {
    let mut e = os_error(
        &format!("sending a {len}-byte ISO-TP payload on '{}'", s.channel),
        errno,
    );
    if errno == libc::EINVAL {
        e.message.push_str(
            "; can-isotp refuses payloads above its max_pdu_size (8200 bytes on older kernels, \
             66000 or the module parameter on newer ones)",
        );
    }
    e
}

/// Decides a transfer's status from the write and the other errno values seen.
fn settle(s: &Session, id: TransferId, len: usize, written: Result<(), i32>, others: &[i32]) {
    let mut status = TransferStatus::Complete;
    let mut seen = Vec::new();
    let first = written.err().into_iter();
    for errno in first.chain(others.iter().copied()) {
        if errno == 0 || seen.contains(&errno) {
            continue;
        }
        seen.push(errno);
        match classify(errno, true) {
            KernelFailure::Send(e) if status == TransferStatus::Complete => {
                s.inbox.push_error(e.clone());
                status = TransferStatus::Failed(e);
            }
            KernelFailure::Send(e) | KernelFailure::Receive(e) => s.inbox.push_error(e),
            KernelFailure::Os(errno) => {
                let e = os_failure(s, errno, len);
                s.inbox.push_os_error(&e);
                if status == TransferStatus::Complete {
                    status = TransferStatus::OsFailed(e);
                }
            }
        }
    }
    s.inbox.finish_transfer(id, status);
}
