//! `filtering: "server"`: the bus's exact-id filters as BCM subscriptions,
//! against canwire's server and against a scripted server (the exact bytes).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use canwire_bus::watch::Watch;
use canwire_core::filter::{CanFilter, FilterSet};
use canwire_core::watch::{WatchConfig, WatchEventKind};
use canwire_core::{ErrorCode, Frame};
use canwire_socketcand::client::{ClientConfig, open_bus};
use canwire_socketcand::server::LocalAddress;
use common::Rig;

const T: u64 = 1_700_000_023_424_242_000;

fn server_filtering(rig: &Rig) -> ClientConfig {
    let LocalAddress::Tcp(addr) = rig.server.local_address() else {
        panic!()
    };
    ClientConfig {
        server_filtering: true,
        ..ClientConfig::new("127.0.0.1", addr.port(), "vcan0")
    }
}

fn recv(q: &canwire_bus::FrameQueue, n: usize, wait: Duration) -> Vec<Frame> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + wait;
    while out.len() < n && std::time::Instant::now() < deadline {
        q.wait_blocking(Duration::from_millis(20));
        q.pop_into(n - out.len(), &mut out);
    }
    out
}

fn exact(id: u32, extended: bool) -> CanFilter {
    CanFilter {
        extended: Some(extended),
        ..CanFilter::new(id, if extended { 0x1FFF_FFFF } else { 0x7FF })
    }
}

fn summary(frames: &[Frame]) -> Vec<(u32, bool, Vec<u8>, u64)> {
    frames
        .iter()
        .map(|f| (f.id, f.is_extended(), f.data().to_vec(), f.timestamp_ns))
        .collect()
}

#[test]
fn the_server_sends_only_the_filtered_ids() {
    let rig = Rig::default();
    let bus = open_bus(server_filtering(&rig)).unwrap();
    let rx = bus.add_reader(100).unwrap();
    bus.set_filters(FilterSet::any_of(vec![
        exact(0x123, false),
        exact(0x1ABC_DEF0, true),
    ]))
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    for (i, f) in [
        Frame::classic(0x124, false, &[9]),
        Frame::classic(0x123, false, &[1, 2]),
        Frame::classic(0x123, true, &[3]),
        Frame::classic(0x1ABC_DEF0, true, &[]),
    ]
    .into_iter()
    .enumerate()
    {
        rig.peer_send(f, T + i as u64 * 1_000);
    }
    assert_eq!(
        summary(&recv(&rx, 3, Duration::from_secs(2))),
        [
            (0x123, false, vec![1, 2], T + 1_000),
            (0x1ABC_DEF0, true, vec![], T + 3_000)
        ]
    );
    // the server filtered: nothing reached canwire's software filters to drop
    assert_eq!(bus.stats().rx_filtered, 0);
    // sends still work in BCM mode
    bus.send(&[Frame::classic(0x7, false, &[7])]).unwrap();
    let sent = rig.peer_frames(Duration::from_millis(200));
    assert_eq!(summary(&sent)[0].2, [7]);
    // a new set: 0x124 only
    bus.set_filters(FilterSet::any_of(vec![exact(0x124, false)]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    rig.peer_send(Frame::classic(0x123, false, &[1]), T + 10_000);
    rig.peer_send(Frame::classic(0x124, false, &[2]), T + 11_000);
    assert_eq!(
        summary(&recv(&rx, 2, Duration::from_millis(500))),
        [(0x124, false, vec![2], T + 11_000)]
    );
    assert_eq!(bus.stats().rx_filtered, 0);
    // no filters: raw mode again, every frame
    bus.set_filters(FilterSet::default()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    rig.peer_send(Frame::classic(0x555, false, &[5]), T + 20_000);
    assert_eq!(
        summary(&recv(&rx, 1, Duration::from_secs(2))),
        [(0x555, false, vec![5], T + 20_000)]
    );
    assert_eq!(bus.stats().rx_errors, 0, "{:?}", bus.stats().last_rx_error);
}

#[test]
fn filters_bcm_cannot_run_are_refused() {
    let rig = Rig::default();
    let bus = open_bus(server_filtering(&rig)).unwrap();
    let err = bus
        .set_filters(FilterSet::any_of(vec![CanFilter::new(0x100, 0x700)]))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert!(
        err.message.contains("exact-id filters only"),
        "{}",
        err.message
    );
}

#[test]
fn the_exact_bytes_the_client_sends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (step_tx, step_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 512];
        let mut read = |s: &mut std::net::TcpStream| {
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        s.write_all(b"< hi >").unwrap();
        assert_eq!(read(&mut s), "< open vcan0 >");
        s.write_all(b"< ok >").unwrap();
        assert_eq!(read(&mut s), "< rawmode >");
        s.write_all(b"< ok >").unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            step_rx.recv().unwrap();
            let text = read(&mut s);
            if text.starts_with("< bcmmode >") {
                s.write_all(b"< ok >< frame 123 5.000001 AA BB  >").unwrap();
            }
            seen.push(text);
        }
        seen
    });
    let config = ClientConfig {
        server_filtering: true,
        ..ClientConfig::new("127.0.0.1", port, "vcan0")
    };
    let bus = open_bus(config).unwrap();
    let rx = bus.add_reader(10).unwrap();
    bus.set_filters(FilterSet::any_of(vec![
        exact(0x123, false),
        exact(0x0000_0005, true),
    ]))
    .unwrap();
    step_tx.send(()).unwrap();
    assert_eq!(
        summary(&recv(&rx, 1, Duration::from_secs(2))),
        [(0x123, false, vec![0xAA, 0xBB], 5_000_001_000)]
    );
    bus.set_filters(FilterSet::any_of(vec![exact(0x5, true)]))
        .unwrap();
    step_tx.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(150));
    bus.set_filters(FilterSet::default()).unwrap();
    step_tx.send(()).unwrap();
    assert_eq!(
        server.join().unwrap(),
        [
            "< bcmmode >< subscribe 0 0 3FFFFFFF >< subscribe 0 0 123 >< subscribe 0 0 00000005 >",
            "< unsubscribe 123 >",
            "< rawmode >"
        ]
    );
}

