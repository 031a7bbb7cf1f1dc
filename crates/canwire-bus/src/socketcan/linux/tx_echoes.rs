//! [`TxEchoes`]: the echoes of a raw socket's own frames, for senders that
//! pace on them (the userspace ISO-TP driver).
//!
//! With CAN_RAW_RECV_OWN_MSGS the kernel hands a socket back each frame it
//! sent, marked MSG_CONFIRM, when the interface echoes it: a can-dev driver
//! (or vcan loaded with echo=1) when the frame has left the device queue,
//! vcan with echo=0 (and the CAN core for any device without IFF_ECHO) at
//! once. The option is on while a sink is registered or the bus was opened
//! to receive its own messages; an echo reaches the bus's readers only in
//! the latter case.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use canwire_core::Frame;
use canwire_core::error::Result;

use super::sys::{os_error, set_int_option};
use crate::sync_util;
use crate::transport::{TxEchoInfo, TxEchoSink};

/// The echo sinks of one socket.
pub struct TxEchoes {
    /// The bus was opened with `receive_own_messages`: echoes go to readers too.
    for_readers: bool,
    active: AtomicBool,
    sinks: RwLock<Vec<Arc<dyn TxEchoSink>>>,
}

impl TxEchoes {
    /// No sinks; `for_readers` as the bus was opened.
    pub fn new(for_readers: bool) -> Self {
        Self {
            for_readers,
            active: AtomicBool::new(false),
            sinks: RwLock::default(),
        }
    }

    /// Reports an echo of this socket's own `frame` (MSG_CONFIRM) to the
    /// sinks; true if readers must not get it.
    pub fn claim(&self, frame: &Frame) -> bool {
        if self.active.load(Ordering::Acquire) {
            for sink in sync_util::read(&self.sinks).iter() {
                sink.echoed(frame);
            }
        }
        !self.for_readers
    }

    /// Registers `sink`, turning the socket's own echoes on if needed.
    pub fn add(
        &self,
        socket: &OwnedFd,
        sink: Arc<dyn TxEchoSink>,
        interface: &str,
    ) -> Result<TxEchoInfo> {
        let mut sinks = sync_util::write(&self.sinks);
        if sinks.is_empty() && !self.for_readers {
            set_own_echoes(socket, true)?;
        }
        sinks.push(sink);
        self.active.store(true, Ordering::Release);
        Ok(TxEchoInfo {
            tx_queue_len: tx_queue_len(interface),
        })
    }

    /// Unregisters `sink`; the last one out turns the echoes off again.
    pub fn remove(&self, socket: &OwnedFd, sink: &Arc<dyn TxEchoSink>) {
        let mut sinks = sync_util::write(&self.sinks);
        let before = sinks.len();
        sinks.retain(|s| !Arc::ptr_eq(s, sink));
        if sinks.is_empty() {
            self.active.store(false, Ordering::Release);
            if before > 0 && !self.for_readers {
                // Echoes still queued are claimed (dropped) by the receive thread.
                let _ = set_own_echoes(socket, false);
            }
        }
    }
}

fn set_own_echoes(socket: &OwnedFd, on: bool) -> Result<()> {
    set_int_option(
        socket,
        libc::SOL_CAN_RAW,
        libc::CAN_RAW_RECV_OWN_MSGS,
        i32::from(on),
    )
    .map_err(|errno| os_error("setsockopt(CAN_RAW_RECV_OWN_MSGS)", errno))
}

/// The interface's transmit queue length, where known and non-zero (vcan
/// has none: 0).
fn tx_queue_len(interface: &str) -> Option<usize> {
    if interface.is_empty() || interface.contains('/') {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{interface}/tx_queue_len"))
        .ok()?
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
}
