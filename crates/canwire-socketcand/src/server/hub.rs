//! [`BusHub`]: one exported bus shared by the server's connections, each
//! seeing it as socketcand's clients see a kernel interface.
//!
//! Every connection gets its own [`Bus`] (a *view*) whose transport sends
//! on the exported bus and hands a copy to every other view, never to the
//! sender: a client does not see its own frames (socketcand's raw sockets
//! run without `CAN_RAW_RECV_OWN_MSGS`), other clients do (the kernel's
//! loopback). One named thread reads the exported bus and delivers what it
//! receives to every view. Delivery never blocks: each view's readers are
//! bounded queues with overflow counters, so a slow client loses frames,
//! counted, and never stalls the bus or the other clients.
//!
//! Every frame the exported bus receives goes to every view (SocketCAN
//! marks frames of other local sockets, cansend's included, as transmitted,
//! so that flag cannot tell a view's own frames apart). Export a bus opened
//! without `receive_own_messages`: with it, a client's sends come back to it.
//!
//! Because a view is a whole [`Bus`], everything canwire runs on a bus runs
//! on it unchanged: cyclic tasks (BCM `add`), ISO-TP stacks, readers; and
//! their frames reach the other clients as a client's `send` does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use canwire_bus::frame_queue::DEFAULT_CAPACITY;
use canwire_bus::time::realtime_ns;
use canwire_bus::transport::{BusState, Protocol, Transport};
use canwire_bus::{Bus, FrameQueue, ReaderSet};
use canwire_core::error::Result;
use canwire_core::{CanwireError, Frame, FrameFlags};

/// Counters of a hub, for `< stat … >`.
#[derive(Debug, Default)]
pub struct HubCounters {
    /// Data bytes received from the exported bus.
    pub rx_bytes: AtomicU64,
    /// Data bytes the server's clients sent.
    pub tx_bytes: AtomicU64,
    /// Frames lost to full queues of views that have closed.
    pub closed_views_dropped: AtomicU64,
}

struct View {
    id: u64,
    readers: Arc<ReaderSet>,
}