fn events(
    queue: &canwire_bus::watch::queue::WatchQueue,
    n: usize,
    wait: Duration,
) -> Vec<(WatchEventKind, u32, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + wait;
    while out.len() < n && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        for e in queue.pop(n - out.len()) {
            let f = e.frame.expect("a frame event");
            out.push((e.kind, f.id, f.data().to_vec(), e.timestamp_ns));
        }
    }
    out
}

#[test]
fn watches_run_on_the_server() {
    let rig = Rig::default();
    let bus = std::sync::Arc::new(open_bus(server_filtering(&rig)).unwrap());
    let changes = Watch::open(
        &bus,
        WatchConfig {
            id: 0x123,
            change_mask: Some(vec![0xFF]),
            ..WatchConfig::default()
        },
        16,
    )
    .unwrap();
    let every = Watch::open(
        &bus,
        WatchConfig {
            id: 0x1ABC_DEF0,
            extended: true,
            ..WatchConfig::default()
        },
        16,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    for (i, (id, ext, data)) in [
        (0x123, false, &[1u8][..]),
        (0x123, false, &[1]),
        (0x1ABC_DEF0, true, &[7]),
        (0x124, false, &[5]),
        (0x123, false, &[2]),
        (0x123, false, &[2, 9]),
        (0x1ABC_DEF0, true, &[7]),
    ]
    .into_iter()
    .enumerate()
    {
        rig.peer_send(Frame::classic(id, ext, data), T + i as u64 * 1_000);
    }
    use WatchEventKind::{Changed, Received};
    assert_eq!(
        events(changes.queue(), 3, Duration::from_millis(500)),
        [
            (Changed, 0x123, vec![1], T),
            (Changed, 0x123, vec![2], T + 4_000)
        ]
    );
    assert_eq!(
        events(every.queue(), 3, Duration::from_millis(500)),
        [
            (Received, 0x1ABC_DEF0, vec![7], T + 2_000),
            (Received, 0x1ABC_DEF0, vec![7], T + 6_000)
        ]
    );
    drop(changes);
    // what socketcand's jobs cannot do is refused
    let err = Watch::open(
        &bus,
        WatchConfig {
            id: 0x1,
            timeout_ns: Some(100_000_000),
            ..WatchConfig::default()
        },
        4,
    )
    .err()
    .unwrap();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert!(err.message.contains("timeoutMs"), "{}", err.message);
    assert_eq!(bus.stats().rx_errors, 0, "{:?}", bus.stats().last_rx_error);
    // closing the bus ends its watches' connections and queues
    bus.close();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !every.queue().is_closed() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(every.queue().is_closed());
    let err = Watch::open(&bus, WatchConfig::default(), 4).err().unwrap();
    assert_eq!(err.code, ErrorCode::Closed);
}

#[test]
fn a_throttled_server_watch_reports_the_latest_held_back_frame() {
    let rig = Rig::default();
    let bus = std::sync::Arc::new(open_bus(server_filtering(&rig)).unwrap());
    let watch = Watch::open(
        &bus,
        WatchConfig {
            id: 0x10,
            throttle_ns: Some(300_000_000),
            ..WatchConfig::default()
        },
        16,
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    for i in 0..3u8 {
        rig.peer_send(Frame::classic(0x10, false, &[i]), T + u64::from(i) * 1_000);
    }
    // the first at once; the second dropped; the third when 300 ms have passed
    let got = events(watch.queue(), 3, Duration::from_millis(800));
    assert_eq!(
        got.iter().map(|e| e.2.clone()).collect::<Vec<_>>(),
        [vec![0], vec![2]]
    );
    assert_eq!(got[1].3, T + 2_000);
}

#[test]
fn the_exact_bytes_of_a_watch() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let read = |s: &mut std::net::TcpStream| {
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        // the bus's raw connection
        let (mut raw, _) = listener.accept().unwrap();
        raw.write_all(b"< hi >").unwrap();
        assert_eq!(read(&mut raw), "< open vcan0 >");
        raw.write_all(b"< ok >").unwrap();
        assert_eq!(read(&mut raw), "< rawmode >");
        raw.write_all(b"< ok >").unwrap();
        // the watch's BCM connection
        let (mut bcm, _) = listener.accept().unwrap();
        bcm.write_all(b"< hi >").unwrap();
        assert_eq!(read(&mut bcm), "< open vcan0 >");
        bcm.write_all(b"< ok >").unwrap();
        let job = read(&mut bcm);
        bcm.write_all(b"< frame 123 1.000002 0A 0B  >").unwrap();
        // closing the watch closes its connection
        let mut rest = [0u8; 16];
        let closed = bcm.read(&mut rest).unwrap() == 0;
        (job, closed, raw)
    });
    let config = ClientConfig {
        server_filtering: true,
        ..ClientConfig::new("127.0.0.1", port, "vcan0")
    };
    let bus = std::sync::Arc::new(open_bus(config).unwrap());
    let watch = Watch::open(
        &bus,
        WatchConfig {
            id: 0x123,
            change_mask: Some(vec![0xF0, 0xFF]),
            throttle_ns: Some(20_000_000),
            ..WatchConfig::default()
        },
        4,
    )
    .unwrap();
    assert_eq!(
        events(watch.queue(), 1, Duration::from_secs(2)),
        [(
            WatchEventKind::Changed,
            0x123,
            vec![0x0A, 0x0B],
            1_000_002_000
        )]
    );
    watch.close();
    let (job, closed, _raw) = server.join().unwrap();
    assert_eq!(job, "< filter 0 20000 123 2 F0 FF >");
    assert!(closed);
}

