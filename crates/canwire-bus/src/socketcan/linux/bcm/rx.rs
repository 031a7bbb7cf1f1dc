//! [`BcmWatch`]: a watch on one CAN id run by the kernel (RX_SETUP).
//!
//! Each watch has a BCM socket of its own: the kernel keys RX jobs by the CAN
//! id they filter, so two watches of one id could not share a socket. The job:
//! - without a change mask, `RX_FILTER_ID` (every frame of the id is reported);
//!   with one, a single mask frame whose data are the bits to compare, and
//!   `RX_CHECK_DLC` for length changes;
//! - `SETTIMER | STARTTIMER` with `ival1` = the timeout (one RX_TIMEOUT, re-armed
//!   by each frame), `ival2` = the throttle time, `RX_ANNOUNCE_RESUME`;
//! - `CAN_FD_FRAME` for FD frames, `CAN_EFF_FLAG` in the id for 29-bit ids.
//!
//! A thread per watch turns RX_CHANGED and RX_TIMEOUT messages into events.
//! The kernel sees every frame of the interface, this host's own included,
//! whatever the bus's filters and `receiveOwnMessages`.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use canwire_core::error::Result;
use canwire_core::watch::{WatchConfig, WatchEventKind};
use canwire_core::{CanwireError, FrameFlags};

use super::msg::{
    self, CAN_FD_FRAME, HEAD_SIZE, Head, RX_ANNOUNCE_RESUME, RX_CHECK_DLC, RX_FILTER_ID, SETTIMER,
    STARTTIMER,
};
use super::socket::BcmSocket;
use crate::socketcan::codec::decode;
use crate::socketcan::sys::{
    CAN_EFF_FLAG, CAN_MTU, CANFD_MTU, CanFdFrame, eventfd, os_error, readable_unless_woken,
    signal_eventfd,
};
use crate::time::realtime_ns;
use crate::watch::queue::{BusWatchEvent, WatchQueue};

/// A kernel watch: its socket, its event thread.
pub struct BcmWatch {
    wake: Arc<OwnedFd>,
    thread: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
    queue: Arc<WatchQueue>,
}

fn micros(name: &str, ns: Option<u64>) -> Result<u64> {
    let Some(ns) = ns else { return Ok(0) };
    let us = (ns + 500) / 1000;
    if us == 0 {
        return Err(CanwireError::invalid_argument(format!(
            "the broadcast manager counts time in whole microseconds: {name} must be at least 0.001 ms"
        )));
    }
    Ok(us)
}

/// The RX_SETUP request for `config`.
fn setup_request(config: &WatchConfig) -> Result<Vec<u8>> {
    let mut flags = 0;
    if config.timeout_ns.is_some() || config.throttle_ns.is_some() {
        flags |= SETTIMER;
    }
    if config.timeout_ns.is_some() {
        flags |= STARTTIMER;
    }
    if config.announce_resume {
        flags |= RX_ANNOUNCE_RESUME;
    }
    if config.fd {
        flags |= CAN_FD_FRAME;
    }
    let can_id = config.id | if config.extended { CAN_EFF_FLAG } else { 0 };
    let mut frames = Vec::new();
    match &config.change_mask {
        None => flags |= RX_FILTER_ID,
        Some(mask) => {
            if config.check_dlc {
                flags |= RX_CHECK_DLC;
            }
            let mut frame = CanFdFrame {
                can_id,
                len: if config.fd { 64 } else { 8 },
                ..CanFdFrame::default()
            };
            frame.data[..mask.len()].copy_from_slice(mask);
            frames.push(frame);
        }
    }
    let head = Head {
        opcode: msg::RX_SETUP,
        flags,
        count: 0,
        ival1_us: micros("timeoutMs", config.timeout_ns)?,
        ival2_us: micros("throttleMs", config.throttle_ns)?,
        can_id,
    };
    Ok(msg::encode(&head, &frames))
}

