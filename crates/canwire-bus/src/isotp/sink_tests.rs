//! The driver as a [`crate::FrameSink`]: two stacks on a link that, like
//! SocketCAN, delivers on a receive thread of its own. The frames on the
//! wire must be exactly those the sans-IO endpoints exchange on a virtual
//! clock, in the same order, and STmin must hold between consecutive frames.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canwire_core::Frame;
use canwire_core::error::Result;
use canwire_core::isotp::{AddressConfig, IsoTpAddress, IsoTpEndpoint, IsoTpEvent, IsoTpParams};

use super::{IsoTpDriver, IsoTpDriverOptions, TransferStatus};
use crate::bus::Bus;
use crate::reader_set::ReaderSet;
use crate::transport::{Protocol, Transport};

/// One frame as it went out: who sent it, from which thread, when.
#[derive(Clone)]
struct Sent {
    frame: Frame,
    thread: String,
    at: Instant,
}

/// One end of a two-party link; a thread per end delivers what the other end sends.
struct LinkEnd {
    to_peer: Mutex<Sender<Vec<Frame>>>,
    wire: Arc<Mutex<Vec<Sent>>>,
    /// Frames the next `send` takes before it reports a full queue (None: all).
    room: Arc<Mutex<Option<usize>>>,
}

impl Transport for LinkEnd {
    fn send(&self, frames: &[Frame]) -> Result<usize> {
        let mut room = self.room.lock().unwrap();
        let n = room.map_or(frames.len(), |r| r.min(frames.len()));
        if let Some(r) = room.as_mut() {
            *r -= n;
        }
        let thread = std::thread::current().name().unwrap_or("").to_string();
        let mut wire = self.wire.lock().unwrap();
        for frame in &frames[..n] {
            wire.push(Sent {
                frame: *frame,
                thread: thread.clone(),
                at: Instant::now(),
            });
        }
        drop(wire);
        self.to_peer
            .lock()
            .unwrap()
            .send(frames[..n].to_vec())
            .unwrap();
        Ok(n)
    }
    fn wait_writable(&self, _timeout: Duration) -> Result<bool> {
        *self.room.lock().unwrap() = None;
        Ok(true)
    }
    fn delivers_on_own_thread(&self) -> bool {
        true
    }
    fn protocol(&self) -> Protocol {
        Protocol::CanFd
    }
    fn channel_info(&self) -> String {
        "test link".into()
    }
    fn channel_name(&self, _index: u32) -> Option<String> {
        None
    }
    fn close(&self) {}
}

fn deliver_thread(name: &str, rx: Receiver<Vec<Frame>>, readers: Arc<ReaderSet>) {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Ok(frames) = rx.recv() {
                readers.deliver(&frames);
            }
        })
        .unwrap();
}

struct Link {
    a: Arc<Bus>,
    b: Arc<Bus>,
    wire: Arc<Mutex<Vec<Sent>>>,
    room_a: Arc<Mutex<Option<usize>>>,
}

fn link() -> Link {
    let wire = Arc::new(Mutex::new(Vec::new()));
    let (to_b, b_in) = channel();
    let (to_a, a_in) = channel();
    let readers_a = Arc::new(ReaderSet::new(true));
    let readers_b = Arc::new(ReaderSet::new(true));
    deliver_thread("link-rx-a", a_in, readers_a.clone());
    deliver_thread("link-rx-b", b_in, readers_b.clone());
    let room_a = Arc::new(Mutex::new(None));
    let end = |to_peer, room| LinkEnd {
        to_peer: Mutex::new(to_peer),
        wire: wire.clone(),
        room,
    };
    Link {
        a: Arc::new(Bus::from_parts(
            readers_a,
            Box::new(end(to_b, room_a.clone())),
        )),
        b: Arc::new(Bus::from_parts(
            readers_b,
            Box::new(end(to_a, Arc::new(Mutex::new(None)))),
        )),
        wire,
        room_a,
    }
}

fn address(tx: u32, rx: u32) -> IsoTpAddress {
    IsoTpAddress::new(AddressConfig::normal(false, tx, rx)).unwrap()
}

fn start(bus: &Arc<Bus>, tx: u32, rx: u32, params: &IsoTpParams) -> IsoTpDriver {
    IsoTpDriver::start(
        bus.clone(),
        address(tx, rx),
        params.clone(),
        IsoTpDriverOptions::default(),
    )
    .unwrap()
}

/// The frames two sans-IO endpoints exchange for `payload`, on a virtual clock.
fn reference_exchange(params: &IsoTpParams, payload: &[u8]) -> Vec<Frame> {
    let mut a = IsoTpEndpoint::new(address(0x6E0, 0x6E8), params.clone()).unwrap();
    let mut b = IsoTpEndpoint::new(address(0x6E8, 0x6E0), params.clone()).unwrap();
    a.send(0, payload.to_vec(), None).unwrap();
    let mut wire = Vec::new();
    let mut now = 0;
    loop {
        let mut moved = false;
        while let Some(f) = a.poll_transmit(now) {
            b.handle_frame(now, &f);
            wire.push(f);
            moved = true;
        }
        while let Some(f) = b.poll_transmit(now) {
            a.handle_frame(now, &f);
            wire.push(f);
            moved = true;
        }
        if b.available() {
            let got = std::iter::from_fn(|| b.poll_event()).find_map(|e| match e {
                IsoTpEvent::Received { payload, .. } => Some(payload),
                _ => None,
            });
            assert_eq!(got.as_deref(), Some(payload));
            return wire;
        }
        if !moved {
            now += 1_000_000;
        }
    }
}

