//! The kernel's ISO-TP stack (Linux can-isotp, 5.10+) behind the same
//! surface as the userspace [`IsoTpDriver`](crate::isotp::IsoTpDriver):
//! payloads in a bounded [`Inbox`], tracked transfers, protocol errors with
//! the same codes.
//!
//! - [`uapi`]: the `linux/can/isotp.h` definitions libc lacks
//! - [`plan`]: canwire's address and parameters as socket options (the mapping table)
//! - [`socket`]: creating, configuring, binding, reading and writing one socket
//! - [`errno`]: the kernel's errno values as ISO-TP error codes
//! - [`session`]: the sockets and their receive and send threads
//!
//! Differences from the userspace stack, all from the kernel's interface:
//! N_Bs and N_Cr are fixed at 1 s; a transfer the kernel is running cannot
//! be aborted (`stop_sending` drops queued payloads only; `stop_receiving`
//! does nothing); WAIT frames are accepted without limit; there is no rate
//! limiter; a payload above `max_frame_size` but within the kernel's limit
//! is received and then dropped (reported as `ERR_ISOTP_FRAME_TOO_LONG`)
//! instead of being refused with an OVERFLOW flow control.

pub mod errno;
pub mod plan;
pub mod rx_thread;
pub mod session;
pub mod socket;
pub mod tx_thread;
pub mod uapi;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canwire_core::error::Result;
use canwire_core::isotp::transmitter::check_payload;
use canwire_core::isotp::{IsoTpAddress, IsoTpError, IsoTpParams, TargetAddressType, TransferId};
use canwire_core::{CanwireError, ErrorCode};

use crate::isotp::{Inbox, IsoTpStats, KernelIsoTpOptions, ReceivedPayload, TransferStatus};
use crate::sync_util::lock;
use session::{Job, RunningSession};

struct Config {
    channel: String,
    address: IsoTpAddress,
    params: IsoTpParams,
    options: KernelIsoTpOptions,
}

/// An ISO-TP endpoint on kernel can-isotp sockets.
pub struct KernelIsoTp {
    config: Mutex<Config>,
    session: Mutex<Option<RunningSession>>,
    inbox: Arc<Inbox>,
    next_id: AtomicU64,
    closed: AtomicBool,
}

impl KernelIsoTp {
    /// Opens the sockets on interface `channel` and starts receiving.
    pub fn open(
        channel: &str,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: KernelIsoTpOptions,
        rx_queue_payloads: usize,
    ) -> Result<Self> {
        let inbox = Arc::new(Inbox::new(rx_queue_payloads));
        let config = Config {
            channel: channel.to_string(),
            address,
            params,
            options,
        };
        let running = Self::start_session(&config, &inbox)?;
        Ok(Self {
            config: Mutex::new(config),
            session: Mutex::new(Some(running)),
            inbox,
            next_id: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        })
    }

    fn start_session(config: &Config, inbox: &Arc<Inbox>) -> Result<RunningSession> {
        if config.channel.is_empty() {
            return Err(CanwireError::invalid_argument(
                "the kernel ISO-TP socket needs one interface: give a channel such as 'vcan0'",
            ));
        }
        let plan = plan::plan(&config.address, &config.params, &config.options)?;
        RunningSession::start(&plan, &config.channel, inbox.clone())
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(CanwireError::closed("the ISO-TP socket"))
        } else {
            Ok(())
        }
    }

    /// Queues a payload for the send thread. With `track`, its outcome can be
    /// awaited through [`KernelIsoTp::inbox`].
    pub fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        self.check_open()?;
        let target = {
            let config = lock(&self.config);
            let target = target.unwrap_or(config.params.default_target_address_type);
            check_payload(&config.params, config.address.tx(), payload.len(), target)?;
            target
        };
        let session = lock(&self.session);
        let Some(running) = session.as_ref() else {
            return Err(CanwireError::new(
                ErrorCode::Closed,
                "the ISO-TP stack is stopped; call start() first",
            ));
        };
        let id = TransferId(self.next_id.fetch_add(1, Ordering::Relaxed));
        if track {
            self.inbox.track(id);
        }
        let s = &running.session;
        s.queue().jobs.push_back(Job {
            id,
            payload,
            target,
        });
        s.queue_changed.notify_all();
        Ok(id)
    }

    /// The mailbox of received payloads and transfer results, to wait on.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The status of a tracked transfer; a finished one is forgotten once read.
    pub fn take_status(&self, id: TransferId) -> Option<TransferStatus> {
        self.inbox.take_status(id)
    }

    /// Stops tracking a transfer.
    pub fn forget(&self, id: TransferId) {
        self.inbox.forget(id);
    }

    /// Takes the oldest received payload.
    pub fn try_recv(&self) -> Option<ReceivedPayload> {
        self.inbox.pop_payload()
    }

    /// Blocks until a payload arrives, the stack closes, or `timeout` passes.
    pub fn recv_blocking(&self, timeout: Duration) -> Option<ReceivedPayload> {
        self.inbox.wait_payload_blocking(timeout);
        self.try_recv()
    }

    /// True if a received payload is waiting.
    pub fn available(&self) -> bool {
        self.inbox.payloads_waiting() > 0
    }

    /// True while a payload is queued or being sent.
    pub fn transmitting(&self) -> bool {
        lock(&self.session).as_ref().is_some_and(|r| {
            let queue = r.session.queue();
            queue.current.is_some() || !queue.jobs.is_empty()
        })
    }

    /// Fails the queued payloads; the transfer the kernel is running goes on.
    pub fn stop_sending(&self) {
        if let Some(r) = lock(&self.session).as_ref() {
            r.session
                .fail_queued("stop_sending() dropped the queued payload");
        }
    }

    /// Does nothing: the kernel offers no way to drop a reception in progress.
    pub fn stop_receiving(&self) {}

    /// Changes the address: the sockets are replaced (queued payloads fail).
    pub fn set_address(&self, address: IsoTpAddress) -> Result<()> {
        self.check_open()?;
        let mut config = lock(&self.config);
        plan::plan(&address, &config.params, &config.options)?;
        config.address = address;
        let mut session = lock(&self.session);
        if let Some(old) = session.take() {
            old.stop("set_address() replaced the sockets");
            *session = Some(Self::start_session(&config, &self.inbox)?);
        }
        Ok(())
    }

    /// Reopens the sockets after [`KernelIsoTp::pause`].
    pub fn resume(&self) -> Result<()> {
        self.check_open()?;
        let config = lock(&self.config);
        let mut session = lock(&self.session);
        if session.is_none() {
            *session = Some(Self::start_session(&config, &self.inbox)?);
        }
        Ok(())
    }

    /// Closes the sockets (queued payloads fail; frames arriving meanwhile are not seen).
    pub fn pause(&self) {
        if let Some(old) = lock(&self.session).take() {
            old.stop("stop() closed the ISO-TP socket");
        }
    }

    /// True unless paused or closed.
    pub fn is_running(&self) -> bool {
        !self.closed.load(Ordering::Acquire) && lock(&self.session).is_some()
    }

    /// Takes the recent protocol errors.
    pub fn take_errors(&self) -> Vec<IsoTpError> {
        self.inbox.take_errors()
    }

    /// Counters.
    pub fn stats(&self) -> IsoTpStats {
        self.inbox.stats()
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the sockets and wakes every waiter. Idempotent.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.pause();
        self.inbox.close();
    }
}

impl Drop for KernelIsoTp {
    fn drop(&mut self) {
        self.close();
    }
}
