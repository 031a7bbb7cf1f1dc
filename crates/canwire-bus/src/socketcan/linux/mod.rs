//! SocketCAN on Linux. [`SocketCanTransport`] is the raw backend: one
//! CAN_RAW socket on a named interface or on all CAN interfaces, a native
//! receive thread draining it with `recvmmsg`, non-blocking sends with a
//! writability wait. Beside it: the broadcast manager ([`bcm`]) and the
//! kernel's ISO-TP sockets ([`isotp`]).
//!
//! Received frames carry the source interface index as their channel;
//! `channel_name` maps it back to the name.

pub mod bcm;
pub mod can_netlink;
pub mod codec;
pub mod configure;
pub mod controller;
pub mod filters;
pub mod interfaces;
pub mod isotp;
pub mod rx_thread;
pub mod socket;
pub mod sys;
pub mod tx;
pub mod tx_echoes;

pub use configure::{configure_controller, restart_controller, set_link_up};

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::readiness::StateCell;
use canwire_core::error::Result;
use canwire_core::{CanwireError, FilterSet, Frame};

use crate::reader_set::ReaderSet;
use crate::socketcan::config::SocketCanConfig;
use crate::socketcan::rx_coalescing::RxCoalescing;
use crate::sync_util;
use crate::transport::{BusState, Protocol, Transport, TxEchoInfo, TxEchoSink};
use rx_thread::RxShared;
use socket::RawSocket;
use sys::{eventfd, os_error, signal_eventfd};
use tx::SendOutcome;

/// A bus on a SocketCAN raw socket.
pub struct SocketCanTransport {
    config: SocketCanConfig,
    socket: Arc<OwnedFd>,
    wake: Arc<OwnedFd>,
    shared: Arc<RxShared>,
    rx_thread: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
    last_block_errno: AtomicI32,
    names: Mutex<HashMap<u32, String>>,
    ifindex: u32,
    bcm_tx: Mutex<Option<Arc<bcm::BcmTx>>>,
    watches: Mutex<Vec<std::sync::Weak<bcm::BcmWatch>>>,
}

impl SocketCanTransport {
    /// The interface this bus was opened on (empty: all CAN interfaces).
    pub fn interface(&self) -> &str {
        &self.config.channel
    }

    /// Opens the socket and starts the receive thread delivering to `readers`.
    pub fn open(config: SocketCanConfig, readers: Arc<ReaderSet>) -> Result<Self> {
        let RawSocket { fd, ifindex } = RawSocket::open(&config)?;
        let socket = Arc::new(fd);
        let wake = Arc::new(eventfd()?);
        // A controller's state at open; vcan and "all interfaces" have none to report.
        let initial = (ifindex != 0)
            .then(|| controller::controller_info(ifindex).state)
            .flatten()
            .unwrap_or(BusState::Active);
        let shared = Arc::new(RxShared::new(initial, config.receive_own_messages));
        let label = if config.channel.is_empty() {
            "all".to_string()
        } else {
            config.channel.clone()
        };
        let handle = rx_thread::spawn(
            socket.clone(),
            wake.clone(),
            readers,
            shared.clone(),
            label,
            rx_thread::RxOptions {
                hardware_timestamps: config.hardware_timestamps,
                coalescing: RxCoalescing::from_micros(config.rx_coalesce_us),
            },
        )
        .map_err(|e| os_error("starting the receive thread", e.raw_os_error().unwrap_or(0)))?;
        Ok(Self {
            config,
            socket,
            wake,
            shared,
            rx_thread: Mutex::new(Some(handle)),
            closed: AtomicBool::new(false),
            last_block_errno: AtomicI32::new(libc::ENOBUFS),
            names: Mutex::default(),
            ifindex,
            bcm_tx: Mutex::new(None),
            watches: Mutex::default(),
        })
    }

    fn label(&self) -> String {
        if self.config.channel.is_empty() {
            "all CAN interfaces".into()
        } else {
            format!("'{}'", self.config.channel)
        }
    }

    fn all_interfaces(&self) -> bool {
        self.config.channel.is_empty()
    }

