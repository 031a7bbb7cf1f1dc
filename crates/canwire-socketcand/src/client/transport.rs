//! [`SocketcandTransport`]: a canwire bus on a socketcand server, raw mode.
//!
//! Sends never block on the network: they go into a bounded queue the
//! connection task writes from (a full queue takes fewer frames, and the bus
//! waits for room or fails with `ERR_TX_BUFFER_FULL`). While the connection
//! is down, sends fail with `ERR_UNREACHABLE` and the state is `unknown`;
//! each loss counts as a receive error in `stats()` (frames the server
//! received meanwhile never reach this bus), with a message naming the gap.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use canwire_bus::ReaderSet;
use canwire_bus::readiness::StateCell;
use canwire_bus::stats::ReceiveErrors;
use canwire_bus::sync_util::lock;
use canwire_bus::transport::{BusState, Protocol, Transport};
use canwire_core::error::Result;
use canwire_core::filter::FilterSet;
use canwire_core::{CanwireError, ErrorCode, Frame};
use tokio::sync::{Notify, watch};

use super::config::ClientConfig;
use super::link;
use super::server_filters::{self, IdKey};

#[derive(Default)]
struct TxQueue {
    frames: VecDeque<Frame>,
    connected: bool,
    closed: bool,
}

/// State shared by the transport and its connection task.
pub struct ClientShared {
    pub(crate) config: ClientConfig,
    pub(crate) readers: Arc<ReaderSet>,
    tx: Mutex<TxQueue>,
    room: Condvar,
    pub(crate) wake_link: Notify,
    state: Arc<StateCell<BusState>>,
    pub(crate) shutdown: watch::Sender<bool>,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
    tx_lost: AtomicU64,
    /// The ids the server should send (`filtering: "server"`); `None`: every frame.
    server_filters: Mutex<Option<Vec<IdKey>>>,
}

impl ClientShared {
    /// `host:port`.
    pub fn endpoint(&self) -> String {
        format!("{}:{}", self.config.host, self.config.port)
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        lock(&self.tx).connected = connected;
        self.room.notify_all();
        self.state.set_if_changed(if connected {
            BusState::Active
        } else {
            BusState::Unknown
        });
    }

    fn record_error(&self, message: String) {
        self.errors.fetch_add(1, Relaxed);
        *lock(&self.last_error) = Some(message);
    }

    pub(crate) fn remote_error(&self, message: &str) {
        self.record_error(format!(
            "socketcand at {} answered '< error {message} >'",
            self.endpoint()
        ));
    }

    pub(crate) fn gap_began(&self, reason: &str) {
        let queued = {
            let mut tx = lock(&self.tx);
            let n = tx.frames.len();
            tx.frames.clear();
            n
        };
        self.count_tx_lost(queued);
        self.record_error(format!(
            "lost the connection to socketcand at {} ({reason}); reconnecting, frames on the bus meanwhile are not received",
            self.endpoint()
        ));
    }

    pub(crate) fn gap_ended(&self, lasted: Duration, reason: &str) {
        *lock(&self.last_error) = Some(format!(
            "the connection to socketcand at {} was down for {} ms ({reason}); frames on the bus meanwhile were not received; {} queued send(s) were lost",
            self.endpoint(),
            lasted.as_millis(),
            self.tx_lost.load(Relaxed)
        ));
    }

    pub(crate) fn server_tasks_lost(&self, reason: &str) {
        self.record_error(format!(
            "lost the connection that runs the server-side cyclic tasks on socketcand at {} ({reason}); those tasks have ended",
            self.endpoint()
        ));
    }

    /// The server-side subscriptions the bus's filters ask for (`None`: raw mode).
    pub(crate) fn server_filters(&self) -> Option<Vec<IdKey>> {
        lock(&self.server_filters).clone()
    }

    pub(crate) fn watch_lost(&self, id: u32, reason: &str) {
        self.record_error(format!(
            "lost the connection that runs the server-side watch of id 0x{id:X} on socketcand at {} ({reason}); the watch has ended",
            self.endpoint()
        ));
    }