/// One exported bus and the views of the server's connections.
pub struct BusHub {
    name: String,
    bus: Arc<Bus>,
    fd_views: bool,
    views: RwLock<Vec<View>>,
    next_view: AtomicU64,
    reader: Arc<FrameQueue>,
    counters: HubCounters,
    closed: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl BusHub {
    /// Starts sharing `bus` under `name`; views deliver FD frames when `fd_views`.
    pub fn start(name: &str, bus: Arc<Bus>, fd_views: bool) -> Result<Arc<Self>> {
        let reader = bus.add_reader(DEFAULT_CAPACITY)?;
        let hub = Arc::new(Self {
            name: name.to_string(),
            bus,
            fd_views,
            views: RwLock::default(),
            next_view: AtomicU64::new(1),
            reader,
            counters: HubCounters::default(),
            closed: AtomicBool::new(false),
            thread: Mutex::new(None),
        });
        let weak = Arc::downgrade(&hub);
        let reader = hub.reader.clone();
        let thread = std::thread::Builder::new()
            .name(format!("canwire-socketcand-hub-{name}"))
            .spawn(move || {
                let mut batch = Vec::with_capacity(256);
                loop {
                    reader.wait_blocking(Duration::from_millis(200));
                    if reader.is_closed() && reader.is_empty() {
                        return;
                    }
                    batch.clear();
                    reader.pop_into(256, &mut batch);
                    let Some(hub) = weak.upgrade() else { return };
                    let bytes: u64 = batch.iter().map(|f| u64::from(f.len)).sum();
                    hub.counters.rx_bytes.fetch_add(bytes, Relaxed);
                    hub.deliver(0, &batch);
                }
            })
            .map_err(|e| {
                CanwireError::new(
                    canwire_core::ErrorCode::Os,
                    format!("starting the hub thread of bus '{name}' failed: {e}"),
                )
            })?;
        *canwire_bus::sync_util::lock(&hub.thread) = Some(thread);
        Ok(hub)
    }

    /// The exported bus's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The exported bus.
    pub fn bus(&self) -> &Arc<Bus> {
        &self.bus
    }

    /// Byte counters.
    pub fn counters(&self) -> &HubCounters {
        &self.counters
    }

    /// Delivers frames to every view except `from` (0 = from the bus itself).
    fn deliver(&self, from: u64, frames: &[Frame]) {
        if frames.is_empty() {
            return;
        }
        for view in canwire_bus::sync_util::read(&self.views).iter() {
            if view.id != from {
                view.readers.deliver(frames);
            }
        }
    }

    /// A new connection's own bus on the exported one.
    pub fn attach(self: &Arc<Self>) -> Result<Arc<Bus>> {
        if self.closed.load(Relaxed) || self.bus.is_closed() {
            return Err(CanwireError::closed(&format!("the bus '{}'", self.name)));
        }
        let id = self.next_view.fetch_add(1, Relaxed);
        let readers = Arc::new(ReaderSet::new(self.fd_views));
        canwire_bus::sync_util::write(&self.views).push(View {
            id,
            readers: readers.clone(),
        });
        let transport = ViewTransport {
            hub: self.clone(),
            id,
            closed: AtomicBool::new(false),
        };
        Ok(Arc::new(Bus::with_transport(readers, Box::new(transport))))
    }

    fn detach(&self, id: u64) {
        let mut views = canwire_bus::sync_util::write(&self.views);
        if let Some(pos) = views.iter().position(|v| v.id == id) {
            let view = views.swap_remove(pos);
            self.counters
                .closed_views_dropped
                .fetch_add(dropped(&view.readers), Relaxed);
        }
    }

    /// Frames the views lost to full queues (slow clients), closed views included.
    pub fn dropped_frames(&self) -> u64 {
        let live: u64 = canwire_bus::sync_util::read(&self.views)
            .iter()
            .map(|v| dropped(&v.readers))
            .sum();
        live + self.counters.closed_views_dropped.load(Relaxed)
    }

    /// Stops the reading thread and detaches the hub from the bus (which stays open).
    pub fn close(&self) {
        if self.closed.swap(true, Relaxed) {
            return;
        }
        self.bus.remove_reader(&self.reader);
        canwire_bus::sync_util::join_unless_current(&self.thread);
    }
}

impl Drop for BusHub {
    fn drop(&mut self) {
        self.close();
    }
}

fn dropped(readers: &ReaderSet) -> u64 {
    let mut stats = canwire_bus::BusStats::default();
    readers.fill_stats(&mut stats);
    stats.rx_dropped_queue_full
}

/// The transport of a connection's view: sends go to the exported bus and
/// to every other view.
struct ViewTransport {
    hub: Arc<BusHub>,
    id: u64,
    closed: AtomicBool,
}

impl Transport for ViewTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        if self.closed.load(Relaxed) {
            return Err(CanwireError::closed("the connection's bus"));
        }
        let sent = self.hub.bus.send(frames)?;
        let now = realtime_ns();
        let copies: Vec<Frame> = frames[..sent]
            .iter()
            .map(|f| {
                let mut f = *f;
                f.timestamp_ns = now;
                f.channel = 0;
                f.flags.set(FrameFlags::TX, false);
                f
            })
            .collect();
        let bytes: u64 = copies.iter().map(|f| u64::from(f.len)).sum();
        self.hub.counters.tx_bytes.fetch_add(bytes, Relaxed);
        self.hub.deliver(self.id, &copies);
        Ok(sent)
    }

    fn wait_writable(&self, timeout: Duration) -> Result<bool> {
        Ok(self.hub.bus.wait_writable(timeout)? == canwire_bus::TxWait::Writable)
    }

    fn protocol(&self) -> Protocol {
        self.hub.bus.protocol()
    }

    fn channel_info(&self) -> String {
        format!("socketcand client of '{}'", self.hub.name)
    }

    fn channel_name(&self, index: u32) -> Option<String> {
        (index == 0).then(|| self.hub.name.clone())
    }

    fn state(&self) -> BusState {
        self.hub.bus.state()
    }

    fn close(&self) {
        if !self.closed.swap(true, Relaxed) {
            self.hub.detach(self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canwire_bus::BusConfig;
    use canwire_bus::virtual_bus::VirtualConfig;

    fn virtual_bus(channel: &str) -> Arc<Bus> {
        Arc::new(
            Bus::open(BusConfig::Virtual(VirtualConfig {
                channel: channel.into(),
                ..VirtualConfig::default()
            }))
            .unwrap(),
        )
    }

    fn drain(q: &FrameQueue) -> Vec<u32> {
        let mut out = Vec::new();
        q.pop_into(100, &mut out);
        out.iter().map(|f| f.id).collect()
    }

    #[test]
    fn views_see_the_bus_and_each_other_but_not_themselves() {
        let exported = virtual_bus("hub-test-1");
        let peer = virtual_bus("hub-test-1");
        let peer_reader = peer.add_reader(100).unwrap();
        let hub = BusHub::start("vcan0", exported, false).unwrap();
        let a = hub.attach().unwrap();
        let b = hub.attach().unwrap();
        let ra = a.add_reader(100).unwrap();
        let rb = b.add_reader(100).unwrap();
        a.send(&[Frame::classic(0x1, false, &[1, 2])]).unwrap();
        peer.send(&[Frame::classic(0x2, false, &[])]).unwrap();
        assert!(ra.wait_blocking(Duration::from_secs(2)));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(drain(&ra), [0x2], "a sees the peer, not itself");
        assert_eq!(drain(&rb), [0x1, 0x2], "b sees a and the peer");
        assert_eq!(drain(&peer_reader), [0x1], "the bus's other users see a");
        assert_eq!(hub.counters().tx_bytes.load(Relaxed), 2);
        a.close();
        b.send(&[Frame::classic(0x3, false, &[])]).unwrap();
        assert!(ra.is_empty());
        hub.close();
    }
}
