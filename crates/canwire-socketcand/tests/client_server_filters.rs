//! `filtering: "server"`: the bus's exact-id filters as BCM subscriptions,
//! against canwire's server and against a scripted server (the exact bytes).

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use canwire_core::filter::{CanFilter, FilterSet};
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
            "< bcmmode >< subscribe 0 0 123 >< subscribe 0 0 00000005 >",
            "< unsubscribe 123 >",
            "< rawmode >"
        ]
    );
}