    pub(crate) fn count_tx_lost(&self, n: usize) {
        self.tx_lost.fetch_add(n as u64, Relaxed);
    }

    pub(crate) fn take_outgoing(&self, out: &mut Vec<Frame>) {
        out.extend(lock(&self.tx).frames.drain(..));
        self.room.notify_all();
    }
}

/// A bus on a socketcand server.
pub struct SocketcandTransport {
    shared: Arc<ClientShared>,
    bcm: Option<Arc<super::server_cyclic::BcmLink>>,
}

impl SocketcandTransport {
    /// Connects and runs the handshake, blocking the calling thread until it
    /// ends (at most `connect_timeout`); the connection then lives on the
    /// crate's runtime. Received frames go to `readers`.
    pub fn connect(config: ClientConfig, readers: Arc<ReaderSet>) -> Result<Self> {
        if config.channel.is_empty()
            || config.channel.len() > 15
            || config
                .channel
                .contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
        {
            return Err(CanwireError::invalid_argument(format!(
                "'{}' is not a socketcand bus name: 1..15 characters without spaces, '<' or '>'",
                config.channel
            )));
        }
        let timeout = config.connect_timeout;
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(ClientShared {
            config,
            readers,
            tx: Mutex::default(),
            room: Condvar::new(),
            wake_link: Notify::new(),
            state: Arc::new(StateCell::new(BusState::Unknown)),
            shutdown,
            errors: AtomicU64::new(0),
            last_error: Mutex::new(None),
            tx_lost: AtomicU64::new(0),
            server_filters: Mutex::new(None),
        });
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        crate::runtime::handle().spawn(link::run(shared.clone(), first_tx));
        let mut transport = Self { shared, bcm: None };
        match first_rx.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(Ok(())) => {
                if transport.shared.config.server_cyclic {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let shared = transport.shared.clone();
                    crate::runtime::handle().spawn(async move {
                        let _ = tx.send(super::server_cyclic::BcmLink::open(shared).await);
                    });
                    let link =
                        rx.recv_timeout(timeout + Duration::from_secs(1))
                            .map_err(|_| {
                                CanwireError::new(
                                    ErrorCode::Unreachable,
                                    "socketcand: no BCM handshake in time",
                                )
                            })??;
                    transport.bcm = Some(link);
                }
                Ok(transport)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CanwireError::new(
                ErrorCode::Unreachable,
                format!(
                    "socketcand at {}: no handshake in time",
                    transport.shared.endpoint()
                ),
            )),
        }
    }

    /// Sends the server lost for good: queued when the connection broke.
    pub fn tx_lost(&self) -> u64 {
        self.shared.tx_lost.load(Relaxed)
    }
}

