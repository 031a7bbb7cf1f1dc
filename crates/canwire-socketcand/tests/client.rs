//! canwire's socketcand client against canwire's server, and against a
//! scripted server for the lenient reading of quirky elements.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use canwire_bus::transport::BusState;
use canwire_core::{ErrorCode, Frame};
use canwire_socketcand::client::{ClientConfig, SocketcandTransport, open_bus};
use canwire_socketcand::server::{Listen, LocalAddress, ServerConfig, SocketcandServer};
use common::Rig;

const T: u64 = 1_700_000_023_424_242_000;

fn client_config(rig: &Rig) -> ClientConfig {
    let LocalAddress::Tcp(addr) = rig.server.local_address() else {
        panic!()
    };
    ClientConfig::new("127.0.0.1", addr.port(), "vcan0")
}

fn recv(q: &canwire_bus::FrameQueue, n: usize) -> Vec<Frame> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while out.len() < n && std::time::Instant::now() < deadline {
        q.wait_blocking(Duration::from_millis(50));
        q.pop_into(n - out.len(), &mut out);
    }
    out
}

#[test]
fn frames_both_ways_through_canwire_serve() {
    let rig = Rig::default();
    let bus = open_bus(client_config(&rig)).unwrap();
    let rx = bus.add_reader(100).unwrap();
    assert_eq!(bus.state(), BusState::Active);
    bus.send(
        &[
            Frame::classic(0x123, false, &[1, 2, 3]),
            Frame::classic(0x1AAA_AAAA, true, &[]),
            Frame::fd(0x1, false, &[1], false),
        ][..2],
    )
    .unwrap();
    let got = rig.peer_frames(Duration::from_millis(200));
    assert_eq!(
        got.iter()
            .map(|f| (f.id, f.is_extended(), f.data().to_vec()))
            .collect::<Vec<_>>(),
        [(0x123, false, vec![1, 2, 3]), (0x1AAA_AAAA, true, vec![])]
    );
    std::thread::sleep(Duration::from_millis(30));
    rig.peer_send(Frame::classic(0x7FF, false, &[0xAB; 8]), T);
    rig.peer_send(Frame::classic(0x0000_0001, true, &[]), T + 1_000);
    let got = recv(&rx, 2);
    assert_eq!(
        got.iter()
            .map(|f| (f.id, f.is_extended(), f.data().to_vec(), f.timestamp_ns))
            .collect::<Vec<_>>(),
        [
            (0x7FF, false, vec![0xAB; 8], T / 1000 * 1000),
            (0x1, true, vec![], T + 1_000)
        ]
    );
    // no echo of our own sends
    assert!(rx.is_empty());
    assert_eq!(
        bus.send(&[Frame::fd(0x1, false, &[1], false)])
            .unwrap_err()
            .code,
        ErrorCode::FdNotEnabled
    );
    assert_eq!(
        bus.send(&[Frame::remote(0x1, false, 1)]).unwrap_err().code,
        ErrorCode::Unsupported
    );
    bus.close();
}

#[test]
fn a_bus_the_server_does_not_export() {
    let rig = Rig::default();
    let config = ClientConfig {
        channel: "can9".into(),
        ..client_config(&rig)
    };
    let err = open_bus(config).err().unwrap();
    assert_eq!(err.code, ErrorCode::UnknownInterface);
    assert!(
        err.message.contains("could not open bus"),
        "{}",
        err.message
    );
}

#[test]
fn nobody_listening() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = open_bus(ClientConfig::new("127.0.0.1", port, "vcan0"))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::Unreachable);
    assert!(err.message.contains("connecting failed"), "{}", err.message);
}

