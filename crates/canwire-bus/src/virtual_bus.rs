//! The in-process virtual bus: channels by name, shared by every bus of the
//! process (worker threads included, since the addon is loaded once).
//!
//! A send is delivered to every other bus on the channel (and to the sender
//! itself with `receive_own_messages`) under the channel lock, so all buses
//! see all frames in one order, and timestamps are taken in that order too.
//! Delivery never blocks: each reader queue is bounded and counts overflow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use canwire_core::error::Result;
use canwire_core::{CanwireError, Frame, FrameFlags};

use crate::reader_set::ReaderSet;
use crate::sync_util;
use crate::time::realtime_ns;
use crate::transport::{Protocol, Transport};

/// Options of a virtual bus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtualConfig {
    /// Channel name; buses with the same name see each other.
    pub channel: String,
    /// Open for CAN FD (otherwise FD frames are refused on send and not delivered).
    pub fd: bool,
    /// Deliver this bus's own frames to its readers too (marked as transmitted).
    pub receive_own_messages: bool,
    /// Keep the sender's timestamps instead of stamping at send.
    pub preserve_timestamps: bool,
}

struct Endpoint {
    id: u64,
    receive_own: bool,
    readers: Arc<ReaderSet>,
}

#[derive(Default)]
struct VirtualChannel {
    endpoints: Mutex<Vec<Endpoint>>,
}

impl VirtualChannel {
    fn lock(&self) -> MutexGuard<'_, Vec<Endpoint>> {
        sync_util::lock(&self.endpoints)
    }
}

static CHANNELS: LazyLock<Mutex<HashMap<String, Weak<VirtualChannel>>>> =
    LazyLock::new(Mutex::default);
static NEXT_ENDPOINT: AtomicU64 = AtomicU64::new(1);

fn channel_named(name: &str) -> Arc<VirtualChannel> {
    let mut channels = sync_util::lock(&CHANNELS);
    if let Some(channel) = channels.get(name).and_then(Weak::upgrade) {
        return channel;
    }
    let channel = Arc::new(VirtualChannel::default());
    channels.insert(name.to_string(), Arc::downgrade(&channel));
    channel
}

/// Names of the virtual channels that have at least one open bus.
pub fn channels_in_use() -> Vec<String> {
    let mut channels = sync_util::lock(&CHANNELS);
    channels.retain(|_, weak| weak.strong_count() > 0);
    let mut names: Vec<String> = channels
        .iter()
        .filter(|(_, weak)| weak.upgrade().is_some_and(|c| !c.lock().is_empty()))
        .map(|(name, _)| name.clone())
        .collect();
    names.sort();
    names
}

/// One bus's attachment to a virtual channel.
pub struct VirtualTransport {
    config: VirtualConfig,
    id: u64,
    channel: Arc<VirtualChannel>,
    closed: AtomicBool,
}

impl VirtualTransport {
    /// Joins the channel named in `config`; received frames go to `readers`.
    pub fn open(config: VirtualConfig, readers: Arc<ReaderSet>) -> Result<Self> {
        if config.channel.is_empty() {
            return Err(CanwireError::invalid_argument(
                "a virtual channel needs a non-empty name",
            ));
        }
        let channel = channel_named(&config.channel);
        let id = NEXT_ENDPOINT.fetch_add(1, Ordering::Relaxed);
        channel.lock().push(Endpoint {
            id,
            receive_own: config.receive_own_messages,
            readers,
        });
        Ok(Self {
            config,
            id,
            channel,
            closed: AtomicBool::new(false),
        })
    }
}

impl Transport for VirtualTransport {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        if self.closed.load(Ordering::Acquire) {
            return Err(CanwireError::closed("the bus"));
        }
        let endpoints = self.channel.lock();
        let mut others: Vec<Frame> = frames.to_vec();
        for frame in &mut others {
            if !self.config.preserve_timestamps {
                frame.timestamp_ns = realtime_ns();
            }
            frame.channel = 0;
            frame.flags.set(FrameFlags::TX, false);
        }
        for endpoint in endpoints.iter() {
            if endpoint.id != self.id {
                endpoint.readers.deliver(&others);
            } else if endpoint.receive_own {
                let own: Vec<Frame> = others
                    .iter()
                    .map(|f| {
                        let mut f = *f;
                        f.flags.set(FrameFlags::TX, true);
                        f
                    })
                    .collect();
                endpoint.readers.deliver(&own);
            }
        }
        Ok(frames.len())
    }

    fn protocol(&self) -> Protocol {
        Protocol::opened_with_fd(self.config.fd)
    }

    fn channel_info(&self) -> String {
        format!("virtual channel '{}'", self.config.channel)
    }

    fn channel_name(&self, index: u32) -> Option<String> {
        (index == 0).then(|| self.config.channel.clone())
    }

    fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.channel.lock().retain(|e| e.id != self.id);
    }
}

impl Drop for VirtualTransport {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(
        channel: &str,
        own: bool,
    ) -> (VirtualTransport, Arc<ReaderSet>, Arc<crate::FrameQueue>) {
        let readers = Arc::new(ReaderSet::new(false));
        let queue = readers.add_reader(1024);
        let config = VirtualConfig {
            channel: channel.into(),
            receive_own_messages: own,
            ..VirtualConfig::default()
        };
        (
            VirtualTransport::open(config, readers.clone()).unwrap(),
            readers,
            queue,
        )
    }

    #[test]
    fn others_receive_and_own_only_on_request() {
        let (a, _, qa) = open("vt-test-1", false);
        let (b, _, qb) = open("vt-test-1", true);
        a.send(&[Frame::classic(1, false, &[1])]).unwrap();
        b.send(&[Frame::classic(2, false, &[2])]).unwrap();
        let mut out = Vec::new();
        qa.pop_into(10, &mut out);
        assert_eq!(out.iter().map(|f| f.id).collect::<Vec<_>>(), [2]);
        assert!(!out[0].flags.has(FrameFlags::TX));
        out.clear();
        qb.pop_into(10, &mut out);
        assert_eq!(out.iter().map(|f| f.id).collect::<Vec<_>>(), [1, 2]);
        assert!(
            out[1].flags.has(FrameFlags::TX),
            "own copy is marked transmitted"
        );
        assert!(out[0].timestamp_ns > 0);
    }

    #[test]
    fn closed_bus_leaves_the_channel() {
        let (a, _, _) = open("vt-test-2", false);
        let (b, _, qb) = open("vt-test-2", false);
        b.close();
        a.send(&[Frame::classic(1, false, &[])]).unwrap();
        assert!(qb.is_empty());
        assert_eq!(
            b.send(&[]).unwrap_err().code,
            canwire_core::ErrorCode::Closed
        );
        drop(a);
        drop(b);
        assert!(!channels_in_use().contains(&"vt-test-2".to_string()));
    }
}
