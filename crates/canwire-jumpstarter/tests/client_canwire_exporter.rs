//! canwire's client against canwire's own exporter, in one process: the
//! report's `canwire.dev/streaming` label makes the bus receive through
//! `canwire_recv_stream` and send through `canwire_send_batch`; a refused
//! batch reaches the next send; a closing exporter fails the readers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use canwire_bus::virtual_bus::VirtualConfig;
use canwire_bus::{Bus, BusConfig, FrameQueue};
use canwire_core::{ErrorCode, Frame, FrameFlags};
use canwire_jumpstarter::client::can_transport::{CanOpenOptions, JumpstarterTransport};
use canwire_jumpstarter::client::target::ConnectOptions;
use canwire_jumpstarter::server::{Export, ExportDriver, ExporterServer, ServerOptions};

fn virtual_bus(channel: &str) -> Arc<Bus> {
    Arc::new(
        Bus::open(BusConfig::Virtual(VirtualConfig {
            channel: channel.into(),
            fd: true,
            ..VirtualConfig::default()
        }))
        .expect("a virtual bus opens"),
    )
}

fn remote(address: &str) -> Arc<Bus> {
    let (readers, transport) = JumpstarterTransport::open(CanOpenOptions {
        connect: ConnectOptions {
            host: Some(address.into()),
            insecure: Some(true),
            ..ConnectOptions::default()
        },
        path: "can".into(),
        fd: true,
    })
    .expect("the driver opens");
    Arc::new(Bus::with_transport(readers, Box::new(transport)))
}

fn read(queue: &FrameQueue, n: usize) -> Vec<Frame> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < n && Instant::now() < deadline && !(queue.is_closed() && queue.is_empty()) {
        queue.wait_blocking(Duration::from_millis(50));
        queue.pop_into(n - out.len(), &mut out);
    }
    out
}

fn without_time(frames: &[Frame]) -> Vec<Frame> {
    frames
        .iter()
        .map(|f| {
            let mut f = *f;
            f.timestamp_ns = 0;
            f.flags.set(FrameFlags::TX, false);
            f
        })
        .collect()
}

#[test]
fn a_canwire_exporter_streams_frames_both_ways_in_order() {
    let exported = virtual_bus("client-canwire-both-ways");
    let local = virtual_bus("client-canwire-both-ways");
    let server = ExporterServer::start(
        vec![Export::new("can", ExportDriver::Can(exported.clone()))],
        ServerOptions::default(),
    )
    .unwrap();
    let bus = remote(server.local_address());
    assert!(
        bus.channel_info()
            .starts_with("Jumpstarter streaming driver 'can'"),
        "{}",
        bus.channel_info()
    );
    let rx = bus.add_reader(100_000).unwrap();
    let local_rx = local.add_reader(100_000).unwrap();
    let mut fd = Frame::fd(0x18DA_F110, true, &[0x5a; 12], true);
    fd.flags.set(FrameFlags::ESI, true);
    let mut frames = vec![
        Frame::classic(0x123, false, &[1, 2, 3]),
        Frame::remote(0x7ff, false, 4),
        fd,
    ];
    frames.extend((0..20_000u32).map(|i| Frame::classic(i & 0x7ff, false, &i.to_le_bytes())));
    for chunk in frames.chunks(1000) {
        assert_eq!(local.send(chunk).unwrap(), chunk.len());
    }
    let got = read(&rx, frames.len());
    assert_eq!(without_time(&got), without_time(&frames));
    assert_eq!(
        bus.stats().rx_dropped_kernel,
        0,
        "the exporter's stream queue lost nothing"
    );
    let mut sent = 0;
    while sent < frames.len() {
        sent += bus.send(&frames[sent..]).unwrap();
        if sent < frames.len() {
            bus.wait_writable(Duration::from_secs(5)).unwrap();
        }
    }
    assert_eq!(
        without_time(&read(&local_rx, frames.len())),
        without_time(&frames)
    );
    server.close();
}

#[test]
fn a_read_only_refusal_reaches_the_next_send_and_a_closed_exporter_fails_the_readers() {
    let exported = virtual_bus("client-canwire-read-only");
    let server = ExporterServer::start(
        vec![Export::new("can", ExportDriver::Can(exported.clone()))],
        ServerOptions {
            read_only: true,
            ..ServerOptions::default()
        },
    )
    .unwrap();
    let bus = remote(server.local_address());
    let rx = bus.add_reader(10).unwrap();
    assert_eq!(bus.send(&[Frame::classic(1, false, &[])]).unwrap(), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    let refusal = loop {
        std::thread::sleep(Duration::from_millis(20));
        match bus.send(&[Frame::classic(1, false, &[])]) {
            Err(e) => break e,
            Ok(_) => assert!(Instant::now() < deadline, "no refusal within 5 s"),
        }
    };
    assert_eq!(refusal.code, ErrorCode::PermissionDenied);
    assert!(
        refusal
            .message
            .starts_with("an earlier send failed on the exporter: "),
        "{}",
        refusal.message
    );
    server.close();
    assert!(read(&rx, 1).is_empty());
    let failure = rx.failure().expect("the reader fails");
    assert_eq!(failure.code, ErrorCode::Unreachable);
    assert!(
        failure.message.contains(server.local_address()),
        "{}",
        failure.message
    );
}
