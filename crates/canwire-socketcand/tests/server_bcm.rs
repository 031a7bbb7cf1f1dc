//! BCM mode over a real loopback connection.

mod common;

use canwire_core::Frame;
use common::{Rig, ts};
use std::time::{Duration, Instant};

const T: u64 = 1_700_000_023_424_242_000;

#[test]
fn nothing_is_received_until_a_subscription() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    rig.peer_send(Frame::classic(0x123, false, &[1]), T);
    c.expect_silence(Duration::from_millis(150));
    c.send("< subscribe 0 0 123 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(Frame::classic(0x123, false, &[0x11, 0x22, 0x33]), T);
    rig.peer_send(Frame::classic(0x124, false, &[1]), T);
    rig.peer_send(Frame::classic(0x123, false, &[]), T + 1_000);
    c.expect(&format!("< frame 123 {} 11 22 33  >", ts(T)));
    c.expect(&format!("< frame 123 {}  >", ts(T + 1_000)));
    c.send("< unsubscribe 123 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(Frame::classic(0x123, false, &[1]), T);
    c.expect_silence(Duration::from_millis(150));
}

#[test]
fn a_filter_reports_changes_of_the_masked_bits() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< filter 0 0 00000123 1 F0 >");
    std::thread::sleep(Duration::from_millis(50));
    for (i, b) in [0x10u8, 0x11, 0x12, 0x20, 0x2F, 0x30].iter().enumerate() {
        rig.peer_send(Frame::classic(0x123, true, &[*b]), T + i as u64 * 1_000);
    }
    c.expect(&format!("< frame 00000123 {} 10  >", ts(T)));
    c.expect(&format!("< frame 00000123 {} 20  >", ts(T + 3_000)));
    c.expect(&format!("< frame 00000123 {} 30  >", ts(T + 5_000)));
    c.expect_silence(Duration::from_millis(100));
}

#[test]
fn a_muxfilter_compares_per_multiplex_value() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    // mux mask on byte 0; mux 1 watches byte 1, mux 2 watches byte 2
    c.send("< muxfilter 0 0 200 3 FF 00 00 00 00 00 00 00 01 FF 00 00 00 00 00 00 02 00 FF 00 00 00 00 00 >");
    std::thread::sleep(Duration::from_millis(50));
    let frames: [[u8; 3]; 5] = [[1, 5, 0], [2, 0, 7], [1, 5, 9], [2, 3, 7], [1, 6, 0]];
    for (i, d) in frames.iter().enumerate() {
        rig.peer_send(Frame::classic(0x200, false, d), T + i as u64 * 1_000);
    }
    c.expect(&format!("< frame 200 {} 01 05 00  >", ts(T)));
    c.expect(&format!("< frame 200 {} 02 00 07  >", ts(T + 1_000)));
    c.expect(&format!("< frame 200 {} 01 06 00  >", ts(T + 4_000)));
    c.expect_silence(Duration::from_millis(100));
}

#[test]
fn cyclic_jobs_start_one_interval_late_update_and_delete() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    let start = Instant::now();
    c.send("< add 0 100000 123 2 AA BB >");
    // the first frame goes one interval after the command
    let first = loop {
        let f = rig.peer_frames(Duration::from_millis(5));
        if let Some(f) = f.first() {
            break (Instant::now() - start, *f);
        }
        assert!(start.elapsed() < Duration::from_secs(2), "no cyclic frame");
    };
    assert!(
        first.0 >= Duration::from_millis(95),
        "first frame after {:?}",
        first.0
    );
    assert_eq!((first.1.id, first.1.data()), (0x123, &[0xAA, 0xBB][..]));
    c.send("< update 123 2 CC DD >");
    let frames = rig.peer_frames(Duration::from_millis(350));
    assert!(
        frames.len() >= 2 && frames.len() <= 4,
        "{} frames",
        frames.len()
    );
    assert_eq!(frames.last().unwrap().data(), [0xCC, 0xDD]);
    c.send("< delete 123 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_frames(Duration::ZERO);
    assert!(rig.peer_frames(Duration::from_millis(250)).is_empty());
    // an unknown job: nothing, counted
    c.send("< delete 124 >< update 125 0 >< echo >");
    c.expect("< echo >");
    assert_eq!(rig.server.stats().malformed, 2);
}

#[test]
fn jobs_die_with_the_connection_and_the_mode() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< add 0 20000 1 0 >< add 0 20000 2 0 >");
    assert!(!rig.peer_frames(Duration::from_millis(150)).is_empty());
    c.send("< rawmode >");
    c.expect("< ok >");
    rig.peer_frames(Duration::from_millis(30));
    assert!(rig.peer_frames(Duration::from_millis(100)).is_empty());
    c.send("< bcmmode >< add 0 20000 1 0 >");
    c.expect("< ok >");
    assert!(!rig.peer_frames(Duration::from_millis(150)).is_empty());
    drop(c);
    rig.peer_frames(Duration::from_millis(50));
    assert!(rig.peer_frames(Duration::from_millis(100)).is_empty());
}

#[test]
fn bcm_send_echo_and_unknowns() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< send 1AAAAAAA 2 1 f1 >");
    let f = rig.peer_frames(Duration::from_millis(100));
    assert_eq!(
        (f[0].id, f[0].is_extended(), f[0].data()),
        (0x1AAA_AAAA, true, &[1, 0xF1][..])
    );
    c.send("< bcmmode >");
    c.expect("< error unknown command >");
    c.send("< sendpdu 0102 >");
    c.expect("< error unknown command >");
    c.send("< subscribe 0 123 >< add 0 0 123 0 >< echo >");
    c.expect("< echo >");
}

#[test]
fn jobs_per_client_are_bounded() {
    let rig = Rig::new(canwire_socketcand::server::ServerConfig {
        max_jobs: 2,
        ..Default::default()
    });
    let mut c = rig.bcm_client();
    c.send(
        "< add 1 0 1 0 >< subscribe 0 0 2 >< add 1 0 3 0 >< subscribe 0 0 4 >< add 1 0 1 1 FF >",
    );
    c.expect("< error too many jobs >< error too many jobs >");
    c.send("< echo >");
    c.expect("< echo >");
    assert_eq!(rig.server.stats().refused_commands, 2);
}
