//! One running set of kernel sockets with its two threads: the receive
//! thread (poll and read) and the send thread (one blocking write per
//! payload). A stack pauses, resumes or changes address by replacing its session.
//!
//! # Who takes the socket's error
//!
//! The kernel reports failures of both directions through one error slot per
//! socket, and whichever call comes first (the sender's write or the
//! receiver's read) takes it. While a write is in flight the receive thread
//! therefore hands any error it reads to the send thread (under
//! [`Handoff`]'s lock), which settles the transfer's outcome with it.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use canwire_core::error::Result;
use canwire_core::isotp::{IsoTpError, IsoTpErrorCode, TargetAddressType, TransferId};
use canwire_core::{CanwireError, ErrorCode};

use super::plan::KernelPlan;
use super::socket::{configure_and_bind, create};
use super::{rx_thread, tx_thread};
use crate::isotp::{Inbox, TransferStatus};
use crate::socketcan::interfaces::resolve;
use crate::socketcan::sys::{CANFD_MTU, eventfd, signal_eventfd};
use crate::sync_util::lock;

/// The sockets of a session.
pub struct Sockets {
    /// Physical transfers both ways.
    pub physical: OwnedFd,
    /// Functional single frames out.
    pub functional_tx: OwnedFd,
    /// Functional frames in (NormalFixed, Mixed 29-bit).
    pub functional_rx: Option<OwnedFd>,
}

/// A payload waiting for the send thread.
pub struct Job {
    /// Its transfer id.
    pub id: TransferId,
    /// The bytes.
    pub payload: Vec<u8>,
    /// Physical or functional.
    pub target: TargetAddressType,
}

/// The send queue.
#[derive(Default)]
pub struct TxQueue {
    /// Waiting payloads.
    pub jobs: VecDeque<Job>,
    /// The transfer the kernel is running.
    pub current: Option<TransferId>,
}

/// Errors read by the receive thread while a write is in flight.
#[derive(Default)]
pub struct Handoff {
    /// True while the send thread writes on the physical socket.
    pub in_flight: bool,
    /// Errno values the receive thread took meanwhile.
    pub taken: Vec<i32>,
}

/// What the threads share.
pub struct Session {
    /// The sockets.
    pub sockets: Sockets,
    /// Readable when the receive thread should exit.
    pub wake: OwnedFd,
    /// Set when the session ends.
    pub shutdown: AtomicBool,
    /// The send queue and its signal.
    pub queue: Mutex<TxQueue>,
    /// Signals `queue` changes.
    pub queue_changed: Condvar,
    /// The error hand-off between the threads.
    pub handoff: Mutex<Handoff>,
    /// Where payloads, results and errors go.
    pub inbox: Arc<Inbox>,
    /// Received payloads above this are dropped and reported.
    pub max_frame_size: u32,
    /// The interface name, for messages.
    pub channel: String,
}

impl Session {
    /// The send queue.
    pub fn queue(&self) -> MutexGuard<'_, TxQueue> {
        lock(&self.queue)
    }

    /// The error hand-off.
    pub fn handoff(&self) -> MutexGuard<'_, Handoff> {
        lock(&self.handoff)
    }

    /// Fails every queued payload with `ERR_ISOTP_SEND_STOPPED`.
    pub fn fail_queued(&self, why: &str) {
        let jobs: Vec<Job> = self.queue().jobs.drain(..).collect();
        for job in jobs {
            let error = IsoTpError::new(IsoTpErrorCode::SendStopped, why);
            self.inbox.push_error(error.clone());
            self.inbox
                .finish_transfer(job.id, TransferStatus::Failed(error));
        }
    }
}

/// A session and its threads.
pub struct RunningSession {
    /// The shared state.
    pub session: Arc<Session>,
    rx: Option<JoinHandle<()>>,
    tx: Option<JoinHandle<()>>,
}

fn open_socket(plan: &super::plan::SocketPlan, ifindex: u32, channel: &str) -> Result<OwnedFd> {
    let fd = create()?;
    configure_and_bind(&fd, plan, ifindex, channel)?;
    Ok(fd)
}

/// Blocks every signal in the calling thread, so no signal interrupts a
/// kernel wait (an interrupted `CAN_ISOTP_WAIT_TX_DONE` write aborts the transfer).
fn block_signals() {
    // SAFETY: sigfillset initialises the set; pthread_sigmask affects this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&raw mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
    }
}

fn spawn(name: &str, session: &Arc<Session>, body: fn(&Session)) -> Result<JoinHandle<()>> {
    let s = session.clone();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            block_signals();
            body(&s);
        })
        .map_err(|e| {
            CanwireError::new(
                ErrorCode::Os,
                format!("cannot start the {name} thread: {e}"),
            )
        })
}

impl RunningSession {
    /// Opens and binds the sockets of `plan` on `channel` and starts the threads.
    pub fn start(plan: &KernelPlan, channel: &str, inbox: Arc<Inbox>) -> Result<Self> {
        // The first socket comes before the interface lookup, so a kernel
        // without CAN says so rather than "no such interface".
        let physical = create()?;
        let interface = resolve(channel)?;
        let fd_needed = plan.physical.link_layer.mtu as usize == CANFD_MTU;
        if fd_needed && interface.mtu != 0 && interface.mtu as usize != CANFD_MTU {
            return Err(CanwireError::new(
                ErrorCode::Unsupported,
                format!(
                    "'{channel}' is not CAN FD capable (mtu {}, FD needs 72); drop can_fd or set: ip link set {channel} mtu 72",
                    interface.mtu
                ),
            ));
        }
        configure_and_bind(&physical, &plan.physical, interface.index, channel)?;
        let sockets = Sockets {
            physical,
            functional_tx: open_socket(&plan.functional_tx, interface.index, channel)?,
            functional_rx: plan
                .functional_rx
                .as_ref()
                .map(|p| open_socket(p, interface.index, channel))
                .transpose()?,
        };
        let session = Arc::new(Session {
            sockets,
            wake: eventfd()?,
            shutdown: AtomicBool::new(false),
            queue: Mutex::default(),
            queue_changed: Condvar::new(),
            handoff: Mutex::default(),
            inbox,
            max_frame_size: plan.max_frame_size,
            channel: channel.to_string(),
        });
        let rx = spawn("canwire-isotp-rx", &session, rx_thread::run)?;
        let tx = match spawn("canwire-isotp-tx", &session, tx_thread::run) {
            Ok(tx) => tx,
            Err(e) => {
                session.shutdown.store(true, Ordering::Release);
                signal_eventfd(&session.wake);
                let _ = rx.join();
                return Err(e);
            }
        };
        Ok(Self {
            session,
            rx: Some(rx),
            tx: Some(tx),
        })
    }

    /// Ends the session: queued payloads fail, the receive thread stops. A
    /// transfer the kernel is running cannot be aborted: its thread finishes
    /// it in the background and then releases the sockets.
    pub fn stop(mut self, why: &str) {
        let s = &self.session;
        s.shutdown.store(true, Ordering::Release);
        s.fail_queued(why);
        s.queue_changed.notify_all();
        signal_eventfd(&s.wake);
        if let Some(rx) = self.rx.take() {
            let _ = rx.join();
        }
        let busy = s.queue().current.is_some();
        if let Some(tx) = self.tx.take()
            && !busy
        {
            let _ = tx.join();
        }
    }
}

impl Drop for RunningSession {
    fn drop(&mut self) {
        if self.rx.is_some() {
            let s = &self.session;
            s.shutdown.store(true, Ordering::Release);
            s.queue_changed.notify_all();
            signal_eventfd(&s.wake);
        }
    }
}