impl BcmWatch {
    /// Sets up the kernel job on a new socket connected to `ifindex` (0: all
    /// interfaces) and starts the thread delivering its events to `queue`.
    pub fn open(ifindex: u32, config: &WatchConfig, queue: Arc<WatchQueue>) -> Result<Arc<Self>> {
        config.validate()?;
        let request = setup_request(config)?;
        let socket = BcmSocket::connect(ifindex)?;
        socket
            .send(&request, None)
            .map_err(|errno| os_error("the broadcast manager request RX_SETUP", errno))?;
        let wake = Arc::new(eventfd()?);
        let kind = if config.change_mask.is_some() {
            WatchEventKind::Changed
        } else {
            WatchEventKind::Received
        };
        let (w, q) = (wake.clone(), queue.clone());
        let thread = std::thread::Builder::new()
            .name("canwire-bcm-watch".into())
            .spawn(move || run(&socket, &w, &q, kind))
            .map_err(|e| os_error("starting a watch thread", e.raw_os_error().unwrap_or(0)))?;
        Ok(Arc::new(Self {
            wake,
            thread: Mutex::new(Some(thread)),
            closed: AtomicBool::new(false),
            queue,
        }))
    }

    /// Stops the thread and closes the socket (the kernel drops the job). Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        signal_eventfd(&self.wake);
        crate::sync_util::join_unless_current(&self.thread);
        self.queue.close();
    }
}

impl crate::watch::WatchBackend for BcmWatch {
    fn in_kernel(&self) -> bool {
        true
    }

    fn close(&self) {
        BcmWatch::close(self);
    }
}

impl Drop for BcmWatch {
    fn drop(&mut self) {
        self.close();
    }
}

fn run(socket: &BcmSocket, wake: &OwnedFd, queue: &WatchQueue, kind: WatchEventKind) {
    let mut buf = vec![0u8; HEAD_SIZE + CANFD_MTU];
    loop {
        if !readable_unless_woken(socket.fd().as_raw_fd(), wake.as_raw_fd()) {
            break;
        }
        loop {
            match socket.recv(&mut buf) {
                Ok(Some(r)) => {
                    if let Some(event) = event_of(&buf[..r.len], &r, kind) {
                        queue.push(event);
                    }
                }
                Ok(None) => break,
                // The interface went away: its job is gone, nothing more will come.
                Err(libc::ENODEV) => {
                    queue.close();
                    return;
                }
                // ENETDOWN: the job stays and resumes with the interface.
                Err(_) => break,
            }
        }
    }
    queue.close();
}

fn event_of(
    bytes: &[u8],
    r: &super::socket::Received,
    kind: WatchEventKind,
) -> Option<BusWatchEvent> {
    let (head, frames) = msg::decode(bytes)?;
    let timestamp_ns = r.timestamp_ns.unwrap_or_else(realtime_ns);
    match head.opcode {
        msg::RX_TIMEOUT => Some(BusWatchEvent {
            kind: WatchEventKind::Timeout,
            frame: None,
            timestamp_ns,
        }),
        msg::RX_CHANGED => {
            let size = if head.flags & CAN_FD_FRAME != 0 {
                CANFD_MTU
            } else {
                CAN_MTU
            };
            let mut frame = decode(frames.first()?, size, timestamp_ns, r.ifindex)?;
            if r.local {
                frame.flags.set(FrameFlags::TX, true);
            }
            Some(BusWatchEvent {
                kind,
                frame: Some(frame),
                timestamp_ns,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_requests_carry_the_options() {
        let config = WatchConfig {
            id: 0x1234,
            extended: true,
            timeout_ns: Some(100_000_000),
            change_mask: Some(vec![0xFF, 0x0F]),
            check_dlc: true,
            throttle_ns: Some(20_000_000),
            announce_resume: true,
            ..WatchConfig::default()
        };
        let (head, frames) = msg::decode(&setup_request(&config).unwrap()).unwrap();
        assert_eq!(head.opcode, msg::RX_SETUP);
        assert_eq!(
            head.flags,
            SETTIMER | STARTTIMER | RX_ANNOUNCE_RESUME | RX_CHECK_DLC
        );
        assert_eq!((head.ival1_us, head.ival2_us), (100_000, 20_000));
        assert_eq!(head.can_id, 0x1234 | CAN_EFF_FLAG);
        assert_eq!(frames.len(), 1);
        assert_eq!(&frames[0].data[..3], &[0xFF, 0x0F, 0]);

        let plain = WatchConfig {
            id: 0x7FF,
            fd: true,
            ..WatchConfig::default()
        };
        let (head, frames) = msg::decode(&setup_request(&plain).unwrap()).unwrap();
        assert_eq!(head.flags, RX_FILTER_ID | CAN_FD_FRAME);
        assert_eq!((head.can_id, head.ival1_us, head.ival2_us), (0x7FF, 0, 0));
        assert!(frames.is_empty());
    }
}