    /// The kernel's cyclic sender for this bus, opened on first use.
    pub fn bcm_tx(&self) -> Result<Arc<bcm::BcmTx>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the bus"));
        }
        let mut slot = sync_util::lock(&self.bcm_tx);
        if let Some(tx) = slot.as_ref() {
            return Ok(tx.clone());
        }
        let tx = bcm::BcmTx::open(self.ifindex, self.label())?;
        *slot = Some(tx.clone());
        Ok(tx)
    }

    /// A watch on one id run by the kernel; events go to `queue`.
    pub fn bcm_watch(
        &self,
        config: &canwire_core::watch::WatchConfig,
        queue: Arc<crate::watch::queue::WatchQueue>,
    ) -> Result<Arc<bcm::BcmWatch>> {
        let mut watches = sync_util::lock(&self.watches);
        if self.closed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the bus"));
        }
        let watch = bcm::BcmWatch::open(self.ifindex, config, queue)?;
        watches.retain(|w| w.strong_count() > 0);
        watches.push(Arc::downgrade(&watch));
        Ok(watch)
    }
}

impl Transport for SocketCanTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        if self.closed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the bus"));
        }
        match tx::send_frames(&self.socket, frames, self.all_interfaces(), &self.label())? {
            SendOutcome::All => Ok(frames.len()),
            SendOutcome::Blocked { sent, errno } => {
                self.last_block_errno.store(errno, Ordering::Relaxed);
                Ok(sent)
            }
        }
    }

    fn wait_writable(&self, timeout: Duration) -> Result<bool> {
        if self.closed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the bus"));
        }
        tx::wait_writable(&self.socket, &self.wake, timeout)
    }

    fn tx_buffer_full(&self, waited: Duration, sent: usize) -> CanwireError {
        tx::buffer_full(
            &self.label(),
            self.last_block_errno.load(Ordering::Relaxed),
            waited,
            sent,
        )
    }

    fn protocol(&self) -> Protocol {
        Protocol::opened_with_fd(self.config.fd)
    }

    fn channel_info(&self) -> String {
        let on = if self.all_interfaces() {
            "all CAN interfaces".to_string()
        } else {
            format!("'{}'", self.config.channel)
        };
        // The kernel reports twice the size asked for (half is its bookkeeping).
        match sys::get_int_option(&self.socket, libc::SOL_SOCKET, libc::SO_RCVBUF) {
            Ok(bytes) => format!("SocketCAN raw socket on {on}, receive buffer {bytes} bytes"),
            Err(_) => format!("SocketCAN raw socket on {on}"),
        }
    }

    fn channel_name(&self, index: u32) -> Option<String> {
        let mut names = sync_util::lock(&self.names);
        if let Some(name) = names.get(&index) {
            return Some(name.clone());
        }
        let name = interfaces::name_of(index)?;
        names.insert(index, name.clone());
        Some(name)
    }

    fn channel_index(&self, name: &str) -> Result<u32> {
        interfaces::resolve(name).map(|r| r.index)
    }

    fn state(&self) -> BusState {
        self.shared.state.get().0
    }

    fn state_watch(&self) -> Option<Arc<StateCell<BusState>>> {
        Some(self.shared.state.clone())
    }

    fn apply_filters(&self, filters: &FilterSet) -> Result<()> {
        socket::apply_filters(&self.socket, filters)
    }

    fn socketcan(&self) -> Option<&SocketCanTransport> {
        Some(self)
    }

    fn add_tx_echo_sink(&self, sink: Arc<dyn TxEchoSink>) -> Option<Result<TxEchoInfo>> {
        if self.closed.load(Ordering::Acquire) {
            return Some(Err(CanwireError::closed("the bus")));
        }
        Some(
            self.shared
                .echoes
                .add(&self.socket, sink, &self.config.channel),
        )
    }

    fn remove_tx_echo_sink(&self, sink: &Arc<dyn TxEchoSink>) {
        self.shared.echoes.remove(&self.socket, sink);
    }

    fn kernel_drops(&self) -> u64 {
        // SO_MEMINFO reads the socket's drop counter now; SO_RXQ_OVFL, used
        // only where the kernel lacks SO_MEMINFO, reports it with the next frame.
        let reported = self.shared.kernel_drops.load(Ordering::Relaxed);
        reported.max(sys::socket_drops(&self.socket).unwrap_or(0))
    }

    fn receive_errors(&self) -> crate::stats::ReceiveErrors {
        self.shared.receive_errors()
    }

    fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        signal_eventfd(&self.wake);
        let bcm_tx = sync_util::lock(&self.bcm_tx).take();
        if let Some(tx) = bcm_tx {
            tx.close();
        }
        let watches = std::mem::take(&mut *sync_util::lock(&self.watches));
        for watch in watches.iter().filter_map(std::sync::Weak::upgrade) {
            watch.close();
        }
        crate::sync_util::join_unless_current(&self.rx_thread);
        // Wakes state waiters; a closed bus reports "unknown".
        self.shared.state.replace(BusState::Unknown);
    }
}

impl Drop for SocketCanTransport {
    fn drop(&mut self) {
        self.close();
    }
}