fn frame_bytes(frames: impl IntoIterator<Item = Frame>) -> Vec<(u32, Vec<u8>)> {
    frames
        .into_iter()
        .map(|f| (f.id, f.data().to_vec()))
        .collect()
}

fn transfer(link: &Link, params: &IsoTpParams, payload: &[u8]) -> Vec<Sent> {
    let a = start(&link.a, 0x6E0, 0x6E8, params);
    let b = start(&link.b, 0x6E8, 0x6E0, params);
    let id = a.send(payload.to_vec(), None, true).unwrap();
    let got = b
        .recv_blocking(Duration::from_secs(10))
        .expect("payload within 10 s");
    assert_eq!(got.data, payload);
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.take_status(id) != Some(TransferStatus::Complete) {
        assert!(Instant::now() < deadline, "transfer {id:?} never completed");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(a.take_errors().is_empty() && b.take_errors().is_empty());
    a.close();
    b.close();
    link.wire.lock().unwrap().clone()
}

fn params(stmin: u8, blocksize: u8, fd: bool) -> IsoTpParams {
    IsoTpParams {
        stmin,
        blocksize,
        max_frame_size: 70_000,
        can_fd: fd,
        tx_data_length: if fd { 64 } else { 8 },
        ..IsoTpParams::default()
    }
}

#[test]
fn stmin_0_transfers_put_the_reference_frames_on_the_wire_in_order() {
    let mut cfs_from_receive_thread = 0;
    for (size, fd) in [(4095, false), (65_536, false), (4095, true), (65_536, true)] {
        let params = params(0, 0, fd);
        let payload: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
        let link = link();
        let wire = transfer(&link, &params, &payload);
        let expected = reference_exchange(&params, &payload);
        assert_eq!(
            frame_bytes(wire.iter().map(|s| s.frame)),
            frame_bytes(expected),
            "{size} bytes, fd {fd}"
        );
        // The flow control goes out on the receiving bus's thread, with no
        // hop to the driver thread.
        let fc = wire.iter().find(|s| s.frame.data()[0] == 0x30).unwrap();
        assert_eq!(fc.thread, "link-rx-b");
        // So do the consecutive frames after it, unless the FC came while the
        // sender's driver thread was still finishing the FF's send.
        let first_cf = wire.iter().find(|s| s.frame.data()[0] >> 4 == 2).unwrap();
        cfs_from_receive_thread += usize::from(first_cf.thread == "link-rx-a");
    }
    assert!(
        cfs_from_receive_thread > 0,
        "no CF went out on the receive thread"
    );
}

#[test]
fn a_partial_send_keeps_the_rest_in_order() {
    let params = params(0, 0, false);
    let payload: Vec<u8> = (0..4095).map(|i| (i * 13) as u8).collect();
    let link = link();
    // The FF and 9 CFs go, then the queue is "full" until the driver waits for room.
    *link.room_a.lock().unwrap() = Some(10);
    let wire = transfer(&link, &params, &payload);
    assert_eq!(
        frame_bytes(wire.iter().map(|s| s.frame)),
        frame_bytes(reference_exchange(&params, &payload))
    );
}

#[test]
fn stmin_and_block_size_hold_when_the_receive_thread_sends() {
    // STmin 2 ms, blocks of 4: every gap between consecutive frames is at least 2 ms.
    let params = params(2, 4, false);
    let payload: Vec<u8> = (0..200).map(|i| i as u8).collect();
    let link = link();
    let wire = transfer(&link, &params, &payload);
    assert_eq!(
        frame_bytes(wire.iter().map(|s| s.frame)),
        frame_bytes(reference_exchange(&params, &payload))
    );
    let cfs: Vec<&Sent> = wire
        .iter()
        .filter(|s| s.frame.id == 0x6E0 && s.frame.data()[0] >> 4 == 2)
        .collect();
    assert_eq!(cfs.len(), 28, "6 bytes in the FF, 194 in 28 CFs");
    for pair in cfs.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(2), "gap {gap:?}");
    }
    let fcs = wire.iter().filter(|s| s.frame.data()[0] == 0x30).count();
    assert_eq!(
        fcs, 7,
        "one FC after the FF and after each of the first 6 blocks of 4"
    );
}

#[test]
fn closing_the_bus_ends_a_stack_that_takes_frames_as_a_sink() {
    let link = link();
    let a = start(&link.a, 0x6E0, 0x6E8, &params(0, 0, false));
    // No peer: the FF goes out, then the transfer waits for a flow control.
    let id = a.send(vec![0x11; 100], None, true).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    link.a.close();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match a.take_status(id) {
            Some(TransferStatus::Failed(e)) => {
                assert_eq!(e.code, canwire_core::isotp::IsoTpErrorCode::SendStopped);
                break;
            }
            other => assert!(Instant::now() < deadline, "still {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(a.recv_blocking(Duration::from_secs(5)).is_none());
}
