//! BCM error frames: a subscription to an error id (`CAN_ERR_FLAG` in the id)
//! gets the bus's error frames as `< error ID SEC.USEC XX … XX  >`.

mod common;

use std::time::Duration;

use canwire_core::{Frame, FrameFlags};
use common::{Rig, ts};

const T: u64 = 1_700_000_023_424_242_000;

fn error_frame(class: u32, data: [u8; 8]) -> Frame {
    let mut f = Frame::classic(class, false, &data);
    f.flags.set(FrameFlags::ERROR, true);
    f
}

#[test]
fn error_frames_of_the_subscribed_classes_exactly_as_socketcand_writes_them() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    // a data subscription on id 004 never gets error frames of class 004
    c.send("< subscribe 0 0 004 >");
    c.send("< subscribe 0 0 20000004 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(error_frame(0x004, [0, 0x04, 0, 0, 0, 0, 0, 0]), T);
    rig.peer_send(error_frame(0x040, [0; 8]), T + 1_000); // bus off: not subscribed
    rig.peer_send(
        error_frame(0x00C, [0, 0x10, 0x80, 0x19, 0, 0, 0x7F, 0x01]),
        T + 2_000,
    );
    rig.peer_send(Frame::classic(0x004, false, &[0xAA]), T + 3_000);
    c.expect(&format!(
        "< error 20000004 {} 00 04 00 00 00 00 00 00  >",
        ts(T)
    ));
    c.expect(&format!(
        "< error 2000000C {} 00 10 80 19 00 00 7F 01  >",
        ts(T + 2_000)
    ));
    c.expect(&format!("< frame 004 {} AA  >", ts(T + 3_000)));
    c.expect_silence(Duration::from_millis(100));
    // unsubscribing the error id ends them; data stays subscribed
    c.send("< unsubscribe 20000004 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(error_frame(0x004, [0; 8]), T);
    rig.peer_send(Frame::classic(0x004, false, &[]), T);
    c.expect(&format!("< frame 004 {}  >", ts(T)));
    c.expect_silence(Duration::from_millis(100));
    // an unsubscribe without a subscription changes nothing and is answered with nothing
    c.send("< unsubscribe 20000004 >");
    c.send("< echo >");
    c.expect("< echo >");
}

#[test]
fn all_classes_with_the_whole_mask_and_eff_bit_tolerated() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    c.send("< subscribe 0 0 BFFFFFFF >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(error_frame(0x040, [0; 8]), T);
    c.expect(&format!(
        "< error 20000040 {} 00 00 00 00 00 00 00 00  >",
        ts(T)
    ));
}

#[test]
fn an_interval_sends_the_first_error_at_once_then_the_latest_per_interval() {
    let rig = Rig::default();
    let mut c = rig.bcm_client();
    // 1 s: the three frames below fall inside one interval
    c.send("< subscribe 1 0 20000004 >");
    std::thread::sleep(Duration::from_millis(50));
    rig.peer_send(error_frame(0x004, [0, 0x01, 0, 0, 0, 0, 0, 0]), T);
    rig.peer_send(error_frame(0x004, [0, 0x02, 0, 0, 0, 0, 0, 0]), T + 1_000);
    rig.peer_send(error_frame(0x004, [0, 0x04, 0, 0, 0, 0, 0, 0]), T + 2_000);
    rig.peer_send(error_frame(0x040, [0; 8]), T + 3_000); // not subscribed
    c.expect(&format!(
        "< error 20000004 {} 00 01 00 00 00 00 00 00  >",
        ts(T)
    ));
    // the held-back frames: only the latest, when the interval ends
    c.expect(&format!(
        "< error 20000004 {} 00 04 00 00 00 00 00 00  >",
        ts(T + 2_000)
    ));
    c.expect_silence(Duration::from_millis(100));
}
