//! A bus: one transport, its readers, and send-side checks and counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use canwire_core::error::Result;
use canwire_core::record::ValidFrames;
use canwire_core::{CanwireError, ErrorCode, FilterSet, Frame};

use crate::frame_queue::FrameQueue;
use crate::pending_send::PendingSend;
use crate::reader_set::ReaderSet;
use crate::readiness::StateCell;
use crate::socketcan::{SocketCanConfig, SocketCanTransport};
use crate::stats::BusStats;
use crate::transport::{BusState, Protocol, Transport};
use crate::tx_room::TxRoom;
use crate::virtual_bus::{VirtualConfig, VirtualTransport};

/// How often a wait for transmit room looks for a [`Bus::flush_tx_buffer`].
const FLUSH_CHECK: Duration = Duration::from_millis(10);

/// Buses opened and not yet closed, in this process.
static OPEN_BUSES: AtomicUsize = AtomicUsize::new(0);

/// How a wait for transmit room ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxWait {
    /// The queue may take frames again.
    Writable,
    /// The timeout passed first.
    TimedOut,
    /// `flush_tx_buffer` discarded the waiting send.
    Flushed,
}

/// Which backend to open, with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusConfig {
    /// The in-process virtual bus.
    Virtual(VirtualConfig),
    /// A SocketCAN raw socket (Linux only; elsewhere opening fails with `ERR_UNSUPPORTED`).
    SocketCan(SocketCanConfig),
    /// python-can's `udp_multicast` bus (see [`crate::udp_multicast`]).
    UdpMulticast(crate::udp_multicast::UdpMulticastConfig),
}

/// An open bus.
pub struct Bus {
    transport: Arc<dyn Transport>,
    readers: Arc<ReaderSet>,
    tx_room: Arc<TxRoom>,
    closed: AtomicBool,
    tx_frames: AtomicU64,
    tx_errors: AtomicU64,
    tx_waits: AtomicU64,
    tx_flushes: AtomicU64,
}

impl Bus {
    /// Opens a bus.
    pub fn open(config: BusConfig) -> Result<Self> {
        let (readers, transport): (Arc<ReaderSet>, Box<dyn Transport>) = match config {
            BusConfig::Virtual(cfg) => {
                let readers = Arc::new(ReaderSet::new(cfg.fd));
                let transport = VirtualTransport::open(cfg, readers.clone())?;
                (readers, Box::new(transport))
            }
            BusConfig::SocketCan(cfg) => {
                let readers = Arc::new(ReaderSet::new(cfg.fd));
                let transport = SocketCanTransport::open(cfg, readers.clone())?;
                (readers, Box::new(transport))
            }
            BusConfig::UdpMulticast(cfg) => {
                let readers = Arc::new(ReaderSet::new(cfg.fd));
                let transport =
                    crate::udp_multicast::UdpMulticastTransport::open(cfg, readers.clone())?;
                (readers, Box::new(transport))
            }
        };
        Ok(Self::with_transport(readers, transport))
    }

    /// [`Bus::with_transport`] under its former crate-internal name (the cyclic tests use it).
    #[cfg(test)]
    pub(crate) fn from_parts(readers: Arc<ReaderSet>, transport: Box<dyn Transport>) -> Self {
        Self::with_transport(readers, transport)
    }