#[test]
fn reconnects_after_the_server_restarts_and_reports_the_gap() {
    let exported = common::virtual_bus("reconnect");
    let first = SocketcandServer::start(
        ServerConfig {
            listen: Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
        vec![("vcan0".into(), exported.clone())],
    )
    .unwrap();
    let LocalAddress::Tcp(addr) = *first.local_address() else {
        panic!()
    };
    let bus = open_bus(ClientConfig::new("127.0.0.1", addr.port(), "vcan0")).unwrap();
    let state = bus.state_watch().unwrap();
    first.close();
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while bus.state() != BusState::Unknown && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(bus.state(), BusState::Unknown);
    assert!(state.get().1 >= 1, "the state changed");
    let err = bus.send(&[Frame::classic(0x1, false, &[])]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable);
    let stats = bus.stats();
    assert_eq!(stats.rx_errors, 1);
    assert!(stats.last_rx_error.unwrap().contains("lost the connection"));
    let second = SocketcandServer::start(
        ServerConfig {
            listen: Listen::Tcp(addr),
            ..Default::default()
        },
        vec![("vcan0".into(), exported.clone())],
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while bus.state() != BusState::Active && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(bus.state(), BusState::Active);
    let last = bus.stats().last_rx_error.unwrap();
    assert!(last.contains("was down for"), "{last}");
    let peer = common::virtual_bus("reconnect");
    let rx = peer.add_reader(10).unwrap();
    bus.send(&[Frame::classic(0x2, false, &[2])]).unwrap();
    assert_eq!(recv(&rx, 1)[0].id, 0x2);
    drop(second);
}

#[test]
fn reads_quirky_elements_leniently() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 256];
        s.write_all(b"< hi >").unwrap();
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"< open vcan0 >");
        s.write_all(b"<ok>").unwrap();
        let n = s.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"< rawmode >");
        // the ok glued to frames, double spaces, SavvyCAN's bit 31, BCM-style bytes, an element split in two writes
        s.write_all(b"< ok >< frame 123 1.5 0102 >noise<frame  80000123   2.000001 01 02  >< error 004 3.0 >< err").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.write_all(b"or read-only server >< frame 7FF 4.000000  >")
            .unwrap();
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    // a reader from the start: frames glued to the rawmode `< ok >` arrive before open returns
    let readers = std::sync::Arc::new(canwire_bus::ReaderSet::new(false));
    let rx = readers.add_reader(10);
    let transport = SocketcandTransport::connect(
        ClientConfig::new("127.0.0.1", port, "vcan0"),
        readers.clone(),
    )
    .unwrap();
    let bus = canwire_bus::Bus::with_transport(readers, Box::new(transport));
    let got = recv(&rx, 4);
    assert_eq!(
        got.iter()
            .map(|f| (
                f.id,
                f.is_extended(),
                f.is_error(),
                f.data().to_vec(),
                f.timestamp_ns
            ))
            .collect::<Vec<_>>(),
        [
            (0x123, false, false, vec![1, 2], 1_500_000_000),
            (0x123, true, false, vec![1, 2], 2_000_001_000),
            (0x004, false, true, vec![0; 8], 3_000_000_000),
            (0x7FF, false, false, vec![], 4_000_000_000),
        ]
    );
    let stats = bus.stats();
    assert_eq!(stats.rx_errors, 1);
    assert!(stats.last_rx_error.unwrap().contains("read-only server"));
    bus.send(&[
        Frame::classic(0x1ABCDEF, true, &[0xF1]),
        Frame::classic(0x12, false, &[]),
    ])
    .unwrap();
    assert_eq!(
        server.join().unwrap(),
        "< send 01ABCDEF 1 F1 >< send 012 0 >"
    );
}

#[test]
fn periodic_tasks_on_the_server() {
    use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
    use canwire_core::cyclic::CyclicTiming;
    let rig = Rig::default();
    let config = ClientConfig {
        server_cyclic: true,
        ..client_config(&rig)
    };
    let bus = std::sync::Arc::new(open_bus(config).unwrap());
    let task = CyclicTask::create(
        bus.clone(),
        vec![Frame::classic(0x123, false, &[0xAA])],
        CyclicTiming::every(50_000_000),
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    )
    .unwrap();
    // the first frame at once (a send), then the server's job every 50 ms
    let frames = rig.peer_frames_until(|f| f.len() >= 4);
    assert!(frames.len() >= 4, "{} frames", frames.len());
    assert!(frames.iter().all(|f| f.id == 0x123 && f.data() == [0xAA]));
    task.modify(vec![Frame::classic(0x123, false, &[0xBB])])
        .unwrap();
    let frames = rig.peer_frames_until(|f| f.last().is_some_and(|l| l.data() == [0xBB]));
    assert_eq!(frames.last().unwrap().data(), [0xBB]);
    task.stop().unwrap();
    // a job still running every 50 ms never leaves 200 ms without a frame
    assert!(
        rig.peer_goes_quiet(Duration::from_millis(200)),
        "the server deleted the job"
    );
    // what socketcand's BCM cannot run is refused
    let two = CyclicTask::create(
        bus.clone(),
        vec![
            Frame::classic(0x1, false, &[]),
            Frame::classic(0x2, false, &[]),
        ],
        CyclicTiming::every(50_000_000),
        true,
        SchedulerKind::Native,
        TaskHooks::default(),
    );
    assert_eq!(two.err().unwrap().code, ErrorCode::Unsupported);
    task.start().unwrap();
    assert!(!rig.peer_frames_until(|f| !f.is_empty()).is_empty());
    drop(task);
    assert!(
        rig.peer_goes_quiet(Duration::from_millis(200)),
        "removing the task deletes the job"
    );
}
