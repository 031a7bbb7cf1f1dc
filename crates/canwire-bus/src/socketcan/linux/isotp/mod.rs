//! The kernel's ISO-TP stack (Linux can-isotp, 5.10+) as an
//! [`IsoTpBackend`] of [`IsoTpStack`](crate::isotp::IsoTpStack), like the
//! userspace [`IsoTpDriver`](crate::isotp::IsoTpDriver): payloads go to the
//! stack's bounded [`Inbox`], protocol errors carry the same codes.
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use canwire_core::CanwireError;
use canwire_core::error::Result;
use canwire_core::isotp::transmitter::check_payload;
use canwire_core::isotp::{IsoTpAddress, IsoTpParams, TargetAddressType, TransferId};

use crate::isotp::backend::stopped;
use crate::isotp::{Inbox, IsoTpBackend, KernelIsoTpOptions};
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
}

impl KernelIsoTp {
    /// Opens the sockets on interface `channel` and starts receiving into `inbox`.
    pub fn open(
        channel: &str,
        address: IsoTpAddress,
        params: IsoTpParams,
        options: KernelIsoTpOptions,
        inbox: Arc<Inbox>,
    ) -> Result<Self> {
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
}

impl IsoTpBackend for KernelIsoTp {
    /// Queues a payload for the send thread.
    fn send(
        &self,
        payload: Vec<u8>,
        target: Option<TargetAddressType>,
        track: bool,
    ) -> Result<TransferId> {
        let target = {
            let config = lock(&self.config);
            let target = target.unwrap_or(config.params.default_target_address_type);
            check_payload(&config.params, config.address.tx(), payload.len(), target)?;
            target
        };
        let session = lock(&self.session);
        let Some(running) = session.as_ref() else {
            return Err(stopped());
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

    /// True while a payload is queued or being sent.
    fn transmitting(&self) -> bool {
        lock(&self.session).as_ref().is_some_and(|r| {
            let queue = r.session.queue();
            queue.current.is_some() || !queue.jobs.is_empty()
        })
    }

    /// Fails the queued payloads; the transfer the kernel is running goes on.
    fn stop_sending(&self) {
        if let Some(r) = lock(&self.session).as_ref() {
            r.session
                .fail_queued("stop_sending() dropped the queued payload");
        }
    }

    /// Does nothing: the kernel offers no way to drop a reception in progress.
    fn stop_receiving(&self) {}

    /// The sockets are replaced (queued payloads fail).
    fn set_address(&self, address: IsoTpAddress) -> Result<()> {
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

    /// Reopens the sockets.
    fn resume(&self) -> Result<()> {
        let config = lock(&self.config);
        let mut session = lock(&self.session);
        if session.is_none() {
            *session = Some(Self::start_session(&config, &self.inbox)?);
        }
        Ok(())
    }

    /// Closes the sockets (queued payloads fail; frames arriving meanwhile are not seen).
    fn pause(&self) {
        if let Some(old) = lock(&self.session).take() {
            old.stop("stop() closed the ISO-TP socket");
        }
    }

    fn is_running(&self) -> bool {
        lock(&self.session).is_some()
    }

    /// Closes the sockets. Idempotent.
    fn close(&self) {
        self.pause();
    }
}

impl Drop for KernelIsoTp {
    fn drop(&mut self) {
        IsoTpBackend::close(self);
    }
}
