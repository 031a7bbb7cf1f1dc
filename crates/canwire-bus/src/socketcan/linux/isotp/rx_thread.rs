//! The receive thread: polls the receiving sockets and the wake fd, reads
//! whole payloads into the inbox, reports the errors the kernel set.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;

use canwire_core::isotp::{IsoTpError, IsoTpErrorCode, TargetAddressType};

use super::errno::{KernelFailure, classify};
use super::session::Session;
use super::socket::{ReadOutcome, read_pdu};
use crate::isotp::ReceivedPayload;
use crate::socketcan::sys::{os_error, poll};

fn pollfd(fd: &OwnedFd) -> libc::pollfd {
    libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }
}

/// Runs until the session shuts down.
pub fn run(s: &Session) {
    let mut sources: Vec<(&OwnedFd, TargetAddressType)> =
        vec![(&s.sockets.physical, TargetAddressType::Physical)];
    if let Some(f) = &s.sockets.functional_rx {
        sources.push((f, TargetAddressType::Functional));
    }
    let mut fds: Vec<libc::pollfd> = sources.iter().map(|(fd, _)| pollfd(fd)).collect();
    fds.push(pollfd(&s.wake));
    while !s.shutdown.load(Ordering::Acquire) {
        for f in fds.iter_mut() {
            f.revents = 0;
        }
        if let Err(errno) = poll(&mut fds, -1) {
            s.inbox
                .push_os_error(&os_error("poll on an ISO-TP socket", errno));
            break;
        }
        if fds.last().is_some_and(|w| w.revents != 0) {
            break;
        }
        for (i, (fd, target)) in sources.iter().enumerate() {
            if fds[i].revents != 0 && !drain(s, fd, *target) {
                // The interface is gone: poll no longer watches this socket.
                fds[i].fd = -1;
            }
        }
    }
}

/// Reads every waiting payload; after an error returns to poll (which says
/// whether more waits). False once the socket is unusable (its interface vanished).
fn drain(s: &Session, fd: &OwnedFd, target: TargetAddressType) -> bool {
    let shares_errors = target == TargetAddressType::Physical;
    loop {
        let mut handoff = s.handoff();
        match read_pdu(fd) {
            ReadOutcome::Empty => return true,
            ReadOutcome::Payload(data) => {
                drop(handoff);
                deliver(s, data, target);
            }
            ReadOutcome::Error(errno) if shares_errors && handoff.in_flight => {
                handoff.taken.push(errno);
                return true;
            }
            ReadOutcome::Error(errno) => {
                drop(handoff);
                report(s, errno);
                return !matches!(errno, libc::ENODEV | libc::EADDRNOTAVAIL | libc::EBADF);
            }
        }
    }
}

fn deliver(s: &Session, data: Vec<u8>, target: TargetAddressType) {
    if data.len() > s.max_frame_size as usize {
        s.inbox.push_error(IsoTpError::new(
            IsoTpErrorCode::FrameTooLong,
            format!(
                "received a payload of {} bytes, more than max_frame_size {}; dropped \
                 (the kernel socket cannot answer OVERFLOW below its own limit)",
                data.len(),
                s.max_frame_size
            ),
        ));
        return;
    }
    s.inbox.push_payload(ReceivedPayload {
        data,
        target_address_type: target,
    });
}

/// Records an error the kernel set outside a transfer of ours.
pub fn report(s: &Session, errno: i32) {
    match classify(errno, false) {
        KernelFailure::Receive(e) | KernelFailure::Send(e) => s.inbox.push_error(e),
        KernelFailure::Os(errno) => s.inbox.push_os_error(&os_error(
            &format!("receiving ISO-TP payloads on '{}'", s.channel),
            errno,
        )),
    }
}
