//! Raw mode over a real loopback connection: exact bytes both ways.

mod common;

use canwire_core::{Frame, FrameFlags};
use common::{Rig, ts};
use std::time::Duration;

const T: u64 = 1_700_000_023_424_242_000;

#[test]
fn received_frames_in_socketcand_format() {
    let rig = Rig::default();
    let mut c = rig.raw_client();
    rig.peer_send(Frame::classic(0x123, false, &[0x1A, 0x22, 0x03, 0x44]), T);
    rig.peer_send(Frame::classic(0x1AAA_AAAA, true, &[0x01, 0xF1]), T + 1_000);
    rig.peer_send(Frame::classic(0x5, false, &[]), T + 2_000);
    rig.peer_send(Frame::remote(0x6, false, 2), T + 3_000);
    rig.peer_send(Frame::classic(0x7, false, &[0xFF; 8]), T + 4_000);
    c.expect(&format!("< frame 123 {} 1A220344 >", ts(T)));
    c.expect(&format!("< frame 1AAAAAAA {} 01F1 >", ts(T + 1_000)));
    c.expect(&format!("< frame 005 {}  >", ts(T + 2_000)));
    // the remote frame is not representable: skipped, counted
    c.expect(&format!("< frame 007 {} FFFFFFFFFFFFFFFF >", ts(T + 4_000)));
    assert_eq!(rig.server.stats().skipped_frames, 1);
}

#[test]
fn sends_reach_the_bus_in_every_id_convention() {
    let rig = Rig::default();
    let mut c = rig.raw_client();
    c.send("< send 123 3 11 22 33 >");
    c.send("< send 1AAAAAAA 2 1 f1 >");
    c.send("< send 7FF 0  >");
    c.send("< send 80000123 1 01 >");
    c.send("< send 1abcd 1 01 >< send 123 0 >");
    let got: Vec<(u32, bool, Vec<u8>)> = rig
        .peer_frames(Duration::from_millis(200))
        .iter()
        .map(|f| (f.id, f.is_extended(), f.data().to_vec()))
        .collect();
    assert_eq!(
        got,
        [
            (0x123, false, vec![0x11, 0x22, 0x33]),
            (0x1AAA_AAAA, true, vec![1, 0xF1]),
            (0x7FF, false, vec![]),
            (0x123, true, vec![1]),
            (0x1ABCD, true, vec![1]),
            (0x123, false, vec![]),
        ]
    );
    c.expect_silence(Duration::from_millis(100));
}

#[test]
fn clients_see_each_other_but_not_themselves() {
    let rig = Rig::default();
    let mut a = rig.raw_client();
    let mut b = rig.raw_client();
    a.send("< send 321 1 AA >");
    let el = b.next_element();
    assert!(
        el.starts_with("< frame 321 ") && el.ends_with(" AA >"),
        "{el}"
    );
    a.expect_silence(Duration::from_millis(150));
}

#[test]
fn malformed_unknown_and_other_modes_commands() {
    let rig = Rig::default();
    let mut c = rig.raw_client();
    // known raw command, wrong fields: nothing, counted
    for bad in [
        "< send 123 2 01 >",
        "< send 123 9 1 2 3 4 5 6 7 8 9 >",
        "< send 123 1 100 >",
        "< send 3FFFFFFFF 0 >",
        "< send >",
    ] {
        c.send(bad);
    }
    c.send("< echo >");
    c.expect("< echo >");
    assert_eq!(rig.server.stats().malformed, 5);
    // the mode we are in, another mode's commands, unknown words, fd without the option
    for unknown in [
        "< rawmode >",
        "< subscribe 0 0 123 >",
        "< statistics 100 >",
        "< nosuch >",
        "< sendfd 123 0 >",
        "< open vcan0 >",
    ] {
        c.send(unknown);
        c.expect("< error unknown command >");
    }
    assert!(rig.peer_frames(Duration::from_millis(50)).is_empty());
    c.send("< send 123 0 >");
    assert_eq!(
        rig.peer_frames(Duration::from_millis(100)).len(),
        1,
        "still serving"
    );
}

#[test]
fn frames_right_after_the_rawmode_ok_are_held_not_lost() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< rawmode >");
    std::thread::sleep(Duration::from_millis(2));
    rig.peer_send(Frame::classic(0x42, false, &[1]), T);
    // python-can's constructor reads the rawmode reply with one recv, alone:
    // the frame that came right after it waits 20 ms (a read delayed longer than
    // that on a loaded machine would see both, which python-can never does)
    let mut buf = [0u8; 256];
    let n = std::io::Read::read(&mut c.stream, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"< ok >");
    c.expect(&format!("< frame 042 {} 01 >", ts(T)));
}

#[test]
fn error_frames_only_on_request() {
    let mut error = Frame::classic(0x004, false, &[0, 4, 0, 0, 0, 0, 0, 0]);
    error.flags.set(FrameFlags::ERROR, true);
    for enabled in [false, true] {
        let rig = Rig::new(canwire_socketcand::server::ServerConfig {
            error_frames: enabled,
            ..Default::default()
        });
        let mut c = rig.raw_client();
        // only the hub's reader can receive an error frame from the virtual bus by its delivery
        rig.peer_send(error, T);
        rig.peer_send(Frame::classic(0x1, false, &[]), T);
        if enabled {
            c.expect(&format!("< error 004 {} >", ts(T)));
        }
        c.expect(&format!("< frame 001 {}  >", ts(T)));
    }
}

#[test]
fn fd_frames_on_opt_in() {
    let rig_channel;
    {
        let exported = common::virtual_bus_fd("fd");
        rig_channel = exported.1;
        let config = canwire_socketcand::server::ServerConfig {
            listen: canwire_socketcand::server::Listen::Tcp("127.0.0.1:0".parse().unwrap()),
            fd: true,
            ..Default::default()
        };
        let server = canwire_socketcand::server::SocketcandServer::start(
            config,
            vec![("can0".into(), exported.0)],
        )
        .unwrap();
        let peer = common::virtual_bus_fd_on(&rig_channel);
        let rx = peer.add_reader(100).unwrap();
        let canwire_socketcand::server::LocalAddress::Tcp(addr) = server.local_address() else {
            panic!()
        };
        let mut c = common::Client::connect(*addr);
        c.expect("< hi >");
        c.send("< open can0 >< rawmode >");
        c.expect("< ok >< ok >");
        std::thread::sleep(Duration::from_millis(30));
        let data: Vec<u8> = (0..12).collect();
        let mut f = Frame::fd(0x123, false, &data, true);
        f.timestamp_ns = T;
        peer.send(&[f]).unwrap();
        c.expect(&format!(
            "< fdframe 123 {} 000102030405060708090A0B >",
            ts(T)
        ));
        c.send("< sendfd 1234 16 0 1 2 3 4 5 6 7 8 9 a b c d e f >");
        std::thread::sleep(Duration::from_millis(100));
        let mut got = Vec::new();
        rx.pop_into(10, &mut got);
        assert_eq!(got.len(), 1);
        assert!(got[0].is_fd() && got[0].is_extended());
        assert_eq!(
            (got[0].id, got[0].data()),
            (0x1234, &(0..16).collect::<Vec<u8>>()[..])
        );
    }
}
