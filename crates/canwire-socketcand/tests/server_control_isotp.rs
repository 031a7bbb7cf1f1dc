//! Control and ISO-TP modes over a real loopback connection.

mod common;

use canwire_core::Frame;
use common::Rig;
use std::time::Duration;

#[test]
fn statistics_every_interval_until_turned_off() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< controlmode >");
    c.expect("< ok >");
    rig.peer_send(Frame::classic(0x1, false, &[1, 2, 3]), 1);
    rig.peer_send(Frame::classic(0x2, false, &[4]), 1);
    std::thread::sleep(Duration::from_millis(100));
    c.send("< statistics 100 >");
    c.expect("< stat 4 2 0 0 >");
    c.expect("< stat 4 2 0 0 >");
    c.send("< statistics 0 >");
    std::thread::sleep(Duration::from_millis(50));
    c.expect_silence(Duration::from_millis(250));
    // no CAN traffic in control mode; send is unknown here
    c.send("< send 123 0 >");
    c.expect("< error unknown command >");
}

#[test]
fn isotp_sendpdu_and_pdu() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< isotpmode >");
    c.expect("< ok >");
    // before isotpconf: everything but mode switches, echo and isotpconf is ignored silently
    c.send("< sendpdu 0102 >< nosuch >< send 123 0 >< isotpconf 7E0 >");
    c.expect_silence(Duration::from_millis(100));
    c.send("< isotpconf 7E0 7E8 4 0 0 0 AA >");
    std::thread::sleep(Duration::from_millis(50));
    c.send("< sendpdu 0102 >");
    let f = rig.peer_frames(Duration::from_millis(100));
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].id, f[0].data()),
        (0x7E0, &[0x02, 0x01, 0x02, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA][..])
    );
    rig.peer_send(Frame::classic(0x7E8, false, &[0x03, 0x62, 0xF1, 0x90]), 0);
    let el = c.next_element();
    assert!(
        el.starts_with("< pdu ") && el.ends_with(" 62F190 >"),
        "{el}"
    );
    c.send("< isotpmode >");
    c.expect("< error unknown command >");
}

#[test]
fn isotp_multi_frame_payloads_both_ways() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< isotpmode >");
    c.expect("< ok >");
    c.send("< isotpconf 7E0 7E8 0 0 0 >");
    std::thread::sleep(Duration::from_millis(50));
    // the peer sends a 20-byte payload: FF, (server FC), CF, CF
    let payload: Vec<u8> = (0..20).collect();
    rig.peer_send(
        Frame::classic(0x7E8, false, &[0x10, 20, 0, 1, 2, 3, 4, 5]),
        0,
    );
    let fc = rig.peer_frames(Duration::from_millis(100));
    assert_eq!((fc[0].id, fc[0].data()[0]), (0x7E0, 0x30), "flow control");
    rig.peer_send(
        Frame::classic(0x7E8, false, &[0x21, 6, 7, 8, 9, 10, 11, 12]),
        0,
    );
    rig.peer_send(
        Frame::classic(0x7E8, false, &[0x22, 13, 14, 15, 16, 17, 18, 19]),
        0,
    );
    let el = c.next_element();
    let hex: String = payload.iter().map(|b| format!("{b:02X}")).collect();
    assert!(el.ends_with(&format!(" {hex} >")), "{el}");
}

#[test]
fn read_only_refuses_transmission() {
    let rig = Rig::new(canwire_socketcand::server::ServerConfig {
        read_only: true,
        ..Default::default()
    });
    let mut c = rig.bcm_client();
    c.send("< send 123 0 >");
    c.expect("< error read-only server >");
    c.send("< add 1 0 123 0 >");
    c.expect("< error read-only server >");
    c.send("< subscribe 0 0 123 >< echo >");
    c.expect("< echo >");
    c.send("< rawmode >");
    c.expect("< ok >");
    c.send("< send 123 0 >");
    c.expect("< error read-only server >");
    assert!(rig.peer_frames(Duration::from_millis(100)).is_empty());
    assert_eq!(rig.server.stats().refused_commands, 3);
}