    /// A bus over any backend: `transport` delivers what it receives to
    /// `readers`. This is how a new transport is added: implement
    /// [`Transport`], and every front end (readers, ISO-TP, cyclic sends,
    /// watches, logging) runs on it unchanged.
    pub fn with_transport(readers: Arc<ReaderSet>, transport: Box<dyn Transport>) -> Self {
        OPEN_BUSES.fetch_add(1, Ordering::Relaxed);
        Self {
            transport: Arc::from(transport),
            readers,
            tx_room: Arc::default(),
            closed: AtomicBool::new(false),
            tx_frames: AtomicU64::new(0),
            tx_errors: AtomicU64::new(0),
            tx_waits: AtomicU64::new(0),
            tx_flushes: AtomicU64::new(0),
        }
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(CanwireError::closed("the bus"))
        } else {
            Ok(())
        }
    }

    /// Checks frames as [`Bus::send`] would, without sending: each must be
    /// valid, and FD only on an FD bus. The error names the frame's index.
    pub fn check_sendable(&self, frames: &[Frame]) -> Result<()> {
        self.check_frames(frames, |frame| frame.validate())
    }

    /// The checks that depend on this bus, not on the frame alone (FD only
    /// on an FD bus), with `frame_rules` run first on each frame. The error
    /// names the frame's index when there are several.
    fn check_frames(
        &self,
        frames: &[Frame],
        frame_rules: impl Fn(&Frame) -> Result<()>,
    ) -> Result<()> {
        let fd = self.transport.protocol() == Protocol::CanFd;
        for (index, frame) in frames.iter().enumerate() {
            let checked = frame_rules(frame).and_then(|()| {
                if frame.is_fd() && !fd {
                    Err(CanwireError::new(
                        ErrorCode::FdNotEnabled,
                        "an FD frame cannot be sent on a bus opened for classic CAN; open it with fd: true",
                    ))
                } else {
                    Ok(())
                }
            });
            if let Err(e) = checked {
                return Err(if frames.len() > 1 {
                    CanwireError::new(e.code, format!("frame {index}: {}", e.message))
                } else {
                    e
                });
            }
        }
        Ok(())
    }

    /// Validates and sends frames in order. Nothing is sent if any frame is invalid.
    pub fn send(&self, frames: &[Frame]) -> Result<usize> {
        self.check_open()?;
        self.count_refusal(self.check_sendable(frames))?;
        self.send_checked(frames)
    }

    /// Sends frames that passed every check, counting what was sent or the failure.
    pub(crate) fn send_checked(&self, frames: &[Frame]) -> Result<usize> {
        match self.transport.send(frames) {
            Ok(n) => {
                self.tx_frames.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                self.tx_errors.fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Counts a refused send in `tx_errors`.
    fn count_refusal(&self, checked: Result<()>) -> Result<()> {
        if checked.is_err() {
            self.tx_errors.fetch_add(1, Ordering::Relaxed);
        }
        checked
    }

    /// Sends frames in order: what the transmit queue takes now goes at once.
    /// If it takes them all, returns `Ok(Ok(n))`; otherwise a [`PendingSend`]
    /// holding the rest, which may wait for room up to `timeout` (each wait
    /// counted in `tx_waits` by [`PendingSend::poll`]). Nothing is sent if any
    /// frame is invalid.
    pub fn send_or_wait(
        self: &Arc<Self>,
        frames: &[Frame],
        timeout: Duration,
    ) -> Result<std::result::Result<usize, PendingSend>> {
        self.check_open()?;
        self.count_refusal(self.check_sendable(frames))?;
        self.send_checked_or_wait(frames, timeout)
    }

    /// [`Bus::send_or_wait`] for frames validated when `ValidFrames` was
    /// made (a record batch from JS): this checks only what depends on the
    /// bus (FD on a classic bus), so a send is validated once.
    pub fn send_valid_or_wait(
        self: &Arc<Self>,
        frames: &ValidFrames,
        timeout: Duration,
    ) -> Result<std::result::Result<usize, PendingSend>> {
        self.check_open()?;
        self.count_refusal(self.check_frames(frames, |_| Ok(())))?;
        self.send_checked_or_wait(frames, timeout)
    }

    fn send_checked_or_wait(
        self: &Arc<Self>,
        frames: &[Frame],
        timeout: Duration,
    ) -> Result<std::result::Result<usize, PendingSend>> {
        let sent = self.send_checked(frames)?;
        if sent >= frames.len() {
            return Ok(Ok(sent));
        }
        Ok(Err(PendingSend::new(self.clone(), frames, sent, timeout)))
    }

    /// Counts one more wait for transmit room.
    pub(crate) fn count_tx_wait(&self) {
        self.tx_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times [`Bus::flush_tx_buffer`] ran.
    pub(crate) fn tx_flushes(&self) -> u64 {
        self.tx_flushes.load(Ordering::Acquire)
    }

    /// The room readiness of the transmit queue, with the transport it polls.
    pub(crate) fn tx_room(&self) -> (&Arc<TxRoom>, &Arc<dyn Transport>) {
        (&self.tx_room, &self.transport)
    }

    /// Blocks until the transmit queue may take frames, `timeout` passes, or
    /// [`Bus::flush_tx_buffer`] discards the waiting send.
    pub fn wait_writable(&self, timeout: Duration) -> Result<TxWait> {
        self.check_open()?;
        self.tx_waits.fetch_add(1, Ordering::Relaxed);
        let generation = self.tx_flushes.load(Ordering::Acquire);
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let writable = self.transport.wait_writable(left.min(FLUSH_CHECK))?;
            if self.tx_flushes.load(Ordering::Acquire) != generation {
                return Ok(TxWait::Flushed);
            }
            if writable {
                return Ok(TxWait::Writable);
            }
            if left <= FLUSH_CHECK {
                return Ok(TxWait::TimedOut);
            }
        }
    }

    /// The `ERR_TX_BUFFER_FULL` error for a send that waited `waited` after
    /// `sent` frames and then timed out or was `flushed`.
    pub fn tx_buffer_full(&self, waited: Duration, sent: usize, flushed: bool) -> CanwireError {
        self.tx_errors.fetch_add(1, Ordering::Relaxed);
        let error = self.transport.tx_buffer_full(waited, sent);
        if flushed {
            CanwireError {
                message: format!(
                    "flushTxBuffer() discarded the rest of this send: {}",
                    error.message
                ),
                ..error
            }
        } else {
            error
        }
    }

    /// The channel index that sends a frame to the channel `name`.
    pub fn channel_index(&self, name: &str) -> Result<u32> {
        self.transport.channel_index(name)
    }

    /// The controller state as it changes (wait on it with
    /// [`StateCell::notify_once_after`]), where the backend reports changes.
    pub fn state_watch(&self) -> Option<Arc<StateCell<BusState>>> {
        self.transport.state_watch()
    }

    /// The SocketCAN backend of this bus, for its Linux-only powers; `None`
    /// on every other bus (and everywhere outside Linux).
    pub fn socketcan(&self) -> Option<&SocketCanTransport> {
        self.transport.socketcan()
    }

    /// Reports the echoes of sent frames to `sink` where the backend has
    /// them (see [`Transport::add_tx_echo_sink`]); `None` where it has not.
    pub fn add_tx_echo_sink(
        &self,
        sink: Arc<dyn crate::transport::TxEchoSink>,
    ) -> Option<Result<crate::transport::TxEchoInfo>> {
        self.transport.add_tx_echo_sink(sink)
    }

    /// Stops reporting echoes to `sink`.
    pub fn remove_tx_echo_sink(&self, sink: &Arc<dyn crate::transport::TxEchoSink>) {
        self.transport.remove_tx_echo_sink(sink);
    }

    /// The backend's own cyclic task for these frames, if it runs them itself
    /// (see [`Transport::cyclic_backend`]).
    pub(crate) fn transport_cyclic_backend(
        &self,
        frames: &[Frame],
        timing: &canwire_core::cyclic::CyclicTiming,
        hooks: &crate::cyclic::TaskHooks,
    ) -> Option<Result<Box<dyn crate::cyclic::CyclicBackend>>> {
        self.transport.cyclic_backend(frames, timing, hooks)
    }

    /// The backend's own watch, if it runs watches itself (see [`Transport::watch_backend`]).
    pub(crate) fn transport_watch_backend(
        &self,
        config: &canwire_core::watch::WatchConfig,
        queue: &Arc<crate::watch::queue::WatchQueue>,
    ) -> Option<Result<Arc<dyn crate::watch::WatchBackend>>> {
        self.transport.watch_backend(config, queue)
    }

    /// The kernel's cyclic sender of this bus (SocketCAN only; `ERR_UNSUPPORTED` elsewhere).
    pub fn bcm_tx(&self) -> Result<Arc<crate::socketcan::bcm::BcmTx>> {
        self.check_open()?;
        self.socketcan()
            .ok_or_else(|| {
                CanwireError::new(
                    ErrorCode::Unsupported,
                    "the kernel scheduler (BCM) needs a SocketCAN bus",
                )
            })?
            .bcm_tx()
    }

    /// Adds a reader that receives every frame passing the filters from now on.
    pub fn add_reader(&self, capacity: usize) -> Result<Arc<FrameQueue>> {
        self.check_open()?;
        Ok(self.readers.add_reader(capacity))
    }

    /// Adds a reader for a native consumer that answers frames (see
    /// [`ReaderSet::add_immediate_reader`]): the bus then delivers every frame at once.
    pub fn add_immediate_reader(&self, capacity: usize) -> Result<Arc<FrameQueue>> {
        self.check_open()?;
        Ok(self.readers.add_immediate_reader(capacity))
    }

    /// Detaches a reader.
    pub fn remove_reader(&self, reader: &Arc<FrameQueue>) {
        self.readers.remove_reader(reader);
    }

    /// Replaces the bus-level filters.
    pub fn set_filters(&self, filters: FilterSet) -> Result<()> {
        self.check_open()?;
        self.transport.apply_filters(&filters)?;
        self.readers.set_filters(filters);
        Ok(())
    }

    /// The protocol the bus was opened for.
    pub fn protocol(&self) -> Protocol {
        self.transport.protocol()
    }

    /// A description of the channel.
    pub fn channel_info(&self) -> String {
        self.transport.channel_info()
    }

    /// The channel name behind a received frame's channel index.
    pub fn channel_name(&self, index: u32) -> Option<String> {
        self.transport.channel_name(index)
    }

    /// The controller state.
    pub fn state(&self) -> BusState {
        self.transport.state()
    }

    /// Discards frames waiting to be sent.
    pub fn flush_tx_buffer(&self) -> Result<()> {
        self.check_open()?;
        self.tx_flushes.fetch_add(1, Ordering::AcqRel);
        let flushed = self.transport.flush_tx_buffer();
        self.tx_room.notify();
        flushed
    }

    /// Counters.
    pub fn stats(&self) -> BusStats {
        let receive_errors = self.transport.receive_errors();
        let mut stats = BusStats {
            rx_errors: receive_errors.count,
            last_rx_error: receive_errors.last,
            tx_frames: self.tx_frames.load(Ordering::Relaxed),
            tx_errors: self.tx_errors.load(Ordering::Relaxed),
            tx_waits: self.tx_waits.load(Ordering::Relaxed),
            rx_dropped_kernel: self.transport.kernel_drops(),
            ..BusStats::default()
        };
        self.readers.fill_stats(&mut stats);
        stats
    }

    /// Buses in this process opened and not yet closed (for leak tests).
    pub fn open_count() -> usize {
        OPEN_BUSES.load(Ordering::Relaxed)
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the transport and every reader. Idempotent; queued frames stay readable.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        OPEN_BUSES.fetch_sub(1, Ordering::Relaxed);
        self.transport.close();
        self.tx_room.close();
        self.readers.close_all();
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transmit queue that never has room.
    struct AlwaysFull;

    impl Transport for AlwaysFull {
        fn send(&self, _frames: &[Frame]) -> Result<usize> {
            Ok(0)
        }
        fn wait_writable(&self, timeout: Duration) -> Result<bool> {
            std::thread::sleep(timeout);
            Ok(false)
        }
        fn protocol(&self) -> Protocol {
            Protocol::Can20
        }
        fn channel_info(&self) -> String {
            "always full".into()
        }
        fn channel_name(&self, _index: u32) -> Option<String> {
            None
        }
        fn close(&self) {}
    }

    /// A backend whose receive path failed twice.
    struct FailingReceiver;

    impl Transport for FailingReceiver {
        fn send(&self, frames: &[Frame]) -> Result<usize> {
            Ok(frames.len())
        }
        fn protocol(&self) -> Protocol {
            Protocol::Can20
        }
        fn channel_info(&self) -> String {
            "failing receiver".into()
        }
        fn channel_name(&self, _index: u32) -> Option<String> {
            None
        }
        fn receive_errors(&self) -> crate::stats::ReceiveErrors {
            crate::stats::ReceiveErrors {
                count: 2,
                last: Some("reading frames (recvmmsg) failed with EIO".into()),
            }
        }
        fn close(&self) {}
    }

    #[test]
    fn validated_frames_are_checked_against_the_bus_only() {
        let bus = Arc::new(Bus::with_transport(
            Arc::new(ReaderSet::new(false)),
            Box::new(FailingReceiver),
        ));
        let frames = ValidFrames::check(vec![
            Frame::classic(1, false, &[1]),
            Frame::fd(2, false, &[2; 12], false),
        ])
        .unwrap();
        let Err(refused) = bus.send_valid_or_wait(&frames, Duration::ZERO) else {
            panic!("an FD frame went out on a classic bus");
        };
        assert_eq!(refused.code, ErrorCode::FdNotEnabled);
        assert_eq!(
            refused.message,
            "frame 1: an FD frame cannot be sent on a bus opened for classic CAN; open it with fd: true"
        );
        let classic = ValidFrames::check(vec![Frame::classic(1, false, &[1]); 2]).unwrap();
        assert_eq!(
            bus.send_valid_or_wait(&classic, Duration::ZERO)
                .unwrap()
                .ok(),
            Some(2)
        );
        // frames built in Rust are validated by `send`
        let bad = bus.send(&[Frame::classic(0x800, false, &[])]).unwrap_err();
        assert_eq!(bad.code, ErrorCode::IdOutOfRange);
        let stats = bus.stats();
        assert_eq!((stats.tx_frames, stats.tx_errors), (2, 2));
        bus.close();
        let Err(closed) = bus.send_valid_or_wait(&classic, Duration::ZERO) else {
            panic!("a closed bus sent");
        };
        assert_eq!(closed.code, ErrorCode::Closed);
    }

    #[test]
    fn stats_report_the_backends_receive_errors() {
        let bus = Bus::with_transport(Arc::new(ReaderSet::new(false)), Box::new(FailingReceiver));
        let stats = bus.stats();
        assert_eq!(stats.rx_errors, 2);
        assert_eq!(
            stats.last_rx_error.as_deref(),
            Some("reading frames (recvmmsg) failed with EIO")
        );
        let quiet = Bus::with_transport(Arc::new(ReaderSet::new(false)), Box::new(AlwaysFull));
        assert_eq!(quiet.stats().rx_errors, 0);
        assert_eq!(quiet.stats().last_rx_error, None);
    }

    fn full_bus() -> Arc<Bus> {
        Arc::new(Bus::with_transport(
            Arc::new(ReaderSet::new(false)),
            Box::new(AlwaysFull),
        ))
    }

    #[test]
    fn a_wait_for_room_times_out() {
        let bus = full_bus();
        let start = Instant::now();
        assert_eq!(
            bus.wait_writable(Duration::from_millis(50)).unwrap(),
            TxWait::TimedOut
        );
        assert!(start.elapsed() >= Duration::from_millis(50));
        assert_eq!(bus.stats().tx_waits, 1);
    }

    #[test]
    fn flush_ends_a_wait_for_room_at_once() {
        let bus = full_bus();
        let waiter = {
            let bus = bus.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                (
                    bus.wait_writable(Duration::from_secs(30)).unwrap(),
                    start.elapsed(),
                )
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        bus.flush_tx_buffer().unwrap();
        let (outcome, waited) = waiter.join().unwrap();
        assert_eq!(outcome, TxWait::Flushed);
        assert!(waited < Duration::from_secs(1), "waited {waited:?}");
        let error = bus.tx_buffer_full(waited, 3, true);
        assert_eq!(error.code, ErrorCode::TxBufferFull);
        assert!(
            error
                .message
                .starts_with("flushTxBuffer() discarded the rest of this send: the transmit queue stayed full for"),
            "{}",
            error.message
        );
        assert!(error.message.ends_with("3 frame(s) were sent"));
        // a flush before the wait does not end the next one
        assert_eq!(
            bus.wait_writable(Duration::from_millis(20)).unwrap(),
            TxWait::TimedOut
        );
    }
}