impl Transport for SocketcandTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        for f in frames {
            if f.is_remote() || f.is_error() {
                return Err(CanwireError::new(
                    ErrorCode::Unsupported,
                    "socketcand cannot send remote or error frames; send data frames",
                ));
            }
        }
        let mut tx = lock(&self.shared.tx);
        if tx.closed {
            return Err(CanwireError::closed("the bus"));
        }
        if !tx.connected {
            return Err(CanwireError::new(
                ErrorCode::Unreachable,
                format!(
                    "the connection to socketcand at {} is down (reconnecting); nothing was sent",
                    self.shared.endpoint()
                ),
            ));
        }
        let room = self
            .shared
            .config
            .tx_queue_frames
            .saturating_sub(tx.frames.len());
        let n = room.min(frames.len());
        tx.frames.extend(frames[..n].iter().copied());
        drop(tx);
        if n > 0 {
            self.shared.wake_link.notify_one();
        }
        Ok(n)
    }

    fn wait_writable(&self, timeout: Duration) -> Result<bool> {
        let tx = lock(&self.shared.tx);
        let limit = self.shared.config.tx_queue_frames;
        let (tx, _) = self
            .shared
            .room
            .wait_timeout_while(tx, timeout, |t| {
                !t.closed && t.connected && t.frames.len() >= limit
            })
            .map_err(|_| {
                CanwireError::new(
                    ErrorCode::Internal,
                    "the transmit queue's lock was poisoned",
                )
            })?;
        Ok(tx.frames.len() < limit || tx.closed || !tx.connected)
    }

    fn cyclic_backend(
        &self,
        frames: &[Frame],
        timing: &canwire_core::cyclic::CyclicTiming,
        _hooks: &canwire_bus::cyclic::TaskHooks,
    ) -> Option<Result<Box<dyn canwire_bus::cyclic::CyclicBackend>>> {
        let link = self.bcm.clone()?;
        let period_us = match super::server_cyclic::server_period_us(frames, timing) {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let shared = self.shared.clone();
        let send_now = Box::new(move |frame: &Frame| {
            let mut tx = lock(&shared.tx);
            if !tx.connected || tx.frames.len() >= shared.config.tx_queue_frames {
                return Err(CanwireError::new(
                    ErrorCode::Unreachable,
                    "socketcand: the first frame of the task could not be queued",
                ));
            }
            tx.frames.push_back(*frame);
            drop(tx);
            shared.wake_link.notify_one();
            Ok(())
        });
        Some(Ok(Box::new(super::server_cyclic::ServerCyclicTask::new(
            link, frames[0], period_us, send_now,
        ))))
    }

    fn watch_backend(
        &self,
        config: &canwire_core::watch::WatchConfig,
        queue: &Arc<canwire_bus::watch::queue::WatchQueue>,
    ) -> Option<Result<Arc<dyn canwire_bus::watch::WatchBackend>>> {
        if !self.shared.config.server_filtering {
            return None;
        }
        if lock(&self.shared.tx).closed {
            return Some(Err(CanwireError::closed("the bus")));
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (shared, config, queue) = (self.shared.clone(), config.clone(), queue.clone());
        crate::runtime::handle().spawn(async move {
            let _ = tx.send(super::server_watch::ServerWatch::open(shared, config, queue).await);
        });
        let timeout = self.shared.config.connect_timeout + Duration::from_secs(1);
        Some(match rx.recv_timeout(timeout) {
            Ok(Ok(watch)) => Ok(watch as Arc<dyn canwire_bus::watch::WatchBackend>),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CanwireError::new(
                ErrorCode::Unreachable,
                "socketcand: no BCM handshake for the watch in time",
            )),
        })
    }

    fn state_watch(&self) -> Option<Arc<StateCell<BusState>>> {
        Some(self.shared.state.clone())
    }

    fn protocol(&self) -> Protocol {
        Protocol::opened_with_fd(self.shared.config.fd)
    }

    fn channel_info(&self) -> String {
        format!(
            "socketcand bus '{}' at {}",
            self.shared.config.channel,
            self.shared.endpoint()
        )
    }

    fn channel_name(&self, index: u32) -> Option<String> {
        (index == 0).then(|| self.shared.config.channel.clone())
    }

    fn state(&self) -> BusState {
        self.shared.state.get().0
    }

    fn apply_filters(&self, filters: &FilterSet) -> Result<()> {
        if !self.shared.config.server_filtering {
            return Ok(());
        }
        let wanted = server_filters::subscriptions(filters)?;
        *lock(&self.shared.server_filters) = wanted;
        self.shared.wake_link.notify_one();
        Ok(())
    }

    fn flush_tx_buffer(&self) -> Result<()> {
        lock(&self.shared.tx).frames.clear();
        self.shared.room.notify_all();
        Ok(())
    }

    fn receive_errors(&self) -> ReceiveErrors {
        ReceiveErrors {
            count: self.shared.errors.load(Relaxed),
            last: lock(&self.shared.last_error).clone(),
        }
    }

    fn close(&self) {
        lock(&self.shared.tx).closed = true;
        self.shared.room.notify_all();
        let _ = self.shared.shutdown.send(true);
    }
}

impl Drop for SocketcandTransport {
    fn drop(&mut self) {
        self.close();
    }
}