#[test]
fn error_frames_pass_the_server_side_filters_with_their_data() {
    let rig = Rig::default();
    let bus = open_bus(server_filtering(&rig)).unwrap();
    let rx = bus.add_reader(100).unwrap();
    bus.set_filters(FilterSet::any_of(vec![exact(0x123, false)]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mut error = Frame::classic(0x00C, false, &[0, 0x10, 0x80, 0x19, 0, 0, 0x7F, 0x01]);
    error.flags.set(canwire_core::FrameFlags::ERROR, true);
    rig.peer_send(error, T);
    rig.peer_send(Frame::classic(0x123, false, &[1]), T + 1_000);
    let got = recv(&rx, 2, Duration::from_secs(2));
    assert_eq!(
        got.iter()
            .map(|f| (f.id, f.is_error(), f.data().to_vec(), f.timestamp_ns))
            .collect::<Vec<_>>(),
        [
            (0x00C, true, vec![0, 0x10, 0x80, 0x19, 0, 0, 0x7F, 0x01], T),
            (0x123, false, vec![1], T + 1_000)
        ]
    );
}

#[test]
fn a_reconnected_connection_subscribes_again() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let read = |s: &mut std::net::TcpStream| {
            let mut buf = [0u8; 512];
            let n = s.read(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        let handshake = |s: &mut std::net::TcpStream| {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(b"< hi >").unwrap();
            assert_eq!(read(s), "< open vcan0 >");
            s.write_all(b"< ok >").unwrap();
            assert_eq!(read(s), "< rawmode >");
            s.write_all(b"< ok >").unwrap();
        };
        let (mut first, _) = listener.accept().unwrap();
        handshake(&mut first);
        let subscribed = read(&mut first);
        drop(first);
        let (mut second, _) = listener.accept().unwrap();
        handshake(&mut second);
        (subscribed, read(&mut second))
    });
    let mut config = ClientConfig {
        server_filtering: true,
        ..ClientConfig::new("127.0.0.1", port, "vcan0")
    };
    config.backoff.initial = Duration::from_millis(20);
    let bus = open_bus(config).unwrap();
    bus.set_filters(FilterSet::any_of(vec![exact(0x123, false)]))
        .unwrap();
    let (first, second) = server.join().unwrap();
    let expected = "< bcmmode >< subscribe 0 0 3FFFFFFF >< subscribe 0 0 123 >";
    assert_eq!((first.as_str(), second.as_str()), (expected, expected));
}
